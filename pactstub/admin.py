"""The stub's own endpoints under ``/_pactstub/``: interactions, journal, state.

Kept apart from the pact routes so no contract can shadow them, and so a
test suite can reset the stub between tests over plain HTTP.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from werkzeug.wrappers import Request, Response

from pactstub.errors import StoreError
from pactstub.listing import describe

if TYPE_CHECKING:
    from pactstub.app import StubApp

JSON = "application/json"


def handle_admin(app: StubApp, request: Request) -> Response:
    """Answer a request to ``/_pactstub/<name>``."""
    name = request.path[len("/_pactstub/") :].strip("/")
    method = request.method.upper()
    try:
        if name == "interactions" and method == "GET":
            return _json(describe(app.index, app.templates))
        if name == "requests" and method == "GET":
            entries = app.journal.entries()
            if request.args.get("matched") in ("false", "0"):
                entries = [e for e in entries if not e.matched]
            return _json([e.to_json() for e in entries])
        if name == "requests" and method == "DELETE":
            app.journal.clear()
            return Response(status=204)
        if name == "reset" and method == "POST":
            app.reset(request.args.get("collection") or None)
            return _json({"reset": True, "collection": request.args.get("collection")})
        if name == "state" and method == "GET":
            return _json(app.store.snapshot())
        if name == "openapi.json" and method == "GET":
            return _json(_openapi(app, request))
    except StoreError as error:
        return _json({"error": str(error)}, 503)
    known = [
        "GET interactions",
        "GET requests",
        "DELETE requests",
        "POST reset",
        "GET state",
        "GET openapi.json",
    ]
    return _json({"error": f"unknown endpoint {method} {request.path}", "endpoints": known}, 404)


def _openapi(app: StubApp, request: Request) -> dict[str, Any]:
    """The document of the interactions served, with this stub as its server."""
    from pactstub.openapi import openapi_document

    served = [route.interaction for route in app.index.routes]
    return openapi_document(app.pacts, served, servers=[request.host_url.rstrip("/")])


def _json(document: Any, status: int = 200) -> Response:
    return Response(json.dumps(document, ensure_ascii=False, indent=1), status=status, content_type=JSON)
