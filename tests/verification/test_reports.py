"""Reports for CI, and the exit status 2 for input that cannot be verified."""

from __future__ import annotations

import json
import socket
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from pactstub import PactLoadError
from pactstub.cli import main
from pactstub.verification import ProviderUnreachableError, verify
from tests.verification.conftest import PRODUCT, FakeProvider, product_interaction, v3_pact

WritePact = Callable[..., Path]


@pytest.fixture
def mixed(write_pact: WritePact, provider: FakeProvider) -> Path:
    """A pact with one passing and one failing interaction against ``provider``."""
    provider.answer("GET", "/products/10", body=PRODUCT)
    failing = product_interaction("a <wrong> status", providerStates=[{"name": "no pens"}])
    failing["response"]["status"] = 404
    return write_pact(v3_pact(product_interaction("a product"), failing), "shop-catalogue.json")


def test_json_report(cli: CliRunner, provider: FakeProvider, mixed: Path, tmp_path: Path) -> None:
    report = tmp_path / "out" / "verify.json"
    report.parent.mkdir()
    args = ["verify", "--pact", str(mixed), "--provider-base-url", provider.url, "--json", str(report)]
    result = cli.invoke(main, args)
    assert result.exit_code == 1
    document = json.loads(report.read_text(encoding="utf-8"))
    assert document["passed"] is False
    assert document["summary"] == {"passed": 1, "failed": 1, "total": 2}
    assert document["pacts"][0]["consumer"] == "shop"
    first, second = document["interactions"]
    assert (first["description"], first["passed"], first["mismatches"]) == ("a product", True, [])
    assert second["provider_states"] == ["no pens"]
    assert second["mismatches"][0] == {
        "kind": "status",
        "location": "status",
        "expected": 404,
        "actual": 200,
        "message": "Expected status 404 but was 200",
    }


def test_junit_report(cli: CliRunner, provider: FakeProvider, mixed: Path, tmp_path: Path) -> None:
    report = tmp_path / "junit.xml"
    args = ["verify", "--pact", str(mixed), "--provider-base-url", provider.url, "--junit", str(report)]
    assert cli.invoke(main, args).exit_code == 1
    root = ET.parse(report).getroot()
    assert root.tag == "testsuites"
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == ("2", "1", "0")
    [suite] = root.findall("testsuite")
    assert suite.get("name") == "shop -> catalogue (shop-catalogue)"
    cases = suite.findall("testcase")
    assert [c.get("name") for c in cases] == ["a product", "a <wrong> status (given no pens)"]
    assert cases[0].find("failure") is None
    failure = cases[1].find("failure")
    assert failure is not None
    assert failure.get("message") == "1 mismatch"
    assert "status -> Expected status 404 but was 200" in (failure.text or "")


def test_junit_report_marks_errors(provider: FakeProvider, tmp_path: Path) -> None:
    from pactstub.verification.report import to_junit

    provider.state_answer.status = 503
    pact = v3_pact(product_interaction(providerStates=[{"name": "x"}]))
    result = verify(pact, provider.url, provider_states_setup_url=provider.url + "/_states")
    root = to_junit(result)
    assert root.get("errors") == "1"
    error = root.find("testsuite/testcase/error")
    assert error is not None
    assert "HTTP 503" in (error.get("message") or "")


def test_an_unwritable_report_is_a_user_error(
    cli: CliRunner, provider: FakeProvider, mixed: Path, tmp_path: Path
) -> None:
    args = [
        "verify",
        "--pact",
        str(mixed),
        "--provider-base-url",
        provider.url,
        "--json",
        str(tmp_path / "no" / "r.json"),
    ]
    result = cli.invoke(main, args)
    assert result.exit_code == 2
    assert "cannot write report" in result.output


def unused_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_an_unreachable_provider_exits_3_with_a_clear_message(cli: CliRunner, write_pact: WritePact) -> None:
    """3, not 2: nothing given is wrong, and the same command may work once the provider is up."""
    url = f"http://127.0.0.1:{unused_port()}"
    result = cli.invoke(
        main,
        ["verify", "--pact", str(write_pact(v3_pact(product_interaction()))), "--provider-base-url", url],
    )
    assert result.exit_code == 3
    assert f"pactstub: error: cannot reach the provider at {url}: connection refused" in result.output
    assert "Traceback" not in result.output
    with pytest.raises(ProviderUnreachableError):
        verify(v3_pact(product_interaction()), url)


def test_an_unreachable_state_url_exits_3(
    cli: CliRunner, write_pact: WritePact, provider: FakeProvider
) -> None:
    url = f"http://127.0.0.1:{unused_port()}/setup"
    pact = write_pact(v3_pact(product_interaction(providerState="x")))
    args = [
        "verify",
        "--pact",
        str(pact),
        "--provider-base-url",
        provider.url,
        "--provider-states-setup-url",
        url,
    ]
    result = cli.invoke(main, args)
    assert result.exit_code == 3
    assert "cannot reach the provider state setup URL" in result.output


@pytest.mark.parametrize("url", ["localhost:8080", "ftp://example.org", "http://"])
def test_a_bad_base_url_exits_2(cli: CliRunner, write_pact: WritePact, url: str) -> None:
    pact = write_pact(v3_pact(product_interaction()))
    result = cli.invoke(main, ["verify", "--pact", str(pact), "--provider-base-url", url])
    assert result.exit_code == 2
    assert "is not an http:// or https:// URL" in result.output


@pytest.mark.parametrize(
    ("content", "message"),
    [("{not json", "invalid JSON"), (json.dumps({"interactions": "nope"}), "invalid pact")],
)
def test_a_bad_pact_exits_2(cli: CliRunner, write_pact: WritePact, content: str, message: str) -> None:
    result = cli.invoke(
        main, ["verify", "--pact", str(write_pact(content)), "--provider-base-url", "http://127.0.0.1:1"]
    )
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output


def test_a_missing_pact_exits_2(cli: CliRunner, tmp_path: Path) -> None:
    result = cli.invoke(main, ["verify", "--pact", str(tmp_path / "absent.json")])
    assert result.exit_code == 2
    assert "file not found" in result.output
    with pytest.raises(PactLoadError):
        verify([tmp_path / "absent.json"])


def test_no_pact_is_a_usage_error(cli: CliRunner) -> None:
    assert cli.invoke(main, ["verify"]).exit_code == 2
