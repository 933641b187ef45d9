"""pactstub: a Pact contract in, a working HTTP provider out.

The public API: :func:`create_app` for the WSGI app, :func:`verify` for
checking a provider, :func:`load_pacts` for the model, and the error classes.
Names are imported on first use, so that the pytest plugin, which every
pytest run in an environment with pactstub loads, costs nothing until used.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from pactstub.app import StubApp, create_app
    from pactstub.errors import (
        ConfigError,
        PactLoadError,
        PactstubError,
        Problem,
        ProviderUnreachableError,
        StoreError,
        TemplateError,
    )
    from pactstub.loading import load_pacts
    from pactstub.model import Interaction, Pact
    from pactstub.verification import verify

_HOMES = {
    "StubApp": "pactstub.app",
    "create_app": "pactstub.app",
    "ConfigError": "pactstub.errors",
    "PactLoadError": "pactstub.errors",
    "PactstubError": "pactstub.errors",
    "Problem": "pactstub.errors",
    "ProviderUnreachableError": "pactstub.errors",
    "StoreError": "pactstub.errors",
    "TemplateError": "pactstub.errors",
    "load_pacts": "pactstub.loading",
    "Interaction": "pactstub.model",
    "Pact": "pactstub.model",
    "verify": "pactstub.verification",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'pactstub' has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value
    return value


__all__ = [
    "ConfigError",
    "Interaction",
    "Pact",
    "PactLoadError",
    "PactstubError",
    "Problem",
    "ProviderUnreachableError",
    "StoreError",
    "StubApp",
    "TemplateError",
    "__version__",
    "create_app",
    "load_pacts",
    "verify",
]
