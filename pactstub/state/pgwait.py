"""A deadline on every PostgreSQL round trip, kept by pactstub rather than by the server.

PostgreSQL's ``statement_timeout`` ends a statement that runs too long, but only a server
that still answers can say so. When the database, or the network to it, stops answering
altogether (a frozen server, a route that drops packets, a proxy that stalls), the driver
waits on its socket for ever, and with it every request that needs the store, ``/health``
included. libpq's ``connect_timeout`` has the same blind spot once connected.

psycopg2 lets an application do the waiting: with a *wait callback* installed, libpq runs
non-blocking and the callback waits until the socket is ready. Ours waits at most the
store's timeout for each step of a round trip (connecting included), then raises
``OperationalError("timeout expired ...")``. psycopg2 closes the connection on that (the
pool replaces it) and :func:`pactstub.state.engine.failure` makes it
:class:`~pactstub.errors.StoreUnavailable`: a 503 within the timeout, not a hang.

The callback is the whole process's. Connections pactstub did not open carry no deadline
and wait as long as they always did.
"""

from __future__ import annotations

import functools
import select
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg2
import psycopg2.extensions as pg

__all__ = ["install", "shared_deadline", "timed_connection"]

#: This thread's shared deadline, while inside :func:`shared_deadline`.
_shared = threading.local()


def install() -> None:
    """Make psycopg2 wait through :func:`_wait` (once per process; installing again does nothing)."""
    if pg.get_wait_callback() is not _wait:
        pg.set_wait_callback(_wait)


@functools.cache
def timed_connection(timeout_s: float) -> type[Any]:
    """A psycopg2 connection class whose round trips may each wait ``timeout_s`` seconds.

    Given as ``connection_factory``, so the deadline is known while connecting, before any
    code of ours could set it on the connection.
    """
    return type("TimedConnection", (pg.connection,), {"timeout_s": timeout_s})


@contextmanager
def shared_deadline() -> Iterator[None]:
    """Inside the block, this thread's round trips end by the first one's deadline.

    Taking a connection from the pool may mean a pre-ping, then connecting anew when the
    ping fails: two waits. To the request waiting on it, that is one wait for the store.
    """
    outer = getattr(_shared, "active", False), getattr(_shared, "deadline", None)
    _shared.active, _shared.deadline = True, None
    try:
        yield
    finally:
        _shared.active, _shared.deadline = outer


def _deadline(timeout: float | None) -> float | None:
    if timeout is None:
        return None
    deadline = time.monotonic() + timeout
    if getattr(_shared, "active", False):
        if _shared.deadline is None:
            _shared.deadline = deadline
        deadline = min(deadline, _shared.deadline)
    return deadline


def _wait(connection: Any) -> None:
    """Drive ``connection`` until its operation is done, or raise once its deadline passes."""
    timeout: float | None = getattr(connection, "timeout_s", None)
    deadline = _deadline(timeout)
    while True:
        state = connection.poll()
        if state == pg.POLL_OK:
            return
        if state not in (pg.POLL_READ, pg.POLL_WRITE):
            raise psycopg2.OperationalError(f"unexpected state {state} of a non-blocking connection")
        remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
        if not _ready(connection.fileno(), state == pg.POLL_WRITE, remaining):
            raise psycopg2.OperationalError(f"timeout expired: no answer from the database in {timeout:g} s")


def _ready(fd: int, write: bool, timeout: float | None) -> bool:
    """Whether ``fd`` became readable (or writable) within ``timeout`` seconds (``None``: no limit)."""
    if hasattr(select, "poll"):  # any descriptor number, unlike select()
        poller = select.poll()
        poller.register(fd, select.POLLOUT if write else select.POLLIN)
        return bool(poller.poll(None if timeout is None else timeout * 1000))
    readable, writable, _ = select.select([] if write else [fd], [fd] if write else [], [], timeout)
    return bool(readable or writable)
