"""Apache Hamilton (sf-hamilton): a module of generated functions whose parameters name their inputs.

Without `workers` the driver runs with its defaults, sequentially. With
`workers` it uses Hamilton's thread-pool FutureAdapter, which submits each
node to a ThreadPoolExecutor of that size.

On a failure Hamilton logs an error with an invitation to its chat. The
suite reports the exception itself, so the adapter silences the "hamilton"
logger.
"""

from __future__ import annotations

import logging
import sys
from types import ModuleType
from typing import Any

from graphs import Graph, named_function
from hamilton import ad_hoc_utils, driver
from hamilton.plugins import h_threadpool

logging.getLogger("hamilton").setLevel(logging.CRITICAL)


class Hamilton:
    def prepare(self, graph: Graph, workers: int | None) -> tuple[Graph, ModuleType, int | None]:
        functions = [named_function(node.key, node.inputs, node.func) for node in graph.nodes]
        module = ad_hoc_utils.create_temporary_module(*functions)
        return graph, module, workers

    def plan(self, prepared: tuple[Graph, ModuleType, int | None]) -> tuple[Graph, driver.Driver]:
        graph, module, workers = prepared
        builder = driver.Builder().with_modules(module)
        if workers is not None:
            builder = builder.with_adapters(h_threadpool.FutureAdapter(max_workers=workers))
        return graph, builder.build()

    def run(self, planned: tuple[Graph, driver.Driver]) -> Any:
        graph, dr = planned
        return dr.execute([graph.result], inputs=dict(graph.initial))[graph.result]

    @staticmethod
    def release(prepared: tuple[Graph, ModuleType, int | None]) -> None:
        # create_temporary_module registers each module in sys.modules.
        sys.modules.pop(prepared[1].__name__, None)
