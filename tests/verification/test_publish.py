"""``verify --publish``: results go back to each broker pact as the Pact verifier sends them."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner, Result

from pactstub import __version__
from pactstub.cli import main
from tests.sources.broker import FakeBroker
from tests.sources.test_broker import NO_PACT_ENV
from tests.verification.conftest import PRODUCT, FakeProvider, product_interaction, v3_pact


def missing_product() -> dict[str, object]:
    return {
        "description": "another product",
        "request": {"method": "GET", "path": "/products/11"},
        "response": {"status": 200, "body": {"id": 11}},
    }


def verify(cli: CliRunner, broker: FakeBroker, provider: FakeProvider, *extra: str) -> Result:
    args = ["verify", "-b", broker.url, "--provider-name", "catalogue", "--provider-base-url", provider.url]
    return cli.invoke(main, [*args, *extra], env=NO_PACT_ENV)


def test_results_are_published_per_interaction_with_ids_and_mismatches(
    cli: CliRunner, broker: FakeBroker, provider: FakeProvider
) -> None:
    published = broker.publish(v3_pact(product_interaction(), missing_product()), version="4.0")
    provider.answer("GET", "/products/10", body=PRODUCT)
    provider.answer("GET", "/products/11", status=404, body={"id": 11})
    result = verify(
        cli, broker, provider, "--publish", "--provider-version", "1.2.3",
        "--provider-branch", "main", "--build-url", "https://ci.example/7",
    )  # fmt: skip
    assert result.exit_code == 1, result.output
    assert broker.results == [
        (
            published.sha,
            {
                "success": False,
                "providerApplicationVersion": "1.2.3",
                "buildUrl": "https://ci.example/7",
                "verifiedBy": {"implementation": "pactstub", "version": __version__},
                "testResults": [
                    {"interactionId": "id-4.0-0", "interactionDescription": "a product", "success": True},
                    {
                        "interactionId": "id-4.0-1",
                        "interactionDescription": "another product",
                        "success": False,
                        "mismatches": [
                            {"attribute": "status", "description": "Expected status 200 but was 404"}
                        ],
                    },
                ],
            },
        )
    ]
    assert broker.branch_versions == [("catalogue", "main", "1.2.3")]
    (asked,) = [r.body for r in broker.requests if r.path.endswith("/for-verification")]
    assert asked["providerVersionBranch"] == "main"
    assert f"published the results to {broker.url}/pacts/provider/catalogue/consumer/shop" in result.stdout


def test_body_and_header_mismatches_name_what_differs(
    cli: CliRunner, broker: FakeBroker, provider: FakeProvider
) -> None:
    broker.publish(
        v3_pact(product_interaction(), {**product_interaction("as text"), "providerState": "text"})
    )
    provider.answer("GET", "/products/10", body={**PRODUCT, "id": "99"})
    result = verify(cli, broker, provider, "--publish", "--provider-version", "2")
    assert result.exit_code == 1
    ((_, document),) = broker.results
    (mismatch,) = document["testResults"][0]["mismatches"]
    assert (mismatch["attribute"], mismatch["identifier"]) == ("body", "$.id")
    assert "'99'" in mismatch["description"]
    provider.answer("GET", "/products/10", body=b"{}", headers={"Content-Type": "text/plain"})
    verify(cli, broker, provider, "--publish", "--provider-version", "2")
    header, body_type = broker.results[-1][1]["testResults"][0]["mismatches"]
    assert (header["attribute"], header["identifier"]) == ("header", "Content-Type")
    assert (body_type["attribute"], body_type["identifier"]) == ("body", "$")
    assert broker.branch_versions == []


def test_a_passing_verification_publishes_success(
    cli: CliRunner, broker: FakeBroker, provider: FakeProvider
) -> None:
    broker.publish(v3_pact(product_interaction()))
    provider.answer("GET", "/products/10", body=PRODUCT)
    result = verify(cli, broker, provider, "--publish", "--provider-version", "2")
    assert result.exit_code == 0, result.output
    ((_, document),) = broker.results
    assert document["success"] is True
    assert document["testResults"] == [
        {"interactionId": "id-1.0.0-0", "interactionDescription": "a product", "success": True}
    ]


def test_without_publish_nothing_is_sent(cli: CliRunner, broker: FakeBroker, provider: FakeProvider) -> None:
    broker.publish(v3_pact(product_interaction()))
    provider.answer("GET", "/products/10", body=PRODUCT)
    assert verify(cli, broker, provider, "--provider-version", "2").exit_code == 0
    assert broker.results == []


def test_a_pact_file_has_nowhere_to_publish_to(
    cli: CliRunner, provider: FakeProvider, write_pact: object, tmp_path: Path
) -> None:
    path = tmp_path / "shop-catalogue.json"
    path.write_text(json.dumps(v3_pact(product_interaction())), encoding="utf-8")
    args = [
        "verify",
        "-f",
        str(path),
        "--provider-base-url",
        provider.url,
        "--publish",
        "--provider-version",
        "1",
    ]
    result = cli.invoke(main, args, env=NO_PACT_ENV)
    assert result.exit_code == 2
    assert "no pb:publish-verification-results link in shop-catalogue.json" in result.stderr
    assert provider.requests == []


def test_publish_refuses_what_would_publish_a_wrong_result(
    cli: CliRunner, broker: FakeBroker, provider: FakeProvider
) -> None:
    broker.publish(v3_pact(product_interaction()))
    cases = {
        ("--publish",): "--publish needs --provider-version",
        ("--publish", "--provider-version", "1", "--filter-description", "a"): "cannot be used with --filter",
    }
    for extra, message in cases.items():
        result = verify(cli, broker, provider, *extra)
        assert result.exit_code == 2
        assert message in result.stderr
    assert broker.results == []
