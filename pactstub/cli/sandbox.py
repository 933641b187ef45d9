"""Options of a stub shared by several people or test suites: randomness, sessions, faults, the
journal's bounds, and what protects the admin endpoints and the URLs the stub hands out.

Each maps to one field of :class:`pactstub.config.Settings` (same name, same default).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

from pactstub.config import DEFAULT_MASKED_HEADERS, Settings

F = TypeVar("F", bound=Callable[..., Any])

_DEFAULTS = Settings()


def sandbox_options(function: F) -> F:
    """``--seed``, ``--session-header``, ``--delay``, ``--fault``, the journal, admin token and URLs."""
    decorators = [
        click.option(
            "--seed",
            type=int,
            envvar="PACTSTUB_SEED",
            help="Seed every random choice (generators, templates, lifecycle failures) for repeatable runs.",
        ),
        click.option(
            "--session-header",
            default=_DEFAULTS.session_header,
            show_default=True,
            envvar="PACTSTUB_SESSION_HEADER",
            help="Request header naming a session: its own counters, records, clock and journal.",
        ),
        click.option(
            "--delay",
            "delays",
            multiple=True,
            metavar="[INTERACTION=]DURATION",
            envvar="PACTSTUB_DELAY",
            help="Delay answers: 200ms, 1.5s or 50ms-300ms; of one interaction or all (repeatable).",
        ),
        click.option(
            "--fault",
            "faults",
            multiple=True,
            metavar="[INTERACTION=]STATUS|drop[@P]",
            envvar="PACTSTUB_FAULT",
            help="Answer an error status, or drop the connection, with probability P (default 1) "
            "(repeatable).",
        ),
        click.option(
            "--journal-size",
            type=click.IntRange(min=1),
            default=_DEFAULTS.journal_size,
            show_default=True,
            envvar="PACTSTUB_JOURNAL_SIZE",
            help="Requests the journal keeps (in the store, shared by every worker).",
        ),
        click.option(
            "--journal-bytes",
            type=click.IntRange(min=1),
            default=_DEFAULTS.journal_bytes,
            show_default=True,
            envvar="PACTSTUB_JOURNAL_BYTES",
            help="Bytes of entries the journal keeps at most.",
        ),
        click.option(
            "--journal-body-limit",
            type=click.IntRange(min=0),
            default=_DEFAULTS.journal_body_limit,
            show_default=True,
            envvar="PACTSTUB_JOURNAL_BODY_LIMIT",
            help="Bytes of each request body the journal keeps (the rest is marked truncated).",
        ),
        click.option(
            "--mask-header",
            "masked_headers",
            multiple=True,
            default=DEFAULT_MASKED_HEADERS,
            show_default=True,
            envvar="PACTSTUB_MASK_HEADER",
            help="Request header whose value the journal shows as *** (repeatable; replaces the list).",
        ),
        click.option(
            "--admin-token",
            envvar="PACTSTUB_ADMIN_TOKEN",
            help="Every /_pactstub/ call then needs 'Authorization: Bearer TOKEN'.",
        ),
        click.option(
            "--public-url",
            metavar="URL",
            envvar="PACTSTUB_PUBLIC_URL",
            help="The base URL the stub hands out (templates' base_url) [default: as the client reached it].",
        ),
        click.option(
            "--trusted-proxies",
            type=click.IntRange(min=0),
            default=_DEFAULTS.trusted_proxies,
            show_default=True,
            envvar="PACTSTUB_TRUSTED_PROXIES",
            help="How many proxies in front may set X-Forwarded-For/Proto/Host (0: ignore those headers).",
        ),
    ]
    for decorator in reversed(decorators):
        function = decorator(function)
    return function
