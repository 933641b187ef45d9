"""Counters and records shared by every worker and server: see :mod:`pactstub.state.store`.

Schema changes go through Alembic only (:mod:`pactstub.state.migrate`).
"""

from pactstub.state.store import DatabaseSettings, Record, StateDocumentError, Store

__all__ = ["DatabaseSettings", "Record", "StateDocumentError", "Store"]
