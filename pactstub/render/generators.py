"""Pact v3/v4 generators: values made fresh for each response (or replayed request).

A generator replaces the example at its location. Each kind is one small
function from the generator's parameters and a :class:`GeneratorContext` to a
value, so adding a kind is one function and one table entry.
"""

from __future__ import annotations

import random
import re
import string
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import rstr

from pactstub.model import Generator, Generators, PathTokens
from pactstub.render.dates import ISO_DATE, ISO_DATETIME, ISO_TIME, format_now

_PLACEHOLDER = re.compile(r"\$\{([^}]+)\}")


@dataclass(frozen=True, slots=True)
class GeneratorContext:
    """What generators may draw on besides their own parameters."""

    #: parameters of the interaction's provider states (for ``ProviderState``)
    state_params: Mapping[str, Any] = field(default_factory=dict)
    #: the stub's own base URL as the client reached it (for ``MockServerURL``)
    base_url: str = ""
    now: Callable[[], datetime] = lambda: datetime.now(UTC)
    #: the source of every random value (seeded by ``--seed``)
    rng: random.Random = field(default_factory=random.Random)


GeneratorFn = Callable[[Mapping[str, Any], Any, GeneratorContext], Any]


def _random_int(params: Mapping[str, Any], example: Any, ctx: GeneratorContext) -> int:
    return ctx.rng.randint(int(params.get("min", 0)), int(params.get("max", 2**31 - 1)))


def _random_decimal(params: Mapping[str, Any], example: Any, ctx: GeneratorContext) -> float:
    """A decimal of exactly ``digits`` significant digits (no trailing zero to lose)."""
    digits = max(2, int(params.get("digits", 10)))
    middle = "".join(ctx.rng.choices(string.digits, k=digits - 2))
    text = f"{ctx.rng.randint(1, 9)}{middle}{ctx.rng.randint(1, 9)}"
    point = ctx.rng.randint(1, digits - 1)
    return float(text[:point] + "." + text[point:])


def _random_hex(params: Mapping[str, Any], example: Any, ctx: GeneratorContext) -> str:
    return "".join(ctx.rng.choices("0123456789abcdef", k=int(params.get("digits", 10))))


def _random_string(params: Mapping[str, Any], example: Any, ctx: GeneratorContext) -> str:
    return "".join(ctx.rng.choices(string.ascii_letters + string.digits, k=int(params.get("size", 10))))


def _regex(params: Mapping[str, Any], example: Any, ctx: GeneratorContext) -> str:
    return str(rstr.Rstr(ctx.rng).xeger(str(params.get("regex", ""))))


def _uuid(params: Mapping[str, Any], example: Any, ctx: GeneratorContext) -> str:
    value = uuid.UUID(int=ctx.rng.getrandbits(128), version=4)
    form = params.get("format", "lower-case-hyphenated")
    if form == "simple":
        return value.hex
    if form == "upper-case-hyphenated":
        return str(value).upper()
    if form == "URN":
        return value.urn
    return str(value)


def _moment(default: str) -> GeneratorFn:
    def generate(params: Mapping[str, Any], example: Any, ctx: GeneratorContext) -> str:
        return format_now(str(params.get("format") or default), ctx.now())

    return generate


def _random_boolean(params: Mapping[str, Any], example: Any, ctx: GeneratorContext) -> bool:
    return ctx.rng.random() < 0.5


def _provider_state(params: Mapping[str, Any], example: Any, ctx: GeneratorContext) -> Any:
    """``${id}`` -> the state parameter ``id``; a whole-value expression keeps its type."""
    expression = str(params.get("expression", ""))
    whole = _PLACEHOLDER.fullmatch(expression)
    if whole:
        value = ctx.state_params.get(whole.group(1).strip(), example)
    else:
        value = _PLACEHOLDER.sub(
            lambda m: str(ctx.state_params.get(m.group(1).strip(), m.group(0))), expression
        )
    return _as_type(value, params.get("dataType"))


def _mock_server_url(params: Mapping[str, Any], example: Any, ctx: GeneratorContext) -> Any:
    """Keep the part of the example the regex captures, on the stub's own base URL."""
    source = str(params.get("example", example))
    found = re.search(str(params.get("regex", "")), source)
    if not found or not ctx.base_url:
        return source
    tail = found.group(1) if found.groups() else found.group(0)
    return ctx.base_url.rstrip("/") + (tail if tail.startswith("/") else "/" + tail)


def _as_type(value: Any, data_type: Any) -> Any:
    try:
        if data_type == "INTEGER":
            return int(value)
        if data_type in ("DECIMAL", "FLOAT"):
            return float(value)
        if data_type == "BOOLEAN":
            return str(value).lower() == "true" if isinstance(value, str) else bool(value)
        if data_type == "STRING":
            return str(value)
    except (TypeError, ValueError):
        return value
    return value


GENERATORS: Mapping[str, GeneratorFn] = {
    "RandomInt": _random_int,
    "RandomDecimal": _random_decimal,
    "RandomHexadecimal": _random_hex,
    "RandomString": _random_string,
    "Regex": _regex,
    "Uuid": _uuid,
    "Date": _moment(ISO_DATE),
    "Time": _moment(ISO_TIME),
    "DateTime": _moment(ISO_DATETIME),
    "RandomBoolean": _random_boolean,
    "ProviderState": _provider_state,
    "MockServerURL": _mock_server_url,
}


def generate(generator: Generator, example: Any, ctx: GeneratorContext) -> Any:
    return GENERATORS[generator.type](generator.params, example, ctx)


def apply_to_headers(
    headers: Mapping[str, tuple[str, ...]], generators: Generators, ctx: GeneratorContext
) -> list[tuple[str, str]]:
    """Header lines with generated values where a generator names the header (any case)."""
    lowered = {name.lower(): generator for name, generator in generators.header.items()}
    result: list[tuple[str, str]] = []
    for name, values in headers.items():
        generator = lowered.get(name.lower())
        if generator is not None:
            result.append((name, str(generate(generator, ", ".join(values), ctx))))
        else:
            result.extend((name, value) for value in values)
    return result


def apply_to_body(value: Any, generators: Generators, ctx: GeneratorContext) -> Any:
    """A copy of a JSON body with every generator applied at its path(s)."""
    if not generators.body:
        return value
    result = _copy(value)
    for tokens, generator in generators.body:
        result = _apply_at(result, tokens, generator, ctx)
    return result


def _copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value


def _apply_at(node: Any, tokens: PathTokens, generator: Generator, ctx: GeneratorContext) -> Any:
    if not tokens:
        return generate(generator, node, ctx)
    head, rest = tokens[0], tokens[1:]
    if isinstance(node, dict):
        keys = list(node) if head == "*" else [head] if head in node else []
        for key in keys:
            node[key] = _apply_at(node[key], rest, generator, ctx)
    elif isinstance(node, list):
        indexes = (
            range(len(node)) if head == "*" else [head] if isinstance(head, int) and head < len(node) else []
        )
        for i in indexes:
            node[i] = _apply_at(node[i], rest, generator, ctx)
    return node
