"""The floor: plain sequential calls in topological order, with no scheduling at all."""

from __future__ import annotations

from typing import Any

from graphs import Graph


class Floor:
    def prepare(self, graph: Graph, workers: int | None) -> Graph:
        return graph

    def plan(self, prepared: Graph) -> Graph:
        return prepared

    def run(self, planned: Graph) -> Any:
        values = dict(planned.initial)
        for node in planned.nodes:
            values[node.key] = node.func(*[values[key] for key in node.inputs])
        return values[planned.result]
