"""A stage barrier with one thread per task: the design flowlite started from.

Tasks are grouped by the length of their longest chain of producers. All
tasks of a stage start together, each in a new thread, and the next stage
starts when every thread of the stage has ended. `workers` is ignored,
since every task gets its own thread.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from graphs import Graph, Node

from adapters.handmade import plan_dependencies


@dataclass(frozen=True)
class StagePlan:
    graph: Graph
    stages: tuple[tuple[Node, ...], ...]


class HandmadeStages:
    def prepare(self, graph: Graph, workers: int | None) -> Graph:
        return graph

    def plan(self, prepared: Graph) -> StagePlan:
        dependencies = plan_dependencies(prepared)
        stage_of: dict[str, int] = {}
        buckets: list[list[Node]] = []
        # graph.nodes is a topological order, so every producer has its stage already.
        for node in prepared.nodes:
            stage = 1 + max((stage_of[key] for key in dependencies[node.key]), default=-1)
            stage_of[node.key] = stage
            if stage == len(buckets):
                buckets.append([])
            buckets[stage].append(node)
        return StagePlan(prepared, tuple(tuple(bucket) for bucket in buckets))

    def run(self, planned: StagePlan) -> Any:
        values = dict(planned.graph.initial)
        errors: list[BaseException] = []

        def call(node: Node) -> None:
            try:
                values[node.key] = node.func(*[values[key] for key in node.inputs])
            except BaseException as error:
                errors.append(error)

        for stage in planned.stages:
            threads = [threading.Thread(target=call, args=(node,)) for node in stage]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            if errors:
                raise errors[0]
        return values[planned.graph.result]
