"""The dashboard: ``GET /_pactstub/``, a page for people looking into a running stub.

Server-rendered HTML (Jinja2 templates shipped with the package, autoescaped: every
value from a pact, a request or the store is text, never markup) and one small script
that keeps it live. The page is made of fragments, each its own endpoint under
``/_pactstub/dashboard/``: the request journal (polled every second for new entries),
one request beside what its closest interaction expects, the store of a session, and the
interactions. Without an admin token the page arrives with every fragment in it; with
one, the page (which holds no data) asks for the token, keeps it in the tab's
``sessionStorage``, and fetches the fragments with it, so the token and the cross-site
guard apply to everything the page shows or does (its reset button posts to
``/_pactstub/reset`` like any client).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import Any

import jinja2
from werkzeug.wrappers import Request, Response

from pactstub import __version__
from pactstub.admin import AdminApp, AdminError, Routes, may_see, session_of
from pactstub.admin.compare import compare
from pactstub.journal import JournalEntry, JournalFilter
from pactstub.listing import describe
from pactstub.model import HttpRequest, Interaction
from pactstub.state.documents import DEFAULT_SESSION

__all__ = ["PUBLIC", "ROUTES"]

#: Requests the journal table shows (the newest), and each poll brings at most.
JOURNAL_ROWS = 100
#: Records shown per collection (the newest).
RECORDS_SHOWN = 25
HTML = "text/html; charset=utf-8"
#: Only the page's own script and style; no frames, no other origin.
_SECURITY = {
    "Content-Security-Policy": "; ".join(
        (
            "default-src 'self'",
            "img-src 'self' data:",
            "frame-ancestors 'none'",
            "base-uri 'none'",
            "form-action 'none'",
        )
    ),
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
}
_STATIC = {"dashboard.js": "text/javascript; charset=utf-8", "dashboard.css": "text/css; charset=utf-8"}


@cache
def _environment() -> jinja2.Environment:
    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("pactstub.admin", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters["pretty"] = lambda value: json.dumps(value, indent=2, ensure_ascii=False, default=str)
    environment.filters["clock"] = _clock_time
    return environment


def _clock_time(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%H:%M:%S.%f")[:-3]


def _html(template: str, status: int = 200, **context: Any) -> Response:
    text = _environment().get_template(template).render(**context)
    return Response(text, status=status, content_type=HTML, headers=_SECURITY)


# -- the page and its files (no data, no token) -------------------------------------------


def page(app: AdminApp, request: Request) -> Response:
    """The whole page; with the fragments in it when the request may see them."""
    shown = may_see(app, request)
    session = _session(app, request)
    context: dict[str, Any] = {
        "version": __version__,
        "token_required": app.settings.admin_token is not None,
        "shown": shown,
        "session": session,
        "newest": 0,
    }
    if shown:
        entries = _newest(app, None)
        context |= {
            "entries": entries,
            "newest": entries[0].sequence if entries else 0,
            **_interactions_context(app),
            **_store_context(app, session),
        }
    return _html("page.html.j2", **context)


def static(app: AdminApp, request: Request, name: str) -> Response:
    if name not in _STATIC:
        raise AdminError(404, f"no dashboard file {name!r}")
    data = files("pactstub.admin").joinpath("static", name).read_bytes()
    return Response(data, content_type=_STATIC[name], headers=_SECURITY)


# -- fragments ------------------------------------------------------------------------------


def journal(app: AdminApp, request: Request) -> Response:
    """Rows of the newest requests, newest first; ``after=SEQ``: only those after it.

    ``X-Journal-Newest`` is the newest sequence the journal holds: lower than the
    page's means the journal was cleared since.
    """
    after = request.args.get("after")
    if after is not None and not after.isdigit():
        raise AdminError(400, f"after must be a whole number, not {after!r}")
    entries = _newest(app, int(after) if after else None)
    newest = entries[0].sequence if entries else _newest_sequence(app)
    response = _html("_journal.html.j2", entries=entries)
    response.headers["X-Journal-Newest"] = str(newest)
    return response


def detail(app: AdminApp, request: Request, sequence: int) -> Response:
    """One request beside the request of the interaction that answered it, or came closest."""
    found = app.journal.entries(JournalFilter(after_id=sequence - 1, before_id=sequence + 1))
    entry = found[0] if found else None
    if entry is None:
        raise AdminError(404, f"no request {sequence} in the journal")
    interaction = _interaction_of(app, entry)
    mismatches = entry.closest[0].mismatches if entry.closest else ()
    expected: HttpRequest | None = interaction.request if interaction else None
    return _html(
        "_detail.html.j2",
        entry=entry,
        interaction=interaction,
        comparison=compare(expected, entry, mismatches),
    )


def store(app: AdminApp, request: Request) -> Response:
    return _html("_store.html.j2", **_store_context(app, _session(app, request)))


def interactions(app: AdminApp, request: Request) -> Response:
    return _html("_interactions.html.j2", **_interactions_context(app))


# -- what the templates see -------------------------------------------------------------------


def _session(app: AdminApp, request: Request) -> str:
    return session_of(app, request) or DEFAULT_SESSION


def _newest(app: AdminApp, after: int | None) -> list[JournalEntry]:
    selection = JournalFilter(after_id=after, limit=JOURNAL_ROWS)
    return list(reversed(app.journal.entries(selection)))


def _newest_sequence(app: AdminApp) -> int:
    newest = app.journal.entries(JournalFilter(limit=1))
    return newest[0].sequence if newest else 0


def _interaction_of(app: AdminApp, entry: JournalEntry) -> Interaction | None:
    """The interaction that answered ``entry``, or the closest one; ``None`` when none did."""
    if entry.closest:
        pact_name, index = entry.closest[0].pact, entry.closest[0].index
        for pact in app.contract.pacts:
            if pact.name == pact_name and 0 <= index < len(pact.interactions):
                return pact.interactions[index]
        return None
    for route in app.contract.index.routes:
        found = route.interaction
        if found.pact_name == entry.pact and found.description == entry.interaction:
            return found
    return None


def _interactions_context(app: AdminApp) -> dict[str, Any]:
    contract = app.contract
    rows = describe(contract.index, contract.templates)
    for row in rows:
        row["template"] = _short(row["template"])
    return {
        "loaded_at": contract.loaded_at,
        "pacts": contract.pacts,
        "interactions": rows,
        "lifecycles": sorted(contract.lifecycles.values(), key=lambda cycle: cycle.collection),
    }


def _short(path: str | None) -> str | None:
    """A template's file as ``<pact stem>/<slug>.json.j2``, the part a person looks for."""
    return None if path is None else "/".join(Path(path).parts[-2:])


def _store_context(app: AdminApp, session: str) -> dict[str, Any]:
    store = app.store
    snapshot = store.snapshot(session)
    sessions = sorted({*store.sessions(), DEFAULT_SESSION, session})
    records = {
        name: store.find(name, session=session, order_by="-id", limit=RECORDS_SHOWN)
        for name in snapshot["collections"]
    }
    clock = store.clock(session)
    return {
        "session": session,
        "sessions": sessions,
        "counters": snapshot["counters"],
        "collections": snapshot["collections"],
        "records": records,
        "lifecycle_fields": {name: cycle.field for name, cycle in app.contract.lifecycles.items()},
        "clock": {
            "now": clock.now_us() / 1_000_000,
            "frozen": clock.frozen_us is not None,
            "offset_seconds": clock.offset_us / 1_000_000,
        },
    }


PUBLIC: Routes = [("", ["GET"], page), ("static/<name>", ["GET"], static)]
ROUTES: Routes = [
    ("dashboard/journal", ["GET"], journal),
    ("dashboard/requests/<int:sequence>", ["GET"], detail),
    ("dashboard/store", ["GET"], store),
    ("dashboard/interactions", ["GET"], interactions),
]
