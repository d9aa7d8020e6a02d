"""Peak memory of flowlite's run() and stream() over a chain, against the size of its values.

Each figure is tracemalloc's peak while one call runs, after the plan and
the graph exist. The values' size is sys.getsizeof summed over the final
state's values; the state's own dict and the keys are not part of it.
"""

from __future__ import annotations

import gc
import sys
import tracemalloc
from collections.abc import Callable
from typing import Any

import graphs

import flowlite


def _peak(call: Callable[..., Any], *args: Any) -> tuple[int, Any]:
    gc.collect()
    tracemalloc.start()
    try:
        result = call(*args)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak, result


def _stream_newest(plan: flowlite.Plan, initial: dict[str, Any]) -> Any:
    # Keep only the newest state, as `for state in stream(...)` does.
    last = None
    for state in flowlite.stream(plan, initial):
        last = state
    return last


def _stream_all(plan: flowlite.Plan, initial: dict[str, Any]) -> list[Any]:
    return list(flowlite.stream(plan, initial))


def measure(size: int) -> dict[str, dict[str, int]]:
    """Return peaks in bytes for run(), stream() and stream() with every state kept, per chain kind."""
    results: dict[str, dict[str, int]] = {}
    for kind in ("chain", "chain_blocks"):
        graph = graphs.build(kind, size)
        registry = flowlite.Registry(
            flowlite.task(node.func, inputs=list(node.inputs), outputs=node.key, name=node.key)
            for node in graph.nodes
        )
        plan = flowlite.plan(registry, available=graph.initial.keys())
        initial = dict(graph.initial)
        # The first run imports modules and fills caches; measure later ones.
        flowlite.run(plan, initial)

        run_peak, final = _peak(flowlite.run, plan, initial)
        stream_peak, last = _peak(_stream_newest, plan, initial)
        kept_peak, states = _peak(_stream_all, plan, initial)
        for state in (final, last, states[-1]):
            if state[graph.result] != graph.expected:
                raise AssertionError(f"flowlite returned a wrong {graph.result!r} for {graph.name}")

        results[kind] = {
            "values": sum(sys.getsizeof(value) for value in final.values()),
            "run": run_peak,
            "stream": stream_peak,
            "stream_kept": kept_peak,
        }
        del final, last, states
    return results
