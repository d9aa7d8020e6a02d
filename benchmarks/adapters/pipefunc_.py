"""pipefunc: one PipeFunc per node, run with `Pipeline.run` or with `Pipeline.map`.

`Pipeline.run` evaluates the requested output sequentially. `Pipeline.map`
runs the pipeline generation by generation; without `workers` it runs
sequentially (parallel=False), with `workers` on a ThreadPoolExecutor of
that size. Both keep the results in memory (no run folder).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

from graphs import Graph, named_function
from pipefunc import PipeFunc, Pipeline


class Pipefunc:
    def prepare(self, graph: Graph, workers: int | None) -> tuple[Graph, list[PipeFunc], int | None]:
        functions = [
            PipeFunc(named_function(node.key, node.inputs, node.func), output_name=node.key)
            for node in graph.nodes
        ]
        return graph, functions, workers

    def plan(self, prepared: tuple[Graph, list[PipeFunc], int | None]) -> tuple[Graph, Pipeline, int | None]:
        graph, functions, workers = prepared
        pipeline = Pipeline(functions)
        # The graph is built lazily on first use; build it here so that it
        # counts as planning.
        pipeline.graph  # noqa: B018
        return graph, pipeline, workers

    def run(self, planned: tuple[Graph, Pipeline, int | None]) -> Any:
        graph, pipeline, _ = planned
        return pipeline.run(graph.result, kwargs=dict(graph.initial))


class PipefuncMap(Pipefunc):
    def run(self, planned: tuple[Graph, Pipeline, int | None]) -> Any:
        graph, pipeline, workers = planned
        if workers is None:
            results = pipeline.map(dict(graph.initial), parallel=False, storage="dict", show_progress=False)
        else:
            with ThreadPoolExecutor(workers) as executor:
                results = pipeline.map(
                    dict(graph.initial), executor=executor, storage="dict", show_progress=False
                )
        return results[graph.result].output
