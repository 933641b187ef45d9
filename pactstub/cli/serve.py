"""``pactstub serve``: load pacts, migrate the store, serve until told to stop."""

from __future__ import annotations

import sys
from typing import Any

import click

from pactstub import __version__
from pactstub.app import StubApp
from pactstub.cli.options import (
    configure_logging,
    log_level_option,
    matching_options,
    with_user_errors,
)
from pactstub.cli.sources import load_from_options, pact_options
from pactstub.config import Settings, normalise_database_url, split_origins
from pactstub.listing import describe
from pactstub.sources import LoadedPact, SourceSpec

DEFAULT_DATABASE = "sqlite:///pactstub.sqlite3"


@click.command()
@pact_options
@click.option("--host", default="127.0.0.1", show_default=True, envvar=["PACTSTUB_HOST", "FLASK_HOST"])
@click.option(
    "-p",
    "--port",
    type=int,
    default=5000,
    show_default=True,
    envvar=["PACTSTUB_PORT", "FLASK_PORT"],
    help="0 picks a free port.",
)
@click.option(
    "--cors-origins",
    default="*",
    show_default=True,
    envvar=["PACTSTUB_CORS_ORIGINS", "CORS_ORIGINS"],
    help="Comma-separated allowed origins.",
)
@matching_options
@click.option(
    "--database-url",
    default=DEFAULT_DATABASE,
    show_default=True,
    envvar=["PACTSTUB_DATABASE_URL", "DATABASE_URL"],
    help="Counter and record store (SQLite file, sqlite:// in memory, or PostgreSQL).",
)
@click.option("--pool-size", type=int, default=10, envvar=["PACTSTUB_POOL_SIZE", "DATABASE_POOL_SIZE"])
@click.option(
    "--max-overflow", type=int, default=20, envvar=["PACTSTUB_MAX_OVERFLOW", "DATABASE_MAX_OVERFLOW"]
)
@click.option(
    "--pool-timeout", type=float, default=30.0, envvar=["PACTSTUB_POOL_TIMEOUT", "DATABASE_POOL_TIMEOUT"]
)
@click.option(
    "--no-match-status",
    type=int,
    default=400,
    show_default=True,
    envvar="PACTSTUB_NO_MATCH_STATUS",
    help="Status when a path and method exist but no interaction matches.",
)
@click.option(
    "--max-body-size",
    type=int,
    default=10 * 1024 * 1024,
    show_default=True,
    envvar="PACTSTUB_MAX_BODY_SIZE",
    help="Largest request body in bytes (413 above).",
)
@click.option("--journal-size", type=int, default=200, show_default=True, envvar="PACTSTUB_JOURNAL_SIZE")
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    envvar="PACTSTUB_WORKERS",
    help="Worker processes (more than 1 runs under gunicorn).",
)
@click.option(
    "--server",
    type=click.Choice(["auto", "werkzeug", "gunicorn"]),
    default="auto",
    show_default=True,
    envvar="PACTSTUB_SERVER",
    help="HTTP server: werkzeug's threaded server (auto for 1 worker; a new connection per "
    "request) or gunicorn (auto for more; keeps connections alive, faster).",
)
@log_level_option
@with_user_errors
def serve(
    sources: SourceSpec,
    host: str,
    port: int,
    cors_origins: str,
    workers: int,
    server: str,
    log_level: str,
    **options: Any,
) -> None:
    """Serve the interactions of pact files over HTTP."""
    if server == "werkzeug" and workers > 1:
        raise click.UsageError("--server werkzeug runs one process; use --server gunicorn for --workers N")
    configure_logging(log_level)
    loaded = load_from_options(sources)
    pacts = [item.pact for item in loaded]
    options["database_url"] = normalise_database_url(options["database_url"])
    settings = Settings.from_options({**options, "cors_origins": split_origins(cors_origins)})
    _migrate(settings.database_url)
    app = StubApp(pacts, settings)
    if server == "gunicorn" or workers > 1:
        from pactstub.server import serve_with_gunicorn

        serve_with_gunicorn(
            lambda: StubApp(pacts, settings),
            host,
            port,
            workers,
            lambda url: _announce(app, loaded, url, workers),
            log_level,
        )
        return
    from pactstub.server import bind

    bound = bind(app, host, port)  # werkzeug explains a taken port itself and exits 1
    bound.serve_until_signalled(on_ready=lambda: _announce(app, loaded, bound.url(), workers))
    app.close()
    click.echo("pactstub: stopped", err=True)


def _migrate(url: str) -> None:
    from pactstub.state.migrate import upgrade

    upgrade(url)


def _announce(app: StubApp, loaded: list[LoadedPact], url: str, workers: int) -> None:
    """Say where the stub listens and what it serves, and where each pact came from."""
    rows = describe(app.index, app.templates)
    out = [f"pactstub {__version__} serving {url} ({workers} worker{'s' if workers > 1 else ''})"]
    for item in loaded:
        pact, name = item.pact, item.origin.label
        count = len(pact.interactions)
        skipped = f", {len(pact.skipped)} message interaction(s) skipped" if pact.skipped else ""
        out.append(f"  pact {name}: {pact.consumer} -> {pact.provider}, {count} interactions{skipped}")
    routes = sorted({f"{r['method']} {r['path']}" for r in rows})
    out.append(f"  {len(rows)} interactions on {len(routes)} routes:")
    out.extend(f"    {route}" for route in routes)
    click.echo("\n".join(out))
    sys.stdout.flush()
