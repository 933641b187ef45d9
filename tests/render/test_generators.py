"""Every v3/v4 generator, seen in the stub's responses: fresh values that still fit the contract."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
from werkzeug.test import Client

from pactstub import create_app, load_pacts
from pactstub.matching.http import match_response
from pactstub.model import ReceivedResponse
from tests.conftest import pact_document


def generated(generator: dict[str, Any], example: Any, rule: dict[str, Any] | None = None, **app: Any) -> Any:
    """The value the stub answers at ``$.value`` when it has ``generator`` there."""
    response: dict[str, Any] = {
        "status": 200,
        "body": {"value": example},
        "generators": {"body": {"$.value": generator}},
    }
    if rule is not None:
        response["matchingRules"] = {"body": {"$.value": {"matchers": [rule]}}}
    interaction = {"request": {"method": "GET", "path": "/v"}, "response": response, **app}
    document = pact_document(interaction)
    answer = Client(create_app([document])).get("/v", base_url="http://stub.test:9000")
    assert answer.status_code == 200
    if rule is not None:
        (pact,) = load_pacts([document])
        received = ReceivedResponse(200, tuple(answer.headers.items()), answer.get_data())
        assert match_response(pact.interactions[0].response, received) == []
    assert answer.json is not None
    return answer.json["value"]


def test_random_int_stays_in_its_range() -> None:
    values = {
        generated({"type": "RandomInt", "min": 3, "max": 5}, 0, {"match": "integer"}) for _ in range(30)
    }
    assert values <= {3, 4, 5}
    assert len(values) > 1


def test_random_decimal_has_its_digits() -> None:
    value = generated({"type": "RandomDecimal", "digits": 6}, 1.5, {"match": "decimal"})
    assert isinstance(value, float)
    assert len(str(value).replace(".", "")) == 6


def test_random_hexadecimal_and_string_have_their_sizes() -> None:
    hexa = generated(
        {"type": "RandomHexadecimal", "digits": 12}, "ab", {"match": "regex", "regex": "[0-9a-f]{12}"}
    )
    text = generated({"type": "RandomString", "size": 7}, "x", {"match": "type"})
    assert len(hexa) == 12
    assert len(text) == 7


def test_regex_generator_fits_its_regex() -> None:
    regex = "[A-Z]{3}-\\d{4}"
    assert re.fullmatch(regex, generated({"type": "Regex", "regex": regex}, "ABC-0000"))


@pytest.mark.parametrize(
    ("form", "check"),
    [
        ("lower-case-hyphenated", lambda v: str(uuid.UUID(v)) == v),
        ("upper-case-hyphenated", lambda v: str(uuid.UUID(v)).upper() == v),
        ("simple", lambda v: uuid.UUID(v).hex == v),
        ("URN", lambda v: v.startswith("urn:uuid:")),
    ],
)
def test_uuid_generator_honours_its_format(form: str, check: Any) -> None:
    assert check(generated({"type": "Uuid", "format": form}, "x"))


@pytest.mark.parametrize(
    ("kind", "rule", "pattern"),
    [
        ("Date", "date", "yyyy-MM-dd"),
        ("Time", "time", "HH:mm:ss"),
        ("DateTime", "timestamp", "yyyy-MM-dd'T'HH:mm:ss.SSSXXX"),
        ("DateTime", "timestamp", "dd/MM/yyyy HH:mm"),
    ],
)
def test_date_generators_produce_what_the_same_format_accepts(kind: str, rule: str, pattern: str) -> None:
    value = generated({"type": kind, "format": pattern}, "x", {"match": rule, "format": pattern})
    assert isinstance(value, str)


def test_random_boolean_is_a_boolean() -> None:
    assert isinstance(generated({"type": "RandomBoolean"}, True, {"match": "boolean"}), bool)


def test_provider_state_generator_fills_in_state_parameters() -> None:
    state: dict[str, Any] = {"providerStates": [{"name": "a user", "params": {"id": 42, "name": "Ada"}}]}
    assert (
        generated({"type": "ProviderState", "expression": "${id}", "dataType": "INTEGER"}, 1, **state) == 42
    )
    text = generated({"type": "ProviderState", "expression": "/users/${id}/${name}"}, "", **state)
    assert text == "/users/42/Ada"


def test_mock_server_url_generator_points_at_the_stub() -> None:
    generator = {"type": "MockServerURL", "example": "http://old.test/a/1", "regex": ".*(/a/\\d+)$"}
    assert generated(generator, "http://old.test/a/1") == "http://stub.test:9000/a/1"


def test_generators_also_apply_to_headers_and_status() -> None:
    interaction = {
        "request": {"method": "GET", "path": "/v"},
        "response": {
            "status": 200,
            "headers": {"X-Request-Id": "fixed"},
            "generators": {
                "header": {"X-Request-Id": {"type": "Uuid"}},
                "status": {"type": "RandomInt", "min": 201, "max": 201},
            },
        },
    }
    answer = Client(create_app([pact_document(interaction)])).get("/v")
    assert answer.status_code == 201
    assert uuid.UUID(answer.headers["X-Request-Id"])
