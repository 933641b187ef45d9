"""Raw pact JSON (already schema-checked) -> the internal model.

All version differences are settled here, once: v1/v2 query strings and v3/v4
query maps become one mapping, v4 body wrappers are unwrapped, and the rules
and generators go through :mod:`pactstub.loading.rules`. What matching needs
is compiled here too: expected XML and form bodies are parsed (a body that
does not parse is a problem, not a 400 for every request) and each expected
header becomes a :class:`~pactstub.model.HeaderCheck`. Problems are collected
with their JSON path (:class:`Collector`) rather than raised one at a time.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from pactstub.errors import Problem
from pactstub.loading.collector import Collector
from pactstub.loading.rules import generators, matching_rules
from pactstub.matching.headers import compile_headers
from pactstub.model import (
    Body,
    BodyKind,
    Headers,
    HttpRequest,
    HttpResponse,
    Interaction,
    Pact,
    ProviderState,
    Query,
)
from pactstub.wire import parse_form, parse_query_string

_JSON_TYPE = re.compile(r"^application/(?:[\w.+-]+\+)?json\b|^text/json\b", re.IGNORECASE)
_XML_TYPE = re.compile(r"^(?:application|text)/(?:[\w.+-]+\+)?xml\b", re.IGNORECASE)
_FORM_TYPE = re.compile(r"^application/x-www-form-urlencoded\b", re.IGNORECASE)


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
    collect = Collector(source)
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
    collect: Collector,
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


def _request(raw: Mapping[str, Any], version: str, at: str, collect: Collector) -> HttpRequest:
    headers = _headers(raw.get("headers"))
    rules = matching_rules(raw, version, at, collect)
    return HttpRequest(
        method=str(raw.get("method", "GET")),
        path=str(raw.get("path", "/")),
        query=_query(raw.get("query")),
        headers=headers,
        body=_body(raw, headers, version, at, collect),
        rules=rules,
        generators=generators(raw.get("generators"), f"{at}.generators", collect),
        exact_query=_exact_query(raw.get("query"), version),
        header_checks=compile_headers(headers, rules.header),
    )


def _exact_query(raw: Any, version: str) -> str | None:
    """v1 compares query strings as strings; later versions compare parameter maps."""
    if version != "1":
        return None
    if raw is None:
        return ""
    return raw if isinstance(raw, str) else None


def _response(raw: Mapping[str, Any], version: str, at: str, collect: Collector) -> HttpResponse:
    headers = _headers(raw.get("headers"))
    rules = matching_rules(raw, version, at, collect)
    return HttpResponse(
        status=int(raw.get("status", 200)),
        headers=headers,
        body=_body(raw, headers, version, at, collect),
        rules=rules,
        generators=generators(raw.get("generators"), f"{at}.generators", collect),
        header_checks=compile_headers(headers, rules.header),
    )


def _headers(raw: Any) -> Headers | None:
    if not isinstance(raw, Mapping):
        return None
    return {
        str(key): tuple(str(v) for v in value) if isinstance(value, list) else (str(value),)
        for key, value in raw.items()
    }


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
    raw: Mapping[str, Any], headers: Headers | None, version: str, at: str, collect: Collector
) -> Body | None:
    if "body" not in raw:
        return None
    body = _example_body(raw["body"], content_type_of(headers), version, at, collect)
    return None if body is None else _compiled(body, at, collect)


def _example_body(
    value: Any, content_type: str | None, version: str, at: str, collect: Collector
) -> Body | None:
    if version == "4" and isinstance(value, Mapping) and "content" in value:
        content_type = value.get("contentType") or content_type
        content = value.get("content")
        encoded = value.get("encoded")
        if encoded and encoded is not False and isinstance(content, str):
            return _encoded_body(content, content_type, at, collect)
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


def _encoded_body(content: str, content_type: str | None, at: str, collect: Collector) -> Body | None:
    """A v4 body given as base64: JSON, text kinds or bytes, by its content type."""
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


def _compiled(body: Body, at: str, collect: Collector) -> Body:
    """An XML or form body with its document parsed once, here; an XML error is a problem."""
    if body.kind == "form" and isinstance(body.value, str):
        return replace(body, form={k: tuple(v) for k, v in parse_form(body.value).items()})
    if body.kind != "xml" or body.value in (None, ""):
        return body
    try:
        # the stdlib parser resolves no external entities
        return replace(body, xml=ET.fromstring(str(body.value).encode("utf-8")))
    except ET.ParseError as error:
        collect.add(f"{at}.body", f"the body is not well-formed XML: {error}")
        return body
