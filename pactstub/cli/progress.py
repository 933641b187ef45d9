"""How far long work has got, on a terminal: one line on stderr, redrawn in place.

Only a person watching a terminal wants it: when stderr is not a terminal (a pipe, a
file, CI's log) nothing is written at all, so output stays what it was. Lines a
command prints meanwhile (``pactstub verify``'s results) go above the progress line.
"""

from __future__ import annotations

import shutil
import sys
import time
from types import TracebackType
from typing import TextIO

import click

__all__ = ["Progress"]

#: Seconds between redraws (the last state is always drawn).
_REDRAW_S = 0.1
#: Back to the start of the line and erase it (ANSI).
_CLEAR = "\r\x1b[K"


class Progress:
    """``label done/total percent note``, while the work runs; gone when it ends."""

    def __init__(self, label: str, total: int = 0, stream: TextIO | None = None) -> None:
        self._stream = stream if stream is not None else sys.stderr
        self.live = _is_terminal(self._stream)
        self.label = label
        self.total = total
        self.done = 0
        self.note = ""
        self._drawn_at = 0.0
        self._shown = False

    def __enter__(self) -> Progress:
        self._draw(force=True)
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()

    def update(self, done: int, total: int | None = None, note: str | None = None) -> None:
        self.done = done
        if total is not None:
            self.total = total
        if note is not None:
            self.note = note
        self._draw(force=self.total > 0 and done >= self.total)

    def advance(self, count: int = 1, note: str | None = None) -> None:
        self.update(self.done + count, note=note)

    def echo(self, text: str) -> None:
        """Print a line of the command's output (stdout) above the progress line."""
        self._erase()
        click.echo(text)
        self._draw(force=True)

    def close(self) -> None:
        self._erase()

    def _draw(self, *, force: bool = False) -> None:
        if not self.live:
            return
        now = time.monotonic()
        if not force and now - self._drawn_at < _REDRAW_S:
            return
        self._drawn_at = now
        if self.total:
            line = f"{self.label} {self.done}/{self.total} {100 * self.done // self.total}%"
        else:
            line = f"{self.label} {self.done}"
        if self.note:
            line += f" {self.note}"
        width = shutil.get_terminal_size().columns - 1
        self._stream.write(_CLEAR + line[:width])
        self._stream.flush()
        self._shown = True

    def _erase(self) -> None:
        if self._shown:
            self._stream.write(_CLEAR)
            self._stream.flush()
            self._shown = False


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # a closed or odd stream
        return False
