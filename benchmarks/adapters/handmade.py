"""A hand-written dependency-driven runner: graphlib's TopologicalSorter and a ThreadPoolExecutor.

This is the loop one would write without a library, and the reference of
the "ratio to handmade" columns: submit every ready task, wait for the
first to finish, store its output, ask graphlib which tasks became ready.
"""

from __future__ import annotations

import graphlib
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import Any

from graphs import Graph, Node


@dataclass(frozen=True)
class HandmadePlan:
    graph: Graph
    nodes: dict[str, Node]
    # Each task's upstream tasks; the initial keys have no producer.
    dependencies: dict[str, tuple[str, ...]]
    workers: int | None


def plan_dependencies(graph: Graph) -> dict[str, tuple[str, ...]]:
    """Map each task to the tasks producing its inputs, and raise graphlib.CycleError on a cycle.

    This is "graphlib alone" in the planning comparison.
    """
    producers = {node.key for node in graph.nodes}
    dependencies = {node.key: tuple(key for key in node.inputs if key in producers) for node in graph.nodes}
    sorter: graphlib.TopologicalSorter[str] = graphlib.TopologicalSorter(dependencies)
    for _ in sorter.static_order():
        pass
    return dependencies


class Handmade:
    def prepare(self, graph: Graph, workers: int | None) -> tuple[Graph, int | None]:
        return graph, workers

    def plan(self, prepared: tuple[Graph, int | None]) -> HandmadePlan:
        graph, workers = prepared
        nodes = {node.key: node for node in graph.nodes}
        return HandmadePlan(graph, nodes, plan_dependencies(graph), workers)

    def run(self, planned: HandmadePlan) -> Any:
        # A TopologicalSorter can be iterated only once, so each run builds one.
        sorter: graphlib.TopologicalSorter[str] = graphlib.TopologicalSorter(planned.dependencies)
        sorter.prepare()
        values = dict(planned.graph.initial)
        running: dict[Future[Any], str] = {}
        with ThreadPoolExecutor(planned.workers) as pool:
            while sorter.is_active():
                for key in sorter.get_ready():
                    node = planned.nodes[key]
                    running[pool.submit(node.func, *[values[name] for name in node.inputs])] = key
                finished, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in finished:
                    key = running.pop(future)
                    values[key] = future.result()
                    sorter.done(key)
        return values[planned.graph.result]
