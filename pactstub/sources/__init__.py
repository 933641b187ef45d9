"""Where pacts come from: files and folders, URLs, a Pact Broker.

A :class:`SourceSpec` names them all; :func:`fetch_sources` turns it into pact files
to read and documents already fetched, each with its :class:`Origin`.
:func:`pactstub.loading.load_sources` then validates and parses them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from pactstub.sources.access import Credentials, HttpSettings
from pactstub.sources.broker import BrokerSpec, fetch_broker
from pactstub.sources.files import discover, read_file
from pactstub.sources.origin import Fetched, LoadedPact, Origin
from pactstub.sources.url import fetch_url

__all__ = [
    "BrokerSpec",
    "Credentials",
    "Fetched",
    "HttpSettings",
    "LoadedPact",
    "Origin",
    "SourceSpec",
    "discover",
    "fetch_sources",
    "read_file",
]


@dataclass(frozen=True, slots=True)
class SourceSpec:
    """Every place to load pacts from, in the order they are served."""

    files: tuple[str, ...] = ()
    dirs: tuple[str, ...] = ()
    urls: tuple[str, ...] = ()
    broker: BrokerSpec | None = None
    #: sent with the ``urls`` requests (the broker's are in ``broker``)
    credentials: Credentials = field(default_factory=Credentials)
    http: HttpSettings = field(default_factory=HttpSettings)

    def __bool__(self) -> bool:
        return bool(self.files or self.dirs or self.urls or self.broker)


def fetch_sources(spec: SourceSpec) -> list[Path | Fetched]:
    """Files to read (named, then each folder's), then the pacts of URLs and the broker.

    Raises :class:`~pactstub.errors.PactLoadError` for a missing folder and
    :class:`~pactstub.errors.SourceError` for a URL or broker that fails.
    """
    found: list[Path | Fetched] = list(discover(spec.files, spec.dirs))
    if not (spec.urls or spec.broker):
        return found
    from pactstub.sources.http import HttpClient

    client = HttpClient(spec.http)
    try:
        for url in spec.urls:
            client.authorise(url, spec.credentials)
            found.append(fetch_url(client, url))
        if spec.broker is not None:
            found.extend(fetch_broker(client, spec.broker))
    finally:
        client.close()
    return found
