"""The one internal model every pact version is normalised into at load time.

Pact files differ a lot between specification versions (v2 keeps matching rules
in one flat map keyed ``$.body.x``, v3 splits them into categories, v4 wraps
bodies in ``{"content", "contentType", "encoded"}``). Everything after loading
sees only these frozen values, so matching and rendering never branch on the
version except where the specification itself says they must.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

Combine = Literal["AND", "OR"]
BodyKind = Literal["json", "xml", "text", "form", "binary"]

#: A parsed JSONPath-like rule path: ``$.a[*].b`` -> ("a", "*", "b"); ints are indexes.
PathTokens = tuple["str | int", ...]


@dataclass(frozen=True, slots=True)
class Matcher:
    """One matching rule, e.g. ``{"match": "regex", "regex": "\\d+"}``."""

    kind: str
    params: Mapping[str, Any] = field(default_factory=dict)
    #: compiled once at load for ``regex`` rules (and ``semver``-style helpers)
    pattern: re.Pattern[str] | None = None

    @property
    def relaxes(self) -> bool:
        """Whether the rule accepts more than the example (equality does not)."""
        return self.kind != "equality"


@dataclass(frozen=True, slots=True)
class RuleSet:
    """The matchers that apply at one location, and how they combine."""

    matchers: tuple[Matcher, ...]
    combine: Combine = "AND"


@dataclass(frozen=True, slots=True)
class BodyRule:
    """A rule set bound to a body path, kept with its parsed path tokens."""

    path: str
    tokens: PathTokens
    rules: RuleSet


@dataclass(frozen=True, slots=True)
class MatchingRules:
    """Matching rules of one request or response, by category."""

    path: RuleSet | None = None
    status: RuleSet | None = None
    query: Mapping[str, RuleSet] = field(default_factory=dict)
    #: keyed by lower-cased header name
    header: Mapping[str, RuleSet] = field(default_factory=dict)
    body: tuple[BodyRule, ...] = ()

    @property
    def count(self) -> int:
        """How many relaxations the rules make; fewer means more specific."""
        sets = [self.path, self.status, *self.query.values(), *self.header.values()]
        sets.extend(rule.rules for rule in self.body)
        return sum(1 for s in sets if s is not None for m in s.matchers if m.relaxes)


@dataclass(frozen=True, slots=True)
class Generator:
    """A v3/v4 generator, e.g. ``{"type": "RandomInt", "min": 0, "max": 10}``."""

    type: str
    params: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Generators:
    """Generators of one request or response, by category."""

    path: Generator | None = None
    status: Generator | None = None
    query: Mapping[str, Generator] = field(default_factory=dict)
    header: Mapping[str, Generator] = field(default_factory=dict)
    body: tuple[tuple[PathTokens, Generator], ...] = ()

    def __bool__(self) -> bool:
        return bool(self.path or self.status or self.query or self.header or self.body)


@dataclass(frozen=True, slots=True)
class Body:
    """A body as the pact gives it.

    ``value`` holds the parsed JSON tree for ``json`` bodies, the text for
    ``xml`` and ``text`` bodies, and ``bytes`` for ``binary`` ones.
    """

    kind: BodyKind
    value: Any
    content_type: str | None = None

    def to_bytes(self) -> bytes:
        if self.kind == "json":
            return json.dumps(self.value, ensure_ascii=False).encode("utf-8")
        if isinstance(self.value, bytes):
            return self.value
        return str(self.value).encode("utf-8")


#: Header values, keyed by the name as written in the pact (one string per value
#: as written; the matcher splits comma-separated values itself).
Headers = Mapping[str, tuple[str, ...]]
#: Query parameters; ``None`` as a value stands for a parameter without ``=``.
Query = Mapping[str, tuple["str | None", ...]]


@dataclass(frozen=True, slots=True)
class HttpRequest:
    """The request an interaction expects (``query``/``headers`` ``None`` = not given)."""

    method: str
    path: str
    query: Query | None = None
    headers: Headers | None = None
    body: Body | None = None
    rules: MatchingRules = field(default_factory=MatchingRules)
    generators: Generators = field(default_factory=Generators)
    #: v1 pacts only: the query string as written; v1 matches query strings as
    #: strings (order and a trailing ``&`` matter), later versions as maps
    exact_query: str | None = None


@dataclass(frozen=True, slots=True)
class HttpResponse:
    """The response an interaction promises."""

    status: int = 200
    headers: Headers | None = None
    body: Body | None = None
    rules: MatchingRules = field(default_factory=MatchingRules)
    generators: Generators = field(default_factory=Generators)


@dataclass(frozen=True, slots=True)
class ProviderState:
    name: str
    params: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Interaction:
    """One request/response pair of a pact, with where it came from."""

    description: str
    request: HttpRequest
    response: HttpResponse
    provider_states: tuple[ProviderState, ...] = ()
    #: position in its pact file, from 0
    index: int = 0
    #: the file (or ``<memory>``) the interaction was loaded from
    source: str = "<memory>"
    #: stem of the pact file, used to find its templates
    pact_name: str = ""

    @property
    def label(self) -> str:
        return f"{self.pact_name}#{self.index} {self.description!r}"


@dataclass(frozen=True, slots=True)
class Pact:
    """A loaded, validated pact file."""

    consumer: str
    provider: str
    spec_version: str
    interactions: tuple[Interaction, ...]
    source: str = "<memory>"
    name: str = ""
    #: descriptions of v4 interactions that are not synchronous HTTP (messages)
    skipped: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ReceivedRequest:
    """A request as it arrived on the wire, before any matching.

    Header names keep their case as sent; ``query`` keeps repeated names and
    the order of values; ``body`` is the raw bytes (empty when none was sent).
    """

    method: str
    path: str
    query: Mapping[str, tuple[str | None, ...]] = field(default_factory=dict)
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""
    #: the raw query string as received (needed to match v1 pacts exactly)
    query_string: str | None = None

    def header(self, name: str) -> str | None:
        """The first value of a header, by case-insensitive name."""
        wanted = name.lower()
        return next((value for key, value in self.headers if key.lower() == wanted), None)

    @property
    def content_type(self) -> str | None:
        return self.header("content-type")


@dataclass(frozen=True, slots=True)
class ReceivedResponse:
    """A provider's response as it arrived, for verification."""

    status: int
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""

    def header(self, name: str) -> str | None:
        wanted = name.lower()
        return next((value for key, value in self.headers if key.lower() == wanted), None)

    @property
    def content_type(self) -> str | None:
        return self.header("content-type")
