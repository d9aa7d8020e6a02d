"""Measure flowlite's per-task overhead against plain calls and a hand-written runner.

Usage: python benchmarks/overhead.py [--tasks N] [--samples K]

A quick, single-process check that needs no peer library. It runs a chain
of N tasks (each consumes the previous output) and a fan of N independent
tasks between one source and one sink. The floor (plain sequential calls),
the handmade graphlib + ThreadPoolExecutor runner and flowlite run them
round-robin, through the same adapters as the full suite (benchmarks/run.py).
Prints the median seconds per run and the overhead per task in
microseconds over plain sequential calls.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import adapters
import graphs

import flowlite

LABELS = ("floor", "handmade", "flowlite", "flowlite max_workers=1")


def measure(
    runners: dict[str, Callable[[], object]], expected: object, samples: int
) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {name: [] for name in runners}
    for name, runner in runners.items():
        # The warm-up run also checks the result.
        result = runner()
        if result != expected:
            raise AssertionError(f"{name} returned {result!r}, expected {expected!r}")
    for _ in range(samples):
        for name, runner in runners.items():
            start = time.perf_counter()
            runner()
            times[name].append(time.perf_counter() - start)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=1000, help="tasks per graph (default 1000)")
    parser.add_argument("--samples", type=int, default=7, help="timed runs per runner (default 7)")
    args = parser.parse_args()
    if args.tasks < 1 or args.samples < 1:
        parser.error("--tasks and --samples must be at least 1")
    workers = flowlite.default_max_workers()

    for graph in (graphs.chain(args.tasks), graphs.fan(args.tasks)):
        runners: dict[str, Callable[[], object]] = {}
        for label in LABELS:
            adapter = adapters.load(label)
            planned = adapter.plan(adapter.prepare(graph, None))
            runners[label] = lambda adapter=adapter, planned=planned: adapter.run(planned)
        times = measure(runners, graph.expected, args.samples)
        floor = statistics.median(times["floor"])
        print(f"\n{graph.name}: {len(graph)} tasks ({workers} threads by default, median of {args.samples})")
        print(f"{'runner':30} {'ms per run':>12} {'us per task over floor':>24}")
        for name, samples in times.items():
            median = statistics.median(samples)
            overhead = (median - floor) / len(graph) * 1e6
            print(f"{name:30} {median * 1e3:12.2f} {overhead:24.2f}")


if __name__ == "__main__":
    main()
