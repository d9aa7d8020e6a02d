"""The scheduler for a Dask cluster: `run(..., executor=client)` with a `distributed.Client`.

Every task is submitted when the run starts, with the Dask futures of the
values it reads as arguments. The cluster's scheduler then starts each task
once its inputs exist, and an intermediate value moves only between workers.
The client gathers what the run returns: every output, or only the targets,
and with `stream()` the outputs of each stage as it completes.

distributed is imported only when a run uses a client, so `import flowlite`
does not import Dask.
"""

from __future__ import annotations

import functools
import io
import pickle
import queue
import uuid
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from flowlite._attempts import Reported
from flowlite._pool import _call, take_finished
from flowlite.errors import InvalidArgumentError
from flowlite.task import Task, _rebuild_task

if TYPE_CHECKING:
    from distributed import Client
    from typing_extensions import TypeIs

    from flowlite._execution import Execution

__all__ = [
    "DaskScheduler",
    "call_on_worker",
    "check_client",
    "dumps_call",
    "is_dask_client",
    "is_dask_executor",
]

AnyTask = Task[..., Any]


def is_dask_client(executor: object) -> TypeIs[Client]:
    """Return whether `executor` is a `distributed.Client`, without importing distributed."""
    return _has_class(executor, "distributed.client", "Client")


def is_dask_executor(executor: object) -> bool:
    """Return whether `executor` comes from `distributed.Client.get_executor()`."""
    return _has_class(executor, "distributed.cfexecutor", "ClientExecutor")


def _has_class(value: object, module: str, name: str) -> bool:
    return any(cls.__module__ == module and cls.__name__ == name for cls in type(value).__mro__)


def check_client(client: Client) -> Client:
    """Return `client`, or raise InvalidArgumentError if a run cannot use it."""
    if client.status in ("closing", "closed"):
        msg = f"the Dask client {client!r} is {client.status}; pass a client that is connected to a cluster"
        raise InvalidArgumentError(msg)
    if client.asynchronous:
        msg = (
            "run() and stream() block the calling thread, so they cannot use a Dask client from "
            "inside its event loop; call them from another thread, for example with "
            "asyncio.to_thread(flowlite.run, ...)"
        )
        raise InvalidArgumentError(msg)
    return client


def dumps_call(func: Callable[..., Any] | None, item: AnyTask) -> bytes:
    """Pickle what a worker calls for `item`, where `func` is None for the task's own function.

    A task bound to a name in `__main__` pickles by that name, but a Dask
    worker's `__main__` is not the client's. Such tasks, also inside a
    wrapper such as a retry policy, are pickled with their function and
    declaration instead, and cloudpickle sends a `__main__` function by value.
    """
    buffer = io.BytesIO()
    _main_tasks_by_value_pickler()(buffer, protocol=pickle.HIGHEST_PROTOCOL).dump((func, item))
    return buffer.getvalue()


@functools.cache
def _main_tasks_by_value_pickler() -> type[pickle.Pickler]:
    import cloudpickle  # type: ignore[import-untyped]

    class MainTasksByValuePickler(cloudpickle.Pickler):  # type: ignore[misc]
        def reducer_override(self, obj: object) -> Any:
            if type(obj) is Task and obj.__module__ == "__main__":
                return (_rebuild_task, (obj._func, obj._name, *obj._declared))
            return super().reducer_override(obj)

    return MainTasksByValuePickler


def call_on_worker(
    payload: bytes, sources: list[Any], positions: list[int | None], keywords: tuple[str, ...]
) -> tuple[Any, ...] | Reported:
    """Call one task on a Dask worker and return its outputs as `_pool._call` does.

    Dask replaces each future in `sources` with its value. A value that came
    from a task is that task's tuple of outputs (or its `Reported`), and
    `positions` selects the output; None marks an initial value. The last
    `len(keywords)` arguments are passed by those parameter names.
    """
    func, item = pickle.loads(payload)
    values = [_select_output(source, position) for source, position in zip(sources, positions, strict=True)]
    split = len(values) - len(keywords)
    return _call(func, item, values[:split], dict(zip(keywords, values[split:], strict=True)))


def _select_output(source: Any, position: int | None) -> Any:
    if position is None:
        return source
    outputs = source.outputs if isinstance(source, Reported) else source
    return outputs[position]


def _events_of(result: tuple[Any, ...] | Reported) -> tuple[Any, ...]:
    # Runs on a worker, so that only the events travel to the client.
    return result.events if isinstance(result, Reported) else ()


class DaskScheduler:
    """Runs a plan on a Dask cluster; the calling thread submits, waits and gathers."""

    def __init__(self, execution: Execution, client: Client) -> None:
        self._execution = execution
        # Most methods of distributed's Client and Future have no annotations.
        self._client: Any = client
        # Keys are unique per run, so identical calls of two runs are never
        # merged, and a task's key starts with its name for Dask's dashboard.
        self._token = uuid.uuid4().hex
        self._done: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._futures: list[Any] = []
        self._inputs: list[Any] = []
        self._gathered: set[int] = set()

        plan = execution.plan
        self._upstream: list[list[int]] = [[] for _ in plan._tasks]
        for index, dependents in enumerate(plan._dependents):
            for dependent in dependents:
                self._upstream[dependent].append(index)
        self._stage_tasks: list[list[int]] = [[] for _ in plan._stages]
        for index, stage in enumerate(plan._stage_of):
            self._stage_tasks[stage].append(index)

    def wake(self) -> None:
        """Make the scheduling loop look at the run's stop flag; any thread may call it."""
        self._done.put(None)

    def steps(self, *, report_stages: bool) -> Iterator[int]:
        """Run the plan, yielding each stage index once it completes when `report_stages`."""
        execution = self._execution
        stage_left = [len(tasks) for tasks in self._stage_tasks]
        next_stage = 0
        interrupted = True
        try:
            if not execution.stopped:
                self._submit_all()
            index_of = {future.key: index for index, future in enumerate(self._futures)}
            unresolved = len(self._futures)
            while unresolved and not execution.stopped:
                finished_now: list[int] = []
                for future in take_finished(self._done):
                    index = index_of[future.key]
                    unresolved -= 1
                    if future.status == "finished":
                        execution.finished[index] = 1
                        stage_left[execution.plan._stage_of[index]] -= 1
                        finished_now.append(index)
                    elif all(
                        self._futures[upstream].status == "finished" for upstream in self._upstream[index]
                    ):
                        self._record_failure(index, future)
                    # Otherwise an upstream task failed, so Dask did not run this one.
                self._replay_events(finished_now)

                while report_stages and next_stage < len(stage_left) and stage_left[next_stage] == 0:
                    if execution.stopped:
                        break
                    self._gather(self._stage_tasks[next_stage])
                    interrupted = False
                    try:
                        yield next_stage
                    finally:
                        interrupted = True
                    next_stage += 1

            if execution.stopped:
                self._cancel()
            if not execution.failures or execution.keep_going:
                # The returned state, RunFailed.state or RunCancelled.state.
                self._gather(range(len(self._futures)))
            interrupted = False
        finally:
            if interrupted:
                # KeyboardInterrupt, an error in this thread, or a stream
                # closed early: Dask cannot stop a task that a worker has
                # started, so cancel what is left and return at once.
                execution.stop()
                self._cancel()
            # Dropping the futures lets Dask release the run's values.
            self._futures.clear()
            self._inputs.clear()

    def _submit_all(self) -> None:
        execution = self._execution
        client = self._client
        plan = execution.plan
        token = self._token
        # Each state key maps to the future that computes it, and to the
        # position of the key in that task's outputs (None for an input).
        sources: dict[str, tuple[Any, int | None]] = {}

        # An initial value goes to the cluster once, however many tasks read it.
        names = {key: f"{key}-input-{token}" for key in plan.external_inputs}
        if names:
            scattered = client.scatter(
                {name: execution.values[key] for key, name in names.items()}, hash=False
            )
            for key, name in names.items():
                sources[key] = (scattered[name], None)
                self._inputs.append(scattered[name])

        for index, item in enumerate(plan._tasks):
            func, positional, keywords, outputs, _ = execution.calls[index]
            payload = dumps_call(None if func is item.func else func, item)
            read = [*positional, *(key for _, key in keywords)]
            # Arguments travel packed in lists: a task's parameters may have
            # the names of Client.submit's own options, such as `key` or `workers`.
            future = client.submit(
                call_on_worker,
                payload,
                [sources[key][0] for key in read],
                [sources[key][1] for key in read],
                tuple(name for name, _ in keywords),
                key=f"{item.name}-{token}-{index}",
            )
            future.add_done_callback(self._done.put)
            self._futures.append(future)
            for position, key in enumerate(outputs):
                sources[key] = (future, position)

    def _record_failure(self, index: int, future: Any) -> None:
        from distributed.client import FutureCancelledError

        error = future.exception()
        if error is None:
            # Cancelled or lost outside this run, for example by closing the client.
            error = FutureCancelledError(future.key, reason=f"Dask reported the task as {future.status}")
        else:
            error = error.with_traceback(future.traceback())
            self._execution.replay(getattr(error, "flowlite_events", ()))
        self._execution.fail(index, error)

    def _replay_events(self, indices: list[int]) -> None:
        # With hooks, every call returns its events along with its outputs.
        # Only the events come to the client, as a task of their own on the
        # worker that stores the result.
        execution = self._execution
        if not indices or not execution.hooks:
            return
        client = self._client
        events = [
            client.submit(_events_of, self._futures[index], key=f"events-{self._token}-{index}")
            for index in indices
        ]
        for task_events in client.gather(events):
            execution.replay(task_events)

    def _gather(self, indices: range | list[int]) -> None:
        # With targets, only the tasks that produce a target are gathered.
        execution = self._execution
        tasks = execution.plan._tasks
        excluded = execution.remaining_reads or {}
        wanted = [
            index
            for index in indices
            if execution.finished[index]
            and index not in self._gathered
            and any(key not in excluded for key in tasks[index]._outputs)
        ]
        if not wanted:
            return
        # NOTE: a task with several outputs comes back whole, also when only
        # one of its outputs is a target.
        results = self._client.gather([self._futures[index] for index in wanted])
        for index, result in zip(wanted, results, strict=True):
            outputs = result.outputs if isinstance(result, Reported) else result
            for key, value in zip(tasks[index]._outputs, outputs, strict=True):
                if key not in excluded:
                    execution.values[key] = value
            self._gathered.add(index)

    def _cancel(self) -> None:
        pending = [future for future in self._futures if not future.done()]
        if pending:
            self._client.cancel(pending)
