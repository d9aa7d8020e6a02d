"""dask.delayed: one delayed call per node, computed with the threaded scheduler.

Each call gets its node's key as `dask_key_name`, so Dask does not hash
the arguments to name it. Without `workers` the threaded scheduler uses
its default thread count (the number of CPUs).
"""

from __future__ import annotations

from typing import Any

import dask
from dask.delayed import Delayed
from graphs import Graph


class Dask:
    def prepare(self, graph: Graph, workers: int | None) -> tuple[Graph, int | None]:
        return graph, workers

    def plan(self, prepared: tuple[Graph, int | None]) -> tuple[Delayed, int | None]:
        graph, workers = prepared
        functions = {node.func: dask.delayed(node.func, pure=True) for node in graph.nodes}
        objects: dict[str, Any] = dict(graph.initial)
        for node in graph.nodes:
            arguments = [objects[key] for key in node.inputs]
            objects[node.key] = functions[node.func](*arguments, dask_key_name=node.key)
        return objects[graph.result], workers

    def run(self, planned: tuple[Delayed, int | None]) -> Any:
        result, workers = planned
        if workers is None:
            return dask.compute(result, scheduler="threads")[0]
        return dask.compute(result, scheduler="threads", num_workers=workers)[0]
