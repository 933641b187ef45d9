"""Admin: the Prometheus metrics, at ``/_pactstub/metrics`` and, unless a pact uses it, ``/metrics``."""

from __future__ import annotations

from werkzeug.wrappers import Request, Response

from pactstub.admin import AdminApp


def scrape(app: AdminApp, request: Request) -> Response:
    body, content_type = app.metrics.exposition()
    return Response(body, content_type=content_type)


ROUTES = [("metrics", ["GET"], scrape)]
#: Served outside the admin prefix too (``StubApp`` sends it here only when no interaction uses it).
TOP_LEVEL = [("/metrics", ["GET"], scrape)]
