"""A small shop pact with templates written by each test, served in process.

The template toolkit's tests write the templates they need (and maybe a lifecycle file)
into a fresh folder, then talk to ``create_app`` through werkzeug's test client: every
helper, lifecycle and admin call goes through the public interface, on a real SQLite
store.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from werkzeug.test import Client, TestResponse

from pactstub import create_app
from pactstub.app import StubApp

PACT_NAME = "shop"

#: ``/things/N``: the interaction and its sibling (same method and path) answering 404
_THING_PATH = {"matchers": [{"match": "regex", "regex": r"/things/(?P<id>\d+)"}]}

#: ``/things/N/parts/NAME``: groups without names, by position
_PART_PATH = {"matchers": [{"match": "regex", "regex": r"/things/(\d+)/parts/(\w+)"}]}

INTERACTIONS: list[dict[str, Any]] = [
    {
        "description": "a scratch request",
        "request": {"method": "POST", "path": "/scratch"},
        "response": {"status": 200, "headers": {"Content-Type": "application/json"}, "body": {}},
    },
    {
        "description": "a read",
        "request": {"method": "GET", "path": "/read"},
        "response": {"status": 200, "headers": {"Content-Type": "application/json"}, "body": {}},
    },
    {
        "description": "a thing",
        "request": {"method": "GET", "path": "/things/1", "matchingRules": {"path": _THING_PATH}},
        "response": {"status": 200, "headers": {"Content-Type": "application/json"}, "body": {"id": 1}},
    },
    {
        "description": "a thing that does not exist",
        "providerStates": [{"name": "thing 1 does not exist"}],
        "request": {"method": "GET", "path": "/things/1", "matchingRules": {"path": _THING_PATH}},
        "response": {"status": 404, "headers": {"Content-Type": "application/json"}, "body": {}},
    },
    {
        "description": "a part of a thing",
        "request": {
            "method": "GET",
            "path": "/things/1/parts/wheel",
            "matchingRules": {"path": _PART_PATH},
        },
        "response": {"status": 200, "headers": {"Content-Type": "application/json"}, "body": {}},
    },
    {
        "description": "a successful creation",
        "request": {"method": "PUT", "path": "/creations"},
        "response": {
            "status": 201,
            "headers": {"Content-Type": "application/json"},
            "body": {},
            "matchingRules": {"status": {"matchers": [{"match": "statusCode", "status": "success"}]}},
        },
    },
    {
        "description": "a generated value",
        "request": {"method": "GET", "path": "/generated"},
        "response": {
            "status": 200,
            "headers": {"Content-Type": "application/json"},
            "body": {"number": 1, "uuid": "0e6ea6b5-3b9a-4f43-9d8e-4a4f4c0ffee0", "code": "abc"},
            "generators": {"body": {"$.number": {"type": "RandomInt", "min": 0, "max": 1000000000},
                                    "$.uuid": {"type": "Uuid"},
                                    "$.code": {"type": "Regex", "regex": "[a-z]{4}-[0-9]{6}"}}},
        },
    },
    {
        "description": "a form",
        "request": {
            "method": "POST",
            "path": "/form",
            "headers": {"Content-Type": "application/x-www-form-urlencoded"},
            "body": "name=a&tag=x",
            "matchingRules": {"body": {"$.name": {"matchers": [{"match": "type"}]},
                                       "$.tag": {"matchers": [{"match": "type"}]}}},
        },
        "response": {"status": 200, "headers": {"Content-Type": "application/json"}, "body": {}},
    },
]  # fmt: skip


def pact_document() -> dict[str, Any]:
    return {
        "consumer": {"name": "tests"},
        "provider": {"name": PACT_NAME},
        "interactions": INTERACTIONS,
        "metadata": {"pactSpecification": {"version": "4.0"}},
    }


class Shop:
    """The shop pact in a folder, with the templates (by interaction slug) a test gives it."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.pact = folder / f"{PACT_NAME}.json"
        self.pact.write_text(json.dumps(pact_document()), encoding="utf-8")
        self.templates = folder / "templates"
        (self.templates / PACT_NAME).mkdir(parents=True, exist_ok=True)
        self._apps: list[StubApp] = []
        #: options of every app made, unless the call gives its own (a database URL, say)
        self.defaults: dict[str, Any] = {}

    def template(self, slug: str, text: str) -> Path:
        """Write the template of the interaction with this slug (``a-read``, ``a-thing``, ...)."""
        path = self.templates / PACT_NAME / f"{slug}.json.j2"
        path.write_text(text, encoding="utf-8")
        return path

    def file(self, name: str, text: str) -> Path:
        """Any other file of the pact's templates folder: a partial, the lifecycles."""
        path = self.templates / PACT_NAME / name
        path.write_text(text, encoding="utf-8")
        return path

    def lifecycles(self, text: str, name: str = "_lifecycles.yaml") -> Path:
        return self.file(name, text)

    def app(self, **options: Any) -> StubApp:
        app = create_app([self.pact], templates=self.templates, **{**self.defaults, **options})
        self._apps.append(app)
        return app

    def client(self, **options: Any) -> Client:
        return Client(self.app(**options))

    def close(self) -> None:
        for app in self._apps:
            app.close()


def shop_at(folder: Path) -> Iterator[Shop]:
    """For a fixture: the shop in ``folder``, its apps closed afterwards."""
    shop = Shop(folder)
    try:
        yield shop
    finally:
        shop.close()


def json_of(response: TestResponse, status: int = 200) -> Any:
    """The response's JSON, after checking its status (the body is in the message if it differs)."""
    assert response.status_code == status, response.get_data(as_text=True)
    return json.loads(response.get_data(as_text=True))


def session(name: str) -> Mapping[str, str]:
    """The header that puts a request in a session (the default header name)."""
    return {"X-Pactstub-Session": name}
