"""pactstub: a Pact contract in, a working HTTP provider out.

The public API: :func:`create_app` for the WSGI app, :func:`load_pacts` for the
model, and the error classes. Everything else is internal.
"""

from __future__ import annotations

__version__ = "0.1.0"

from pactstub.app import StubApp, create_app
from pactstub.errors import ConfigError, PactLoadError, PactstubError, Problem, StoreError, TemplateError
from pactstub.loading import load_pacts
from pactstub.model import Interaction, Pact
from pactstub.verify import verify

__all__ = [
    "ConfigError",
    "Interaction",
    "Pact",
    "PactLoadError",
    "PactstubError",
    "Problem",
    "StoreError",
    "StubApp",
    "TemplateError",
    "__version__",
    "create_app",
    "load_pacts",
    "verify",
]
