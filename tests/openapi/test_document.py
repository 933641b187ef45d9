"""``pactstub openapi`` and ``GET /_pactstub/openapi.json``: a valid OpenAPI 3.1 document of the stub."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate
from werkzeug.test import Client

from pactstub import create_app
from pactstub.cli import main
from tests.conftest import S3_PACT, pact_document


def openapi(cli: CliRunner, *args: str) -> dict[str, Any]:
    result = cli.invoke(main, ["openapi", *args])
    assert result.exit_code == 0, result.output
    document: dict[str, Any] = json.loads(result.stdout)
    validate(document)
    return document


def examples_with_schemas(document: dict[str, Any]) -> Iterator[tuple[Any, dict[str, Any]]]:
    """Every (example value, schema) pair of every request and response body."""
    for item in document["paths"].values():
        for operation in item.values():
            bodies = [operation.get("requestBody", {}), *operation["responses"].values()]
            for body in bodies:
                for media in body.get("content", {}).values():
                    for example in media.get("examples", {}).values():
                        yield example["value"], media["schema"]


class TestTheEpistemixContract:
    def test_is_valid_and_describes_every_route(self, cli: CliRunner, epx_pact: Path) -> None:
        document = openapi(cli, "-f", str(epx_pact), "-f", str(S3_PACT))
        assert document["openapi"] == "3.1.0"
        assert {"/jobs/register", "/jobs", "/runs", "/jobs/results"} <= set(document["paths"])
        assert set(document["paths"]["/runs"]) == {"get", "post", "patch"}
        assert {"/runs/retry", "/jobs/me"} <= set(document["paths"])
        assert [tag["name"] for tag in document["tags"]] == ["epx-epistemix", "epx-s3"]

    def test_every_example_satisfies_its_own_schema(self, cli: CliRunner, epx_pact: Path) -> None:
        pairs = list(examples_with_schemas(openapi(cli, "-f", str(epx_pact))))
        interactions = json.loads(epx_pact.read_text(encoding="utf-8"))["interactions"]
        bodies = [part for i in interactions for part in (i["request"], i["response"]) if "body" in part]
        assert len(pairs) == len(bodies)  # every example body, the retry's form text among them
        for value, schema in pairs:
            Draft202012Validator(schema).validate(value)

    def test_query_and_header_rules_become_parameters_with_patterns(
        self, cli: CliRunner, epx_pact: Path
    ) -> None:
        get_runs = openapi(cli, "-f", str(epx_pact))["paths"]["/runs"]["get"]
        parameters = {(p["in"], p["name"]): p for p in get_runs["parameters"]}
        assert parameters["query", "job_id"]["schema"] == {"type": "string", "pattern": r"^\d+$"}
        assert parameters["query", "job_id"]["required"] is False  # only one of the two interactions has it
        assert parameters["header", "Offline-Token"]["required"] is True
        assert "pattern" in parameters["header", "Offline-Token"]["schema"]

    def test_a_rule_on_a_text_body_becomes_its_pattern(self, cli: CliRunner, epx_pact: Path) -> None:
        retry = openapi(cli, "-f", str(epx_pact))["paths"]["/runs/retry"]["post"]
        schema = retry["requestBody"]["content"]["text/plain"]["schema"]
        assert schema == {"type": "string", "pattern": r"^runRequestIds=\d+(&runRequestIds=\d+)*$"}

    def test_interactions_sharing_an_operation_each_keep_an_example(
        self, cli: CliRunner, epx_pact: Path
    ) -> None:
        post_jobs = openapi(cli, "-f", str(epx_pact))["paths"]["/jobs"]["post"]
        media = post_jobs["requestBody"]["content"]["application/json"]
        assert list(media["examples"]) == [
            "a-job-input-upload-url-request",
            "a-job-config-upload-url-request",
            "a-run-config-upload-url-request",
        ]
        assert len(media["schema"]["anyOf"]) == 2  # the run config request also has runId
        assert post_jobs["description"].count("\n- ") == 2


def rules_pact() -> dict[str, Any]:
    body = {
        "id": 978,
        "price": 1.5,
        "code": "AB-12",
        "status": "done",
        "when": "2026-01-02",
        "tags": ["a", "b"],
        "ref": "x1",
        "scores": {"alice": 3},
    }
    matchers = {
        "$.code": {"matchers": [{"match": "regex", "regex": "^[A-Z]{2}-\\d+$"}]},
        "$.status": {"matchers": [{"match": "equality"}]},
        "$.price": {"matchers": [{"match": "decimal"}]},
        "$.when": {"matchers": [{"match": "date", "format": "yyyy-MM-dd"}]},
        "$.tags": {"matchers": [{"match": "type", "min": 1, "max": 5}]},
        "$.ref": {"combine": "OR", "matchers": [{"match": "regex", "regex": "^x\\d$"}, {"match": "integer"}]},
        "$.scores": {"matchers": [{"match": "values"}]},
    }
    return pact_document(
        {
            "description": "a run",
            "providerStates": [{"name": "a run exists", "params": {"id": 978}}],
            "request": {
                "method": "GET",
                "path": "/runs/978",
                "matchingRules": {"path": {"matchers": [{"match": "regex", "regex": "^/runs/\\d+$"}]}},
            },
            "response": {
                "status": 200,
                "headers": {"Content-Type": "application/json", "X-Trace": "t-1"},
                "body": body,
                "matchingRules": {"body": matchers},
            },
        },
        {
            "description": "a file",
            "request": {
                "method": "GET",
                "path": "/files/a/b",
                "matchingRules": {"path": {"matchers": [{"match": "regex", "regex": "^/files/.+$"}]}},
            },
            "response": {"status": 404},
        },
    )


class TestSchemasFromRules:
    @pytest.fixture
    def document(self, cli: CliRunner, write_pact: Any) -> dict[str, Any]:
        return openapi(cli, "-f", str(write_pact(rules_pact(), "runs.json")))

    def test_a_path_regex_becomes_a_path_parameter(self, document: dict[str, Any]) -> None:
        operation = document["paths"]["/runs/{run}"]["get"]
        (parameter,) = operation["parameters"]
        assert parameter == {
            "name": "run",
            "in": "path",
            "required": True,
            "schema": {"type": "integer"},
            "example": 978,
        }

    def test_a_path_regex_spanning_segments_stays_a_literal_path(self, document: dict[str, Any]) -> None:
        operation = document["paths"]["/files/a/b"]["get"]
        assert "the path matches the regex `^/files/.+$`" in operation["description"]

    def test_rules_refine_the_inferred_types(self, document: dict[str, Any]) -> None:
        response = document["paths"]["/runs/{run}"]["get"]["responses"]["200"]
        properties = response["content"]["application/json"]["schema"]["properties"]
        assert properties["id"] == {"type": "integer"}
        assert properties["code"] == {"type": "string", "pattern": "^[A-Z]{2}-\\d+$"}
        assert properties["status"] == {"type": "string", "const": "done"}
        assert properties["price"] == {"type": "number"}
        assert properties["when"] == {"type": "string", "format": "date"}
        assert properties["tags"] == {
            "type": "array",
            "items": {"type": "string"},
            "minItems": 1,
            "maxItems": 5,
        }
        assert properties["ref"] == {"anyOf": [{"type": "string", "pattern": "^x\\d$"}, {"type": "integer"}]}
        assert properties["scores"] == {"type": "object", "additionalProperties": {"type": "integer"}}
        assert response["headers"]["X-Trace"] == {"schema": {"type": "string"}, "example": "t-1"}

    def test_the_examples_satisfy_the_refined_schemas(self, document: dict[str, Any]) -> None:
        ((value, schema),) = examples_with_schemas(document)
        Draft202012Validator(schema).validate(value)
        assert not Draft202012Validator(schema).is_valid({**value, "code": "ab-12"})

    def test_provider_states_are_in_the_descriptions(self, document: dict[str, Any]) -> None:
        operation = document["paths"]["/runs/{run}"]["get"]
        assert operation["description"] == "- a run (given 'a run exists' with {\"id\": 978})"
        example = operation["responses"]["200"]["content"]["application/json"]["examples"]["a-run"]
        assert example["description"] == "given 'a run exists' with {\"id\": 978}"


def test_the_stub_serves_the_document_of_what_it_serves(cli: CliRunner, write_pact: Any) -> None:
    path = write_pact(rules_pact(), "runs.json")
    client = Client(create_app([path], provider_state="a run exists"))
    response = client.get("/_pactstub/openapi.json", base_url="http://stub.test:5000")
    assert response.status_code == 200
    document = response.json
    assert document is not None
    validate(document)
    assert document["servers"] == [{"url": "http://stub.test:5000"}]
    assert list(document["paths"]) == ["/runs/{run}"]  # the file interaction has no state: not served
    assert document["paths"] == {
        k: v for k, v in openapi(cli, "-f", str(path))["paths"].items() if k in document["paths"]
    }


def test_output_goes_to_a_file(cli: CliRunner, epx_pact: Path, tmp_path: Path) -> None:
    target = tmp_path / "api.json"
    result = cli.invoke(main, ["openapi", "-f", str(epx_pact), "-o", str(target)])
    assert result.exit_code == 0
    assert result.stdout == ""
    validate(json.loads(target.read_text(encoding="utf-8")))
    result = cli.invoke(main, ["openapi", "-f", str(epx_pact), "-o", str(tmp_path / "no" / "api.json")])
    assert result.exit_code == 2
    assert "cannot write" in result.stderr
