"""The options that say where pacts come from, shared by every command that loads pacts.

Flags follow ``pact stub`` where it has them (``-f``, ``-d``, ``-u``, ``-b``, ``-t``),
and the broker settings read the Pact ecosystem's ``PACT_BROKER_*`` variables.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from typing import Any, TypeVar

import click

from pactstub.errors import ConfigError
from pactstub.sources import BrokerSpec, Credentials, LoadedPact, SourceSpec

F = TypeVar("F", bound=Callable[..., Any])

#: the options :func:`pact_options` adds, gathered into one ``sources`` argument
_SOURCE_OPTIONS = [
    click.option(
        "-f",
        "--pact",
        "pact_files",
        multiple=True,
        type=click.Path(dir_okay=False),
        envvar="PACTSTUB_PACT",
        help="Pact file (repeatable).",
    ),
    click.option(
        "-d",
        "--pact-dir",
        "pact_dirs",
        multiple=True,
        type=click.Path(file_okay=False, readable=False),  # an unreadable folder is a load problem
        envvar="PACTSTUB_PACT_DIR",
        help="Folder of *.json pact files (repeatable).",
    ),
    click.option(
        "-u",
        "--pact-url",
        "pact_urls",
        multiple=True,
        metavar="URL",
        envvar="PACTSTUB_PACT_URL",
        help="Pact at an http(s) URL (repeatable).",
    ),
    click.option(
        "-b",
        "--broker-url",
        metavar="URL",
        envvar=["PACTSTUB_BROKER_URL", "PACT_BROKER_BASE_URL"],
        help="Pact Broker to take the pacts of --provider-name from.",
    ),
    click.option(
        "--provider-name",
        metavar="NAME",
        envvar="PACTSTUB_PROVIDER_NAME",
        help="Provider whose pacts the broker serves.",
    ),
    click.option(
        "--consumer-name",
        "consumer_names",
        multiple=True,
        metavar="NAME",
        help="Only pacts from this consumer (a name or a regex; repeatable).",
    ),
    click.option(
        "--consumer-version-selectors",
        "selectors",
        multiple=True,
        metavar="JSON",
        callback=lambda ctx, param, values: parse_selectors(values),
        help="Consumer version selector, e.g. '{\"mainBranch\": true}' (repeatable).",
    ),
    click.option("--broker-username", envvar="PACT_BROKER_USERNAME", help="Broker basic-auth user."),
    click.option("--broker-password", envvar="PACT_BROKER_PASSWORD", help="Broker basic-auth password."),
    click.option("-t", "--broker-token", envvar="PACT_BROKER_TOKEN", help="Broker bearer token."),
]
_SOURCE_PARAMS = (
    "pact_files",
    "pact_dirs",
    "pact_urls",
    "broker_url",
    "provider_name",
    "consumer_names",
    "selectors",
    "broker_username",
    "broker_password",
    "broker_token",
)


def pact_options(function: F) -> F:
    """Where pacts come from (files, folders, URLs, a broker), passed on as ``sources``."""

    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        values = {name: kwargs.pop(name) for name in _SOURCE_PARAMS}
        kwargs["sources"] = source_spec(click.get_current_context(), **values)
        return function(*args, **kwargs)

    for decorator in reversed(_SOURCE_OPTIONS):
        wrapper = decorator(wrapper)
    return wrapper  # type: ignore[return-value]


def watch_options(function: F) -> F:
    """``--watch`` and ``--watch-interval``, passed on as ``watch``: seconds between fetches, or None."""

    @functools.wraps(function)
    def wrapper(*args: Any, watch: bool, watch_interval: float, **kwargs: Any) -> Any:
        ctx = click.get_current_context()
        if not watch and ctx.get_parameter_source("watch_interval") == click.core.ParameterSource.COMMANDLINE:
            raise click.UsageError("--watch-interval needs --watch")
        return function(*args, watch=watch_interval if watch else None, **kwargs)

    wrapper = click.option(
        "--watch-interval",
        type=click.FloatRange(min=0.1),
        default=10.0,
        show_default=True,
        metavar="SECONDS",
        envvar="PACTSTUB_WATCH_INTERVAL",
        help="With --watch, how often the pacts at URLs and in the broker are fetched again.",
    )(wrapper)
    wrapper = click.option(
        "--watch",
        is_flag=True,
        envvar="PACTSTUB_WATCH",
        help="Reload the pact files, folders and templates when they change (and the pacts at URLs "
        "and in the broker when a new fetch differs); counters, records and sessions carry on, and "
        "a version that fails to load is logged and not served.",
    )(wrapper)
    return wrapper  # type: ignore[return-value]


def load_from_options(sources: SourceSpec) -> list[LoadedPact]:
    from pactstub.loading import load_sources

    return load_sources(sources)


def parse_selectors(values: tuple[str, ...]) -> tuple[dict[str, Any], ...]:
    """Each value is one selector object, or a JSON list of them."""
    selectors: list[dict[str, Any]] = []
    for text in values:
        try:
            value = json.loads(text)
        except ValueError as error:
            raise click.BadParameter(f"{text!r} is not JSON: {error}") from error
        items = value if isinstance(value, list) else [value]
        if not items or not all(isinstance(item, dict) for item in items):
            raise click.BadParameter(f'{text!r} is not a JSON object such as {{"mainBranch": true}}')
        selectors.extend(items)
    return tuple(selectors)


def source_spec(
    ctx: click.Context,
    *,
    pact_files: tuple[str, ...],
    pact_dirs: tuple[str, ...],
    pact_urls: tuple[str, ...],
    broker_url: str | None,
    provider_name: str | None,
    consumer_names: tuple[str, ...],
    selectors: tuple[dict[str, Any], ...],
    broker_username: str | None,
    broker_password: str | None,
    broker_token: str | None,
) -> SourceSpec:
    """The options as one :class:`SourceSpec`, refusing combinations that cannot work."""
    if broker_url and not provider_name:
        if ctx.get_parameter_source("broker_url") != click.core.ParameterSource.ENVIRONMENT:
            raise click.UsageError("--broker-url needs --provider-name NAME")
        broker_url = None  # PACT_BROKER_BASE_URL alone, set for other Pact tools
    if not broker_url:
        for given, option in (
            (provider_name, "--provider-name"),
            (consumer_names, "--consumer-name"),
            (selectors, "--consumer-version-selectors"),
        ):
            if given:
                raise click.UsageError(f"{option} needs --broker-url URL (or PACT_BROKER_BASE_URL)")
    credentials = _credentials(broker_username, broker_password, broker_token)
    broker = _broker(broker_url, provider_name, consumer_names, selectors, credentials)
    spec = SourceSpec(pact_files, pact_dirs, pact_urls, broker, credentials)
    if not spec:
        raise click.UsageError(
            "give at least one --pact FILE, --pact-dir DIR, --pact-url URL, "
            "or --broker-url URL with --provider-name NAME"
        )
    return spec


def _broker(
    url: str | None,
    provider: str | None,
    consumers: tuple[str, ...],
    selectors: tuple[dict[str, Any], ...],
    credentials: Credentials,
) -> BrokerSpec | None:
    if not url:
        return None
    try:
        return BrokerSpec(url, provider or "", consumers, selectors, credentials=credentials)
    except ConfigError as error:
        raise click.BadParameter(str(error)) from error


def _credentials(username: str | None, password: str | None, token: str | None) -> Credentials:
    if token and username:
        raise click.UsageError("give --broker-token or --broker-username/--broker-password, not both")
    if password and not username:
        raise click.UsageError("--broker-password needs --broker-username")
    return Credentials(username or None, password, token or None)
