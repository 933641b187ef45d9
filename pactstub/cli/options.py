"""Options several commands share, and the one place errors become exit codes.

Each option reads a ``PACTSTUB_*`` environment variable; the original mock's
variables (``FLASK_HOST``, ``CORS_ORIGINS``, ``DATABASE_URL``, ...) are read
as fallbacks so existing setups keep working.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import click

from pactstub.config import DEFAULT_STATE_HEADER
from pactstub.errors import PactstubError
from pactstub.logs import LOG_FORMATS, LogFormat, formatter

F = TypeVar("F", bound=Callable[..., Any])


def matching_options(function: F) -> F:
    """Options that change how requests are matched and answered."""
    decorators = [
        templates_option,
        click.option(
            "-s",
            "--provider-state",
            envvar="PACTSTUB_PROVIDER_STATE",
            help="Serve only interactions whose provider state matches this regex.",
        ),
        click.option(
            "--empty-provider-state",
            is_flag=True,
            envvar="PACTSTUB_EMPTY_PROVIDER_STATE",
            help="With --provider-state, also serve interactions without a provider state.",
        ),
        click.option(
            "--provider-state-header",
            "--provider-state-header-name",
            default=DEFAULT_STATE_HEADER,
            show_default=True,
            envvar="PACTSTUB_PROVIDER_STATE_HEADER",
            help="Request header that picks interactions by provider state.",
        ),
        click.option(
            "--strict-headers",
            is_flag=True,
            envvar="PACTSTUB_STRICT_HEADERS",
            help="Also match transport headers (Host, Content-Length, Connection, ...).",
        ),
    ]
    for decorator in reversed(decorators):
        function = decorator(function)
    return function


DEFAULT_TEMPLATES = Path("templates")


def _default_templates(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """Without ``--templates``, a ``templates/`` folder in the working directory is used."""
    if value is None and DEFAULT_TEMPLATES.is_dir():
        return str(DEFAULT_TEMPLATES)
    return value


templates_option = click.option(
    "--templates",
    type=click.Path(file_okay=False, exists=True),
    envvar="PACTSTUB_TEMPLATES",
    callback=_default_templates,
    help="Folder of response templates: <pact stem>/<interaction slug>.json.j2 "
    "[default: ./templates when it exists].",
)


def log_level_option(function: F) -> F:
    """``--log-level`` and ``--log-format``."""
    function = click.option(
        "--log-format",
        type=click.Choice(LOG_FORMATS),
        default="text",
        show_default=True,
        envvar="PACTSTUB_LOG_FORMAT",
        help="text: a line for people; json: one JSON object per line (per request: time, method, "
        "path, status, interaction or closest with its first mismatch, session, duration).",
    )(function)
    return click.option(
        "--log-level",
        type=click.Choice(["debug", "info", "warning", "error"], case_sensitive=False),
        default="info",
        show_default=True,
        envvar="PACTSTUB_LOG_LEVEL",
        help="Least severe log lines shown: info has a line per request, warning only the misses "
        "and refused requests.",
    )(function)


def configure_logging(level: str, log_format: LogFormat = "text") -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(formatter(log_format))
    logging.basicConfig(level=level.upper(), handlers=[handler])
    # migrations announce every step at INFO; only their problems matter here
    logging.getLogger("alembic").setLevel(max(logging.WARNING, logging.getLogger().level))


@contextmanager
def user_errors() -> Iterator[None]:
    """pactstub's own errors end the command with a message and their class's exit code, no traceback."""
    try:
        yield
    except PactstubError as error:
        click.echo(f"pactstub: error: {error}", err=True)
        raise SystemExit(error.exit_code) from error


def with_user_errors(function: F) -> F:
    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with user_errors():
            return function(*args, **kwargs)

    return wrapper  # type: ignore[return-value]
