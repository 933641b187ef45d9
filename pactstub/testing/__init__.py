"""Testing a client of a Pact-described API: the stub inside your test suite.

- :class:`StubServer` serves pacts on a real socket in a background thread
  (``with StubServer(pacts) as stub: ...``), for any HTTP client.
- The pytest plugin (:mod:`pactstub.testing.plugin`, loaded automatically) gives
  the ``pactstub`` fixture: one server per session and configuration, reset
  before each test and checked after it.
- For a WSGI test client no server is needed: ``werkzeug.test.Client(create_app(pacts))``.

:class:`StubServer` is imported on first use, so that loading the plugin costs nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pactstub.testing.server import StubServer, describe_unmatched

__all__ = ["StubServer", "describe_unmatched"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from pactstub.testing import server

        return getattr(server, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
