"""How finding candidates, and a whole in-process request, scale from 10 to 10,000 interactions.

The route index promises that a literal path costs the same however many
interactions are loaded (a dict), while patterned paths (a ``$.path`` regex
rule) are tested one by one. This measures both on synthetic pacts, mostly
literal paths with a share of patterned ones:

* ``RouteIndex.candidates(method, path)`` with ``timeit`` for a literal hit, a
  patterned hit (the last pattern, the worst case) and a miss;
* the full request through ``werkzeug.test.Client(create_app([pact]))`` for the
  same three (a miss is a 404 here: no interaction has the path);
* the time ``create_app`` takes to load the pact (validation, parsing, index).

Usage::

    python -m bench.lookup_scaling
    python -m bench.lookup_scaling --sizes 10,100,1000,10000 --pattern-share 0.1
"""

from __future__ import annotations

import argparse
import logging
import time
import timeit
import tracemalloc
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

from werkzeug.test import Client

from bench import harness
from bench.epistemix import ROOT
from pactstub import create_app, load_pacts
from pactstub.routing import RouteIndex

#: where the patterned interactions live; ``/things<i>/<digits>``
PATTERN_PREFIX = "/things"
MISS_PATH = "/nothing/here/at/all"


@dataclass(frozen=True, slots=True)
class Probes:
    """The three paths looked up at one size."""

    literal_hit: str
    pattern_hit: str | None
    miss: str = MISS_PATH


@dataclass(frozen=True, slots=True)
class SizeResult:
    """Microseconds per call at one size (best of the repeats, as timeit advises)."""

    size: int
    patterns: int
    load_s: float
    #: memory the loaded app holds (pacts, model, index), traced while loading
    app_mib: float
    lookup_us: dict[str, float]
    request_us: dict[str, float]


# ---------------------------------------------------------------------- synthetic pacts


def synthetic_pact(size: int, pattern_share: float) -> tuple[dict[str, Any], Probes]:
    """A v2 pact of ``size`` GET interactions; every ``1/pattern_share``-th has a path regex."""
    step = round(1 / pattern_share) if pattern_share > 0 else 0
    interactions = []
    literals: list[str] = []
    pattern_hit = None
    for i in range(size):
        if step and i % step == step - 1:
            rules = {"$.path": {"match": "regex", "regex": f"^{PATTERN_PREFIX}{i}/\\d+$"}}
            interactions.append(_interaction(i, f"{PATTERN_PREFIX}{i}/1", rules))
            pattern_hit = f"{PATTERN_PREFIX}{i}/42"
        else:
            literals.append(f"/svc{i % 50}/items/{i}")
            interactions.append(_interaction(i, literals[-1], None))
    document = {
        "consumer": {"name": "bench"},
        "provider": {"name": f"synthetic-{size}"},
        "interactions": interactions,
        "metadata": {"pactSpecification": {"version": "2.0.0"}},
    }
    return document, Probes(literals[len(literals) // 2], pattern_hit)


def _interaction(i: int, path: str, rules: dict[str, Any] | None) -> dict[str, Any]:
    request: dict[str, Any] = {"method": "GET", "path": path}
    if rules:
        request["matchingRules"] = rules
    return {
        "description": f"interaction {i}",
        "request": request,
        "response": {"status": 200, "headers": {"Content-Type": "application/json"}, "body": {"id": i}},
    }


# ---------------------------------------------------------------------------- timing


def best_us(call: Callable[[], object], budget_s: float) -> float:
    """Microseconds per call: the best of 5 repeats, each sized by ``autorange`` to ``budget_s``/5."""
    timer = timeit.Timer(call)
    number, _ = timer.autorange()
    per_repeat = max(1, int(number * (budget_s / 5) / 0.2))
    return min(timer.repeat(repeat=5, number=per_repeat)) / per_repeat * 1e6


def measure_size(size: int, pattern_share: float, budget_s: float) -> SizeResult:
    document, probes = synthetic_pact(size, pattern_share)
    started = time.perf_counter()
    app = create_app([document])
    load_s = time.perf_counter() - started
    app_mib = _traced_mib(lambda: create_app([document]))
    index = RouteIndex.build(i for pact in load_pacts([document]) for i in pact.interactions)
    client = Client(app)
    paths = {"literal hit": probes.literal_hit, "pattern hit": probes.pattern_hit, "miss": probes.miss}
    lookup: dict[str, float] = {}
    request: dict[str, float] = {}
    for name, path in paths.items():
        if path is None:
            continue
        _check(index, client, name, path)
        lookup[name] = best_us(partial(index.candidates, "GET", path), budget_s)
        request[name] = best_us(partial(client.get, path), budget_s)
    patterns = sum(1 for r in index.routes if r.interaction.request.rules.path is not None)
    return SizeResult(size, patterns, load_s, app_mib, lookup, request)


def _traced_mib(build: Callable[[], object]) -> float:
    """Memory held by what ``build`` returns (traced separately: tracing slows loading down)."""
    tracemalloc.start()
    try:
        built = build()
        held = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    del built
    return held / 2**20


def _check(index: RouteIndex, client: Client, name: str, path: str) -> None:
    """Make sure a hit is a hit and a miss a miss before timing it."""
    found = bool(index.candidates("GET", path))
    status = client.get(path).status_code
    expected = name != "miss"
    if found != expected or (status == 200) != expected:
        raise RuntimeError(f"{name} {path}: candidates found={found}, status {status}")


# ----------------------------------------------------------------------------- table


def table(results: list[SizeResult]) -> str:
    names = ["literal hit", "pattern hit", "miss"]
    head = " | ".join([*(f"candidates {n} µs" for n in names), *(f"request {n} µs" for n in names)])
    rows = [
        f"| interactions | with path regex | load s | app MiB | {head} |",
        "|--:|--:|--:|--:|" + "--:|" * (2 * len(names)),
    ]
    for r in results:
        lookups = " | ".join(_us(r.lookup_us.get(n)) for n in names)
        requests = " | ".join(_us(r.request_us.get(n)) for n in names)
        rows.append(
            f"| {r.size:,} | {r.patterns:,} | {r.load_s:.2f} | {r.app_mib:.1f} | {lookups} | {requests} |"
        )
    return "\n".join(rows)


def _us(value: float | None) -> str:
    return "-" if value is None else f"{value:,.2f}" if value < 100 else f"{value:,.0f}"


# ------------------------------------------------------------------------------ main


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Candidate lookup and in-process request cost by pact size.")
    add = parser.add_argument
    add("--sizes", default="10,100,1000,10000", help="interaction counts (default: %(default)s)")
    add("--pattern-share", type=float, default=0.1, help="share with a path regex (default: %(default)s)")
    add("--budget", type=float, default=1.0, help="seconds per timing (default: %(default)s)")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    logging.getLogger("pactstub").setLevel(logging.ERROR)  # a line per timed miss would be the output
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    results = [measure_size(size, args.pattern_share, args.budget) for size in sizes]
    environment = harness.environment()
    print(f"# candidate lookup scaling, {environment['date']}, {environment['cpus']} CPUs, in process\n")
    print(table(results))
    print(f"\n- every {round(1 / args.pattern_share)}th interaction has a `$.path` regex rule; all are GET")
    print("- µs per call, best of 5 repeats; a miss is a path no interaction has (404 through the app)")
    document = {"environment": environment, "options": vars(args), "results": [vars_of(r) for r in results]}
    path = harness.write_results("lookup_scaling", document)
    print(f"\nraw results: {path.relative_to(ROOT)}")
    return 0


def vars_of(result: SizeResult) -> dict[str, Any]:
    return {name: getattr(result, name) for name in SizeResult.__slots__}


if __name__ == "__main__":
    raise SystemExit(main())
