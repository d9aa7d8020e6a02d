"""Compare data structures for the state on a chain of stages, each adding one key.

Usage: python benchmarks/state_structures.py [--stages N]

For each structure: the time to build every intermediate state of an
N-stage chain, the time to read every key from the last state, and the
peak memory (tracemalloc) while all N states are kept alive, as a consumer
of stream() may keep them.
"""

from __future__ import annotations

import argparse
import collections
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any

from flowlite import State


def copy_dict(previous: Mapping[str, Any], key: str, value: Any) -> Mapping[str, Any]:
    # A read-only view over a fresh copy: O(size) per new state.
    new = dict(previous)
    new[key] = value
    return MappingProxyType(new)


def chain_map(previous: Mapping[str, Any], key: str, value: Any) -> Mapping[str, Any]:
    # One layer per state: O(1) to build, lookups walk the layers.
    assert isinstance(previous, collections.ChainMap)
    return previous.new_child({key: value})


def append_log(previous: Mapping[str, Any], key: str, value: Any) -> Mapping[str, Any]:
    assert isinstance(previous, State)
    return previous.with_values({key: value})


STRUCTURES: dict[str, tuple[Callable[[], Mapping[str, Any]], Callable[..., Mapping[str, Any]]]] = {
    "dict copy per state": (lambda: MappingProxyType({"start": 0}), copy_dict),
    "ChainMap layers": (lambda: collections.ChainMap({"start": 0}), chain_map),
    "flowlite State (shared append-only log)": (lambda: State({"start": 0}), append_log),
}


def build(
    start: Callable[[], Mapping[str, Any]], extend: Callable[..., Mapping[str, Any]], stages: int
) -> list[Mapping[str, Any]]:
    states = [start()]
    for index in range(stages):
        states.append(extend(states[-1], f"k{index}", index))
    return states


def measure(stages: int, name: str) -> None:
    start, extend = STRUCTURES[name]
    # Timed without tracemalloc, which slows every allocation.
    began = time.perf_counter()
    states = build(start, extend, stages)
    built = time.perf_counter() - began
    del states

    tracemalloc.start()
    states = build(start, extend, stages)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    last = states[-1]
    began = time.perf_counter()
    for index in range(stages):
        last[f"k{index}"]
    read = time.perf_counter() - began
    print(f"{name:42} {built * 1e3:10.1f} {read * 1e3:12.1f} {peak / 2**20:10.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stages", type=int, default=10_000, help="states in the chain (default 10000)")
    parser.add_argument("--structure", choices=list(STRUCTURES), help="measure only this structure")
    args = parser.parse_args()
    if args.structure:
        measure(args.stages, args.structure)
        return

    # Each structure runs in a fresh interpreter: the gigabyte that the dict
    # copies allocate would otherwise slow the allocations measured after it.
    print(f"{'structure':42} {'build ms':>10} {'read all ms':>12} {'peak MiB':>10}")
    for name in STRUCTURES:
        command = [sys.executable, __file__, "--stages", str(args.stages), "--structure", name]
        subprocess.run(command, check=True)


if __name__ == "__main__":
    main()
