"""CORS as the original mock served it: allowed origins, preflight for every route.

A browser client sends ``OPTIONS`` with ``Access-Control-Request-Method``
before a cross-origin call; the stub answers it for any path it serves
(unless the pact itself describes that ``OPTIONS`` request) and puts
``Access-Control-Allow-*`` on every other response.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from werkzeug.wrappers import Request, Response

from pactstub.routing import RouteIndex

#: how long a browser may cache a preflight answer, in seconds
PREFLIGHT_MAX_AGE = "600"


@dataclass(frozen=True, slots=True)
class Cors:
    origins: Sequence[str] = ("*",)

    def allowed_origin(self, origin: str | None) -> str | None:
        """The ``Access-Control-Allow-Origin`` value for a request's ``Origin``."""
        if "*" in self.origins:
            return "*"
        if origin and origin in self.origins:
            return origin
        return None

    def preflight(self, request: Request, index: RouteIndex) -> Response | None:
        """The answer to a CORS preflight, or ``None`` if this is not one to answer here."""
        if request.method != "OPTIONS" or "Access-Control-Request-Method" not in request.headers:
            return None
        methods = index.methods_for(request.path)
        if "OPTIONS" in methods:
            return None
        response = Response(status=204)
        allowed = self.allowed_origin(request.headers.get("Origin"))
        if allowed is None:
            return response
        response.headers["Access-Control-Allow-Origin"] = allowed
        listed = sorted(methods) if methods else ["DELETE", "GET", "HEAD", "PATCH", "POST", "PUT"]
        response.headers["Access-Control-Allow-Methods"] = ", ".join([*listed, "OPTIONS"])
        requested = request.headers.get("Access-Control-Request-Headers")
        if requested:
            response.headers["Access-Control-Allow-Headers"] = requested
        response.headers["Access-Control-Max-Age"] = PREFLIGHT_MAX_AGE
        if allowed != "*":
            response.headers["Vary"] = "Origin"
        return response

    def decorate(self, request: Request, response: Response) -> None:
        """Add ``Access-Control-Allow-Origin`` to a normal response."""
        allowed = self.allowed_origin(request.headers.get("Origin"))
        if allowed is None or "Access-Control-Allow-Origin" in response.headers:
            return
        response.headers["Access-Control-Allow-Origin"] = allowed
        if allowed != "*":
            response.headers.add("Vary", "Origin")
