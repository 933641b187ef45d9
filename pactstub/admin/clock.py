"""Admin: a session's clock, read and moved.

``POST /_pactstub/clock`` takes ``{"advance": SECONDS}``, ``{"freeze": true}`` or ``{"unfreeze": true}``.
"""

from __future__ import annotations

from datetime import UTC, datetime

from werkzeug.wrappers import Request, Response

from pactstub.admin import AdminApp, AdminError, json_body, reply, session_of
from pactstub.render.helpers import iso_utc
from pactstub.state.clock import ClockState


def _shown(session: str, state: ClockState) -> dict[str, object]:
    return {
        "session": session,
        "now": iso_utc(datetime.fromtimestamp(state.now_us() / 1_000_000, UTC)),
        "offset_seconds": state.offset_us / 1_000_000,
        "frozen": state.frozen_us is not None,
    }


def read(app: AdminApp, request: Request) -> Response:
    session = session_of(app, request)
    assert session is not None
    return reply(_shown(session, app.store.clock(session)))


def move(app: AdminApp, request: Request) -> Response:
    session = session_of(app, request)
    assert session is not None
    body = json_body(request)
    unknown = sorted(set(body) - {"advance", "freeze", "unfreeze"})
    if unknown:
        raise AdminError(400, f"unknown fields {unknown} (known: advance, freeze, unfreeze)")
    advance = body.get("advance", 0)
    if not isinstance(advance, int | float) or isinstance(advance, bool) or not -1e9 < advance < 1e9:
        raise AdminError(400, f"advance must be a number of seconds, not {advance!r}")
    freeze, unfreeze = body.get("freeze", False), body.get("unfreeze", False)
    if not isinstance(freeze, bool) or not isinstance(unfreeze, bool) or (freeze and unfreeze):
        raise AdminError(400, "freeze and unfreeze are true or false, and not both true")
    state = app.store.move_clock(
        session, advance=float(advance), freeze=True if freeze else False if unfreeze else None
    )
    return reply(_shown(session, state))


ROUTES = [("clock", ["GET"], read), ("clock", ["POST"], move)]
