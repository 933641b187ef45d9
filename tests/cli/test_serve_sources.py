"""``pactstub serve`` with pacts from a broker, and the flags users of ``pact stub`` know."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from werkzeug.test import Client

from pactstub import create_app
from pactstub.errors import ConfigError
from tests.cli.test_serve import EPX_HEADERS, fetch, serve_until_exit
from tests.conftest import interactions_in, pact_document
from tests.sources.broker import FakeBroker


def test_a_broker_pact_is_served_with_its_templates_and_the_banner_names_its_source(
    serve: Any, broker: FakeBroker, epx_pact: Path, tmp_path: Path
) -> None:
    published = broker.publish(json.loads(epx_pact.read_text(encoding="utf-8")), version="3.1")
    server = serve(
        "-b", broker.url, "--provider-name", "Epistemix", "-p", "0",
        "--database-url", f"sqlite:///{tmp_path}/s.db", "--templates", "templates",
        cwd=epx_pact.parent.parent,
    )  # fmt: skip
    pact_line = server.process.stdout.readline()
    href = broker.href(f"/pacts/provider/Epistemix/consumer/epx/pact-version/{published.sha}")
    count = interactions_in(epx_pact)
    source = f"pact {href} (latest from main branch)"
    assert pact_line.strip() == f"{source}: epx -> Epistemix, {count} interactions"
    ids = [fetch(f"{server.url}/jobs/register", {"tags": []}, EPX_HEADERS)[1]["id"] for _ in range(2)]
    assert ids == [123, 124]  # the epx-epistemix templates apply: the pact is named as its file is


def test_short_flags_and_empty_provider_state_work_as_in_pact_stub(
    serve: Any, write_pact: Any, tmp_path: Path
) -> None:
    path = write_pact(states_pact())
    server = serve(
        "-f", str(path), "-p", "0", "-s", "^state a$", "--empty-provider-state",
        "--provider-state-header-name", "X-State", "--database-url", f"sqlite:///{tmp_path}/s.db",
    )  # fmt: skip
    assert fetch(f"{server.url}/a")[0] == 200
    assert fetch(f"{server.url}/none")[0] == 200
    assert fetch(f"{server.url}/b")[0] == 404
    assert fetch(f"{server.url}/x", headers={"X-State": "state a"})[1] == {"x": "a"}


def test_empty_provider_state_needs_a_provider_state(write_pact: Any) -> None:
    result = serve_until_exit("-f", str(write_pact(states_pact())), "--empty-provider-state")
    assert result.returncode == 2
    assert "empty_provider_state needs provider_state" in result.stderr


def states_pact() -> dict[str, Any]:
    def get(path: str, body: Any, *states: str) -> dict[str, Any]:
        return {
            "providerStates": [{"name": state} for state in states],
            "request": {"method": "GET", "path": path},
            "response": {"status": 200, "body": body},
        }

    return pact_document(
        get("/a", {"s": "a"}, "state a"),
        get("/b", {"s": "b"}, "state b"),
        get("/none", {"s": "none"}),
        get("/unnamed", {"s": "unnamed"}, ""),
        get("/x", {"x": "none"}),
        get("/x", {"x": "a"}, "state a"),
    )


@pytest.mark.parametrize(
    ("options", "served"),
    [
        ({}, {"/a", "/b", "/none", "/unnamed", "/x"}),
        ({"provider_state": "state a"}, {"/a", "/x"}),
        ({"provider_state": "state a", "empty_provider_state": True}, {"/a", "/none", "/unnamed", "/x"}),
        ({"provider_state": ".*"}, {"/a", "/b", "/unnamed", "/x"}),
    ],
)
def test_which_interactions_a_provider_state_filter_serves(options: dict[str, Any], served: set[str]) -> None:
    client = Client(create_app([states_pact()], **options))
    answered = {
        path for path in ("/a", "/b", "/none", "/unnamed", "/x") if client.get(path).status_code == 200
    }
    assert answered == served


def test_empty_provider_state_alone_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="empty_provider_state needs provider_state"):
        create_app([states_pact()], empty_provider_state=True)
