"""Matching rules and generators of a pact, in one form whatever the version.

v2 keeps rules in one flat map keyed ``$.body.x``/``$.headers.X``/``$.query.q``/``$.path``;
v3 and v4 split them into categories. Both become one :class:`MatchingRules`,
with regexes compiled and rule paths parsed once, here; an unknown matcher or
generator, a missing parameter or a bad regex is a problem at its JSON path.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from pactstub.loading.collector import Collector
from pactstub.matching.paths import PathSyntaxError, parse_path
from pactstub.model import (
    BodyRule,
    Combine,
    Generator,
    Generators,
    Matcher,
    MatchingRules,
    PathTokens,
    RuleSet,
)

#: Matcher names of the Pact specification (v2-v4) and the parameters they need.
KNOWN_MATCHERS: Mapping[str, tuple[str, ...]] = {
    "equality": (),
    "regex": ("regex",),
    "type": (),
    "min": ("min",),
    "max": ("max",),
    "minmax": ("min", "max"),
    "include": ("value",),
    "integer": (),
    "decimal": (),
    "number": (),
    "boolean": (),
    "null": (),
    "date": (),
    "time": (),
    "timestamp": (),
    "datetime": (),
    "values": (),
    "contentType": ("value",),
    "content-type": ("value",),
    "arrayContains": ("variants",),
    "eachKey": (),
    "eachValue": (),
    "notEmpty": (),
    "semver": (),
    "statusCode": ("status",),
}

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


def matching_rules(raw: Mapping[str, Any], version: str, at: str, collect: Collector) -> MatchingRules:
    rules = raw.get("matchingRules")
    if not isinstance(rules, Mapping) or not rules:
        return MatchingRules()
    where = f"{at}.matchingRules"
    if any(str(key).startswith("$") for key in rules):
        return _flat_rules(rules, where, collect)
    return _categorised_rules(rules, where, collect)


def _flat_rules(rules: Mapping[str, Any], at: str, collect: Collector) -> MatchingRules:
    """v2: ``{"$.body.a": {...}, "$.headers.X": {...}, "$.query.q": {...}, "$.path": {...}}``."""
    path: RuleSet | None = None
    query: dict[str, RuleSet] = {}
    header: dict[str, RuleSet] = {}
    body: list[BodyRule] = []
    for key, definition in rules.items():
        where = f"{at}['{key}']"
        rule_set = _rule_set({"matchers": [definition]}, where, collect)
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
            tokens = _tokens("$" + key[len("$.body") :], where, collect)
            if tokens is not None:
                body.append(BodyRule(key, tokens, rule_set))
        else:
            collect.add(where, "rule path must start with $.body, $.headers, $.query or $.path")
    return MatchingRules(path=path, query=query, header=header, body=tuple(body))


def _categorised_rules(rules: Mapping[str, Any], at: str, collect: Collector) -> MatchingRules:
    """v3/v4: ``{"body": {"$.a": {"matchers": [...]}}, "header": {...}, "path": {...}}``."""
    path: RuleSet | None = None
    status: RuleSet | None = None
    query: dict[str, RuleSet] = {}
    header: dict[str, RuleSet] = {}
    body: list[BodyRule] = []
    for category, entries in rules.items():
        where = f"{at}.{category}"
        if not isinstance(entries, Mapping):
            continue
        if category in ("path", "status"):
            single = entries if "matchers" in entries else next(iter(entries.values()), None)
            rule_set = _rule_set(single, where, collect) if isinstance(single, Mapping) else None
            if category == "path":
                path = rule_set
            else:
                status = rule_set
            continue
        for key, definition in entries.items():
            entry_at = f"{where}['{key}']"
            rule_set = _rule_set(definition, entry_at, collect)
            if rule_set is None:
                continue
            if category == "body":
                tokens = _tokens(key, entry_at, collect)
                if tokens is not None:
                    body.append(BodyRule(key, tokens, rule_set))
            elif category in ("header", "headers"):
                header[_last_name(key).lower()] = rule_set
            elif category == "query":
                query[_last_name(key)] = rule_set
            else:
                collect.add(where, f"unknown matching rule category {category!r}")
                break
    return MatchingRules(path=path, status=status, query=query, header=header, body=tuple(body))


def _last_name(key: str) -> str:
    """Header and query rules may be keyed ``X-Id`` or ``$['X-Id']``; keep the name."""
    if key.startswith("$"):
        try:
            tokens = parse_path(key)
        except PathSyntaxError:
            return key
        return str(tokens[0]) if tokens else key
    return key


def _tokens(path: str, at: str, collect: Collector) -> PathTokens | None:
    try:
        return parse_path(path)
    except PathSyntaxError as error:
        collect.add(at, str(error))
        return None


def _rule_set(definition: Any, at: str, collect: Collector) -> RuleSet | None:
    if not isinstance(definition, Mapping):
        collect.add(at, "a matching rule must be an object")
        return None
    combine: Combine = "OR" if str(definition.get("combine", "AND")).upper() == "OR" else "AND"
    matchers: list[Matcher] = []
    for position, raw in enumerate(definition.get("matchers") or []):
        matcher = _matcher(raw, f"{at}.matchers[{position}]", collect)
        if matcher is not None:
            matchers.append(matcher)
    return RuleSet(tuple(matchers), combine) if matchers else None


def _matcher(raw: Any, at: str, collect: Collector) -> Matcher | None:
    if not isinstance(raw, Mapping):
        collect.add(at, "a matcher must be an object")
        return None
    kind = raw.get("match")
    if kind is None:
        # v2 leaves the kind implicit: {"regex": ...} or {"min": 1}
        kind = "regex" if "regex" in raw else "type"
    kind = str(kind)
    if kind not in KNOWN_MATCHERS:
        collect.add(f"{at}.match", f"unknown matcher {kind!r} (known: {', '.join(sorted(KNOWN_MATCHERS))})")
        return None
    params = {k: v for k, v in raw.items() if k != "match"}
    missing = [p for p in KNOWN_MATCHERS[kind] if p not in params]
    if missing:
        collect.add(at, f"matcher {kind!r} needs {', '.join(repr(p) for p in missing)}")
        return None
    if kind == "content-type":
        kind = "contentType"
    pattern = None
    if kind == "regex":
        try:
            pattern = re.compile(str(params["regex"]))
        except re.error as error:
            collect.add(f"{at}.regex", f"invalid regular expression {params['regex']!r}: {error}")
            return None
    for bound in ("min", "max"):
        if bound in params and not (isinstance(params[bound], int) and params[bound] >= 0):
            collect.add(f"{at}.{bound}", f"{bound} must be a non-negative integer")
            return None
    if kind == "arrayContains":
        variants = params["variants"]
        if not isinstance(variants, list):
            collect.add(f"{at}.variants", "variants must be a list")
            return None
        params["variants"] = [_variant(v, f"{at}.variants[{i}]", collect) for i, v in enumerate(variants)]
    if kind in ("eachKey", "eachValue") and "rules" in params:
        rules = params["rules"]
        nested = _rule_set({"matchers": rules}, at, collect) if isinstance(rules, list) else None
        params["rules"] = nested
    if kind == "type" and "min" in params and "max" in params:
        kind = "minmax"
    return Matcher(kind, params, pattern)


def _variant(raw: Any, at: str, collect: Collector) -> tuple[int, Any, tuple[BodyRule, ...]]:
    """An ``arrayContains`` variant: (index, example, its own body rules)."""
    if not isinstance(raw, Mapping):
        collect.add(at, "an arrayContains variant must be an object")
        return (0, None, ())
    rules: list[BodyRule] = []
    for key, definition in (raw.get("rules") or {}).items():
        rule_set = _rule_set(definition, f"{at}.rules['{key}']", collect)
        tokens = _tokens(key, f"{at}.rules['{key}']", collect)
        if rule_set is not None and tokens is not None:
            rules.append(BodyRule(key, tokens, rule_set))
    return (int(raw.get("index", 0)), None, tuple(rules))


# --------------------------------------------------------------------------- generators


def generators(raw: Any, at: str, collect: Collector) -> Generators:
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
                tokens = _tokens(key, f"{where}['{key}']", collect)
                if tokens is not None:
                    body.append((tokens, generator))
            elif category in ("header", "headers"):
                header[_last_name(key)] = generator
            elif category == "query":
                query[_last_name(key)] = generator
    return Generators(path=path, status=status, query=query, header=header, body=tuple(body))


def _generator(raw: Any, at: str, collect: Collector) -> Generator | None:
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
