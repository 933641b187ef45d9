"""Test plumbing for several hosts on one machine: network namespaces on a private /24.

Each host is a network namespace joined to a bridge in the root namespace by a veth pair.
The root namespace holds the bridge's address, ``.1``; the hosts are ``.2``, ``.3``, ...
A PostgreSQL that listens on loopback only is reached through :class:`TcpForwarder`,
bound to the bridge's address, so the database sees its connections come from loopback.
"""

from __future__ import annotations

import ipaddress
import random
import secrets
import shutil
import socket
import socketserver
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass

import pytest


@dataclass(frozen=True, slots=True)
class Host:
    namespace: str
    address: str

    def command(self, *args: str) -> list[str]:
        """``args`` run inside this host's namespace."""
        return ["ip", "netns", "exec", self.namespace, *args]


@dataclass(frozen=True, slots=True)
class Lan:
    #: the root namespace's address on the /24
    gateway: str
    hosts: tuple[Host, ...]


def _ip(*args: str) -> None:
    result = subprocess.run(["ip", *args], capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"ip {' '.join(args)}: {result.stderr.strip()}")


def _free_subnet() -> ipaddress.IPv4Network:
    """A 10.x.y.0/24 that no interface of the machine is on (random, so concurrent runs differ)."""
    used = subprocess.run(["ip", "-4", "-o", "addr", "show"], capture_output=True, text=True, check=True)
    taken = [ipaddress.ip_interface(word).network for word in used.stdout.split() if "/" in word]
    for _ in range(100):
        subnet = ipaddress.IPv4Network(f"10.{random.randint(200, 250)}.{random.randint(0, 255)}.0/24")
        if not any(subnet.overlaps(network) for network in taken):
            return subnet
    raise RuntimeError("no free 10.x.y.0/24 subnet")


@contextmanager
def lan(count: int) -> Iterator[Lan]:
    """``count`` hosts on a fresh /24; everything made here is removed on the way out.

    Skips the test, saying why, where namespaces cannot be made (no ``ip``, not permitted).
    """
    if shutil.which("ip") is None:
        pytest.skip("needs the ip command (iproute2) to make network namespaces")
    token = secrets.token_hex(3)
    bridge, namespaces = f"ps{token}br", [f"pactstub-{token}-{i}" for i in range(count)]
    made: list[str] = []  # namespaces and veths, removed in reverse
    try:
        for namespace in namespaces:
            try:
                _ip("netns", "add", namespace)
            except RuntimeError as error:
                pytest.skip(f"cannot make a network namespace here: {error}")
            made.append(namespace)
        subnet = _free_subnet()
        gateway, *addresses = [str(address) for address in subnet.hosts()][: count + 1]
        _ip("link", "add", bridge, "type", "bridge")
        _ip("addr", "add", f"{gateway}/24", "dev", bridge)
        _ip("link", "set", bridge, "up")
        for index, (namespace, address) in enumerate(zip(namespaces, addresses, strict=True)):
            made.append(f"ps{token}v{index}")
            _join(namespace, made[-1], bridge, address)
        yield Lan(gateway, tuple(map(Host, namespaces, addresses)))
    finally:
        # a veth pair goes with either end; the namespace's end may outlive `netns del` for a while
        for name in reversed(made):
            with suppress(RuntimeError):
                _ip(*(("netns", "del") if name in namespaces else ("link", "del")), name)
        with suppress(RuntimeError):
            _ip("link", "del", bridge)


def _join(namespace: str, veth: str, bridge: str, address: str) -> None:
    """A veth pair from the bridge into ``namespace``, with ``address`` on the inside end."""
    _ip("link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", namespace)
    _ip("link", "set", veth, "master", bridge, "up")
    _ip("-n", namespace, "addr", "add", f"{address}/24", "dev", "eth0")
    _ip("-n", namespace, "link", "set", "eth0", "up")
    _ip("-n", namespace, "link", "set", "lo", "up")


class TcpForwarder(socketserver.ThreadingTCPServer):
    """Listens on ``(host, free port)`` and pipes every connection to ``target``."""

    daemon_threads = True

    def __init__(self, host: str, target: tuple[str, int]) -> None:
        self.target = target
        self.connections: list[socket.socket] = []
        super().__init__((host, 0), _Relay)
        self.address = (host, int(self.server_address[1]))
        threading.Thread(target=self.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.shutdown()
        self.server_close()
        for connection in self.connections:
            with suppress(OSError):
                connection.close()


class _Relay(socketserver.BaseRequestHandler):
    server: TcpForwarder

    def handle(self) -> None:
        upstream = socket.create_connection(self.server.target, timeout=10)
        upstream.settimeout(None)
        self.server.connections += [self.request, upstream]
        back = threading.Thread(target=_pipe, args=(upstream, self.request), daemon=True)
        back.start()
        _pipe(self.request, upstream)
        back.join()


def _pipe(source: socket.socket, sink: socket.socket) -> None:
    """Copy until ``source`` ends, then end ``sink``'s sending side."""
    with suppress(OSError):
        while data := source.recv(65536):
            sink.sendall(data)
    with suppress(OSError):
        sink.shutdown(socket.SHUT_WR)
