"""Admin: the records of the store, listed, read, changed and deleted.

``GET /_pactstub/records/{collection}?field=value`` lists a collection's records whose
fields equal the values given (a value that reads as JSON is that JSON value: ``123``
is a number, ``"123"`` a string, ``true`` a boolean; anything else is a string).
``_limit``, ``_offset`` and ``_order_by`` shape the list. Reads here never move a
record along its lifecycle.
"""

from __future__ import annotations

from typing import Any

from werkzeug.wrappers import Request, Response

from pactstub import jsontext
from pactstub.admin import AdminApp, AdminError, json_body, reply, session_of, whole_number
from pactstub.render.helpers import iso_utc
from pactstub.state.records import Record

_WINDOW = {"_limit", "_offset", "_order_by", "_session", "session"}


def shown(record: Record) -> dict[str, Any]:
    return {
        "id": record.id,
        "data": record.data,
        "created_at": iso_utc(record.created_at),
        "updated_at": iso_utc(record.updated_at),
    }


def _value(text: str) -> Any:
    try:
        return jsontext.loads(text)
    except ValueError:
        return text


def _session(app: AdminApp, request: Request) -> str:
    session = request.args.get("_session") or session_of(app, request)
    assert session is not None
    return session


def _known(app: AdminApp, session: str, collection: str) -> None:
    if not app.store.has_collection(collection, session=session):
        raise AdminError(404, f"no collection named {collection!r} in session {session!r}")


def collections(app: AdminApp, request: Request) -> Response:
    session = _session(app, request)
    return reply({"session": session, "collections": app.store.snapshot(session)["collections"]})


def listing(app: AdminApp, request: Request, collection: str) -> Response:
    session = _session(app, request)
    _known(app, session, collection)
    where = {name: _value(value) for name, value in request.args.items() if name not in _WINDOW}
    found = app.store.find(
        collection,
        where,
        session=session,
        order_by=request.args.get("_order_by"),
        limit=whole_number(request, "_limit"),
        offset=whole_number(request, "_offset") or 0,
    )
    return reply({"records": [shown(record) for record in found]})


def one(app: AdminApp, request: Request, collection: str, record_id: int) -> Response:
    record = app.store.get(collection, record_id, session=_session(app, request))
    if record is None:
        raise AdminError(404, f"no record {record_id} in collection {collection!r}")
    return reply(shown(record))


def patch(app: AdminApp, request: Request, collection: str, record_id: int) -> Response:
    """Merge a JSON object into the record's data (a lifecycle's state field moves it into that state)."""
    changes = json_body(request)
    record = app.store.update(collection, record_id, changes, session=_session(app, request))
    if record is None:
        raise AdminError(404, f"no record {record_id} in collection {collection!r}")
    return reply(shown(record))


def delete(app: AdminApp, request: Request, collection: str, record_id: int) -> Response:
    if not app.store.delete(collection, record_id, session=_session(app, request)):
        raise AdminError(404, f"no record {record_id} in collection {collection!r}")
    return Response(status=204)


ROUTES = [
    ("records", ["GET"], collections),
    ("records/<collection>", ["GET"], listing),
    ("records/<collection>/<int:record_id>", ["GET"], one),
    ("records/<collection>/<int:record_id>", ["PATCH"], patch),
    ("records/<collection>/<int:record_id>", ["DELETE"], delete),
]
