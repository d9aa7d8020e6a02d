"""Measure the cost of flowlite's type checks: run(check_types=True) and plan()'s annotation check.

Usage: python benchmarks/type_checks.py [--tasks N] [--samples K]

Runs a chain of N annotated tasks (`(value: int) -> int`) on the calling
thread, alternating runs with and without `check_types`, and prints the
median of each and the difference per task in microseconds. Then plans
ten times as many tasks with and without `check_types`, each from new task
objects so that no annotation is cached yet.
"""

from __future__ import annotations

import argparse
import statistics
import time

import flowlite


def step(value: int) -> int:
    return value + 1


def chain(size: int) -> list[flowlite.Task[[int], int]]:
    return [flowlite.task(inputs=[f"k{i}"], outputs=f"k{i + 1}", name=f"t{i}")(step) for i in range(size)]


def measure_runs(size: int, samples: int) -> None:
    prepared = flowlite.plan(chain(size))
    seconds: dict[bool, list[float]] = {False: [], True: []}
    for _ in range(samples):
        for check in (False, True):
            started = time.perf_counter()
            state = flowlite.run(prepared, {"k0": 0}, max_workers=1, check_types=check)
            seconds[check].append(time.perf_counter() - started)
            assert state[f"k{size}"] == size
    off = statistics.median(seconds[False])
    on = statistics.median(seconds[True])
    print(f"run of {size} tasks: {off * 1e3:.2f} ms without check_types, {on * 1e3:.2f} ms with")
    print(f"check_types costs {(on - off) / size * 1e6:.2f} us per task")


def measure_plans(size: int) -> None:
    for check in (False, True):
        tasks = chain(size)
        started = time.perf_counter()
        flowlite.plan(tasks, check_types=check)
        print(
            f"plan of {size} new tasks, check_types={check}: {(time.perf_counter() - started) * 1e3:.1f} ms"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=1000, help="tasks in the chain that runs (default 1000)")
    parser.add_argument("--samples", type=int, default=30, help="runs with and without checks (default 30)")
    arguments = parser.parse_args()
    measure_runs(arguments.tasks, arguments.samples)
    measure_plans(arguments.tasks * 10)


if __name__ == "__main__":
    main()
