"""An interaction's response as status, headers and body bytes.

The example from the pact, with generators applied, unless the project has a
template for the interaction; then the template's output replaces the body.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from pactstub import jsontext
from pactstub.model import Body, HttpResponse
from pactstub.render.generators import GeneratorContext, apply_to_body, apply_to_headers, generate

JSON_TYPE = "application/json"


@dataclass(frozen=True, slots=True)
class RenderedResponse:
    status: int
    headers: list[tuple[str, str]]
    body: bytes


def render_example(
    response: HttpResponse,
    ctx: GeneratorContext,
    body_override: Callable[[], bytes] | None = None,
) -> RenderedResponse:
    """The pact's response, generators applied; ``body_override`` supplies a templated body."""
    generators = response.generators
    status = response.status
    if generators.status is not None:
        status = int(generate(generators.status, status, ctx))
    headers = apply_to_headers(response.headers or {}, generators, ctx)
    body = body_override() if body_override is not None else _body_bytes(response.body, response, ctx)
    json_body = body_override is not None or (response.body is not None and response.body.kind == "json")
    if json_body and not _has(headers, "content-type"):
        headers.append(("Content-Type", JSON_TYPE))
    return RenderedResponse(status, headers, body)


def _body_bytes(body: Body | None, response: HttpResponse, ctx: GeneratorContext) -> bytes:
    if body is None:
        return b""
    if body.kind == "json" and response.generators.body:
        value = apply_to_body(body.value, response.generators, ctx)
        return jsontext.dumps_bytes(value)
    return body.to_bytes()


def _has(headers: list[tuple[str, str]], name: str) -> bool:
    return any(key.lower() == name for key, _ in headers)
