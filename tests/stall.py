"""A TCP path to a database that a test can break the ways networks break.

:class:`StallingForwarder` listens on a free local port and relays each connection to the
target. The test can then

* ``freeze()`` it: connections stay open but no byte moves either way, as when a server
  hangs or a route starts dropping packets (nothing is refused, nothing answers);
* ``cut()`` it: every open connection is closed and new ones are closed on arrival, as when
  the server is down;
* ``restore()`` it: bytes flow again and new connections are relayed.
"""

from __future__ import annotations

import contextlib
import socket
import threading

__all__ = ["StallingForwarder"]


class StallingForwarder:
    """Relays ``127.0.0.1:<port>`` to ``target`` until frozen, cut or closed."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self._listener.getsockname()[1])
        self._flowing = threading.Event()
        self._flowing.set()
        self._refusing = False
        self._lock = threading.Lock()
        self._open: list[socket.socket] = []
        self._closed = False
        threading.Thread(target=self._accept, name="forwarder", daemon=True).start()

    # ------------------------------------------------------------------ controls

    def freeze(self) -> None:
        self._flowing.clear()

    def cut(self) -> None:
        self._refusing = True
        self._close_connections()

    def restore(self) -> None:
        self._refusing = False
        self._flowing.set()

    def close(self) -> None:
        with self._lock:
            self._closed = True
        self._flowing.set()  # frozen relays wake up and find their sockets closed
        with contextlib.suppress(OSError):
            self._listener.shutdown(socket.SHUT_RDWR)  # wakes the accept() in progress
        self._listener.close()
        self._close_connections()

    def __enter__(self) -> StallingForwarder:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ relaying

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            if self._refusing:
                client.close()
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=10)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            with self._lock:
                if self._closed:
                    client.close()
                    upstream.close()
                    return
                self._open += [client, upstream]
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(source, sink), daemon=True).start()

    def _pipe(self, source: socket.socket, sink: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                self._flowing.wait()
                sink.sendall(data)
        with contextlib.suppress(OSError):
            sink.shutdown(socket.SHUT_WR)

    def _close_connections(self) -> None:
        with self._lock:
            connections, self._open = self._open, []
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
            with contextlib.suppress(OSError):
                connection.close()
