"""Pacts for a provider from a Pact Broker (or PactFlow), through its HAL API.

The broker's index links to ``pb:provider-pacts-for-verification``, which takes the
consumer version selectors in a POST body and answers the chosen pacts in
``_embedded.pacts``. Brokers older than that endpoint only have
``pb:latest-provider-pacts``: the latest pact of each consumer, listed in
``_links.pacts``. Each pact resource is then fetched by its ``href``; its own
``_links`` say where verification results go.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urljoin

from pactstub.errors import ConfigError, SourceError
from pactstub.sources.access import Credentials, HttpStatusError, split_credentials

if TYPE_CHECKING:
    from pactstub.sources.http import HttpClient

from pactstub.sources.origin import Fetched, Origin, hal_links, interaction_ids, party_name

log = logging.getLogger("pactstub.sources")

FOR_VERIFICATION = "pb:provider-pacts-for-verification"
LATEST = "pb:latest-provider-pacts"


@dataclass(frozen=True, slots=True)
class BrokerSpec:
    """Which pacts to take from which broker."""

    url: str
    provider: str
    #: consumer names, or regular expressions a whole consumer name must match; empty = all
    consumers: tuple[str, ...] = ()
    #: consumer version selectors, e.g. ``{"mainBranch": True}``, ``{"deployedOrReleased": True}``
    selectors: tuple[Mapping[str, Any], ...] = ()
    #: the provider's branch, sent so the broker can answer ``{"matchingBranch": true}``
    provider_branch: str | None = None
    credentials: Credentials = field(default_factory=Credentials)

    def __post_init__(self) -> None:
        for pattern in self.consumers:
            try:
                re.compile(pattern)
            except re.error as error:
                message = f"--consumer-name: invalid regular expression {pattern!r}: {error}"
                raise ConfigError(message) from error

    def wants(self, consumer: str) -> bool:
        return not self.consumers or any(
            consumer == pattern or re.fullmatch(pattern, consumer) for pattern in self.consumers
        )


@dataclass(frozen=True, slots=True)
class _PactRef:
    href: str
    #: why the broker chose it ("latest from main branch"), or its title
    why: str


def fetch_broker(client: HttpClient, spec: BrokerSpec) -> list[Fetched]:
    """The provider's pacts the selectors choose, from the consumers asked for."""
    base, in_url = split_credentials(spec.url.strip())
    client.authorise(base, spec.credentials or in_url)
    index = client.get_json(base)
    links = index.get("_links") if isinstance(index, Mapping) else None
    if not isinstance(links, Mapping) or not (FOR_VERIFICATION in links or LATEST in links):
        message = f"is not a Pact Broker: its index links to neither {FOR_VERIFICATION} nor {LATEST}"
        raise SourceError(base, message)
    try:
        if FOR_VERIFICATION in links:
            refs = _for_verification(client, _expand(base, links[FOR_VERIFICATION], spec.provider), spec)
        else:
            if spec.selectors:
                log.warning("%s has no %s: selectors ignored, latest pacts used", base, FOR_VERIFICATION)
            refs = _latest(client, _expand(base, links[LATEST], spec.provider))
    except HttpStatusError as error:
        if error.status == 404:
            raise SourceError(base, f"knows no provider named {spec.provider!r} (HTTP 404)") from error
        raise
    chosen = [fetched for fetched in (_pact(client, ref) for ref in refs) if spec.wants(_consumer(fetched))]
    if not chosen:
        raise SourceError(base, _nothing_found(spec))
    return chosen


def _expand(base: str, link: Any, provider: str) -> str:
    href = link.get("href") if isinstance(link, Mapping) else None
    if not isinstance(href, str):
        raise SourceError(base, "its index has a link without an href")
    return urljoin(base.rstrip("/") + "/", href.replace("{provider}", quote(provider, safe="")))


def _for_verification(client: HttpClient, url: str, spec: BrokerSpec) -> list[_PactRef]:
    body: dict[str, Any] = {
        "consumerVersionSelectors": [dict(selector) for selector in spec.selectors],
        "includePendingStatus": False,
    }
    if spec.provider_branch:
        body["providerVersionBranch"] = spec.provider_branch
    answer = client.send("POST", url, body)
    embedded = answer.get("_embedded") if isinstance(answer, Mapping) else None
    pacts = embedded.get("pacts") if isinstance(embedded, Mapping) else None
    if not isinstance(pacts, list):
        raise SourceError(url, "answered without _embedded.pacts")
    return [
        _PactRef(urljoin(url, href), str(item.get("shortDescription") or ""))
        for item in pacts
        if isinstance(item, Mapping) and (href := _self_href(item)) is not None
    ]


def _self_href(item: Mapping[str, Any]) -> str | None:
    links = item.get("_links")
    link = links.get("self") if isinstance(links, Mapping) else None
    href = link.get("href") if isinstance(link, Mapping) else None
    return href if isinstance(href, str) else None


def _latest(client: HttpClient, url: str) -> list[_PactRef]:
    answer = client.get_json(url)
    links = answer.get("_links") if isinstance(answer, Mapping) else None
    pacts = links.get("pacts") if isinstance(links, Mapping) else None
    if not isinstance(pacts, list):
        raise SourceError(url, "answered without _links.pacts")
    return [
        _PactRef(urljoin(url, link["href"]), str(link.get("title") or link.get("name") or ""))
        for link in pacts
        if isinstance(link, Mapping) and isinstance(link.get("href"), str)
    ]


def _pact(client: HttpClient, ref: _PactRef) -> Fetched:
    document = client.get_json(ref.href)
    label = f"{ref.href} ({ref.why})" if ref.why else ref.href
    origin = Origin("broker", ref.href, label, hal_links(document, ref.href), interaction_ids(document))
    return Fetched(document, origin, party_name(document))


def _consumer(fetched: Fetched) -> str:
    consumer = fetched.document.get("consumer") if isinstance(fetched.document, Mapping) else None
    return str(consumer.get("name", "")) if isinstance(consumer, Mapping) else ""


def _nothing_found(spec: BrokerSpec) -> str:
    text = f"has no pacts for provider {spec.provider!r}"
    if spec.consumers:
        text += f" from {_listing(spec.consumers)}"
    if spec.selectors:
        text += " with the selectors given"
    return text


def _listing(names: Sequence[str]) -> str:
    return ", ".join(repr(name) for name in names)
