"""Admin: the journal of requests, filtered; clearing it."""

from __future__ import annotations

from datetime import datetime

from werkzeug.wrappers import Request, Response

from pactstub.admin import AdminApp, AdminError, reply, session_of, whole_number
from pactstub.journal import JournalFilter


def _since(request: Request) -> int | None:
    text = request.args.get("since")
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise AdminError(400, f"since must be an ISO 8601 time, not {text!r}") from None
    if moment.tzinfo is None:
        raise AdminError(400, "since needs a time zone (e.g. Z or +00:00)")
    return round(moment.timestamp() * 1_000_000)


def requests(app: AdminApp, request: Request) -> Response:
    """``GET /_pactstub/requests``, filtered by ``matched``, ``session``, ``interaction``, ``status``,
    ``since`` (ISO time), ``after`` (a sequence number) and ``limit`` (the newest ones)."""
    matched = request.args.get("matched")
    if matched not in (None, "true", "false", "1", "0"):
        raise AdminError(400, f"matched must be true or false, not {matched!r}")
    selection = JournalFilter(
        session=session_of(app, request, default=None),
        matched=None if matched is None else matched in ("true", "1"),
        status=whole_number(request, "status"),
        interaction=request.args.get("interaction"),
        since_us=_since(request),
        after_id=whole_number(request, "after"),
        limit=whole_number(request, "limit"),
    )
    return reply([entry.to_json() for entry in app.journal.entries(selection)])


def forget(app: AdminApp, request: Request) -> Response:
    app.journal.clear(session_of(app, request, default=None))
    return Response(status=204)


ROUTES = [("requests", ["GET"], requests), ("requests", ["DELETE"], forget)]
