"""``pactstub verify`` against a separate, real HTTP provider."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from pactstub.cli import main
from pactstub.verification import verify
from tests.verification.conftest import PRODUCT, FakeProvider, product_interaction, v3_pact

WritePact = Callable[..., Path]


def run(cli: CliRunner, pact: Path, provider: FakeProvider, *args: str) -> Result:
    return cli.invoke(main, ["verify", "--pact", str(pact), "--provider-base-url", provider.url, *args])


class TestResponses:
    def test_a_conforming_provider_passes(
        self, cli: CliRunner, write_pact: WritePact, provider: FakeProvider
    ) -> None:
        provider.answer("GET", "/products/10", body=PRODUCT)
        result = run(cli, write_pact(v3_pact(product_interaction())), provider)
        assert result.exit_code == 0, result.output
        assert "✓ a product" in result.output
        assert result.output.strip().endswith("1 passed, 0 failed")
        assert provider.requests[0].header("Accept") == "application/json"

    def test_a_wrong_status_fails(
        self, cli: CliRunner, write_pact: WritePact, provider: FakeProvider
    ) -> None:
        provider.answer("GET", "/products/10", status=404, body=PRODUCT)
        result = run(cli, write_pact(v3_pact(product_interaction())), provider)
        assert result.exit_code == 1
        assert "✗ a product" in result.output
        assert "status -> Expected status 200 but was 404" in result.output
        assert "expected: 200" in result.output
        assert "actual:   404" in result.output
        assert "0 passed, 1 failed" in result.output

    def test_a_wrong_header_fails(self, write_pact: WritePact, provider: FakeProvider) -> None:
        provider.answer(
            "GET", "/products/10", body=json.dumps(PRODUCT).encode(), headers={"Content-Type": "text/plain"}
        )
        result = verify(write_pact(v3_pact(product_interaction())), provider.url)
        assert not result.passed
        kinds = {(m.kind, m.location) for m in result.interactions[0].mismatches}
        assert ("header", "header Content-Type") in kinds

    def test_a_missing_key_fails(self, write_pact: WritePact, provider: FakeProvider) -> None:
        provider.answer("GET", "/products/10", body={"id": 99, "price": 0.25})
        result = verify(write_pact(v3_pact(product_interaction())), provider.url)
        [mismatch] = result.interactions[0].mismatches
        assert mismatch.location == "$.body"
        assert "name" in mismatch.message
        assert result.summary == "0 passed, 1 failed"

    def test_a_wrong_type_fails(self, cli: CliRunner, write_pact: WritePact, provider: FakeProvider) -> None:
        provider.answer("GET", "/products/10", body={**PRODUCT, "id": "99"})
        result = run(cli, write_pact(v3_pact(product_interaction())), provider)
        assert result.exit_code == 1
        assert "$.body.id -> " in result.output
        assert 'actual:   "99"' in result.output

    def test_an_extra_key_passes(self, write_pact: WritePact, provider: FakeProvider) -> None:
        provider.answer("GET", "/products/10", body={**PRODUCT, "colour": "blue"})
        result = verify(write_pact(v3_pact(product_interaction())), provider.url)
        assert result.passed
        assert result.interactions[0].mismatches == ()

    def test_results_keep_pact_order_and_count(self, write_pact: WritePact, provider: FakeProvider) -> None:
        provider.answer("GET", "/products/10", body=PRODUCT)
        pact = v3_pact(product_interaction("first"), product_interaction("second", response={"status": 201}))
        result = verify([write_pact(pact, "shop-catalogue.json")], provider.url)
        assert [(i.description, i.pact, i.passed, i.index) for i in result.interactions] == [
            ("first", "shop-catalogue", True, 0),
            ("second", "shop-catalogue", False, 1),
        ]
        assert (result.passed, result.passed_count, result.failed_count) == (False, 1, 1)


class TestRequests:
    def test_method_path_query_headers_and_json_body_go_on_the_wire(
        self, write_pact: WritePact, provider: FakeProvider
    ) -> None:
        interaction = {
            "description": "create",
            "request": {
                "method": "POST",
                "path": "/a b/orders",
                "query": {"tag": ["x&y", "z"], "q": ["1+1"]},
                "headers": {"X-Many": "1, 2", "Content-Type": "application/json"},
                "body": {"items": [1, 2], "note": "ü"},
            },
            "response": {"status": 201},
        }
        provider.answer("POST", "/a%20b/orders", status=201)
        assert verify(v3_pact(interaction), provider.url).passed
        [sent] = provider.requests
        assert sent.query == "tag=x%26y&tag=z&q=1%2B1"
        assert sent.header("X-Many") == "1, 2"
        assert sent.json() == {"items": [1, 2], "note": "ü"}

    def test_text_bodies_are_sent_as_written_under_a_base_path(self, provider: FakeProvider) -> None:
        interaction = {
            "description": "xml",
            "request": {
                "method": "PUT",
                "path": "/doc",
                "headers": {"Content-Type": "application/xml"},
                "body": "<a>1</a>",
            },
            "response": {"status": 204},
        }
        provider.answer("PUT", "/api/doc", status=204)
        assert verify(v3_pact(interaction), provider.url + "/api/").passed
        assert provider.requests[0].body == b"<a>1</a>"

    def test_request_generators_are_applied(self, provider: FakeProvider) -> None:
        interaction = {
            "description": "generated",
            "providerStates": [{"name": "an order", "params": {"id": 42}}],
            "request": {
                "method": "POST",
                "path": "/orders/1",
                "body": {"ref": "fixed"},
                "generators": {
                    "path": {"type": "ProviderState", "expression": "/orders/${id}"},
                    "body": {"$.ref": {"type": "Uuid"}},
                },
            },
            "response": {"status": 200},
        }
        provider.answer("POST", "/orders/42")
        assert verify(v3_pact(interaction), provider.url).passed
        uuid.UUID(provider.requests[0].json()["ref"])

    def test_extra_headers_reach_the_provider_and_replace_the_pacts(
        self, cli: CliRunner, write_pact: WritePact, provider: FakeProvider
    ) -> None:
        provider.answer("GET", "/products/10", body=PRODUCT)
        pact = write_pact(v3_pact(product_interaction()))
        result = run(
            cli, pact, provider, "--header", "Authorization=Bearer t0k=en", "--header", "accept=text/plain"
        )
        assert result.exit_code == 0, result.output
        sent = provider.requests[0]
        assert sent.header("Authorization") == "Bearer t0k=en"
        assert [v for k, v in sent.headers if k.lower() == "accept"] == ["text/plain"]

    @pytest.mark.parametrize("bad", ["no-equals", "=value", "bad name=1"])
    def test_a_malformed_header_is_a_usage_error(
        self, cli: CliRunner, write_pact: WritePact, provider: FakeProvider, bad: str
    ) -> None:
        result = run(cli, write_pact(v3_pact(product_interaction())), provider, "--header", bad)
        assert result.exit_code == 2
        assert "KEY=VALUE" in result.output
        assert provider.log == []

    def test_a_slow_provider_is_an_error_for_that_interaction(
        self, cli: CliRunner, write_pact: WritePact, provider: FakeProvider
    ) -> None:
        provider.answer("GET", "/products/10", body=PRODUCT, delay=0.5)
        result = run(cli, write_pact(v3_pact(product_interaction())), provider, "--request-timeout", "0.1")
        assert result.exit_code == 1
        assert "error: no response within 0.1s" in result.output


class TestProviderStates:
    def pact(self) -> dict[str, Any]:
        return v3_pact(
            product_interaction(
                "two states",
                providerStates=[
                    {"name": "a pen", "params": {"id": 10}},
                    {"name": "a price", "params": {"p": 1.5}},
                ],
            ),
            product_interaction("stateless"),
        )

    def test_setup_and_teardown_surround_each_interaction_in_order(
        self, cli: CliRunner, write_pact: WritePact, provider: FakeProvider
    ) -> None:
        provider.answer("GET", "/products/10", body=PRODUCT)
        url = provider.url + "/_states"
        result = run(cli, write_pact(self.pact()), provider, "--provider-states-setup-url", url)
        assert result.exit_code == 0, result.output
        assert "✓ two states (given 'a pen', 'a price')" in result.output
        order = [
            (r.path, r.json()["action"], r.json()["state"]) if r.body else (r.path,) for r in provider.log
        ]
        assert order == [
            ("/_states", "setup", "a pen"),
            ("/_states", "setup", "a price"),
            ("/products/10",),
            ("/_states", "teardown", "a pen"),
            ("/_states", "teardown", "a price"),
            ("/products/10",),
        ]
        assert provider.state_calls[0] == {
            "consumer": "shop",
            "state": "a pen",
            "states": ["a pen", "a price"],
            "params": {"id": 10},
            "action": "setup",
        }
        assert provider.state_calls[3]["params"] == {"p": 1.5}

    def test_a_failing_setup_fails_the_interaction(self, provider: FakeProvider) -> None:
        provider.answer("GET", "/products/10", body=PRODUCT)
        provider.state_answer.status = 500
        result = verify(self.pact(), provider.url, provider_states_setup_url=provider.url + "/_states")
        first, second = result.interactions
        assert not first.passed
        assert first.error is not None
        assert "provider state setup for 'a pen' failed: HTTP 500" in first.error
        assert second.passed

    @pytest.mark.parametrize(
        ("args", "verified"),
        [
            (["--filter-description", "^two"], ["two states"]),
            (["--filter-description", "less$"], ["stateless"]),
            (["--filter-state", "pri"], ["two states"]),
            (["--filter-no-state"], ["stateless"]),
            (["--filter-description", "nothing"], []),
        ],
    )
    def test_filters_choose_interactions(
        self,
        cli: CliRunner,
        write_pact: WritePact,
        provider: FakeProvider,
        args: list[str],
        verified: list[str],
    ) -> None:
        provider.answer("GET", "/products/10", body=PRODUCT)
        result = run(cli, write_pact(self.pact()), provider, *args)
        assert result.exit_code == 0, result.output
        assert re.findall(r"✓ (two states|stateless)", result.output) == verified
        assert len(provider.requests) == len(verified)

    def test_state_filters_exclude_each_other(
        self, cli: CliRunner, write_pact: WritePact, provider: FakeProvider
    ) -> None:
        result = run(cli, write_pact(self.pact()), provider, "--filter-state", "x", "--filter-no-state")
        assert result.exit_code == 2
        assert "exclude each other" in result.output

    def test_a_bad_filter_regex_is_a_user_error(
        self, cli: CliRunner, write_pact: WritePact, provider: FakeProvider
    ) -> None:
        result = run(cli, write_pact(self.pact()), provider, "--filter-description", "(")
        assert result.exit_code == 2
        assert "--filter-description: invalid regular expression" in result.output
        assert "Traceback" not in result.output
