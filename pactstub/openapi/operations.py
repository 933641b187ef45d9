"""Interactions grouped into OpenAPI operations: one per path template and method.

Several interactions on one operation (``POST /jobs`` three times, say) share it:
their parameters are merged (required when every interaction has them), their bodies
and responses become ``anyOf`` schemas with one named example per interaction, and
the operation's description lists each interaction with its provider states.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

from pactstub.model import Body, Headers, Interaction, MatchingRules
from pactstub.openapi.paths import PathTemplate, path_template
from pactstub.openapi.schema import body_schema, text_schema

#: the methods an OpenAPI path item can hold
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
#: header parameters OpenAPI ignores (Accept, Content-Type, Authorization) or a client sets itself
SKIPPED_HEADERS = frozenset(
    {"accept", "content-type", "authorization", "host", "content-length", "connection", "keep-alive"}
    | {"transfer-encoding", "te", "upgrade", "accept-encoding", "version"}
)
_DEFAULT_TYPES = {
    "json": "application/json",
    "xml": "application/xml",
    "text": "text/plain",
    "form": "application/x-www-form-urlencoded",
    "binary": "application/octet-stream",
}

Member = tuple[Interaction, PathTemplate]


def path_items(interactions: Iterable[Interaction]) -> dict[str, dict[str, Any]]:
    """The ``paths`` object: template -> method -> operation, in the order first seen."""
    groups: dict[tuple[str, str], list[Member]] = {}
    for interaction in interactions:
        method = interaction.request.method.lower()
        if method not in METHODS:
            continue  # OpenAPI has no place for other methods
        shape = path_template(interaction.request.path, interaction.request.rules.path)
        groups.setdefault((shape.template, method), []).append((interaction, shape))
    paths: dict[str, dict[str, Any]] = {}
    taken: set[str] = set()
    for (template, method), members in groups.items():
        paths.setdefault(template, {})[method] = _operation(template, method, members, taken)
    return paths


def _operation(template: str, method: str, members: list[Member], taken: set[str]) -> dict[str, Any]:
    interactions = [interaction for interaction, _ in members]
    operation: dict[str, Any] = {
        "operationId": _operation_id(method, template, taken),
        "summary": interactions[0].description
        if len(interactions) == 1
        else f"{len(interactions)} interactions",
        "description": _description(members),
        "tags": sorted({i.pact_name for i in interactions if i.pact_name}),
    }
    parameters = [*members[0][1].parameters, *_query(interactions), *_headers(interactions)]
    if parameters:
        operation["parameters"] = parameters
    body = _content((i, i.request.body, i.request.rules) for i in interactions)
    if body:
        required = all(_has_body(i.request.body) for i in interactions)
        operation["requestBody"] = {"required": required, "content": body}
    operation["responses"] = _responses(interactions)
    return operation


def _operation_id(method: str, template: str, taken: set[str]) -> str:
    words = "".join(c if c.isalnum() else "_" for c in template).strip("_")
    base = f"{method}_{words}" if words else method
    name, count = base, 2
    while name in taken:
        name, count = f"{base}_{count}", count + 1
    taken.add(name)
    return name


def _description(members: list[Member]) -> str:
    lines = []
    for interaction, template in members:
        line = f"- {interaction.description}"
        given = _given(interaction)
        if given:
            line += f" ({given})"
        if template.unexpressed:
            line += f"; the path matches the regex `{template.unexpressed}`"
        lines.append(line)
    return "\n".join(lines)


def _given(interaction: Interaction) -> str:
    states = []
    for state in interaction.provider_states:
        params = f" with {json.dumps(dict(state.params), sort_keys=True)}" if state.params else ""
        states.append(f"'{state.name}'{params}")
    return "given " + " and ".join(states) if states else ""


def _query(interactions: Sequence[Interaction]) -> list[dict[str, Any]]:
    names: dict[str, list[Interaction]] = {}
    for interaction in interactions:
        for name in interaction.request.query or {}:
            names.setdefault(name, []).append(interaction)
    parameters = []
    for name, having in names.items():
        values = (having[0].request.query or {})[name]
        parameter: dict[str, Any] = {
            "name": name,
            "in": "query",
            "required": len(having) == len(interactions),
            "schema": text_schema(values, having[0].request.rules.query.get(name)),
        }
        present = [v for v in values if v is not None]
        if present:
            parameter["example"] = present[0] if len(values) == 1 else present
        parameters.append(parameter)
    return parameters


def _headers(interactions: Sequence[Interaction]) -> list[dict[str, Any]]:
    found: dict[str, tuple[str, tuple[str, ...], Interaction, int]] = {}
    for interaction in interactions:
        for name, values in (interaction.request.headers or {}).items():
            key = name.lower()
            if key in SKIPPED_HEADERS:
                continue
            seen = found.get(key)
            found[key] = (seen[0], seen[1], seen[2], seen[3] + 1) if seen else (name, values, interaction, 1)
    return [
        {
            "name": name,
            "in": "header",
            "required": count == len(interactions),
            "schema": text_schema(values, first.request.rules.header.get(key)),
            "example": ", ".join(values),
        }
        for key, (name, values, first, count) in found.items()
    ]


def _responses(interactions: Sequence[Interaction]) -> dict[str, Any]:
    by_status: dict[str, list[Interaction]] = {}
    for interaction in interactions:
        by_status.setdefault(str(interaction.response.status), []).append(interaction)
    responses: dict[str, Any] = {}
    for status, having in by_status.items():
        descriptions = list(dict.fromkeys(i.description for i in having))
        response: dict[str, Any] = {"description": "; ".join(descriptions)}
        headers = _response_headers(having)
        if headers:
            response["headers"] = headers
        content = _content((i, i.response.body, i.response.rules) for i in having)
        if content:
            response["content"] = content
        responses[status] = response
    return responses


def _response_headers(interactions: Sequence[Interaction]) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    spelled: set[str] = set()
    for interaction in interactions:
        given: Headers = interaction.response.headers or {}
        for name, values in given.items():
            if name.lower() == "content-type" or name.lower() in spelled:
                continue
            spelled.add(name.lower())
            rules = interaction.response.rules.header.get(name.lower())
            headers[name] = {"schema": text_schema(values, rules), "example": ", ".join(values)}
    return headers


def _has_body(body: Body | None) -> bool:
    return body is not None and not (body.kind == "json" and body.value is None)


def _content(bodies: Iterable[tuple[Interaction, Body | None, MatchingRules]]) -> dict[str, Any]:
    """Media type -> schema (``anyOf`` when interactions differ) and one example each."""
    schemas: dict[str, list[dict[str, Any]]] = {}
    examples: dict[str, dict[str, Any]] = {}
    for interaction, body, rules in bodies:
        if body is None or not _has_body(body):
            continue
        media = (body.content_type or _DEFAULT_TYPES[body.kind]).split(";")[0].strip().lower()
        schema = _text_body(body) if body.kind == "binary" else body_schema(body.value, rules.body.root)
        if schema not in schemas.setdefault(media, []):
            schemas[media].append(schema)
        if body.kind != "binary":
            example: dict[str, Any] = {"summary": interaction.description, "value": body.value}
            given = _given(interaction)
            if given:
                example["description"] = given
            named = examples.setdefault(media, {})
            named[_example_name(interaction, named)] = example
    return {
        media: {
            "schema": found[0] if len(found) == 1 else {"anyOf": found},
            **({"examples": examples[media]} if examples.get(media) else {}),
        }
        for media, found in schemas.items()
    }


def _text_body(body: Body) -> dict[str, Any]:
    return {"contentMediaType": body.content_type or _DEFAULT_TYPES["binary"]}


def _example_name(interaction: Interaction, taken: dict[str, Any]) -> str:
    base = "".join(c if c.isalnum() else "-" for c in interaction.description.lower()).strip("-") or "example"
    name, count = base, 2
    while name in taken:
        name, count = f"{base}-{count}", count + 1
    return name
