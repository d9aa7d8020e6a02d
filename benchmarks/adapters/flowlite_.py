"""flowlite with its default thread count, and with max_workers=1 (the calling thread only)."""

from __future__ import annotations

from typing import Any

from graphs import Graph

import flowlite

Planned = tuple[Graph, flowlite.Plan, int | None]


class Flowlite:
    def prepare(self, graph: Graph, workers: int | None) -> tuple[Graph, flowlite.Registry, int | None]:
        registry = flowlite.Registry(
            flowlite.task(node.func, inputs=list(node.inputs), outputs=node.key, name=node.key)
            for node in graph.nodes
        )
        return graph, registry, workers

    def plan(self, prepared: tuple[Graph, flowlite.Registry, int | None]) -> Planned:
        graph, registry, workers = prepared
        return graph, flowlite.plan(registry, available=graph.initial.keys()), workers

    def run(self, planned: Planned) -> Any:
        graph, plan, workers = planned
        return flowlite.run(plan, graph.initial, max_workers=workers)[graph.result]


class FlowliteOneWorker(Flowlite):
    def run(self, planned: Planned) -> Any:
        graph, plan, _ = planned
        return flowlite.run(plan, graph.initial, max_workers=1)[graph.result]
