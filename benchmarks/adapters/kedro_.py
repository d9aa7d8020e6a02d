"""Kedro: a Pipeline of nodes, run on an in-memory DataCatalog.

Without `workers` the SequentialRunner runs the pipeline, as `kedro run`
does by default; with `workers`, a ThreadRunner with that many threads.

Importing the runner configures Kedro's default logging, which prints two
INFO lines per node to the terminal through rich. That output would be
most of the measured time and is not what a pipeline without a terminal
pays, so the adapter raises the "kedro" logger to WARNING.
"""

from __future__ import annotations

import logging
from typing import Any

from graphs import Graph
from kedro.io import DataCatalog, MemoryDataset
from kedro.pipeline import Pipeline, node
from kedro.runner import SequentialRunner, ThreadRunner

logging.getLogger("kedro").setLevel(logging.WARNING)


class Kedro:
    def prepare(self, graph: Graph, workers: int | None) -> tuple[Graph, list[Any], int | None]:
        nodes = [
            node(item.func, inputs=list(item.inputs), outputs=item.key, name=item.key) for item in graph.nodes
        ]
        return graph, nodes, workers

    def plan(self, prepared: tuple[Graph, list[Any], int | None]) -> tuple[Graph, Pipeline, int | None]:
        graph, nodes, workers = prepared
        return graph, Pipeline(nodes), workers

    def run(self, planned: tuple[Graph, Pipeline, int | None]) -> Any:
        graph, pipeline, workers = planned
        catalog = DataCatalog({key: MemoryDataset(value) for key, value in graph.initial.items()})
        runner = SequentialRunner() if workers is None else ThreadRunner(max_workers=workers)
        outputs = runner.run(pipeline, catalog)
        return outputs[graph.result].load()
