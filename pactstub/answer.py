"""One request answered from the contract: route -> match -> respond, or explain why not.

Candidates come from the route index (same method and path), most specific first. Each
is first decided cheaply (stop at the first mismatch); only when none matches is every
reason worked out, for the explanation. The chosen interaction's response is its pact
example with generators applied, or its template's output.

Pure of WSGI: what the request needs from its environ arrives as an :class:`Asked`.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from pactstub import __version__
from pactstub.contract import Contract
from pactstub.errors import JsonLimitError, StoreError, StoreUnavailable, TemplateError
from pactstub.journal import Candidate
from pactstub.listing import describe
from pactstub.matching.http import ActualRequest, match_request, status_allowed
from pactstub.matching.report import BODY_ROOT, Mismatch
from pactstub.model import HttpResponse, Interaction, ReceivedRequest
from pactstub.render.context import RequestView, TemplateContext, frozen, path_params
from pactstub.render.generators import GeneratorContext
from pactstub.render.response import JSON_TYPE, RenderedResponse, render_example
from pactstub.routing import Route, in_state
from pactstub.state.documents import RecordTooLarge
from pactstub.state.unit import UnitOfWork
from pactstub.web import json_response

__all__ = ["CLOSEST_LIMIT", "RETRY_AFTER_S", "UNAVAILABLE", "Answer", "Answerer", "Asked", "unavailable"]

log = logging.getLogger("pactstub")

#: how many near misses a no-match answer names
CLOSEST_LIMIT = 3
#: seconds a client should wait before trying again when the store is down
RETRY_AFTER_S = 1
#: what a client is told of a store outage (the log has the details)
UNAVAILABLE = "the store is unavailable"


@dataclass(frozen=True, slots=True)
class Asked:
    """What a request asks besides its method, path, headers and body."""

    session: str
    #: the provider state the request picked with its header, if any
    state: str | None
    base_url: str


@dataclass(frozen=True, slots=True)
class Answer:
    """The response, and what the journal says of it."""

    response: RenderedResponse
    route: Route | None = None
    problem: str | None = None
    closest: tuple[Candidate, ...] = ()
    detail: dict[str, Any] | None = None


class Answerer:
    """Answers requests from one contract; the store and generator are the app's."""

    def __init__(
        self,
        contract: Contract,
        *,
        no_match_status: int,
        strict_headers: bool,
        state_header: str,
        unit: Callable[[str], UnitOfWork],
        rng: random.Random,
        health: Callable[[], RenderedResponse],
    ) -> None:
        self.contract = contract
        self._health = health
        self._no_match_status = no_match_status
        self._strict = strict_headers
        self._state_header = state_header
        self._unit = unit
        self._rng = rng

    def answer(self, received: ReceivedRequest, asked: Asked) -> Answer:
        """The answer, from the contract serving when the request arrived even if one replaces it."""
        contract = self.contract
        prepared = ActualRequest(received)
        if received.body and prepared.declares_json:  # JSON nothing may read: refused before matching
            refused = prepared.body.refusal()
            if refused is not None:
                return _refused_json(refused)
        chosen = contract.index.choose(prepared, state=asked.state, strict_headers=self._strict)
        if chosen is not None:
            return self._respond(contract, chosen, prepared, asked)
        routes = contract.index.candidates(received.method, received.path)
        if routes:  # nothing matched: only now work out every reason, for the explanation
            near = [
                (route, self._state_mismatches(route, asked.state)
                 + match_request(route.interaction.request, prepared, strict_headers=self._strict))
                for route in routes
            ]  # fmt: skip
            return self._no_match(contract, prepared, asked, near)
        method = received.method.upper()
        if received.path in contract.builtin and method in ("GET", "HEAD"):
            return Answer(self._builtin_response(contract, received.path))
        allowed = contract.index.methods_for(received.path)
        if allowed:
            body = {
                "error": f"method {received.method} not allowed for {received.path}",
                "allowed": sorted(allowed),
            }
            allow = ("Allow", ", ".join(sorted(allowed | {"OPTIONS"})))
            return Answer(json_response(body, 405, [allow]), problem="method-not-allowed")
        body = {"error": f"no interaction has the path {received.path}", "method": received.method}
        return Answer(json_response(body, 404), problem="not-found")

    # ---------------------------------------------------------------- matched

    def _session_now(self, session: str) -> datetime:
        """Now on the session's clock, for the pact's date generators (as templates' ``now()``).

        Read only when a date generator runs. A store that cannot be read gives real time:
        a generated date is not worth a 503 for an answer that needs no state.
        """
        try:
            with self._unit(session) as unit:
                micros = unit.now_us()
        except StoreError:
            return datetime.now(UTC)
        return datetime.fromtimestamp(micros / 1_000_000, UTC)

    def _respond(self, contract: Contract, route: Route, prepared: ActualRequest, asked: Asked) -> Answer:
        """The matched interaction's response; computed once when nothing in it varies."""
        received = prepared.request
        static = contract.static.get(route.order)
        if static is not None:
            return Answer(static, route)
        interaction = route.interaction
        template = contract.templates.for_interaction(interaction)
        generated = GeneratorContext(
            state_params=_state_params(interaction),
            base_url=asked.base_url,
            now=lambda: self._session_now(asked.session),
            rng=self._rng,
        )
        if template is None:
            response = render_example(interaction.response, generated)
            if not interaction.response.generators:
                contract.static[route.order] = response
            return Answer(response, route)
        context = TemplateContext(
            request=RequestView(received, path_params(interaction, received.path), prepared.body),
            interaction=interaction,
            base_url=asked.base_url,
            unit=lambda: self._unit(asked.session),
            rng=self._rng,
            state_params=frozen(_state_params(interaction)),
            check_status=lambda status: self._check_status(contract, route, status, str(template.path)),
        )
        try:
            rendered = template.render(context)
            response = render_example(interaction.response, generated, lambda: rendered.body)
        except TemplateError as error:
            log.error("%s", error)
            body = {"error": "template failed", **error.to_json()}
            return Answer(json_response(body, 500), route, "template-failed", detail=error.to_json())
        except StoreUnavailable as error:
            return Answer(unavailable(error), route, "store-unavailable", detail={"message": UNAVAILABLE})
        except RecordTooLarge as error:
            body = {"error": "request too large to store", "message": str(error)}
            return Answer(json_response(body, 413), route, "bad-request", detail={"message": str(error)})
        if rendered.status is not None or rendered.headers:
            response = _shaped(response, rendered.status, rendered.headers)
        return Answer(response, route)

    def _check_status(self, contract: Contract, route: Route, status: int, template: str) -> None:
        """A template may answer only what the pact allows for this request."""
        response: HttpResponse = route.interaction.response
        if status in contract.siblings.get(route.order, ()) or status_allowed(response, status):
            return
        allowed = ", ".join(map(str, sorted(contract.siblings.get(route.order, {response.status}))))
        if response.rules.status is not None:
            allowed += f", or what the status rule of {route.interaction.description!r} allows"
        raise TemplateError(
            template,
            f"set_status({status}): the pact allows {allowed} for "
            f"{route.interaction.request.method.upper()} {route.interaction.request.path}",
        )

    # ---------------------------------------------------------------- not matched

    def _state_mismatches(self, route: Route, wanted: str | None) -> list[Mismatch]:
        """Why an interaction is out of the provider state the request asked for, if it is."""
        if in_state(route, wanted):
            return []
        states = [state.name for state in route.interaction.provider_states]
        return [
            Mismatch(
                kind="provider-state",
                location=f"header {self._state_header}",
                expected=states,
                actual=wanted,
                message=f"Expected one of the provider states {states} but the request asked for {wanted!r}",
            )
        ]

    def _no_match(
        self,
        contract: Contract,
        prepared: ActualRequest,
        asked: Asked,
        near: list[tuple[Route, list[Mismatch]]],
    ) -> Answer:
        received = prepared.request
        fewest = min(len(m) for _, m in near)
        closest = tuple(
            Candidate(
                route.interaction.label,
                route.interaction.description,
                route.interaction.pact_name,
                route.interaction.index,
                tuple(mismatches),
            )
            for route, mismatches in near
            if len(mismatches) == fewest
        )[:CLOSEST_LIMIT]
        status = self._no_match_status
        explanation = {
            "error": "no interaction matched the request",
            "request": {"method": received.method, "path": received.path},
            "closest": [c.to_json() for c in closest],
            "mismatches": [m.to_json() for m in closest[0].mismatches],
        }
        template = contract.templates.for_no_match(closest[0].pact)
        if template is None:
            return Answer(json_response(explanation, status), problem="mismatch", closest=closest)
        context = TemplateContext(
            request=RequestView(received, parsed=prepared.body),
            interaction=None,
            base_url=asked.base_url,
            unit=lambda: self._unit(asked.session),
            rng=self._rng,
            no_match=frozen(explanation),
        )
        try:
            body = template.render(context).body
        except TemplateError as error:
            log.error("%s", error)
            failed = {"error": "template failed", **error.to_json(), "no_match": explanation}
            return Answer(
                json_response(failed, 500), problem="template-failed", closest=closest, detail=error.to_json()
            )
        except StoreUnavailable as error:
            return Answer(unavailable(error), problem="mismatch", closest=closest)
        response = RenderedResponse(status, [("Content-Type", JSON_TYPE)], body)
        return Answer(response, problem="mismatch", closest=closest)

    def _builtin_response(self, contract: Contract, path: str) -> RenderedResponse:
        if path == "/health":
            return self._health()
        return json_response(
            {
                "name": "pactstub",
                "version": __version__,
                "pacts": [
                    {"name": p.name, "consumer": p.consumer, "provider": p.provider, "file": p.source}
                    for p in contract.pacts
                ],
                "interactions": len(contract.index.routes),
                "routes": sorted(
                    {f"{row['method']} {row['path']}" for row in describe(contract.index, contract.templates)}
                ),
            },
            200,
        )


def _state_params(interaction: Interaction) -> dict[str, Any]:
    params: dict[str, Any] = {}
    for state in interaction.provider_states:
        params.update(state.params)
    return params


def _shaped(
    response: RenderedResponse, status: int | None, headers: tuple[tuple[str, str], ...]
) -> RenderedResponse:
    """The response with the status and headers a template chose (its headers replace the pact's)."""
    replaced = {name.lower() for name, _ in headers}
    kept = [(name, value) for name, value in response.headers if name.lower() not in replaced]
    return replace(response, status=status or response.status, headers=[*kept, *headers])


def _refused_json(error: JsonLimitError) -> Answer:
    """400 for a JSON body no interaction could be matched against, naming where it goes wrong."""
    location = BODY_ROOT + error.location[1:]
    body = {"error": "bad request", "location": location, "message": error.message}
    detail = {"message": f"{location}: {error.message}"}
    return Answer(json_response(body, 400), problem="bad-request", detail=detail)


def unavailable(error: StoreUnavailable) -> RenderedResponse:
    """503 with ``Retry-After``; the body names no host, user or password."""
    log.error("the store is unavailable: %s", error.__cause__ or error)
    body = {"error": UNAVAILABLE, "retry_after": RETRY_AFTER_S}
    return json_response(body, 503, [("Retry-After", str(RETRY_AFTER_S))])
