"""Counters, records, clocks and the journal every worker and server shares: see :mod:`pactstub.state.store`.

Schema changes go through Alembic only (:mod:`pactstub.state.migrate`).
"""

from pactstub.state.documents import DEFAULT_SESSION, RecordTooLarge, StateDocumentError
from pactstub.state.engine import DatabaseSettings
from pactstub.state.store import Record, Store

__all__ = ["DEFAULT_SESSION", "DatabaseSettings", "Record", "RecordTooLarge", "StateDocumentError", "Store"]
