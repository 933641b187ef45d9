"""Pacts at URLs: fetched, named, labelled, credentials kept to their origin, failures in one line."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from pactstub.sources import Credentials
from pactstub.sources.http import HttpClient
from tests.conftest import interactions_in
from tests.sources.broker import FakeBroker, running
from tests.sources.test_broker import listing, pact, served


def test_a_pact_url_named_like_a_file_takes_the_file_stem(
    cli: CliRunner, broker: FakeBroker, epx_pact: Path
) -> None:
    broker.files["epx-epistemix.json"] = epx_pact.read_text(encoding="utf-8")
    result = listing(cli, "-u", f"{broker.url}/files/epx-epistemix.json")
    rows = served(result)
    assert len(rows) == interactions_in(epx_pact)
    assert {name for name, _ in rows} == {"epx-epistemix"}


def test_a_broker_pact_url_is_named_consumer_provider(cli: CliRunner, broker: FakeBroker) -> None:
    published = broker.publish(pact("Web App", "/web"))
    href = broker.href(f"/pacts/provider/Epistemix/consumer/Web%20App/pact-version/{published.sha}")
    assert served(listing(cli, "--pact-url", href)) == [("web_app-epistemix", "/web")]


def test_credentials_in_the_url_are_sent_and_never_shown(cli: CliRunner, broker: FakeBroker) -> None:
    broker.auth = ("basic", "me", "pa:ss")
    broker.files["p.json"] = "{not json"
    host = broker.url.removeprefix("http://")
    result = listing(cli, "-u", f"http://me:pa%3Ass@{host}/files/p.json")
    assert result.exit_code == 2
    assert result.stderr.startswith(f"pactstub: error: {broker.url}/files/p.json: answered with something")
    assert "pa%3Ass" not in result.output
    assert "pa:ss" not in result.output
    assert broker.requests[0].authorization == "Basic bWU6cGE6c3M="


def test_a_missing_pact_url_exits_2_with_one_line(cli: CliRunner, broker: FakeBroker) -> None:
    result = listing(cli, "-u", f"{broker.url}/files/nope.json")
    assert result.exit_code == 2
    assert result.stderr == (
        f'pactstub: error: {broker.url}/files/nope.json: answered HTTP 404: {{"error": "no such file"}}\n'
    )
    assert len(broker.requests) == 1  # a 404 is an answer, not a reason to retry


def test_an_invalid_pact_at_a_url_names_the_url_and_the_json_path(cli: CliRunner, broker: FakeBroker) -> None:
    broker.files["bad.json"] = json.dumps({"interactions": [{"description": 1}]})
    result = listing(cli, "-u", f"{broker.url}/files/bad.json")
    assert result.exit_code == 2
    assert f"{broker.url}/files/bad.json: $.interactions[0].description" in result.stderr


def test_a_url_that_is_not_http_is_refused(cli: CliRunner) -> None:
    result = listing(cli, "-u", "ftp://example.invalid/p.json")
    assert result.exit_code == 2
    assert "is not an http:// or https:// URL" in result.stderr


def test_credentials_go_only_to_the_origin_they_were_given_for(broker: FakeBroker) -> None:
    broker.files["p.json"] = "{}"
    with running(FakeBroker(files={"p.json": "{}"})) as elsewhere:
        client = HttpClient()
        client.authorise(broker.url, Credentials(token="secret"))
        client.get_json(f"{broker.url}/files/p.json")
        client.get_json(f"{elsewhere.url}/files/p.json")
        client.close()
    assert broker.requests[0].authorization == "Bearer secret"
    assert elsewhere.requests[0].authorization is None
