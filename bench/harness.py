"""Starting the servers under test and driving load at them, pinned to CPUs.

The machine the numbers are meant for has two cores, so every measurement puts
the server on CPU 0 and the load generator on CPU 1 (``taskset``); otherwise the
two fight for the same core and the figures measure the scheduler. wrk is the
load generator when installed (a C event loop: it will not be the bottleneck);
otherwise a pool of processes with raw keep-alive sockets stands in, which is
good enough for pactstub but under-reports a server as fast as the Rust stub.
"""

from __future__ import annotations

import http.client
import json
import os
import platform
import queue
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from bench.epistemix import ROOT, BenchRequest

SERVER_CPUS = "0"
LOADGEN_CPU = 1
HOST = "127.0.0.1"
START_TIMEOUT_S = 30.0
#: marks the line of JSON the wrk script prints when it is done
WRK_MARK = "BENCH_JSON "


# ------------------------------------------------------------------------- servers


@dataclass
class Server:
    """A server process under test, in its own process group so it stops whole."""

    name: str
    process: subprocess.Popen[bytes]
    port: int
    log: Path

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def stop(self) -> None:
        """SIGTERM the group (gunicorn's workers too), SIGKILL if it lingers."""
        if self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=5)


def resident_mib(server: Server) -> float:
    """Resident memory of the server's whole process group (gunicorn's workers too), in MiB."""
    pages = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # the process ended while we looked
        if int(fields[2]) == server.process.pid:  # field 5, the process group
            pages += int(fields[21])  # field 24, resident pages
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def pinned(command: list[str], cpus: str | None) -> list[str]:
    """``command`` under ``taskset -c cpus``; unchanged when ``cpus`` is None."""
    return ["taskset", "-c", cpus, *command] if cpus else command


#: the servers ``pactstub serve`` can run, by the name the benchmark gives them
PACTSTUB_SERVERS = {
    "pactstub": "auto",  # what `pactstub serve` means: waitress for one worker, gunicorn for more
    "gunicorn1": "gunicorn",  # gunicorn's arbiter with one waitress worker
    "werkzeug": "werkzeug",  # the threaded development server, a connection per request
}


def start_pactstub(
    pact: Path,
    *,
    database_url: str,
    templates: Path | None = None,
    workers: int = 1,
    server: str = "pactstub",
    cpus: str | None = SERVER_CPUS,
    log_dir: Path,
    port: int = 0,
    extra: Sequence[str] = (),
) -> Server:
    """``pactstub serve --port 0`` and wait for its ``serving http://...`` line.

    ``server`` is a key of :data:`PACTSTUB_SERVERS`. Logging is at ``error`` so the
    per-request log line (and the miss's warning) is not what is measured; the Rust
    stub is silenced the same way. ``port`` 0 picks a free one; ``extra`` are more
    ``pactstub serve`` options. The server runs in ``log_dir``, not the checkout:
    ``pactstub serve`` uses a ``templates/`` folder of its working directory by
    default, which would turn the static figures into template figures.
    """
    executable = Path(sys.executable).with_name("pactstub")
    command = [str(executable), "serve", "--pact", str(pact), "--port", str(port), "--host", HOST]
    command += ["--database-url", database_url, "--workers", str(workers), "--log-level", "error"]
    command += ["--server", PACTSTUB_SERVERS[server]]
    if templates is not None:
        command += ["--templates", str(templates)]
    return _start_announcing(server, [*command, *extra], cpus, log_dir)


def _start_announcing(name: str, command: list[str], cpus: str | None, log_dir: Path) -> Server:
    """Start a server that prints ``... serving http://HOST:PORT`` first, and read its port."""
    log = log_dir / f"{name}-{time.monotonic_ns()}.log"
    with log.open("wb") as stderr:
        process = subprocess.Popen(
            pinned(command, cpus),
            stdout=subprocess.PIPE,
            stderr=stderr,
            cwd=log_dir,
            env=server_environment(),
            start_new_session=True,
        )
    assert process.stdout is not None
    first = _first_line(process.stdout)
    if first is None or " serving http://" not in first:
        os.killpg(process.pid, signal.SIGKILL)
        raise RuntimeError(f"{name} did not start ({first!r}); see {log}:\n{log.read_text()[-2000:]}")
    port = int(first.split(" serving http://", 1)[1].split()[0].rsplit(":", 1)[1])
    return Server(name, process, port, log)


def server_environment() -> dict[str, str]:
    """This environment without pactstub's own settings (``PACTSTUB_*``, ``DATABASE_URL``...).

    Every setting the benchmark relies on is a command-line flag; a stray
    ``PACTSTUB_TEMPLATES`` in the caller's shell must not change what is measured.
    """
    settings = ("PACTSTUB_", "DATABASE_", "FLASK_", "CORS_")
    return {k: v for k, v in os.environ.items() if not k.startswith(settings)}


def start_rust_stub(pact: Path, *, cpus: str | None = SERVER_CPUS, log_dir: Path) -> Server:
    """The reference stub, ``pact stub -f FILE -p PORT``, logging off, once it accepts connections."""
    port = free_port()
    executable = shutil.which("pact", path=str(Path(sys.executable).parent)) or "pact"
    command = [executable, "stub", "-f", str(pact), "-p", str(port), "-l", "none"]
    log = log_dir / f"rust-{time.monotonic_ns()}.log"
    env = {**server_environment(), "PACT_DO_NOT_TRACK": "true"}
    with log.open("wb") as output:
        process = subprocess.Popen(
            pinned(command, cpus), stdout=output, stderr=output, cwd=log_dir, env=env, start_new_session=True
        )
    server = Server("rust", process, port, log)
    if not _wait_for_port(port, process):
        server.stop()
        raise RuntimeError(f"pact stub did not start; see {log}:\n{log.read_text()[-2000:]}")
    return server


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def _first_line(stream: IO[bytes]) -> str | None:
    """The first stdout line, then keep draining stdout in the background so it never blocks."""
    lines: queue.Queue[str | None] = queue.Queue()

    def drain() -> None:
        for raw in stream:
            lines.put(raw.decode("utf-8", "replace").rstrip())
        lines.put(None)

    threading.Thread(target=drain, daemon=True).start()
    try:
        return lines.get(timeout=START_TIMEOUT_S)
    except queue.Empty:
        return None


def _wait_for_port(port: int, process: subprocess.Popen[bytes]) -> bool:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline and process.poll() is None:
        try:
            with socket.create_connection((HOST, port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.05)
    return False


# ------------------------------------------------------------------------ requests


@dataclass(frozen=True, slots=True)
class Probe:
    """One request sent before the load, to record the status the load will get."""

    status: int
    body: bytes
    keep_alive: bool


def probe(server: Server, request: BenchRequest) -> Probe:
    """Send ``request`` once (http.client) and return what came back."""
    connection = http.client.HTTPConnection(HOST, server.port, timeout=30)
    try:
        connection.request(request.method, request.target, body=request.body or None, headers=request.headers)
        response = connection.getresponse()
        body = response.read()
        return Probe(response.status, body, not response.will_close)
    finally:
        connection.close()


# -------------------------------------------------------------------------- load


@dataclass
class LoadResult:
    """What one load run measured; latencies in milliseconds."""

    tool: str
    connections: int
    duration_s: float
    requests: int
    rps: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    mean_ms: float
    max_ms: float
    errors: dict[str, int] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def have_wrk() -> bool:
    return shutil.which("wrk") is not None


def run_load(
    server: Server, request: BenchRequest, *, duration: float, connections: int, tool: str
) -> LoadResult:
    """Drive ``request`` at ``server`` for ``duration`` seconds from CPU 1."""
    if tool == "wrk":
        return _run_wrk(server, request, duration=duration, connections=connections)
    return _run_python(server, request, duration=duration, connections=connections)


def _run_wrk(server: Server, request: BenchRequest, *, duration: float, connections: int) -> LoadResult:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(_wrk_script(request))
    try:
        command = ["wrk", "-t1", f"-c{connections}", f"-d{max(1, round(duration))}s", "--timeout", "10s"]
        command += ["-s", script.name, server.url + request.target]
        command = pinned(command, str(LOADGEN_CPU))
        done = subprocess.run(command, capture_output=True, text=True, check=True, timeout=duration + 60)
    finally:
        os.unlink(script.name)
    line = next((x for x in done.stdout.splitlines() if x.startswith(WRK_MARK)), None)
    if line is None:
        raise RuntimeError(f"wrk printed no result:\n{done.stdout}\n{done.stderr}")
    raw = json.loads(line[len(WRK_MARK) :])
    seconds = raw["duration_us"] / 1e6
    errors = {k: int(raw[k]) for k in ("connect", "read", "write", "status", "timeout") if raw[k]}
    return LoadResult(
        tool="wrk",
        connections=connections,
        duration_s=round(seconds, 3),
        requests=int(raw["requests"]),
        rps=raw["requests"] / seconds if seconds else 0.0,
        p50_ms=raw["p50_us"] / 1000,
        p90_ms=raw["p90_us"] / 1000,
        p99_ms=raw["p99_us"] / 1000,
        mean_ms=raw["mean_us"] / 1000,
        max_ms=raw["max_us"] / 1000,
        errors=errors,
    )


def _wrk_script(request: BenchRequest) -> str:
    """A wrk Lua script that sends ``request`` and prints its summary as JSON.

    wrk counts any non-2xx/3xx answer as a "status" error; for the miss that is
    every request, which is expected (the probe records the actual status).
    """
    headers = "\n".join(
        f"wrk.headers[{_lua(k.encode())}] = {_lua(v.encode())}" for k, v in request.headers.items()
    )
    return f"""
wrk.method = {_lua(request.method.encode())}
wrk.body = {_lua(request.body)}
{headers}
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{WRK_MARK}{{"requests":%d,"duration_us":%d,"connect":%d,"read":%d,"write":%d,"status":%d,'
    .. '"timeout":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,"mean_us":%.1f,"max_us":%d}}\\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.mean, latency.max))
end
"""


def _lua(value: bytes) -> str:
    """A Lua string literal for any bytes (decimal escapes for everything but safe ASCII)."""
    safe = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 _-./:,;=?*+()[]{}@!#$%&<>|~^"
    return '"' + "".join(chr(c) if c in safe else f"\\{c:03d}" for c in value) + '"'


# ------------------------------------------------------------- Python load fallback


def _run_python(server: Server, request: BenchRequest, *, duration: float, connections: int) -> LoadResult:
    """``connections`` processes on CPU 1, each one keep-alive socket sending in a loop."""
    raw = request.raw(f"{HOST}:{server.port}")
    with ProcessPoolExecutor(max_workers=connections, initializer=_pin_to_loadgen_cpu) as pool:
        futures = [pool.submit(_socket_loop, server.port, raw, duration) for _ in range(connections)]
        parts = [f.result() for f in futures]
    latencies = sorted(x for part in parts for x in part[0])
    errors: Counter[str] = Counter()
    for part in parts:
        errors.update(part[1])
    started = min(p[2] for p in parts)
    ended = max(p[3] for p in parts)
    seconds = ended - started
    if not latencies:
        return LoadResult("python", connections, round(seconds, 3), 0, 0.0, 0, 0, 0, 0, 0, dict(errors))
    return LoadResult(
        tool="python",
        connections=connections,
        duration_s=round(seconds, 3),
        requests=len(latencies),
        rps=len(latencies) / seconds,
        p50_ms=_percentile(latencies, 50),
        p90_ms=_percentile(latencies, 90),
        p99_ms=_percentile(latencies, 99),
        mean_ms=sum(latencies) / len(latencies),
        max_ms=latencies[-1],
        errors=dict(errors),
    )


def _pin_to_loadgen_cpu() -> None:
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {LOADGEN_CPU})


def _socket_loop(port: int, raw: bytes, duration: float) -> tuple[list[float], dict[str, int], float, float]:
    """Send ``raw`` until the deadline; reconnect whenever the server closes the connection."""
    latencies: list[float] = []
    errors: Counter[str] = Counter()
    started = time.perf_counter()
    deadline = started + duration
    sock: socket.socket | None = None
    while time.perf_counter() < deadline:
        try:
            if sock is None:
                sock = socket.create_connection((HOST, port), timeout=10)
            sent = time.perf_counter()
            sock.sendall(raw)
            status, keep = _read_response(sock)
            latencies.append((time.perf_counter() - sent) * 1000)
            if not 200 <= status < 400:
                errors["status"] += 1
            if not keep:
                sock.close()
                sock = None
        except OSError as error:
            errors[type(error).__name__] += 1
            if sock is not None:
                sock.close()
            sock = None
    if sock is not None:
        sock.close()
    return latencies, dict(errors), started, time.perf_counter()


def _read_response(sock: socket.socket) -> tuple[int, bool]:
    """Read one response (Content-Length or close-delimited); its status and whether to keep the socket."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionResetError("closed before the headers")
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    fields = {k.strip().lower(): v.strip().lower() for k, _, v in (x.partition(":") for x in lines[1:])}
    keep = fields.get("connection") != "close"
    if "content-length" not in fields:
        while sock.recv(65536):
            pass
        return status, False
    remaining = int(fields["content-length"]) - len(rest)
    while remaining > 0:
        chunk = sock.recv(min(remaining, 65536))
        if not chunk:
            raise ConnectionResetError("closed in the body")
        remaining -= len(chunk)
    return status, keep


def _percentile(ordered: list[float], pct: float) -> float:
    return ordered[min(len(ordered) - 1, int(len(ordered) * pct / 100))]


# ------------------------------------------------------------------------ context


def environment() -> dict[str, Any]:
    """Where and on what the figures were measured, stored next to them."""
    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "cpus": os.cpu_count(),
        "cpu_model": _cpu_model(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "git_commit": _git("rev-parse", "HEAD"),
        "git_dirty": bool(_git("status", "--porcelain")),
        "wrk": have_wrk(),
    }


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def _git(*args: str) -> str:
    try:
        command = ["git", *args]
        done = subprocess.run(command, check=False, cwd=ROOT, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return done.stdout.strip()


def write_results(name: str, document: dict[str, Any]) -> Path:
    """``bench/results/<name>-<UTC timestamp>.json`` (the folder is gitignored)."""
    folder = ROOT / "bench" / "results"
    folder.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    path = folder / f"{name}-{stamp}.json"
    path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    return path
