"""CORS as the original mock served it: allowed origins, preflight for every route.

A browser client sends ``OPTIONS`` with ``Access-Control-Request-Method``
before a cross-origin call; the stub answers it for any path it serves
(unless the pact itself describes that ``OPTIONS`` request) and puts
``Access-Control-Allow-Origin`` on every other response.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from pactstub.render.response import RenderedResponse

#: how long a browser may cache a preflight answer, in seconds
PREFLIGHT_MAX_AGE = "600"
#: methods offered for a path no interaction has (the browser learns 404 next)
ANY_METHOD = ("DELETE", "GET", "HEAD", "PATCH", "POST", "PUT")


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

    def preflight(
        self, origin: str | None, methods: set[str], requested_headers: str | None
    ) -> RenderedResponse | None:
        """The answer to a preflight, or ``None`` when the pact describes this ``OPTIONS`` itself."""
        if "OPTIONS" in methods:
            return None
        headers = self.headers(origin)
        if headers:
            listed = sorted(methods) if methods else list(ANY_METHOD)
            headers.append(("Access-Control-Allow-Methods", ", ".join([*listed, "OPTIONS"])))
            if requested_headers:
                headers.append(("Access-Control-Allow-Headers", requested_headers))
            headers.append(("Access-Control-Max-Age", PREFLIGHT_MAX_AGE))
        return RenderedResponse(204, headers, b"")

    def headers(self, origin: str | None) -> list[tuple[str, str]]:
        """Headers that let the requesting origin read the response (none for a refused one)."""
        allowed = self.allowed_origin(origin)
        if allowed is None:
            return []
        if allowed == "*":
            return [("Access-Control-Allow-Origin", "*")]
        return [("Access-Control-Allow-Origin", allowed), ("Vary", "Origin")]
