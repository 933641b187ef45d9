"""A pact at a URL (``--pact-url``), fetched over HTTP(S)."""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from pactstub.errors import ConfigError
from pactstub.sources.access import split_credentials

if TYPE_CHECKING:
    from pactstub.sources.http import HttpClient

from pactstub.sources.origin import Fetched, Origin, hal_links, interaction_ids, party_name


def fetch_url(client: HttpClient, url: str) -> Fetched:
    """The pact document at ``url``; credentials in the URL itself are sent as basic auth.

    A pact a broker serves carries HAL links, so one fetched by its URL can have its
    verification results published like one found through the broker.
    """
    clean, credentials = split_credentials(url.strip())
    if urlsplit(clean).scheme not in ("http", "https") or not urlsplit(clean).hostname:
        raise ConfigError(f"--pact-url: {clean!r} is not an http:// or https:// URL")
    client.authorise(clean, credentials)
    document = client.get_json(clean)
    origin = Origin("url", clean, clean, hal_links(document, clean), interaction_ids(document))
    return Fetched(document, origin, _name(clean, document))


def _name(url: str, document: Any) -> str:
    """The file stem when the URL names a ``.json`` file, else ``consumer-provider``."""
    last = PurePosixPath(urlsplit(url).path).name
    if last.endswith(".json") and len(last) > len(".json"):
        return last.removesuffix(".json")
    return party_name(document)
