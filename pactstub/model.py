"""The one internal model every pact version is normalised into at load time.

Pact files differ a lot between specification versions (v2 keeps matching rules
in one flat map keyed ``$.body.x``, v3 splits them into categories, v4 wraps
bodies in ``{"content", "contentType", "encoded"}``). Everything after loading
sees only these frozen values, so matching and rendering never branch on the
version except where the specification itself says they must.

What matching needs from a pact is compiled here too, once, by the loader:
regexes and date formats inside each :class:`Matcher`, the body rules as a
:class:`RuleState` automaton, expected XML and form bodies parsed, and a
:class:`HeaderCheck` per expected header. Request threads only read them.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

Combine = Literal["AND", "OR"]
BodyKind = Literal["json", "xml", "text", "form", "binary"]
#: The matcher names of the Pact specification (v2-v4), after aliases are settled at load
#: (``datetime`` is ``timestamp``, ``content-type`` is ``contentType``, ``real`` is ``decimal``...).
MatcherKind = Literal[
    "equality", "regex", "type", "min", "max", "minmax", "include", "integer", "decimal", "number",
    "boolean", "null", "date", "time", "timestamp", "values", "contentType", "arrayContains",
    "eachKey", "eachValue", "notEmpty", "semver", "statusCode",
]  # fmt: skip
#: The status classes a ``statusCode`` rule may name instead of a list of codes.
StatusClass = Literal["info", "success", "redirect", "clientError", "serverError", "nonError", "error"]

#: A parsed JSONPath-like rule path: ``$.a[*].b`` -> ("a", "*", "b"); ints are indexes.
PathTokens = tuple["str | int", ...]


@dataclass(frozen=True, slots=True)
class DateFormat:
    """A ``java.time`` pattern (``dd/MM/yyyy``) with the regex it was translated into at load."""

    pattern: str
    regex: re.Pattern[str]


@dataclass(frozen=True, slots=True)
class Matcher:
    """One matching rule, its parameters checked and compiled at load.

    Only the fields its ``kind`` uses are set: ``regex`` for regex rules, ``value`` for
    ``include`` and ``contentType``, ``min``/``max`` for size bounds, ``format`` for dates
    (``None``: ISO-8601), ``status`` for ``statusCode``, ``nested`` for ``eachKey`` and
    ``eachValue`` (``each_value`` is that set compiled for every child), ``variants`` for
    ``arrayContains``.
    """

    kind: MatcherKind
    regex: re.Pattern[str] | None = None
    value: str | None = None
    min: int | None = None
    max: int | None = None
    format: DateFormat | None = None
    status: StatusClass | tuple[int, ...] | None = None
    nested: RuleSet | None = None
    each_value: RuleState | None = None
    variants: tuple[Variant, ...] | None = None

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
class ChosenRule:
    """The rule set that decides one location, and whether a parent's rule cascaded to it."""

    rules: RuleSet
    cascaded: bool


@dataclass(frozen=True, slots=True, eq=False)
class RuleState:
    """What the body rules say at one location, and where each step from it leads.

    Built once per rule list by :func:`pactstub.matching.ruletable.compile_body_rules`;
    a body walk steps through it instead of weighing every rule at every node.
    """

    #: the winning rule set here, or ``None`` when no rule applies
    chosen: ChosenRule | None = None
    #: ``(weight, rule position)`` of the winner, to compare two spellings of a location (XML)
    rank: tuple[int, int] | None = None
    #: the matchers of rules written for exactly this location (no cascading)
    own: tuple[Matcher, ...] = ()
    #: whether a type-like rule applies here (XML siblings then match by example)
    typed: bool = False
    #: whether one of ``own`` frees a map's keys (``values``, ``eachValue``, ``eachKey``)
    frees_keys: bool = False
    #: the state after a step some rule names at this depth
    named: Mapping[str, RuleState] = field(default_factory=dict)
    #: the state after any other step; ``None`` when no rule reaches deeper (then it is this one)
    other: RuleState | None = None

    def child(self, step: str | int) -> RuleState:
        """The state at ``location + (step,)``."""
        found = self.named.get(step if isinstance(step, str) else str(step))
        if found is not None:
            return found
        return self if self.other is None else self.other

    def at(self, location: tuple[str | int, ...]) -> RuleState:
        """The state ``location`` leads to from here."""
        state = self
        for step in location:
            state = state.child(step)
        return state


#: the rules of a body with no matching rules: nothing applies anywhere
NO_RULES = RuleState()


@dataclass(frozen=True, slots=True)
class BodyRules:
    """The body rules of one request or response, as written and compiled."""

    rules: tuple[BodyRule, ...] = ()
    root: RuleState = NO_RULES


@dataclass(frozen=True, slots=True)
class Variant:
    """One ``arrayContains`` variant: the expected item at ``index`` and the rules for it."""

    index: int
    rules: BodyRules


@dataclass(frozen=True, slots=True)
class MatchingRules:
    """Matching rules of one request or response, by category."""

    path: RuleSet | None = None
    status: RuleSet | None = None
    query: Mapping[str, RuleSet] = field(default_factory=dict)
    #: keyed by lower-cased header name
    header: Mapping[str, RuleSet] = field(default_factory=dict)
    body: BodyRules = BodyRules()

    @property
    def count(self) -> int:
        """How many relaxations the rules make; fewer means more specific."""
        sets = [self.path, self.status, *self.query.values(), *self.header.values()]
        sets.extend(rule.rules for rule in self.body.rules)
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
    ``xml``, ``form`` and ``text`` bodies, and ``bytes`` for ``binary`` ones;
    ``xml`` and ``form`` bodies also keep the document parsed at load.
    """

    kind: BodyKind
    value: Any
    content_type: str | None = None
    xml: ET.Element | None = None
    form: Mapping[str, tuple[str, ...]] | None = None

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
class MediaType:
    """A ``Content-Type`` or ``Accept`` item: type and parameter names lower-cased, values unquoted."""

    essence: str
    params: Mapping[str, str]


@dataclass(frozen=True, slots=True)
class HeaderCheck:
    """One expected header with what matching it needs, worked out at load."""

    name: str
    lower: str
    values: tuple[str, ...]
    #: set by the transport (``Host``, ``Content-Length``...): skipped unless headers are strict
    transport: bool
    rule: RuleSet | None
    #: the values as media types, for headers compared parameter by parameter
    media_types: tuple[MediaType, ...] | None = None


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
    #: ``headers`` with their rules, compiled for matching
    header_checks: tuple[HeaderCheck, ...] = ()


@dataclass(frozen=True, slots=True)
class HttpResponse:
    """The response an interaction promises."""

    status: int = 200
    headers: Headers | None = None
    body: Body | None = None
    rules: MatchingRules = field(default_factory=MatchingRules)
    generators: Generators = field(default_factory=Generators)
    #: ``headers`` with their rules, compiled for matching
    header_checks: tuple[HeaderCheck, ...] = ()


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
    the order of values; ``body`` is the raw bytes (empty when none was sent);
    ``query_string`` is the query as received, which v1 pacts compare as text.
    """

    method: str
    path: str
    query: Query = field(default_factory=dict)
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""
    query_string: str = ""

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
