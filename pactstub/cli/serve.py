"""``pactstub serve``: load pacts, migrate the store, serve until told to stop."""

from __future__ import annotations

import atexit
import logging
import os
import shutil
import sys
import tempfile
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from typing import Any, TypeVar

import click

from pactstub import __version__
from pactstub.app import StubApp
from pactstub.cli.options import (
    configure_logging,
    log_level_option,
    matching_options,
    with_user_errors,
)
from pactstub.cli.sandbox import sandbox_options
from pactstub.cli.sources import load_from_options, pact_options, watch_options
from pactstub.config import Settings, normalise_database_url, split_origins
from pactstub.errors import ListenError
from pactstub.listing import describe, shadowed
from pactstub.logs import LogFormat
from pactstub.metrics import MULTIPROCESS_ENV
from pactstub.reload import Reloader, WatchedSources
from pactstub.sources import LoadedPact, SourceSpec
from pactstub.state.engine import DatabaseSettings

_DEFAULTS = Settings()
F = TypeVar("F", bound=Callable[..., Any])


def server_options(function: F) -> F:
    """How the stub is served: the HTTP server, its limits and TLS."""
    decorators = [
        click.option(
            "--workers",
            type=click.IntRange(min=1),
            default=1,
            show_default=True,
            envvar="PACTSTUB_WORKERS",
            help="Worker processes (more than 1 runs gunicorn's arbiter, waitress in each worker).",
        ),
        click.option(
            "--server",
            type=click.Choice(["auto", "waitress", "gunicorn", "werkzeug"]),
            default="auto",
            show_default=True,
            envvar="PACTSTUB_SERVER",
            help="auto: waitress for 1 worker, gunicorn for more or for TLS. werkzeug: the "
            "threaded development server (one connection per request).",
        ),
        click.option(
            "--threads",
            type=click.IntRange(min=1),
            default=4,
            show_default=True,
            envvar="PACTSTUB_THREADS",
            help="Request threads per worker (waiting clients cost none: requests are read whole first).",
        ),
        click.option(
            "--max-connections",
            type=click.IntRange(min=1),
            default=1000,
            show_default=True,
            envvar="PACTSTUB_MAX_CONNECTIONS",
            help="Open connections per worker; more wait to be accepted.",
        ),
        click.option(
            "--timeout",
            type=click.FloatRange(min=0, min_open=True),
            default=30.0,
            show_default=True,
            envvar="PACTSTUB_TIMEOUT",
            help="Seconds a connection may idle, and a request may take to arrive whole (then 408).",
        ),
        click.option(
            "--tls-cert",
            type=click.Path(dir_okay=False),
            envvar="PACTSTUB_TLS_CERT",
            help="PEM certificate (chain) to serve HTTPS with; needs --tls-key. Served by gunicorn's "
            "threaded workers (waitress has no TLS) or werkzeug.",
        ),
        click.option(
            "--tls-key",
            type=click.Path(dir_okay=False),
            envvar="PACTSTUB_TLS_KEY",
            help="PEM private key of --tls-cert (unencrypted).",
        ),
        click.option(
            "--tls-self-signed",
            is_flag=True,
            envvar="PACTSTUB_TLS_SELF_SIGNED",
            help="Serve HTTPS with a new self-signed certificate for the host (local use); "
            "its file and SHA-256 fingerprint are printed at start.",
        ),
    ]
    for decorator in reversed(decorators):
        function = decorator(function)
    return function


@click.command()
@pact_options
@watch_options
@click.option("--host", default="127.0.0.1", show_default=True, envvar=["PACTSTUB_HOST", "FLASK_HOST"])
@click.option(
    "--port",
    "-p",
    type=click.IntRange(0, 65535),
    default=5000,
    show_default=True,
    envvar=["PACTSTUB_PORT", "FLASK_PORT"],
    help="0 picks a free port.",
)
@click.option(
    "--cors-origins",
    default=",".join(_DEFAULTS.cors_origins),
    show_default=True,
    envvar=["PACTSTUB_CORS_ORIGINS", "CORS_ORIGINS"],
    help="Comma-separated allowed origins.",
)
@matching_options
@click.option(
    "--database-url",
    default=DatabaseSettings().url,
    show_default=True,
    envvar=["PACTSTUB_DATABASE_URL", "DATABASE_URL"],
    help="Counter and record store (SQLite file, sqlite:// in memory, or PostgreSQL).",
)
@click.option(
    "--pool-size",
    type=int,
    default=_DEFAULTS.pool_size,
    show_default=True,
    envvar=["PACTSTUB_POOL_SIZE", "DATABASE_POOL_SIZE"],
    help="Database connections each worker keeps open (PostgreSQL, or a SQLite file).",
)
@click.option(
    "--max-overflow",
    type=int,
    default=_DEFAULTS.max_overflow,
    show_default=True,
    help="Database connections a worker may open beyond --pool-size under load.",
    envvar=["PACTSTUB_MAX_OVERFLOW", "DATABASE_MAX_OVERFLOW"],
)
@click.option(
    "--pool-timeout",
    type=float,
    default=_DEFAULTS.pool_timeout,
    show_default=True,
    help="Seconds a request waits for a free connection before 503.",
    envvar=["PACTSTUB_POOL_TIMEOUT", "DATABASE_POOL_TIMEOUT"],
)
@click.option(
    "--database-timeout",
    type=click.FloatRange(min=0, min_open=True),
    default=_DEFAULTS.database_timeout,
    show_default=True,
    envvar="PACTSTUB_DATABASE_TIMEOUT",
    help="Seconds PostgreSQL may take to connect or to answer a statement; then 503 with Retry-After.",
)
@click.option(
    "--no-match-status",
    type=int,
    default=_DEFAULTS.no_match_status,
    show_default=True,
    envvar="PACTSTUB_NO_MATCH_STATUS",
    help="Status when a path and method exist but no interaction matches.",
)
@click.option(
    "--max-body-size",
    type=int,
    default=_DEFAULTS.max_body_size,
    show_default=True,
    envvar="PACTSTUB_MAX_BODY_SIZE",
    help="Largest request body in bytes (413 above).",
)
@click.option(
    "--render-timeout",
    type=click.FloatRange(min=0, min_open=True),
    default=_DEFAULTS.render_timeout,
    show_default=True,
    envvar="PACTSTUB_RENDER_TIMEOUT",
    help="Seconds a template render may run; then it is stopped and answered 500 naming the template.",
)
@click.option(
    "--render-max-bytes",
    type=click.IntRange(min=1),
    default=_DEFAULTS.render_max_bytes,
    show_default=True,
    envvar="PACTSTUB_RENDER_MAX_BYTES",
    help="Bytes a template render may write (and the largest value one step of it may build).",
)
@sandbox_options
@server_options
@log_level_option
@with_user_errors
def serve(
    sources: SourceSpec,
    watch: float | None,
    host: str,
    port: int,
    cors_origins: str,
    workers: int,
    server: Any,
    threads: int,
    max_connections: int,
    timeout: float,
    tls_cert: str | None,
    tls_key: str | None,
    tls_self_signed: bool,
    log_level: str,
    log_format: LogFormat,
    **options: Any,
) -> None:
    """Serve the interactions of pact files over HTTP (HTTPS with --tls-*)."""
    from pactstub.server import ServerConfig, serve
    from pactstub.server.config import refuse_unshared_store
    from pactstub.server.tls import tls_files

    options["database_url"] = normalise_database_url(options["database_url"])
    refuse_unshared_store(options["database_url"], workers)
    with tls_files(tls_cert, tls_key, tls_self_signed, host) as tls:
        config = ServerConfig(
            host, port, server, workers, threads, max_connections, timeout,
            options["max_body_size"], tls, log_level,
        )  # fmt: skip
        configure_logging(log_level, log_format)
        _metrics_folder(config.kind == "gunicorn")
        settings = Settings.from_options({**options, "cors_origins": split_origins(cors_origins)})
        watched = WatchedSources(sources, settings.templates, watch) if watch is not None else None
        loaded = watched.load() if watched is not None else load_from_options(sources)
        _migrate(settings.database_url)
        app = StubApp([item.pact for item in loaded], settings, [item.origin for item in loaded])
        try:
            serve(
                app,
                config,
                report=app.transport_error,
                on_ready=lambda url: _announce(app, loaded, url, config, watched),
                lifespan=_reloading(app, watched),
            )
        except ListenError as error:
            click.echo(f"pactstub: error: {error}", err=True)
            raise SystemExit(error.exit_code) from error
    app.close()
    if log_format == "json":
        logging.getLogger("pactstub").info("stopped")
    else:
        click.echo("pactstub: stopped", err=True)


def _metrics_folder(workers: bool) -> None:
    """Worker processes count into files that a scrape adds up (prometheus-client's multiprocess mode).

    The folder is ``PROMETHEUS_MULTIPROC_DIR`` when set, else a temporary one made here
    and removed when the stub exits. It is set before the app makes its metrics, as
    prometheus-client requires.
    """
    if not workers or os.environ.get(MULTIPROCESS_ENV):
        return
    folder = tempfile.mkdtemp(prefix="pactstub-metrics-")
    os.environ[MULTIPROCESS_ENV] = folder
    owner = os.getpid()

    def remove() -> None:
        if os.getpid() == owner:  # forked workers exit through here too; only the arbiter cleans up
            shutil.rmtree(folder, ignore_errors=True)

    atexit.register(remove)


def _migrate(url: str) -> None:
    from pactstub.state.migrate import upgrade

    upgrade(url)


def _reloading(app: StubApp, watched: WatchedSources | None) -> Callable[[], AbstractContextManager[object]]:
    """What each serving process runs beside the app: a reloader with ``--watch``, else nothing."""
    if watched is None:
        return nullcontext
    return lambda: Reloader(app, watched)


def _announce(
    app: StubApp, loaded: list[LoadedPact], url: str, config: Any, watched: WatchedSources | None
) -> None:
    """Say where the stub listens, what it serves and where each pact came from."""
    rows = describe(app.index, app.templates)
    workers = config.workers
    plural = "s" if workers > 1 else ""
    out = [f"pactstub {__version__} serving {url} ({workers} worker{plural}) with {config.kind}"]
    if config.tls is not None:
        out.append(f"  {config.tls.describe()}")
    for item in loaded:
        pact, name = item.pact, item.origin.label
        count = len(pact.interactions)
        skipped = f", {len(pact.skipped)} message interaction(s) skipped" if pact.skipped else ""
        out.append(f"  pact {name}: {pact.consumer} -> {pact.provider}, {count} interactions{skipped}")
    routes = sorted({f"{r['method']} {r['path']}" for r in rows})
    out.append(f"  {len(rows)} interactions on {len(routes)} routes:")
    out.extend(f"    {route}" for route in routes)
    if watched is not None:
        out.append(f"  {watched.describe()}")
    click.echo("\n".join(out))
    sys.stdout.flush()
    for sentence in shadowed(app.index):
        logging.getLogger("pactstub").warning("%s", sentence)
