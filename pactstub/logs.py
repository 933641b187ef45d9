"""Log lines as people read them (``--log-format text``) or as log pipelines read them (``json``).

The stub logs a line per request (:func:`pactstub.app._log`) and one per lifecycle event
(a record entering a state, :mod:`pactstub.state.unit`). Each passes its facts along
with the record (``extra``), so the JSON form carries them as fields instead of a
sentence to parse; the text form is the sentence alone. Every other log line becomes
an object with its time, level, logger and message.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal

from pactstub.state.lifecycle import LIFECYCLE_FIELD

if TYPE_CHECKING:
    from pactstub.journal import JournalEntry

__all__ = [
    "LIFECYCLE_FIELD",
    "LOG_FORMATS",
    "REQUEST_FIELD",
    "TEXT_FORMAT",
    "JsonFormatter",
    "LogFormat",
    "formatter",
    "request_fields",
]

LogFormat = Literal["text", "json"]
LOG_FORMATS: tuple[LogFormat, ...] = ("text", "json")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
#: The attribute of a log record holding the :class:`~pactstub.journal.JournalEntry` it is about.
REQUEST_FIELD = "pactstub_request"


def formatter(log_format: LogFormat) -> logging.Formatter:
    return JsonFormatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ``time``, ``level``, ``logger``, ``message``, and the facts.

    ASCII only, so a line is valid UTF-8 whatever a client sent in its path.
    """

    def format(self, record: logging.LogRecord) -> str:
        document: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
        }
        entry = getattr(record, REQUEST_FIELD, None)
        if entry is not None:
            document.update(request_fields(entry))
        lifecycle = getattr(record, LIFECYCLE_FIELD, None)
        if lifecycle is not None:
            document.update({"event": "lifecycle", **lifecycle})
        document["message"] = record.getMessage()
        if record.exc_info:
            document["exception"] = self.formatException(record.exc_info)
        return json.dumps(document, default=str)


def request_fields(entry: JournalEntry) -> dict[str, Any]:
    """What a request's log line says: the request, the answer, and why not the pact's when not."""
    fields: dict[str, Any] = {
        "event": "request",
        "method": entry.method,
        "path": entry.path,
        "query": entry.query,
        "status": entry.status,
        "duration_ms": entry.duration_ms,
        "session": entry.session,
        "interaction": entry.interaction,
        "pact": entry.pact,
        "problem": entry.problem,
    }
    if entry.closest:
        closest = entry.closest[0]
        first = closest.mismatches[0] if closest.mismatches else None
        fields["closest"] = {
            "interaction": closest.description,
            "pact": closest.pact,
            "mismatch": None if first is None else {"location": first.location, "message": first.message},
        }
    if entry.detail:
        fields["detail"] = dict(entry.detail)
    if entry.fault:
        fields["fault"] = dict(entry.fault)
    return fields
