"""Pacts from a Pact Broker: selectors, the old-broker fallback, consumers, credentials, failures."""

from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from pactstub.cli import main
from tests.conftest import interactions_in, pact_document
from tests.sources.broker import FakeBroker

#: so the machine's own Pact settings cannot leak into a test
PACT_ENV = ("PACT_BROKER_BASE_URL", "PACT_BROKER_USERNAME", "PACT_BROKER_PASSWORD", "PACT_BROKER_TOKEN")
NO_PACT_ENV: dict[str, str | None] = dict.fromkeys(PACT_ENV)


def pact(consumer: str, *paths: str, provider: str = "Epistemix") -> dict[str, Any]:
    document = pact_document(
        *({"description": f"get {p}", "request": {"method": "GET", "path": p}, "response": {}} for p in paths)
    )
    document["consumer"] = {"name": consumer}
    document["provider"] = {"name": provider}
    return document


def listing(cli: CliRunner, *args: str, env: dict[str, str | None] | None = None) -> Result:
    return cli.invoke(main, ["list-interactions", "--json", *args], env={**NO_PACT_ENV, **(env or {})})


def served(result: Result) -> list[tuple[str, str]]:
    assert result.exit_code == 0, result.output
    return [(row["pact"], row["path"]) for row in json.loads(result.stdout)]


class TestSelectors:
    def test_selectors_choose_the_pacts_and_are_posted_as_given(
        self, cli: CliRunner, broker: FakeBroker
    ) -> None:
        broker.publish(pact("web", "/main"), version="1", branch="main")
        broker.publish(pact("web", "/feature"), version="2", branch="feat-x")
        result = listing(
            cli,
            "-b",
            broker.url,
            "--provider-name",
            "Epistemix",
            "--consumer-version-selectors",
            '{"branch": "feat-x"}',
        )
        assert served(result) == [("web-epistemix", "/feature")]
        (posted,) = [r.body for r in broker.requests if r.path.endswith("/for-verification")]
        assert posted == {"consumerVersionSelectors": [{"branch": "feat-x"}], "includePendingStatus": False}

    def test_several_selectors_add_up_and_the_broker_deduplicates(
        self, cli: CliRunner, broker: FakeBroker
    ) -> None:
        broker.publish(pact("web", "/deployed"), version="1", branch="main", deployed=True)
        broker.publish(pact("web", "/main"), version="2", branch="main")
        broker.publish(pact("app", "/app"), version="7", branch="main", deployed=True)
        result = listing(
            cli,
            "-b",
            broker.url,
            "--provider-name",
            "Epistemix",
            "--consumer-version-selectors",
            '{"mainBranch": true}',
            "--consumer-version-selectors",
            '[{"deployedOrReleased": true}]',
        )
        assert sorted(served(result)) == [
            ("app-epistemix", "/app"),
            ("web-epistemix", "/deployed"),
            ("web-epistemix", "/main"),
        ]

    def test_a_selector_that_is_not_a_json_object_is_a_usage_error(
        self, cli: CliRunner, broker: FakeBroker
    ) -> None:
        result = listing(
            cli, "-b", broker.url, "--provider-name", "P", "--consumer-version-selectors", "mainBranch"
        )
        assert result.exit_code == 2
        assert "--consumer-version-selectors" in result.stderr
        assert "is not JSON" in result.stderr
        assert broker.requests == []

    def test_a_broker_without_pacts_for_verification_serves_the_latest_pacts(
        self, cli: CliRunner, broker: FakeBroker
    ) -> None:
        broker.for_verification = False
        broker.publish(pact("web", "/old"), version="1")
        broker.publish(pact("web", "/new"), version="2")
        broker.publish(pact("app", "/app"), version="1")
        result = listing(cli, "--broker-url", broker.url, "--provider-name", "Epistemix")
        assert sorted(served(result)) == [("app-epistemix", "/app"), ("web-epistemix", "/new")]
        assert not any(r.path.endswith("/for-verification") for r in broker.requests)


class TestConsumers:
    def test_consumer_name_keeps_only_that_consumers_pacts(self, cli: CliRunner, broker: FakeBroker) -> None:
        broker.publish(pact("web", "/web"))
        broker.publish(pact("app", "/app"))
        result = listing(cli, "-b", broker.url, "--provider-name", "Epistemix", "--consumer-name", "app")
        assert served(result) == [("app-epistemix", "/app")]

    def test_a_consumer_name_may_be_a_regex_of_the_whole_name(
        self, cli: CliRunner, broker: FakeBroker
    ) -> None:
        for consumer in ("web", "webapp", "app"):
            broker.publish(pact(consumer, f"/{consumer}"))
        result = listing(cli, "-b", broker.url, "--provider-name", "Epistemix", "--consumer-name", "web.*")
        assert sorted(served(result)) == [("web-epistemix", "/web"), ("webapp-epistemix", "/webapp")]

    def test_no_pact_from_the_consumers_asked_for_exits_2(self, cli: CliRunner, broker: FakeBroker) -> None:
        broker.publish(pact("web", "/web"))
        result = listing(cli, "-b", broker.url, "--provider-name", "Epistemix", "--consumer-name", "ios")
        assert result.exit_code == 2
        assert result.stderr.strip() == (
            f"pactstub: error: {broker.url}: has no pacts for provider 'Epistemix' from 'ios'"
        )


class TestCredentials:
    def test_basic_credentials_are_sent_to_the_broker(self, cli: CliRunner, broker: FakeBroker) -> None:
        broker.auth = ("basic", "pact", "s3cret")
        broker.publish(pact("web", "/web"))
        args = ["-b", broker.url, "--provider-name", "Epistemix", "--broker-username", "pact"]
        result = listing(cli, *args, "--broker-password", "s3cret")
        assert served(result) == [("web-epistemix", "/web")]
        assert all(r.authorization == "Basic cGFjdDpzM2NyZXQ=" for r in broker.requests)

    def test_a_bearer_token_comes_from_the_pact_environment_variables(
        self, cli: CliRunner, broker: FakeBroker
    ) -> None:
        broker.auth = ("bearer", "tok-123")
        broker.publish(pact("web", "/web"))
        env: dict[str, str | None] = {"PACT_BROKER_BASE_URL": broker.url, "PACT_BROKER_TOKEN": "tok-123"}
        result = listing(cli, "--provider-name", "Epistemix", env=env)
        assert served(result) == [("web-epistemix", "/web")]
        assert {r.authorization for r in broker.requests} == {"Bearer tok-123"}

    def test_a_refused_credential_exits_2_with_one_line(self, cli: CliRunner, broker: FakeBroker) -> None:
        broker.auth = ("bearer", "right")
        result = listing(cli, "-b", broker.url, "--provider-name", "Epistemix", "-t", "wrong")
        assert result.exit_code == 2
        assert result.stderr == f"pactstub: error: {broker.url}: refused the credentials (HTTP 401)\n"
        assert len(broker.requests) == 1  # a refusal is not retried

    def test_a_broker_that_wants_credentials_says_so(self, cli: CliRunner, broker: FakeBroker) -> None:
        broker.auth = ("basic", "pact", "pact")
        result = listing(cli, "-b", broker.url, "--provider-name", "Epistemix")
        assert result.exit_code == 2
        assert "needs credentials (HTTP 401)" in result.stderr

    def test_a_token_and_a_username_together_are_a_usage_error(
        self, cli: CliRunner, broker: FakeBroker
    ) -> None:
        args = ["-b", broker.url, "--provider-name", "P", "-t", "x", "--broker-username", "u"]
        result = listing(cli, *args)
        assert result.exit_code == 2
        assert "not both" in result.stderr


class TestFailures:
    def test_an_unknown_provider_exits_2_with_one_line(self, cli: CliRunner, broker: FakeBroker) -> None:
        broker.publish(pact("web", "/web"))
        result = listing(cli, "-b", broker.url, "--provider-name", "Nobody")
        assert result.exit_code == 2
        assert (
            result.stderr == f"pactstub: error: {broker.url}: knows no provider named 'Nobody' (HTTP 404)\n"
        )

    def test_a_broker_that_is_down_exits_2_with_one_line(self, cli: CliRunner) -> None:
        with socket.socket() as probe:  # a port nothing listens on
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        result = listing(cli, "-b", f"http://127.0.0.1:{port}", "--provider-name", "Epistemix")
        assert result.exit_code == 2
        assert result.stderr == (
            f"pactstub: error: http://127.0.0.1:{port}: cannot connect: connection refused (tried 4 times)\n"
        )

    def test_a_url_that_is_not_a_broker_is_refused(self, cli: CliRunner, broker: FakeBroker) -> None:
        broker.files["index.json"] = json.dumps({"hello": "world"})
        result = listing(cli, "-b", f"{broker.url}/files/index.json", "--provider-name", "Epistemix")
        assert result.exit_code == 2
        assert "is not a Pact Broker" in result.stderr
        assert "Traceback" not in result.output

    def test_broker_url_without_a_provider_name_is_a_usage_error(
        self, cli: CliRunner, broker: FakeBroker
    ) -> None:
        result = listing(cli, "-b", broker.url)
        assert result.exit_code == 2
        assert "--broker-url needs --provider-name" in result.stderr

    def test_pact_broker_base_url_alone_does_not_get_in_the_way_of_files(
        self, cli: CliRunner, broker: FakeBroker, epx_pact: Path
    ) -> None:
        result = listing(cli, "-f", str(epx_pact), env={"PACT_BROKER_BASE_URL": broker.url})
        assert len(served(result)) == interactions_in(epx_pact)
        assert broker.requests == []


@pytest.mark.parametrize("flag", ["--pact", "-f"])
def test_files_and_broker_pacts_are_served_together(
    cli: CliRunner, broker: FakeBroker, epx_pact: Path, flag: str
) -> None:
    broker.publish(pact("web", "/web"))
    result = listing(cli, flag, str(epx_pact), "-b", broker.url, "--provider-name", "Epistemix")
    rows = served(result)
    assert rows[0][0] == "epx-epistemix"
    assert rows[-1] == ("web-epistemix", "/web")
