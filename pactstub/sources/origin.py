"""Where a pact came from, kept beside it after loading.

The banner, ``/_pactstub/interactions`` and ``verify --publish`` need more than the
model's ``Pact.source`` string: a readable label, and for a pact served by a Pact
Broker its HAL links (where results are published) and the broker's interaction ids.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import urljoin

from pactstub.model import Pact

#: the interaction type the model keeps (v4 message interactions are skipped)
HTTP = "Synchronous/HTTP"

OriginKind = Literal["file", "url", "broker", "memory"]

#: characters a pact name may not hold, since it names the pact's templates folder
_NOT_NAME = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True, slots=True)
class Origin:
    """Where one pact was read from."""

    kind: OriginKind
    #: the file path or URL (credentials removed); unique among the pacts loaded together
    location: str
    #: what a person reads: a file name, a URL, a broker pact with why it was selected
    label: str
    #: HAL links of the pact resource (relation -> absolute href), as a broker serves them
    links: Mapping[str, str] = field(default_factory=dict)
    #: the broker's interaction ids (``_id``), in the order of the pact's HTTP interactions
    interaction_ids: tuple[str | None, ...] = ()

    @classmethod
    def of_parsed(cls, pact: Pact) -> Origin:
        """A pact handed over already parsed: its ``source`` is all that is known of where it came from."""
        return cls("memory", pact.source, pact.source)


@dataclass(frozen=True, slots=True)
class Fetched:
    """A pact document as fetched, not yet validated."""

    document: Any
    origin: Origin
    #: the pact's name: the file stem, or ``consumer-provider`` for a pact from a URL
    name: str


@dataclass(frozen=True, slots=True)
class LoadedPact:
    """A validated pact and where it came from."""

    pact: Pact
    origin: Origin


def party_name(document: Any) -> str:
    """``consumer-provider`` in lower case, as the Pact tools name pact files.

    So a pact from a URL or a broker finds the same templates folder as its file would.
    """
    names = []
    for role in ("consumer", "provider"):
        party = document.get(role) if isinstance(document, Mapping) else None
        name = str(party.get("name", role)) if isinstance(party, Mapping) else role
        names.append("_".join(name.lower().split()))
    return _NOT_NAME.sub("-", "-".join(names)).strip("-") or "pact"


def hal_links(document: Any, base_url: str) -> dict[str, str]:
    """The ``_links`` of a HAL document as relation -> absolute href (lists and bad links skipped)."""
    links = document.get("_links") if isinstance(document, Mapping) else None
    if not isinstance(links, Mapping):
        return {}
    found: dict[str, str] = {}
    for relation, link in links.items():
        if isinstance(link, Mapping) and isinstance(link.get("href"), str):
            found[str(relation)] = urljoin(base_url, link["href"])
    return found


def interaction_ids(document: Any) -> tuple[str | None, ...]:
    """The ``_id`` a broker gives each interaction, for the HTTP interactions the model keeps."""
    raw = document.get("interactions") if isinstance(document, Mapping) else None
    if not isinstance(raw, list):
        return ()
    http = [i for i in raw if isinstance(i, Mapping) and i.get("type", HTTP) == HTTP]
    return tuple(str(i["_id"]) if i.get("_id") is not None else None for i in http)
