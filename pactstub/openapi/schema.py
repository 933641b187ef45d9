"""JSON Schemas inferred from a pact's examples and matching rules.

The example gives the shape (types, properties, array items); the rules written
for a location refine it: ``regex`` becomes ``pattern``, ``min``/``max`` become
``minItems``/``maxItems``, ``equality`` a ``const``, the type matchers a type,
``combine: OR`` an ``anyOf``. Rules are chosen by the same selection the matcher
uses, so the schema describes what the stub actually accepts.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from pactstub.model import Matcher, RuleSet, RuleState

#: the semantic-version pattern the ``semver`` matcher stands for
SEMVER = r"^\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$"
_FORMATS = {"date": "date", "time": "time", "timestamp": "date-time", "datetime": "date-time"}
_TYPES = {"integer": "integer", "decimal": "number", "number": "number", "boolean": "boolean", "null": "null"}


def body_schema(value: Any, rules: RuleState) -> dict[str, Any]:
    """The schema of ``value`` of a JSON body, where ``rules`` are the compiled rules at its location."""
    shape = _shape(value, rules)
    chosen = rules.chosen
    if chosen is None or chosen.cascaded:  # a rule cascaded from a parent adds nothing the shape lacks
        return shape
    return refine(shape, value, chosen.rules)


def _shape(value: Any, rules: RuleState) -> dict[str, Any]:
    if isinstance(value, dict):
        properties = {str(k): body_schema(v, rules.child(str(k))) for k, v in value.items()}
        return {"type": "object", "properties": properties, "required": list(properties)}
    if isinstance(value, list):
        return {"type": "array", "items": body_schema(value[0], rules.child(0)) if value else {}}
    return scalar_schema(value)


def scalar_schema(value: Any) -> dict[str, Any]:
    if isinstance(value, bool):
        return {"type": "boolean"}
    if isinstance(value, int):
        return {"type": "integer"}
    if isinstance(value, float):
        return {"type": "number"}
    if value is None:
        return {"type": "null"}
    return {"type": "string"}


def refine(shape: dict[str, Any], example: Any, rules: RuleSet) -> dict[str, Any]:
    """``shape`` narrowed by each matcher: all of them (AND) or any one (OR)."""
    parts = [_matcher_schema(matcher, shape, example) for matcher in rules.matchers]
    if len(parts) == 1:
        return parts[0]
    if rules.combine == "OR":
        return {"anyOf": parts}
    merged: dict[str, Any] = {}
    for part in parts:
        merged.update(part)
    return merged


def _matcher_schema(matcher: Matcher, shape: dict[str, Any], example: Any) -> dict[str, Any]:
    kind = matcher.kind
    if kind == "equality":
        return {**shape, "const": example}
    if kind == "regex" and isinstance(example, str) and matcher.regex is not None:
        return {"type": "string", "pattern": matcher.regex.pattern}
    if kind == "include":
        return {"type": "string", "pattern": re.escape(matcher.value or "")}
    if kind in _TYPES:
        return {"type": _TYPES[kind]}
    if kind in _FORMATS:
        return {"type": "string", "format": _FORMATS[kind]}
    if kind == "semver":
        return {"type": "string", "pattern": SEMVER}
    if kind in ("type", "min", "max", "minmax"):
        return _sized(shape, matcher)
    if kind == "notEmpty":
        return {**shape, **_non_empty(shape)}
    if kind in ("values", "eachValue") and shape.get("type") == "object":
        return _map_of(shape)
    if kind == "arrayContains" and shape.get("type") == "array":
        return {"type": "array", "contains": shape.get("items", {})}
    return shape


def _sized(shape: dict[str, Any], matcher: Matcher) -> dict[str, Any]:
    if shape.get("type") != "array":
        return shape
    sized = dict(shape)
    if matcher.min is not None:
        sized["minItems"] = matcher.min
    if matcher.max is not None:
        sized["maxItems"] = matcher.max
    return sized


def _non_empty(shape: dict[str, Any]) -> dict[str, Any]:
    key = {"string": "minLength", "array": "minItems", "object": "minProperties"}.get(shape.get("type", ""))
    return {key: 1} if key else {}


def _map_of(shape: dict[str, Any]) -> dict[str, Any]:
    """An object whose keys vary: every value shaped like the example's first."""
    first: dict[str, Any] = next(iter(shape.get("properties", {}).values()), {})
    return {"type": "object", "additionalProperties": first}


def text_schema(values: Sequence[str | None], rules: RuleSet | None) -> dict[str, Any]:
    """A header, query or path value (several values: an array of them)."""
    example = next((v for v in values if v is not None), "")
    item = refine({"type": "string"}, example, rules) if rules is not None else {"type": "string"}
    if len(values) > 1:
        return {"type": "array", "items": item}
    return item
