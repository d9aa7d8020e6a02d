"""One adapter per library: each builds and runs a `graphs.Graph` with that library.

Every adapter class has the same interface:

- `prepare(graph, workers)`: translate the graph into the library's
  objects, such as task functions or nodes. Not timed. `workers` is the
  number of threads to run with, or None for the library's default.
- `plan(prepared)`: build the library's runnable graph. Timed as planning.
- `run(planned)`: run it once from the graph's initial state and return
  the value of `graph.result`. Timed as a run.
- optionally `release(prepared)`: undo what `prepare` registered globally.

The adapters of one module differ in `run` only, so a worker plans a graph
once for all of them. This package imports no peer library itself:
`load()` does, and raises ImportError when the peer is not installed.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any, Protocol

from graphs import Graph


class Adapter(Protocol):
    def prepare(self, graph: Graph, workers: int | None) -> Any: ...

    def plan(self, prepared: Any) -> Any: ...

    def run(self, planned: Any) -> Any: ...


@dataclass(frozen=True)
class Entry:
    """The module and class of an adapter, and the library it measures."""

    module: str
    class_name: str
    library: str
    """The row of the import-time and version tables."""


# The adapters by label, in the order of the result tables.
ADAPTERS: dict[str, Entry] = {
    "floor": Entry("floor", "Floor", "floor"),
    "handmade": Entry("handmade", "Handmade", "handmade"),
    "handmade-stages": Entry("handmade_stages", "HandmadeStages", "handmade-stages"),
    "flowlite": Entry("flowlite_", "Flowlite", "flowlite"),
    "flowlite max_workers=1": Entry("flowlite_", "FlowliteOneWorker", "flowlite"),
    "hamilton": Entry("hamilton_", "Hamilton", "hamilton"),
    "pipefunc": Entry("pipefunc_", "Pipefunc", "pipefunc"),
    "pipefunc map": Entry("pipefunc_", "PipefuncMap", "pipefunc"),
    "kedro": Entry("kedro_", "Kedro", "kedro"),
    "dask": Entry("dask_", "Dask", "dask"),
}

# The import statement of a program that uses each library, for the
# import-time table, and the distribution whose version the results report.
IMPORT_STATEMENTS: dict[str, str] = {
    "handmade": "import graphlib, concurrent.futures",
    "handmade-stages": "import graphlib, threading",
    "flowlite": "import flowlite",
    "hamilton": "from hamilton import driver",
    "pipefunc": "import pipefunc",
    "kedro": (
        "from kedro.pipeline import Pipeline, node; from kedro.runner import SequentialRunner; "
        "from kedro.io import DataCatalog"
    ),
    "dask": "import dask, dask.delayed, dask.threaded",
}
DISTRIBUTIONS: dict[str, str] = {
    "flowlite": "flowlite",
    "hamilton": "sf-hamilton",
    "pipefunc": "pipefunc",
    "kedro": "kedro",
    "dask": "dask",
}


def load(label: str) -> Adapter:
    """Import the adapter called `label` and return an instance; ImportError if its library is missing."""
    entry = ADAPTERS[label]
    module = importlib.import_module(f"adapters.{entry.module}")
    adapter: Adapter = getattr(module, entry.class_name)()
    return adapter
