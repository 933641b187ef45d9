"""Matching rules and generators of a pact, in one form whatever the version.

v2 keeps rules in one flat map keyed ``$.body.x``/``$.headers.X``/``$.query.q``/``$.path``;
v3 and v4 split them into categories. Both become one :class:`MatchingRules`,
with every matcher checked and compiled (:mod:`pactstub.loading.matchers`) and
the body rules compiled into their automaton, here; an unknown matcher or
generator, a missing parameter or a bad regex is a problem at its JSON path.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from pactstub.loading.collector import Collector
from pactstub.loading.matchers import Raw, rule_set_of, tokens_of
from pactstub.matching.paths import PathSyntaxError, parse_path
from pactstub.matching.ruletable import compile_body_rules
from pactstub.model import BodyRule, Generator, Generators, MatchingRules, PathTokens, RuleSet

KNOWN_GENERATORS = frozenset(
    {
        "RandomInt",
        "RandomDecimal",
        "RandomHexadecimal",
        "RandomString",
        "Regex",
        "Uuid",
        "Date",
        "Time",
        "DateTime",
        "RandomBoolean",
        "ProviderState",
        "MockServerURL",
    }
)


def matching_rules(raw: Raw, version: str, at: str, collect: Collector) -> MatchingRules:
    rules = raw.get("matchingRules")
    if not isinstance(rules, Mapping) or not rules:
        return MatchingRules()
    where = f"{at}.matchingRules"
    if any(str(key).startswith("$") for key in rules):
        return _flat_rules(rules, where, collect)
    return _categorised_rules(rules, where, collect)


def _flat_rules(rules: Raw, at: str, collect: Collector) -> MatchingRules:
    """v2: ``{"$.body.a": {...}, "$.headers.X": {...}, "$.query.q": {...}, "$.path": {...}}``."""
    path: RuleSet | None = None
    query: dict[str, RuleSet] = {}
    header: dict[str, RuleSet] = {}
    body: list[BodyRule] = []
    for key, definition in rules.items():
        where = f"{at}['{key}']"
        rule_set = rule_set_of({"matchers": [definition]}, where, collect)
        if rule_set is None:
            continue
        if key == "$.path":
            path = rule_set
        elif key.startswith("$.headers."):
            header[key[len("$.headers.") :].lower()] = rule_set
        elif key.startswith("$.header."):
            header[key[len("$.header.") :].lower()] = rule_set
        elif key.startswith("$.query."):
            query[key[len("$.query.") :]] = rule_set
        elif key == "$.body" or key.startswith(("$.body.", "$.body[")):
            tokens = tokens_of("$" + key[len("$.body") :], where, collect)
            if tokens is not None:
                body.append(BodyRule(key, tokens, rule_set))
        else:
            collect.add(where, "rule path must start with $.body, $.headers, $.query or $.path")
    return MatchingRules(path=path, query=query, header=header, body=compile_body_rules(body))


def _categorised_rules(rules: Raw, at: str, collect: Collector) -> MatchingRules:
    """v3/v4: ``{"body": {"$.a": {"matchers": [...]}}, "header": {...}, "path": {...}}``."""
    single: dict[str, RuleSet | None] = {}
    query: dict[str, RuleSet] = {}
    header: dict[str, RuleSet] = {}
    body: list[BodyRule] = []
    for category, entries in rules.items():
        where = f"{at}.{category}"
        if not isinstance(entries, Mapping):
            continue
        if category in ("path", "status"):
            definition = entries if "matchers" in entries else next(iter(entries.values()), None)
            if isinstance(definition, Mapping):
                single[category] = rule_set_of(definition, where, collect)
            continue
        for key, definition in entries.items():
            entry_at = f"{where}['{key}']"
            rule_set = rule_set_of(definition, entry_at, collect)
            if rule_set is None:
                continue
            if category == "body":
                tokens = tokens_of(key, entry_at, collect)
                if tokens is not None:
                    body.append(BodyRule(key, tokens, rule_set))
            elif category in ("header", "headers"):
                header[_last_name(key).lower()] = rule_set
            elif category == "query":
                query[_last_name(key)] = rule_set
            else:
                collect.add(where, f"unknown matching rule category {category!r}")
                break
    return MatchingRules(
        path=single.get("path"),
        status=single.get("status"),
        query=query,
        header=header,
        body=compile_body_rules(body),
    )


def _last_name(key: str) -> str:
    """Header and query rules may be keyed ``X-Id`` or ``$['X-Id']``; keep the name."""
    if key.startswith("$"):
        try:
            tokens = parse_path(key)
        except PathSyntaxError:
            return key
        return str(tokens[0]) if tokens else key
    return key


# --------------------------------------------------------------------------- generators


def generators(raw: object, at: str, collect: Collector) -> Generators:
    if not isinstance(raw, Mapping) or not raw:
        return Generators()
    path = status = None
    query: dict[str, Generator] = {}
    header: dict[str, Generator] = {}
    body: list[tuple[PathTokens, Generator]] = []
    for category, entries in raw.items():
        where = f"{at}.{category}"
        if not isinstance(entries, Mapping):
            continue
        if category in ("path", "status"):
            generator = _generator(entries, where, collect)
            if category == "path":
                path = generator
            else:
                status = generator
            continue
        for key, definition in entries.items():
            generator = _generator(definition, f"{where}['{key}']", collect)
            if generator is None:
                continue
            if category == "body":
                tokens = tokens_of(key, f"{where}['{key}']", collect)
                if tokens is not None:
                    body.append((tokens, generator))
            elif category in ("header", "headers"):
                header[_last_name(key)] = generator
            elif category == "query":
                query[_last_name(key)] = generator
    return Generators(path=path, status=status, query=query, header=header, body=tuple(body))


def _generator(raw: object, at: str, collect: Collector) -> Generator | None:
    if not isinstance(raw, Mapping):
        collect.add(at, "a generator must be an object")
        return None
    kind = str(raw.get("type", ""))
    if kind not in KNOWN_GENERATORS:
        collect.add(
            f"{at}.type", f"unknown generator {kind!r} (known: {', '.join(sorted(KNOWN_GENERATORS))})"
        )
        return None
    if kind == "Regex":
        try:
            re.compile(str(raw.get("regex", "")))
        except re.error as error:
            collect.add(f"{at}.regex", f"invalid regular expression: {error}")
            return None
    return Generator(kind, {k: v for k, v in raw.items() if k != "type"})
