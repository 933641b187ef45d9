"""A request is answered from one contract, the one serving when it arrived."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from werkzeug.test import Client

from pactstub.app import StubApp
from pactstub.config import Settings
from pactstub.loading import load_pacts
from pactstub.model import Pact
from pactstub.state.documents import DEFAULT_SESSION
from pactstub.state.unit import UnitOfWork
from tests.conftest import pact_document

JSON = {"Content-Type": "application/json"}


def item(status: int, *states: str) -> dict[str, Any]:
    return {
        "description": "get the item",
        "providerStates": [{"name": state} for state in states],
        "request": {"method": "GET", "path": "/items/1"},
        "response": {"status": status, "headers": JSON, "body": {"found": status == 200}},
    }


class ReplacedMidRequest(StubApp):
    """Replaces its contract the first time a template reaches for the store, as a reload would."""

    def __init__(self, pacts: Sequence[Pact], settings: Settings, replacement: Sequence[Pact]) -> None:
        super().__init__(pacts, settings)
        self.replacement: Sequence[Pact] | None = replacement

    def unit(self, session: str = DEFAULT_SESSION) -> UnitOfWork:
        if self.replacement is not None:
            pacts, self.replacement = self.replacement, None
            self.replace_contract(pacts)
        return super().unit(session)


def test_a_request_under_way_finishes_on_the_contract_it_started_on(tmp_path: Path) -> None:
    """The old pact lets the template answer 404 (a second interaction says so); the new one does not."""
    template = tmp_path / "templates" / "shop" / "get-the-item.json.j2"
    template.parent.mkdir(parents=True)
    template.write_text(
        '{% if get("items", 1) is none %}{% do set_status(404) %}{% endif %}{"found": false}', "utf-8"
    )
    old, new = tmp_path / "old" / "shop.json", tmp_path / "new" / "shop.json"
    for path, document in (
        (old, pact_document(item(200), item(404, "no item"))),
        (new, pact_document(item(200))),
    ):
        path.parent.mkdir()
        path.write_text(json.dumps(document), encoding="utf-8")
    app = ReplacedMidRequest(load_pacts([old]), Settings(templates=template.parent.parent), load_pacts([new]))
    client = Client(app)

    under_way = client.get("/items/1")
    assert (under_way.status_code, under_way.json) == (404, {"found": False})
    assert app.contract.pacts[0].source == str(new)

    after = client.get("/items/1")
    assert after.status_code == 500
    assert after.json is not None
    assert "set_status(404): the pact allows 200 for GET /items/1" in after.json["message"]
