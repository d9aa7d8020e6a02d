"""The measuring process: one per adapter module, driven by run.py over a pipe.

run.py starts one worker per module of `adapters/` (so the labels of one
module share a plan) and one for the other measurements. Each request is a
tuple whose first item names the handler below; each reply is
`("ok", result)` or `("error", "ExceptionType: message")`. A worker keeps
the plan of one graph at a time. run.py ends a worker that exceeds its
time limit and starts a new one for the next request.
"""

from __future__ import annotations

import gc
import importlib
import os
import sys
import time
import tracemalloc
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any

import adapters
import graphs

_MESSAGE_LIMIT = 300


def serve(connection: Connection, labels: tuple[str, ...]) -> None:
    """Load the adapters of `labels` and handle requests until "stop" or a closed pipe."""
    # Some peers print log lines at import (Kedro through rich); the suite's
    # standard output is the report, so the worker's goes to /dev/null.
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    sys.stdout = open(1, "w", closefd=False)  # noqa: SIM115

    try:
        worker = Worker(labels)
    except ImportError as error:
        connection.send(("missing", _describe(error)))
        return
    connection.send(("ready", None))

    while True:
        try:
            request = connection.recv()
        except EOFError:
            return
        if request[0] == "stop":
            return
        handler: Callable[..., Any] = getattr(worker, f"handle_{request[0]}")
        try:
            reply = ("ok", handler(*request[1:]))
        except Exception as error:
            reply = ("error", _describe(error))
        connection.send(reply)


def _describe(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    first_line = text[0] if text else ""
    if len(first_line) > _MESSAGE_LIMIT:
        first_line = first_line[: _MESSAGE_LIMIT - 3] + "..."
    return f"{type(error).__name__}: {first_line}" if first_line else type(error).__name__


class Worker:
    """The adapters of one module and the plan of the current graph."""

    def __init__(self, labels: tuple[str, ...]) -> None:
        self.adapters = {label: adapters.load(label) for label in labels}
        self.graph: graphs.Graph | None = None
        self.prepared: Any = None
        self.planned: Any = None

    def _first(self) -> adapters.Adapter:
        # The labels of one module share prepare() and plan().
        return next(iter(self.adapters.values()))

    def handle_plan(self, kind: str, size: int, workers: int | None) -> dict[str, float]:
        """Build the graph, then prepare and plan it once; return both times in seconds."""
        self.handle_release()
        self.graph = graphs.build(kind, size)
        adapter = self._first()
        started = time.perf_counter()
        self.prepared = adapter.prepare(self.graph, workers)
        prepared_at = time.perf_counter()
        self.planned = adapter.plan(self.prepared)
        planned_at = time.perf_counter()
        return {"prepare": prepared_at - started, "plan": planned_at - prepared_at}

    def handle_run(self, label: str) -> float:
        """Run the current plan once with `label`'s adapter, check the result and return the seconds."""
        assert self.graph is not None, "plan a graph first"
        gc.collect()
        started = time.perf_counter()
        result = self.adapters[label].run(self.planned)
        elapsed = time.perf_counter() - started
        self._check(label, result)
        return elapsed

    def handle_replan(self) -> float:
        """Plan the current graph again from its prepared objects and return the seconds.

        The new plan is dropped, so runs keep using the first one.
        """
        gc.collect()
        started = time.perf_counter()
        planned = self._first().plan(self.prepared)
        elapsed = time.perf_counter() - started
        del planned
        return elapsed

    def handle_memory(self, label: str) -> int:
        """Run the current plan once under tracemalloc and return the peak traced bytes.

        The plan and the graph exist before tracing starts, so the peak is
        what the run itself allocates at most at one time.
        """
        assert self.graph is not None, "plan a graph first"
        gc.collect()
        tracemalloc.start()
        try:
            result = self.adapters[label].run(self.planned)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        self._check(label, result)
        return peak

    def handle_release(self) -> None:
        """Drop the current graph and plan."""
        release = getattr(self._first(), "release", None)
        if release is not None and self.prepared is not None:
            release(self.prepared)
        self.graph = self.prepared = self.planned = None
        gc.collect()

    def handle_call(self, function: str, kwargs: dict[str, Any]) -> Any:
        """Call `module:function` of the benchmarks folder with `kwargs` and return its result."""
        module_name, _, name = function.partition(":")
        return getattr(importlib.import_module(module_name), name)(**kwargs)

    def _check(self, label: str, result: object) -> None:
        assert self.graph is not None
        if result != self.graph.expected:
            raise AssertionError(
                f"{label} returned {result!r} for {self.graph.name}, expected {self.graph.expected!r}"
            )
