"""Raw pact JSON (already schema-checked) -> the internal model.

All version differences are settled here, once: v2 flat ``$.body.x`` rules and
v3/v4 categories become one :class:`MatchingRules`; v1/v2 query strings and
v3/v4 query maps become one mapping; v4 body wrappers are unwrapped. Problems
are collected with their JSON path rather than raised one at a time, so a
user sees everything wrong with a file at once.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl, unquote

from pactstub.errors import Problem
from pactstub.matching.paths import PathSyntaxError, parse_path
from pactstub.model import (
    Body,
    BodyKind,
    BodyRule,
    Combine,
    Generator,
    Generators,
    Headers,
    HttpRequest,
    HttpResponse,
    Interaction,
    Matcher,
    MatchingRules,
    Pact,
    PathTokens,
    ProviderState,
    Query,
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

_JSON_TYPE = re.compile(r"^application/(?:[\w.+-]+\+)?json\b|^text/json\b", re.IGNORECASE)
_XML_TYPE = re.compile(r"^(?:application|text)/(?:[\w.+-]+\+)?xml\b", re.IGNORECASE)
_FORM_TYPE = re.compile(r"^application/x-www-form-urlencoded\b", re.IGNORECASE)


class _Collector:
    """Gathers problems of one file with their JSON paths."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.problems: list[Problem] = []

    def add(self, json_path: str, message: str) -> None:
        self.problems.append(Problem(self.source, json_path, message))


def spec_version(document: Mapping[str, Any]) -> str:
    """The pact specification version a file declares, ``"2"`` when it declares none."""
    metadata = document.get("metadata")
    if isinstance(metadata, Mapping):
        for key in ("pactSpecification", "pact-specification"):
            section = metadata.get(key)
            if isinstance(section, Mapping) and section.get("version"):
                return _short_version(str(section["version"]))
        if metadata.get("pactSpecificationVersion"):
            return _short_version(str(metadata["pactSpecificationVersion"]))
    return "2"


def _short_version(text: str) -> str:
    parts = text.strip().lstrip("vV").split(".")
    if parts[0] == "1" and len(parts) > 1 and parts[1] == "1":
        return "1.1"
    return parts[0] or "2"


def parse_pact(
    document: Mapping[str, Any], source: str = "<memory>", name: str = ""
) -> tuple[Pact, list[Problem]]:
    """Build a :class:`Pact` from a schema-valid document; also return its problems."""
    collect = _Collector(source)
    version = spec_version(document)
    interactions: list[Interaction] = []
    skipped: list[str] = []
    seen: dict[tuple[str, tuple[str, ...]], int] = {}
    for position, raw in enumerate(document.get("interactions") or []):
        at = f"$.interactions[{position}]"
        kind = raw.get("type", "Synchronous/HTTP")
        if kind != "Synchronous/HTTP":
            skipped.append(f"{raw.get('description', '')} ({kind})")
            continue
        interaction = _interaction(raw, version, at, collect, len(interactions), source, name)
        key = (interaction.description, tuple(s.name for s in interaction.provider_states))
        if key in seen:
            collect.add(
                at,
                f"duplicate interaction: same description and provider states as "
                f"$.interactions[{seen[key]}] ({interaction.description!r})",
            )
        seen.setdefault(key, position)
        interactions.append(interaction)
    pact = Pact(
        consumer=_name_of(document.get("consumer")),
        provider=_name_of(document.get("provider")),
        spec_version=version,
        interactions=tuple(interactions),
        source=source,
        name=name,
        skipped=tuple(skipped),
    )
    return pact, collect.problems


def _name_of(party: Any) -> str:
    return str(party.get("name", "")) if isinstance(party, Mapping) else ""


def _interaction(
    raw: Mapping[str, Any],
    version: str,
    at: str,
    collect: _Collector,
    index: int,
    source: str,
    name: str,
) -> Interaction:
    request_raw = raw.get("request") or {}
    response_raw = raw.get("response") or {}
    return Interaction(
        description=str(raw.get("description", "")),
        request=_request(request_raw, version, f"{at}.request", collect),
        response=_response(response_raw, version, f"{at}.response", collect),
        provider_states=_provider_states(raw),
        index=index,
        source=source,
        pact_name=name,
    )


def _provider_states(raw: Mapping[str, Any]) -> tuple[ProviderState, ...]:
    states = raw.get("providerStates")
    if isinstance(states, list):
        return tuple(
            ProviderState(str(state.get("name", "")), dict(state.get("params") or {}))
            for state in states
            if isinstance(state, Mapping)
        )
    single = raw.get("providerState", raw.get("provider_state"))
    return (ProviderState(str(single)),) if single else ()


def _request(raw: Mapping[str, Any], version: str, at: str, collect: _Collector) -> HttpRequest:
    headers = _headers(raw.get("headers"))
    return HttpRequest(
        method=str(raw.get("method", "GET")),
        path=str(raw.get("path", "/")),
        query=_query(raw.get("query")),
        headers=headers,
        body=_body(raw, headers, version, at, collect),
        rules=_rules(raw, version, at, collect),
        generators=_generators(raw.get("generators"), f"{at}.generators", collect),
        exact_query=_exact_query(raw.get("query"), version),
    )


def _exact_query(raw: Any, version: str) -> str | None:
    """v1 compares query strings as strings; later versions compare parameter maps."""
    if version != "1":
        return None
    if raw is None:
        return ""
    return raw if isinstance(raw, str) else None


def _response(raw: Mapping[str, Any], version: str, at: str, collect: _Collector) -> HttpResponse:
    headers = _headers(raw.get("headers"))
    return HttpResponse(
        status=int(raw.get("status", 200)),
        headers=headers,
        body=_body(raw, headers, version, at, collect),
        rules=_rules(raw, version, at, collect),
        generators=_generators(raw.get("generators"), f"{at}.generators", collect),
    )


def _headers(raw: Any) -> Headers | None:
    if not isinstance(raw, Mapping):
        return None
    return {
        str(key): tuple(str(v) for v in value) if isinstance(value, list) else (str(value),)
        for key, value in raw.items()
    }


def parse_query_string(text: str) -> Query:
    """``a=1&b=2&a=3`` -> ``{"a": ("1", "3"), "b": ("2",)}``; a bare ``a`` gives ``(None,)``."""
    result: dict[str, list[str | None]] = {}
    for part in text.split("&"):
        if not part:
            continue
        name, equals, value = part.partition("=")
        decoded_name = unquote(name.replace("+", " "))
        result.setdefault(decoded_name, []).append(unquote(value.replace("+", " ")) if equals else None)
    return {key: tuple(values) for key, values in result.items()}


def _query(raw: Any) -> Query | None:
    if raw is None:
        return None
    if isinstance(raw, str):
        return parse_query_string(raw)
    return {
        str(key): tuple(
            None if v is None else str(v) for v in (value if isinstance(value, list) else [value])
        )
        for key, value in raw.items()
    }


def content_type_of(headers: Headers | None) -> str | None:
    for key, values in (headers or {}).items():
        if key.lower() == "content-type" and values:
            return ", ".join(values)
    return None


def body_kind(content_type: str | None, value: Any) -> BodyKind:
    """Classify a body by its content type, or by its shape when it has none."""
    if content_type:
        if _JSON_TYPE.match(content_type):
            return "json"
        if _XML_TYPE.match(content_type):
            return "xml"
        if _FORM_TYPE.match(content_type):
            return "form"
        if content_type.lower().startswith("text/"):
            return "text"
        return "json" if not isinstance(value, str) else "text"
    if not isinstance(value, str):
        return "json"
    stripped = value.lstrip()
    if stripped.startswith("<"):
        return "xml"
    return "text"


def _body(
    raw: Mapping[str, Any], headers: Headers | None, version: str, at: str, collect: _Collector
) -> Body | None:
    if "body" not in raw:
        return None
    value = raw["body"]
    content_type = content_type_of(headers)
    if version == "4" and isinstance(value, Mapping) and "content" in value:
        content_type = value.get("contentType") or content_type
        content = value.get("content")
        encoded = value.get("encoded")
        if encoded and encoded is not False and isinstance(content, str):
            try:
                data = base64.b64decode(content, validate=True)
            except (binascii.Error, ValueError):
                collect.add(f"{at}.body.content", "body is marked encoded but is not valid base64")
                return None
            kind = body_kind(content_type, "") if content_type else "binary"
            if kind == "text" and not str(content_type).lower().startswith("text/"):
                kind = "binary"  # e.g. image/png: keep the bytes, a text decode would mangle them
            if kind == "json":
                try:
                    return Body("json", json.loads(data), content_type)
                except ValueError:
                    kind = "binary"
            if kind in ("text", "xml", "form"):
                return Body(kind, data.decode("utf-8", "replace"), content_type)
            return Body("binary", data, content_type)
        value = content
        if value is None:
            # a null content is a body that must be empty, not an absent one
            return Body(body_kind(content_type, None), None, content_type)
    kind = body_kind(content_type, value)
    if kind == "json" and isinstance(value, str) and version == "4":
        try:
            value = json.loads(value)
        except ValueError:
            # an empty or non-JSON text under a JSON content type stays text
            return Body("text", value, content_type)
    if kind in ("xml", "text", "form") and not isinstance(value, str):
        kind = "json"
    return Body(kind, value, content_type)


# --------------------------------------------------------------------------- rules


def _rules(raw: Mapping[str, Any], version: str, at: str, collect: _Collector) -> MatchingRules:
    rules = raw.get("matchingRules")
    if not isinstance(rules, Mapping) or not rules:
        return MatchingRules()
    where = f"{at}.matchingRules"
    if any(str(key).startswith("$") for key in rules):
        return _flat_rules(rules, where, collect)
    return _categorised_rules(rules, where, collect)


def _flat_rules(rules: Mapping[str, Any], at: str, collect: _Collector) -> MatchingRules:
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


def _categorised_rules(rules: Mapping[str, Any], at: str, collect: _Collector) -> MatchingRules:
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


def _tokens(path: str, at: str, collect: _Collector) -> PathTokens | None:
    try:
        return parse_path(path)
    except PathSyntaxError as error:
        collect.add(at, str(error))
        return None


def _rule_set(definition: Any, at: str, collect: _Collector) -> RuleSet | None:
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


def _matcher(raw: Any, at: str, collect: _Collector) -> Matcher | None:
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


def _variant(raw: Any, at: str, collect: _Collector) -> tuple[int, Any, tuple[BodyRule, ...]]:
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


def _generators(raw: Any, at: str, collect: _Collector) -> Generators:
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


def _generator(raw: Any, at: str, collect: _Collector) -> Generator | None:
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


def parse_form(text: str) -> dict[str, list[str]]:
    """A form-encoded body as a map of lists (order of values kept)."""
    result: dict[str, list[str]] = {}
    for key, value in parse_qsl(text, keep_blank_values=True):
        result.setdefault(key, []).append(value)
    return result
