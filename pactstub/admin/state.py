"""Admin: what is served, the store's state, and reset."""

from __future__ import annotations

from datetime import UTC, datetime

from werkzeug.wrappers import Request, Response

from pactstub.admin import AdminApp, reply, session_of
from pactstub.listing import describe


def interactions(app: AdminApp, request: Request) -> Response:
    """The interactions served (the rows of ``list-interactions``), since when and from where.

    With ``--watch``, ``failed_reload`` says why newer files are not served yet.
    """
    contract = app.contract
    failed = app.failed_reload
    return reply(
        {
            "loaded_at": _iso(contract.loaded_at),
            "pacts": [
                {
                    "name": pact.name,
                    "source": origin.location,
                    "label": origin.label,
                    "kind": origin.kind,
                    "interactions": len(pact.interactions),
                }
                for pact, origin in zip(contract.pacts, contract.sources, strict=True)
            ],
            "failed_reload": None
            if failed is None
            else {"at": _iso(failed.at), "reason": failed.reason, "error": failed.error},
            "interactions": describe(contract.index, contract.templates),
        }
    )


def _iso(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).isoformat()


def state(app: AdminApp, request: Request) -> Response:
    """Counters and collection sizes of a session, and the sessions the store holds."""
    session = session_of(app, request)
    assert session is not None
    return reply({**app.store.snapshot(session), "sessions": app.store.sessions()})


def reset(app: AdminApp, request: Request) -> Response:
    """``POST /_pactstub/reset[?collection=NAME][&session=NAME]``: everything, or a part."""
    collection = request.args.get("collection") or None
    session = session_of(app, request, default=None)
    app.reset(collection, session)
    return reply({"reset": True, "collection": collection, "session": session})


def openapi(app: AdminApp, request: Request) -> Response:
    """The OpenAPI document of the interactions served, with this stub as its server."""
    from pactstub.openapi import openapi_document

    contract = app.contract
    served = [route.interaction for route in contract.index.routes]
    return reply(openapi_document(list(contract.pacts), served, servers=[request.host_url.rstrip("/")]))


ROUTES = [
    ("interactions", ["GET"], interactions),
    ("openapi.json", ["GET"], openapi),
    ("state", ["GET"], state),
    ("reset", ["POST"], reset),
]
