"""Text that arrives on the wire, read the way the Pact tools read it.

Query strings and form bodies are parsed at request time by the app and the
matcher, and at load time for v1/v2 pacts that write their query as a string.
Nothing here knows about pacts, so every layer may use it.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, unquote

#: Query parameters by name; ``None`` as a value stands for a parameter without ``=``.
QueryMap = dict[str, tuple["str | None", ...]]


def parse_query_string(text: str) -> QueryMap:
    """``a=1&b=2&a=3`` -> ``{"a": ("1", "3"), "b": ("2",)}``; a bare ``a`` gives ``(None,)``.

    Unlike :func:`urllib.parse.parse_qs` this keeps a bare name apart from an
    empty value (``a`` is not ``a=``), which the Pact specification cases tell apart.
    """
    result: dict[str, list[str | None]] = {}
    for part in text.split("&"):
        if not part:
            continue
        name, equals, value = part.partition("=")
        decoded_name = unquote(name.replace("+", " "))
        result.setdefault(decoded_name, []).append(unquote(value.replace("+", " ")) if equals else None)
    return {key: tuple(values) for key, values in result.items()}


def parse_form(text: str) -> dict[str, list[str]]:
    """A form-encoded body as a map of lists (order of values kept, blank values too)."""
    result: dict[str, list[str]] = {}
    for key, value in parse_qsl(text, keep_blank_values=True):
        result.setdefault(key, []).append(value)
    return result


def decoded_query_parts(text: str) -> list[str]:
    """A query string's ``&``-separated parts, percent-escapes decoded (v1 compares these)."""
    return [unquote(part.replace("+", " ")) for part in text.split("&")] if text else []
