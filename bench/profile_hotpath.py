"""Where pactstub spends a request: a sampling profile of the live server, or cProfile in process.

``live`` (needs ``py-spy``; ``pip install py-spy``) starts ``pactstub serve`` on
CPU 0, drives one request type at it with wrk (or the Python load generator) from
CPU 1 and samples the server with ``py-spy record --format raw``. It then folds
the stacks into the functions with the most samples *on* the CPU (self) and
*under* them (inclusive). This is the real server: socket accept, the thread per
connection, werkzeug's parsing, pactstub's matching and rendering.

``inprocess`` runs the same requests through ``werkzeug.test.Client`` under
cProfile: no sockets, deterministic, and good for looking at pactstub alone.

Usage::

    python -m bench.profile_hotpath live --request "POST /runs" --duration 5
    python -m bench.profile_hotpath inprocess --requests 2000
    python -m bench.profile_hotpath live --templates --request "POST /jobs/register"
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import re
import shutil
import subprocess
import sys
import tempfile
import threading
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from werkzeug.test import Client

from bench import harness
from bench.epistemix import (
    EPX_PACT,
    ROOT,
    TEMPLATES,
    BenchRequest,
    interaction_requests,
    load_pact,
    miss_request,
)
from pactstub import create_app

_LINE = re.compile(r" \(([^)]*?)(?::\d+)?\)$")


def all_requests() -> list[BenchRequest]:
    pact = load_pact()
    return [*interaction_requests(pact), miss_request(pact)]


def pick(label: str) -> BenchRequest:
    """The request whose label (as in the throughput table) or description is ``label``."""
    for request in all_requests():
        if label in (request.label, request.key):
            return request
    known = ", ".join(repr(r.label) for r in all_requests())
    raise SystemExit(f"unknown request {label!r}; one of {known}")


# ------------------------------------------------------------------------------ live


def live(label: str, duration: float, connections: int, templates: bool, top: int) -> str:
    """Profile the served pactstub under load; the folded stacks as two tables."""
    py_spy = shutil.which("py-spy", path=str(Path(sys.executable).parent)) or shutil.which("py-spy")
    if py_spy is None:
        raise SystemExit("py-spy is not installed: pip install py-spy (or use the inprocess mode)")
    request = pick(label)
    tool = "wrk" if harness.have_wrk() else "python"
    with tempfile.TemporaryDirectory(prefix="pactstub-profile-") as folder:
        tmp = Path(folder)
        server = harness.start_pactstub(
            EPX_PACT,
            database_url=f"sqlite:///{tmp / 'profile.sqlite3'}",
            templates=TEMPLATES if templates else None,
            log_dir=tmp,
        )
        try:
            harness.probe(server, request)
            summary, stacks = _sample_under_load(py_spy, server, request, duration, connections, tool, tmp)
        finally:
            server.stop()
    return summary + fold(stacks, top)


def _sample_under_load(
    py_spy: str,
    server: harness.Server,
    request: BenchRequest,
    duration: float,
    connections: int,
    tool: str,
    tmp: Path,
) -> tuple[str, str]:
    """Run py-spy on CPU 1 for the length of the load, which runs alongside it; (summary, stacks)."""
    output = tmp / "stacks.txt"
    # --gil: only samples holding the GIL, i.e. Python work (idle threads would swamp the rest)
    command = [py_spy, "record", "--pid", str(server.process.pid), "--format", "raw", "--rate", "250"]
    command += ["--gil"]
    command += ["--duration", str(max(1, round(duration))), "--output", str(output), "--nonblocking"]
    pinned = harness.pinned(command, str(harness.LOADGEN_CPU))
    spy = subprocess.Popen(pinned, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    results: list[harness.LoadResult] = []
    load = threading.Thread(
        target=lambda: results.append(
            harness.run_load(server, request, duration=duration, connections=connections, tool=tool)
        )
    )
    load.start()
    load.join()
    _, errors = spy.communicate(timeout=duration + 60)
    if spy.returncode != 0 or not output.exists():
        raise RuntimeError(f"py-spy failed: {errors.decode(errors='replace')[-2000:]}")
    summary = ""
    if results:
        done = results[0]
        summary = f"{request.label}: {done.rps:,.0f} rps, p50 {done.p50_ms:.2f} ms while sampled\n"
    return summary, output.read_text(encoding="utf-8")


def fold(raw: str, top: int) -> str:
    """Self and inclusive sample shares per function, from py-spy's ``stack;stack;leaf count`` lines."""
    own: Counter[str] = Counter()
    under: Counter[str] = Counter()
    total = 0
    for line in raw.splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = [_frame(f) for f in stack.split(";")]
        total += count
        own[frames[-1]] += count
        for name in set(frames):
            under[name] += count
    if not total:
        return "no samples (is the server busy?)"
    return "\n\n".join(
        [
            f"{total} samples",
            _share_table("self (on CPU in the function itself)", own, total, top),
            _share_table("inclusive (the function and what it calls)", under, total, top),
        ]
    )


def _frame(frame: str) -> str:
    """``handle (…/site-packages/werkzeug/serving.py:123)`` -> ``handle (werkzeug/serving.py)``."""
    match = _LINE.search(frame)
    if not match:
        return frame.strip()
    name = frame[: match.start()].strip()
    return f"{name} ({_short_path(match.group(1))})"


def _short_path(path: str) -> str:
    """Paths relative to site-packages, the checkout or the stdlib, never absolute."""
    for marker in ("site-packages/", "/lib/python3"):
        if marker in path:
            tail = path.split(marker, 1)[1]
            return tail if marker == "site-packages/" else "stdlib/" + tail.split("/", 1)[-1]
    root = str(ROOT) + "/"
    return path[len(root) :] if path.startswith(root) else Path(path).name


def _share_table(title: str, counts: Counter[str], total: int, top: int) -> str:
    rows = [f"### {title}", "", "| % samples | function |", "|--:|---|"]
    rows += [f"| {100 * n / total:.1f} | `{name}` |" for name, n in counts.most_common(top)]
    return "\n".join(rows)


# ------------------------------------------------------------------------- in process


def inprocess(count: int, templates: bool, top: int) -> str:
    """cProfile ``count`` rounds of every Epistemix request (and the miss) through the app."""
    with tempfile.TemporaryDirectory(prefix="pactstub-profile-") as folder:
        options: dict[str, object] = {"database_url": f"sqlite:///{Path(folder) / 'profile.sqlite3'}"}
        if templates:
            options["templates"] = TEMPLATES
        app = create_app([EPX_PACT], **options)
        client = Client(app)
        requests = all_requests()
        for request in requests:  # warm: first-use imports and caches are not the steady state
            _send(client, request)
        profiler = cProfile.Profile()
        for _ in range(count):
            if templates:  # outside the profile: keep the store at one round's records
                app.store.reset()
            profiler.enable()
            for request in requests:
                _send(client, request)
            profiler.disable()
        app.close()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.strip_dirs().sort_stats("tottime").print_stats(top)
    stats.sort_stats("cumulative").print_stats(top)
    per_request = _total_time(stats) / (count * len(requests)) * 1e6
    return f"{count} x {len(requests)} requests, {per_request:.0f} µs each under cProfile\n{out.getvalue()}"


def _send(client: Client, request: BenchRequest) -> None:
    client.open(request.target, method=request.method, data=request.body, headers=request.headers)


def _total_time(stats: pstats.Stats) -> float:
    return float(getattr(stats, "total_tt", 0.0))


# ------------------------------------------------------------------------------ main


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Profile pactstub's request path.")
    modes = parser.add_subparsers(dest="mode", required=True)
    served = modes.add_parser("live", help="py-spy on `pactstub serve` under load")
    served.add_argument("--request", default="POST /runs", help="a row label of the throughput table")
    served.add_argument("--duration", type=float, default=5.0)
    served.add_argument("--connections", type=int, default=8)
    local = modes.add_parser("inprocess", help="cProfile through werkzeug.test.Client")
    rounds = "rounds of every request (one per interaction, and the miss)"
    local.add_argument("--requests", type=int, default=1000, help=rounds)
    for sub in (served, local):
        sub.add_argument("--templates", action="store_true", help="serve with --templates templates")
        sub.add_argument("--top", type=int, default=25)
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.mode == "live":
        print(live(args.request, args.duration, args.connections, args.templates, args.top))
    else:
        print(inprocess(args.requests, args.templates, args.top))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
