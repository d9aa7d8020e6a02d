"""Measure flowlite's per-task overhead against plain calls and a hand-written runner.

Usage: python benchmarks/overhead.py [--tasks N] [--samples K]

Runs, round-robin in one process so that machine noise hits every runner
alike: a chain of N tasks (each consumes the previous output) and a fan of
N independent tasks between one source and one sink. Prints the median
seconds per run and the overhead per task in microseconds over plain
sequential calls.
"""

from __future__ import annotations

import argparse
import graphlib
import statistics
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import Any

import flowlite


def increment(value: int) -> int:
    return value + 1


def total(*values: int) -> int:
    return sum(values)


# Each graph is (name, function, input keys, output key), in topological order.
Graph = list[tuple[str, Callable[..., Any], list[str], str]]


def chain_graph(size: int) -> Graph:
    graph: Graph = [("t0", increment, ["start"], "k0")]
    graph += [(f"t{i}", increment, [f"k{i - 1}"], f"k{i}") for i in range(1, size)]
    return graph


def fan_graph(size: int) -> Graph:
    graph: Graph = [("source", increment, ["start"], "root")]
    graph += [(f"t{i}", increment, ["root"], f"k{i}") for i in range(size)]
    graph.append(("sink", total, [f"k{i}" for i in range(size)], "result"))
    return graph


def run_plain(graph: Graph) -> dict[str, Any]:
    values: dict[str, Any] = {"start": 0}
    for _, fn, inputs, output in graph:
        values[output] = fn(*(values[key] for key in inputs))
    return values


def run_handmade(graph: Graph, workers: int) -> dict[str, Any]:
    """Dependency-driven graphlib + ThreadPoolExecutor loop, as one would write it by hand."""
    producers = {output: name for name, _, _, output in graph}
    nodes = {name: (fn, inputs, output) for name, fn, inputs, output in graph}
    sorter: graphlib.TopologicalSorter[str] = graphlib.TopologicalSorter()
    for name, _, inputs, _ in graph:
        sorter.add(name, *(producers[key] for key in inputs if key in producers))
    sorter.prepare()

    values: dict[str, Any] = {"start": 0}
    running: dict[Future[Any], str] = {}
    with ThreadPoolExecutor(workers) as pool:
        while sorter.is_active():
            for name in sorter.get_ready():
                fn, inputs, _ = nodes[name]
                running[pool.submit(fn, *(values[key] for key in inputs))] = name
            finished, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in finished:
                name = running.pop(future)
                values[nodes[name][2]] = future.result()
                sorter.done(name)
    return values


def flowlite_plan(graph: Graph) -> flowlite.Plan:
    registry = flowlite.Registry(
        flowlite.task(fn, inputs=inputs, outputs=output, name=name) for name, fn, inputs, output in graph
    )
    return flowlite.plan(registry, available={"start"})


def measure(runners: dict[str, Callable[[], object]], samples: int) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {name: [] for name in runners}
    for runner in runners.values():
        runner()  # warm-up
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
    workers = flowlite.default_max_workers()

    for label, graph in (("chain", chain_graph(args.tasks)), ("fan", fan_graph(args.tasks))):
        prepared = flowlite_plan(graph)
        runners: dict[str, Callable[[], object]] = {
            "plain calls": lambda g=graph: run_plain(g),
            "graphlib + thread pool": lambda g=graph: run_handmade(g, workers),
            "flowlite.run": lambda p=prepared: flowlite.run(p, {"start": 0}),
            "flowlite.run max_workers=1": lambda p=prepared: flowlite.run(p, {"start": 0}, max_workers=1),
        }
        times = measure(runners, args.samples)
        floor = statistics.median(times["plain calls"])
        print(f"\n{label} of {args.tasks} tasks ({workers} threads, median of {args.samples})")
        print(f"{'runner':30} {'ms per run':>12} {'us per task over plain':>24}")
        for name, samples in times.items():
            median = statistics.median(samples)
            overhead = (median - floor) / len(graph) * 1e6
            print(f"{name:30} {median * 1e3:12.2f} {overhead:24.2f}")


if __name__ == "__main__":
    main()
