"""Requests per second and p50/p99 latency of ``pactstub serve``, next to the Rust stub.

Three parts, one run:

``static``
    The Epistemix pact served from its examples: every interaction plus a miss,
    on pactstub and on the reference Rust stub (``pact stub``), each pinned to
    CPU 0 with the load generator on CPU 1. The ratio says how far pactstub is
    from the reference on identical work.
``connections``
    One static interaction (``POST /jobs/register``) with many concurrent
    connections (``--many-connections``, 200 by default) on each server: does it
    hold them all, and what is the p99 latency.
``state``
    The same pact with ``--templates templates``: the three interactions whose
    templates use SQL counters and records (register a job, submit runs, list
    runs), on SQLite and PostgreSQL, with 1 worker (pinned to CPU 0) and 2
    workers (gunicorn, not pinned: on two cores they share CPU 1 with the load
    generator). Each request starts from a reset store holding one job and one
    run, so the figures do not drift with what earlier scenarios stored.

Usage::

    python -m bench.stub_throughput --duration 5 --connections 8
    python -m bench.stub_throughput --parts connections --servers pactstub,werkzeug,rust
    python -m bench.stub_throughput --parts static --servers pactstub,rust
    PACTSTUB_BENCH_POSTGRES_URL=postgresql://postgres@127.0.0.1:5432/postgres \\
        python -m bench.stub_throughput --parts state --databases sqlite,postgres --workers 1,2
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import sys
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from bench import harness, postgres
from bench.epistemix import (
    EPX_PACT,
    ROOT,
    STATEFUL,
    TEMPLATES,
    BenchRequest,
    interaction_requests,
    load_pact,
    miss_request,
)
from bench.harness import LoadResult, Server


@dataclass(frozen=True, slots=True)
class Options:
    """The command line, parsed."""

    parts: tuple[str, ...]
    servers: tuple[str, ...]
    databases: tuple[str, ...]
    workers: tuple[int, ...]
    duration: float
    warmup: float
    repeat: int
    connections: int
    many_connections: int
    tool: str
    connection_close: bool
    postgres_database: str


@dataclass(frozen=True, slots=True)
class Measurement:
    """One request type measured on one server configuration."""

    server: str
    config: str
    workers: int
    cpus: str
    request: BenchRequest
    status: int
    keep_alive: bool
    response_bytes: int
    result: LoadResult
    state_after: dict[str, Any] | None = None
    #: resident memory of the server (all its processes) right after the row
    rss_mib: float = 0.0
    #: the Rust stub's requests/s for the same request, measured right before this row
    rust_rps: float | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "server": self.server,
            "config": self.config,
            "workers": self.workers,
            "cpus": self.cpus,
            "interaction": self.request.key,
            "label": self.request.label,
            "method": self.request.method,
            "target": self.request.target,
            "status": self.status,
            "server_keeps_alive": self.keep_alive,
            "response_bytes": self.response_bytes,
            "state_after": self.state_after,
            "rss_mib": round(self.rss_mib, 1),
            "rust_rps_same_run": self.rust_rps,
            **self.result.to_json(),
        }


# --------------------------------------------------------------------------- options


def parse_args(argv: Sequence[str] | None = None) -> Options:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    add = parser.add_argument
    add("--parts", default="static,connections,state", help="any of static, connections, state")
    servers = ", ".join([*harness.PACTSTUB_SERVERS, "rust"])
    add("--servers", default="pactstub,rust", help=f"static, connections: {servers} (default: %(default)s)")
    add("--databases", default="sqlite,postgres", help="state part (default: %(default)s)")
    add("--workers", default="1,2", help="pactstub workers, state part (default: %(default)s)")
    add("--duration", type=float, default=5.0, help="seconds measured per row (default: %(default)s)")
    add("--warmup", type=float, default=1.0, help="unmeasured seconds before each row (0: none)")
    add("--repeat", type=int, default=1, help="measure each row N times, report the median by rps")
    add("--connections", type=int, default=8, help="concurrent connections (default: %(default)s)")
    add("--many-connections", type=int, default=200, help="connections part (default: %(default)s)")
    add("--loadgen", choices=("auto", "wrk", "python"), default="auto")
    add(
        "--connection-close",
        action="store_true",
        help="send 'Connection: close' on every request, so both servers pay a connection per request",
    )
    add(
        "--postgres-database",
        default=postgres.DEFAULT_DATABASE,
        help=f"dedicated database created on the server of ${postgres.ENV} (default: %(default)s)",
    )
    args = parser.parse_args(argv)
    tool = args.loadgen
    if tool == "auto":
        tool = "wrk" if harness.have_wrk() else "python"
    return Options(
        parts=_names(args.parts),
        servers=_names(args.servers),
        databases=_names(args.databases),
        workers=tuple(int(w) for w in _names(args.workers)),
        duration=args.duration,
        warmup=args.warmup,
        repeat=max(1, args.repeat),
        connections=args.connections,
        many_connections=args.many_connections,
        tool=tool,
        connection_close=args.connection_close,
        postgres_database=args.postgres_database,
    )


def _names(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.split(",") if part.strip())


# ---------------------------------------------------------------------- measuring


def measure(server: Server, request: BenchRequest, options: Options) -> tuple[harness.Probe, LoadResult]:
    """Probe once (status, keep-alive), warm up, then measure ``--repeat`` times; the median run."""
    checked = harness.probe(server, request)
    if options.warmup > 0:
        _load(server, request, options, options.warmup)
    runs = [_load(server, request, options, options.duration) for _ in range(options.repeat)]
    runs.sort(key=_rps)
    return checked, runs[len(runs) // 2]


def _load(server: Server, request: BenchRequest, options: Options, seconds: float) -> LoadResult:
    return harness.run_load(
        server, request, duration=seconds, connections=options.connections, tool=options.tool
    )


def _seen(checked: harness.Probe) -> tuple[int, bool, int]:
    """Status, keep-alive and body size of the probe, as :class:`Measurement` stores them."""
    return checked.status, checked.keep_alive, len(checked.body)


def _rps(result: LoadResult) -> float:
    return result.rps


def bench_requests(options: Options) -> list[BenchRequest]:
    """The Epistemix requests and the miss, with ``Connection: close`` if asked."""
    pact = load_pact()
    requests = [*interaction_requests(pact), miss_request(pact)]
    if options.connection_close:
        requests = [replace(r, headers={**r.headers, "Connection": "close"}) for r in requests]
    return requests


def run_static(options: Options, tmp: Path) -> list[Measurement]:
    """Every request on every server named in ``--servers``.

    All servers run at once (idle ones cost nothing) and each request is measured
    on one server right after the other, so a burst of load from elsewhere on the
    machine hits both columns of a row rather than one.
    """
    measurements: list[Measurement] = []
    pin = harness.SERVER_CPUS
    with ExitStack() as stack:
        servers = [stack.enter_context(_server(name, tmp)) for name in options.servers]
        for request in bench_requests(options):
            for server in servers:
                _progress(f"static  {server.name:9} {request.label}")
                checked, result = measure(server, request, options)
                seen = _seen(checked)
                rss = harness.resident_mib(server)
                measurements.append(
                    Measurement(server.name, "static", 1, pin, request, *seen, result, rss_mib=rss)
                )
    return measurements


def run_connections(options: Options, tmp: Path) -> list[Measurement]:
    """``POST /jobs/register`` (static) with ``--many-connections`` connections, on every server."""
    request = next(r for r in bench_requests(options) if r.key == "a job registration request")
    many = replace(options, connections=options.many_connections)
    measurements: list[Measurement] = []
    with ExitStack() as stack:
        servers = [stack.enter_context(_server(name, tmp)) for name in options.servers]
        for server in servers:
            _progress(f"conns   {server.name:9} {request.label} x{many.connections}")
            checked, result = measure(server, request, many)
            rss = harness.resident_mib(server)
            pin = harness.SERVER_CPUS
            measurements.append(
                Measurement(server.name, "static", 1, pin, request, *_seen(checked), result, rss_mib=rss)
            )
    return measurements


@contextmanager
def _server(name: str, tmp: Path) -> Iterator[Server]:
    if name in harness.PACTSTUB_SERVERS:
        url = f"sqlite:///{tmp / f'static-{name}.sqlite3'}"
        server = harness.start_pactstub(EPX_PACT, database_url=url, server=name, log_dir=tmp)
    elif name == "rust":
        server = harness.start_rust_stub(EPX_PACT, log_dir=tmp)
    else:
        raise SystemExit(f"unknown server {name!r} ({', '.join([*harness.PACTSTUB_SERVERS, 'rust'])})")
    try:
        yield server
    finally:
        server.stop()


def run_state(options: Options, tmp: Path) -> tuple[list[Measurement], list[str]]:
    """The stateful requests on each database and worker count; notes for what was skipped.

    With ``rust`` among ``--servers``, the Rust stub answers the same request (from the
    pact's example, statically) right before each row, so every row carries the reference
    measured under the same conditions.
    """
    with ExitStack() as stack:
        rust = stack.enter_context(_server("rust", tmp)) if "rust" in options.servers else None
        return _run_state(options, tmp, rust)


def _run_state(options: Options, tmp: Path, rust: Server | None) -> tuple[list[Measurement], list[str]]:
    requests = [r for r in bench_requests(options) if r.key in STATEFUL]
    seeds = {r.key: r for r in requests}
    measurements: list[Measurement] = []
    notes: list[str] = []
    for database in options.databases:
        url = _database_url(database, options, tmp)
        if url is None:
            notes.append(f"{database}: skipped (set ${postgres.ENV} to a PostgreSQL URL to include it)")
            continue
        for workers in options.workers:
            cpus = harness.SERVER_CPUS if workers == 1 else "not pinned"
            with _state_server(database, url(workers), workers, tmp) as server:
                for request in requests:
                    rust_rps = None
                    if rust is not None:
                        _progress(f"state   rust     static {request.label}")
                        rust_rps = measure(rust, request, options)[1].rps
                    _progress(f"state   {database:8} w{workers} {request.label}")
                    _reset_and_seed(server, seeds)
                    checked, result = measure(server, request, options)
                    state = _state(server)
                    config, seen = f"templates+{database}", _seen(checked)
                    rss = harness.resident_mib(server)
                    measurements.append(
                        Measurement(
                            "pactstub", config, workers, cpus, request, *seen, result, state, rss, rust_rps
                        )
                    )
    return measurements, notes


def _database_url(database: str, options: Options, tmp: Path) -> Callable[[int], str] | None:
    """A URL per worker count: a fresh SQLite file each time, or the dedicated PostgreSQL database."""
    if database == "sqlite":
        return lambda workers: f"sqlite:///{tmp / f'state-w{workers}.sqlite3'}"
    if database == "postgres":
        url = postgres.bench_url(options.postgres_database)
        return None if url is None else (lambda workers: url)
    raise SystemExit(f"unknown database {database!r} (sqlite, postgres)")


@contextmanager
def _state_server(database: str, url: str, workers: int, tmp: Path) -> Iterator[Server]:
    if database == "postgres":
        postgres.drop_tables(url)
    cpus = harness.SERVER_CPUS if workers == 1 else None
    server = harness.start_pactstub(
        EPX_PACT, database_url=url, templates=TEMPLATES, workers=workers, cpus=cpus, log_dir=tmp
    )
    try:
        yield server
    finally:
        server.stop()
        if database == "postgres":
            postgres.drop_tables(url)


def _reset_and_seed(server: Server, seeds: dict[str, BenchRequest]) -> None:
    """Empty the store, then register one job and submit one run for it (job 123, run 978)."""
    _admin(server, "POST", "/_pactstub/reset")
    for key in ("a job registration request", "a run submission request"):
        status = harness.probe(server, seeds[key]).status
        if status != 200:
            raise RuntimeError(f"seeding {key!r} answered {status}; see {server.log}")


def _state(server: Server) -> dict[str, Any]:
    """Counters and collection sizes after the measurement (shows how much was written)."""
    document: dict[str, Any] = json.loads(_admin(server, "GET", "/_pactstub/state"))
    return document


def _admin(server: Server, method: str, path: str) -> bytes:
    connection = http.client.HTTPConnection(harness.HOST, server.port, timeout=30)
    try:
        connection.request(method, path)
        response = connection.getresponse()
        body = response.read()
        if response.status >= 300:
            raise RuntimeError(f"{method} {path} answered {response.status}: {body[:500]!r}")
        return body
    finally:
        connection.close()


def _progress(text: str) -> None:
    print(f"  .. {text}", file=sys.stderr, flush=True)


# ------------------------------------------------------------------------ tables


SERVER_TITLES = {
    "pactstub": "pactstub",
    "gunicorn1": "pactstub --server gunicorn (1 worker)",
    "werkzeug": "pactstub --server werkzeug",
    "rust": "rust",
}


def static_table(measurements: list[Measurement]) -> str:
    """interaction | statuses | rps p50 p99 for each server | rust ÷ pactstub."""
    servers = list(dict.fromkeys(m.server for m in measurements))
    found = {(m.server, m.request.key): m for m in measurements}
    titles = [SERVER_TITLES.get(s, s) for s in servers]
    head = " | ".join(f"{t} rps | p50 ms | p99 ms" for t in titles)
    ratio_wanted = "pactstub" in servers and "rust" in servers
    ratio_head = " rust ÷ pactstub (rps) |" if ratio_wanted else ""
    rows = [
        f"| interaction | status ({' / '.join(servers)}) | {head} |{ratio_head}",
        "|---|---|" + "--:|--:|--:|" * len(servers) + ("--:|" * ratio_wanted),
    ]
    for key in dict.fromkeys(m.request.key for m in measurements):
        row = [found.get((s, key)) for s in servers]
        label = next(m.request.label for m in row if m is not None)
        status = " / ".join(str(m.status) if m else "-" for m in row)
        cells = " | ".join(_cells(m) for m in row)
        ratio = f" {_ratio(found.get(('rust', key)), found.get(('pactstub', key)))} |" if ratio_wanted else ""
        rows.append(f"| {label} | {status} | {cells} |{ratio}")
    return "\n".join(rows)


def connections_table(measurements: list[Measurement]) -> str:
    """server | connections | status | rps | p50 p90 p99 max | errors."""
    rows = [
        "| server | connections | status | rps | p50 ms | p90 ms | p99 ms | max ms | errors |",
        "|---|--:|--:|--:|--:|--:|--:|--:|---|",
    ]
    for m in measurements:
        r = m.result
        errors = ", ".join(f"{k} {v}" for k, v in r.errors.items()) or "-"
        rows.append(
            f"| {SERVER_TITLES.get(m.server, m.server)} | {r.connections} | {m.status} | {r.rps:,.0f} "
            f"| {r.p50_ms:.2f} | {r.p90_ms:.2f} | {r.p99_ms:.2f} | {r.max_ms:.2f} | {errors} |"
        )
    return "\n".join(rows)


def memory_table(measurements: list[Measurement]) -> str:
    """server and configuration | the largest resident size seen after any of its rows."""
    largest: dict[tuple[str, str, int], float] = {}
    for m in measurements:
        key = (m.server, m.config, m.workers)
        largest[key] = max(largest.get(key, 0.0), m.rss_mib)
    rows = ["| server | configuration | workers | resident MiB |", "|---|---|--:|--:|"]
    rows.extend(f"| {s} | {c} | {w} | {mib:.1f} |" for (s, c, w), mib in largest.items())
    return "\n".join(rows)


def _ratio(top: Measurement | None, bottom: Measurement | None) -> str:
    if top is None or bottom is None or not bottom.result.rps:
        return "-"
    return f"{top.result.rps / bottom.result.rps:.1f}×"


def state_table(measurements: list[Measurement], static: list[Measurement]) -> str:
    """One row per request and configuration, the static pactstub figure first for reference."""
    reference = {m.request.key: m for m in static if m.server == "pactstub"}
    rows = [
        "| interaction | configuration | workers | server CPUs | status "
        "| rps | p50 ms | p99 ms | vs static | Rust static rps (just before) | ÷ Rust |",
        "|---|---|--:|---|--:|--:|--:|--:|--:|--:|--:|",
    ]
    keys = list(dict.fromkeys(m.request.key for m in measurements))
    for key in keys:
        base = reference.get(key)
        if base is not None:
            rows.append(_state_row(base, None))
        for m in (m for m in measurements if m.request.key == key):
            rows.append(_state_row(m, base))
    return "\n".join(rows)


def _state_row(m: Measurement, base: Measurement | None) -> str:
    versus = f"{m.result.rps / base.result.rps:.2f}×" if base and base.result.rps else "-"
    rust = f"{m.rust_rps:,.0f}" if m.rust_rps else "-"
    over_rust = f"{m.result.rps / m.rust_rps:.2f}×" if m.rust_rps else "-"
    return (
        f"| {m.request.label} | {m.config} | {m.workers} | {m.cpus} | {m.status} | {_cells(m)} | {versus} "
        f"| {rust} | {over_rust} |"
    )


def _cells(m: Measurement | None) -> str:
    if m is None:
        return "- | - | -"
    r = m.result
    return f"{r.rps:,.0f} | {r.p50_ms:.2f} | {r.p99_ms:.2f}"


def notes_for(measurements: list[Measurement], options: Options) -> list[str]:
    """Footnotes a reader needs: errors, servers that close connections, what was unpinned."""
    notes = [
        f"load: {options.tool}, {options.connections} connections "
        f"({options.many_connections} in the connections part), {options.duration:g} s per row "
        f"(median of {options.repeat}) after {options.warmup:g} s warm-up; "
        f"server on CPU {harness.SERVER_CPUS}, load generator on CPU {harness.LOADGEN_CPU} unless noted",
    ]
    if any(m.workers > 1 for m in measurements):
        notes.append("2 workers: gunicorn, not pinned, so its workers share CPU 1 with the load generator")
    closing = sorted({f"{m.server}/{m.config}/w{m.workers}" for m in measurements if not m.keep_alive})
    if closing:
        notes.append(f"closes the connection after every response (no keep-alive): {', '.join(closing)}")
    for m in measurements:
        unexpected = {k: v for k, v in m.result.errors.items() if not (k == "status" and m.status >= 400)}
        if unexpected:
            notes.append(f"errors {m.server}/{m.config}/w{m.workers} {m.request.label}: {unexpected}")
    return notes


# -------------------------------------------------------------------------- main


def main(argv: Sequence[str] | None = None) -> int:
    options = parse_args(argv)
    load_before = os.getloadavg()
    static: list[Measurement] = []
    many: list[Measurement] = []
    state: list[Measurement] = []
    skipped: list[str] = []
    with tempfile.TemporaryDirectory(prefix="pactstub-bench-") as folder:
        tmp = Path(folder)
        if "static" in options.parts:
            static = run_static(options, tmp)
        if "connections" in options.parts:
            many = run_connections(options, tmp)
        if "state" in options.parts:
            state, skipped = run_state(options, tmp)
    environment = {**harness.environment(), "loadavg_before": load_before, "loadavg_after": os.getloadavg()}
    print(_heading(environment))
    if static:
        print("\n## Static responses (Epistemix pact examples), pactstub vs Rust stub\n")
        print(static_table(static))
    if many:
        print(f"\n## Many connections: a static interaction, {options.many_connections} connections\n")
        print(connections_table(many))
    if state:
        print("\n## Templates + state (`--templates templates`)\n")
        print(state_table(state, static))
    print("\n## Resident memory of the server after its rows (all its processes)\n")
    print(memory_table(static + many + state))
    print()
    for note in [*notes_for(static + many + state, options), *skipped]:
        print(f"- {note}")
    document = {
        "environment": environment,
        "options": _options(options),
        "static": [m.to_json() for m in static],
        "connections": [m.to_json() for m in many],
        "state": [m.to_json() for m in state],
        "notes": skipped,
    }
    path = harness.write_results("stub_throughput", document)
    print(f"\nraw results: {path.relative_to(ROOT)}")
    return 0


def _heading(environment: dict[str, Any]) -> str:
    """Title line with the date and machine, and the load average (other work on the machine skews rows)."""
    before = ", ".join(f"{x:.1f}" for x in environment["loadavg_before"])
    after = ", ".join(f"{x:.1f}" for x in environment["loadavg_after"])
    return (
        f"# pactstub throughput, {environment['date']}, "
        f"{environment['cpus']} CPUs ({environment['cpu_model']})\n\n"
        f"load average before: {before}; after: {after}"
    )


def _options(options: Options) -> dict[str, Any]:
    return {name: getattr(options, name) for name in Options.__slots__}


if __name__ == "__main__":
    raise SystemExit(main())
