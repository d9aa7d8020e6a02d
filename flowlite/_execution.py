"""One run of a plan: its setup, its options, and its result."""

from __future__ import annotations

import itertools
import os
import sys
import threading
import time
from collections import deque
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypedDict

from flowlite._cancel import CancelToken, _current_stop
from flowlite.errors import (
    InvalidArgumentError,
    MissingInputError,
    OverwriteError,
    RunCancelled,
    RunFailed,
)
from flowlite.plan import Call, Plan, plan
from flowlite.registry import Registry
from flowlite.state import State, _check_key
from flowlite.task import Task

# Hooks and the attempt wrapper load only for runs that use them.
if TYPE_CHECKING:
    from concurrent.futures import Executor

    from distributed import Client

    from flowlite.hooks import HookCaller, Hooks, RunStatus, TaskEvent

__all__ = ["Execution", "RunOptions", "default_max_workers"]


AnyTask = Task[..., Any]

_run_ids = itertools.count(1)


class RunOptions(TypedDict, total=False):
    """The keyword options of `run()`, `stream()` and their relatives.

    - `max_workers`: the most tasks that run at once on flowlite's own
      threads (default `default_max_workers()`).
    - `executor`: a `concurrent.futures.Executor` that runs every task
      instead, or a `distributed.Client` whose cluster does; it is not
      shut down.
    - `targets`: the keys wanted; only the tasks they need run, and the
      result holds the initial state and the targets.
    - `keep_going`: run every task that does not depend on a failed one,
      then raise `RunFailed`.
    - `hooks`: objects with `Hooks` methods that observe the run.
    - `cancel`: a `CancelToken` that stops the run from another thread.
    - `check_types`: check each initial-state value against the annotations
      of the tasks that read it, and each task's outputs against its return
      annotation before any other task sees them; a mismatch raises
      `TypeCheckError` (default False).
    """

    max_workers: int | None
    executor: Executor | Client | None
    targets: Collection[str] | None
    keep_going: bool
    hooks: Iterable[Hooks] | None
    cancel: CancelToken | None
    check_types: bool


def default_max_workers() -> int:
    """Return the default thread count: `min(32, os.cpu_count() + 4)`.

    This is `ThreadPoolExecutor`'s own default, which suits tasks that wait
    on files and networks as well as short CPU-bound ones.
    """
    return min(32, (os.cpu_count() or 1) + 4)


class _NoHooks:
    """The hooks of a run without hooks: false, and every event is dropped."""

    __slots__ = ()

    def __bool__(self) -> bool:
        return False

    def emit(self, name: str, payload: object) -> None:
        return None


_NO_HOOKS = _NoHooks()


def _debug_logging() -> bool:
    # Nothing can enable the logger before the program imported logging.
    logging = sys.modules.get("logging")
    return logging is not None and logging.getLogger("flowlite").isEnabledFor(logging.DEBUG)


class Execution:
    """The mutable state of one run; the schedulers read and update it."""

    def __init__(
        self,
        source: Plan | Registry | Iterable[AnyTask],
        initial_state: Mapping[str, Any],
        options: RunOptions,
        *,
        live_hooks: bool | None = None,
    ) -> None:
        unknown = set(options) - set(RunOptions.__annotations__)
        if unknown:
            known = sorted(RunOptions.__annotations__)
            msg = f"unknown run option(s) {sorted(unknown)!r}; the options are {known!r}"
            raise InvalidArgumentError(msg)
        if not isinstance(initial_state, Mapping):
            msg = f"initial_state must be a mapping of keys to values, got {type(initial_state).__name__}"
            raise InvalidArgumentError(msg)
        self.values: dict[str, Any] = dict(initial_state)
        for key in self.values:
            _check_key(key)

        targets = options.get("targets")
        self.plan = _resolve_plan(source, self.values, targets)
        _check_initial_state(self.plan, self.values)
        self.keep_going = bool(options.get("keep_going", False))
        self.failures: dict[int, BaseException] = {}
        # One byte per task in plan order, set when the task's outputs are stored.
        self.finished = bytearray(len(self.plan._tasks))
        # Tasks handed to a thread or an executor; only the schedulers that
        # may stop with tasks still running keep it.
        self.started: set[int] = set()
        self.abort = threading.Event()
        self.stopped = False
        self.cancelled = False
        self.run_id = next(_run_ids)
        self._configure_executor(options.get("max_workers"), options.get("executor"))
        self._configure_hooks(options.get("hooks"), options.get("cancel"))
        self._configure_release(targets)
        # Live hooks run in the thread of the task; otherwise the events come
        # back with the result. Threads that flowlite starts share the
        # caller's process, so they are live by default.
        self.live_hooks = self.executor is None if live_hooks is None else live_hooks

        # What the schedulers call for each task, in plan order. Tasks with
        # retries or a timeout, and every task of a run with hooks, go
        # through Attempts; async tasks get an event loop.
        self.calls: Sequence[Call] = self.plan._calls
        if self.hooks or self.plan._wrapped:
            self.calls = [self._wrap(index, call) for index, call in enumerate(self.plan._calls)]
        if options.get("check_types", False):
            from flowlite._runtime_checks import check_initial_values, checked_calls

            check_initial_values(self.plan, self.values)
            self.calls = checked_calls(self.plan, self.calls)
        if options.get("executor") is not None:
            # Before any task starts: what goes to other processes must pickle.
            from flowlite._preflight import check_picklable

            check_picklable(self.plan, self.calls, self.values, options.get("executor"))

    def _configure_executor(self, max_workers: int | None, executor: Executor | Client | None) -> None:
        from concurrent.futures import Executor

        from flowlite._dask import check_client, is_dask_client

        if max_workers is not None and (
            isinstance(max_workers, bool) or not isinstance(max_workers, int) or max_workers < 1
        ):
            msg = f"max_workers must be a positive int, got {max_workers!r}"
            raise InvalidArgumentError(msg)
        if executor is not None and max_workers is not None:
            msg = "max_workers sizes flowlite's own threads; with executor=..., size that executor instead"
            raise InvalidArgumentError(msg)
        if executor is not None and not isinstance(executor, Executor) and not is_dask_client(executor):
            msg = (
                "executor must be a concurrent.futures.Executor or a distributed.Client, "
                f"got {type(executor).__name__}"
            )
            raise InvalidArgumentError(msg)
        # run() and stream() give a Dask client to DaskScheduler. Code that
        # needs an Executor, such as arun(), gets the client's executor.
        self.dask_client: Client | None = None
        self.executor: Executor | None = None
        if is_dask_client(executor):
            self.dask_client = check_client(executor)
            self.executor = executor.get_executor(pure=False)  # type: ignore[no-untyped-call]
        else:
            self.executor = executor
        self.max_workers = max_workers or default_max_workers()

    def _configure_hooks(self, hooks: Iterable[Hooks] | None, cancel: CancelToken | None) -> None:
        if isinstance(hooks, (str, bytes)) or (hooks is not None and not isinstance(hooks, Iterable)):
            msg = f"hooks must be a list of hook objects, got {hooks!r}; write hooks=[hook]"
            raise InvalidArgumentError(msg)
        listed: list[object] = list(hooks or ())
        self.hooks: HookCaller | _NoHooks = _NO_HOOKS
        if listed or _debug_logging():
            from flowlite.hooks import DebugLog, HookCaller

            if _debug_logging():
                listed.append(DebugLog())
            self.hooks = HookCaller(listed)
        if cancel is not None and not isinstance(cancel, CancelToken):
            msg = f"cancel must be a flowlite.CancelToken, got {type(cancel).__name__}"
            raise InvalidArgumentError(msg)
        self.cancel = cancel
        self.interrupt: Any = None  # set by the scheduler: wakes it to see the stop flag
        self._unsubscribe: Any = None
        self._context_token: Any = None
        self._started = 0.0

    def _configure_release(self, targets: Collection[str] | None) -> None:
        # With targets, an intermediate value is dropped once every task that
        # reads it has finished, so a long chain keeps about two values.
        self.remaining_reads: dict[str, int] | None = None
        if targets is None:
            return
        wanted = set(targets)
        reads: dict[str, int] = {}
        for item in self.plan._tasks:
            for key in item._outputs:
                if key not in wanted:
                    reads[key] = 0
        for item in self.plan._tasks:
            for key in item._inputs:
                if key in reads:
                    reads[key] += 1
        self.remaining_reads = reads

    def _wrap(self, index: int, call: Call) -> Call:
        from flowlite._attempts import AsyncCall, Attempts

        item = self.plan._tasks[index]
        if not (self.hooks or item.retry or item.timeout):
            return (AsyncCall(item), *call[1:]) if item.is_async else call
        from flowlite.hooks import HookCaller

        # Attempts sends events live to a HookCaller, empty or not; without
        # one it returns them with the result.
        live = self.hooks if isinstance(self.hooks, HookCaller) else HookCaller(())
        attempts = Attempts(item, self.run_id, live if self.live_hooks else None, self.abort)
        return (attempts, *call[1:])

    # Lifecycle

    def __enter__(self) -> Execution:
        self._started = time.time()
        self._context_token = _current_stop.set(self.abort)
        if self.hooks:
            from flowlite.hooks import RunInfo

            self.hooks.emit("on_run_start", RunInfo(self.run_id, len(self.plan._tasks), self._started))
        if self.cancel is not None:
            self._unsubscribe = self.cancel._subscribe(self._on_cancel)
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
        _current_stop.reset(self._context_token)
        if self.hooks:
            from flowlite.hooks import RunInfo

            self._emit_skips()
            status: RunStatus = "ok" if error is None else self._status(error)
            info = RunInfo(self.run_id, len(self.plan._tasks), self._started, time.time(), status, error)
            self.hooks.emit("on_run_end", info)

    def _status(self, error: BaseException) -> RunStatus:
        if isinstance(error, RunCancelled):
            return "cancelled"
        if isinstance(error, Exception):
            return "failed"
        return "interrupted"

    def _on_cancel(self) -> None:
        self.cancelled = True
        self.stop()
        if self.interrupt is not None:
            self.interrupt()

    def _emit_skips(self) -> None:
        from flowlite.hooks import TaskEvent

        now = time.time()
        for index, item in enumerate(self.plan._tasks):
            if self.finished[index] or index in self.failures or index in self.started:
                continue
            reason = (
                "an input was not produced" if self.keep_going and not self.stopped else "the run stopped"
            )
            self.hooks.emit("on_task_skip", TaskEvent(self.run_id, item.name, now, 0, reason=reason))

    # Used by the schedulers

    def steps(self, *, report_stages: bool) -> Iterator[int]:
        """Run the plan; with `report_stages`, yield each stage index once it completes."""
        if self.dask_client is not None:
            from flowlite._dask import DaskScheduler

            cluster = DaskScheduler(self, self.dask_client)
            self.interrupt = cluster.wake
            yield from cluster.steps(report_stages=report_stages)
        elif self.executor is None:
            from flowlite._threads import ThreadScheduler

            scheduler = ThreadScheduler(self, report_stages=report_stages)
            self.interrupt = scheduler.wake
            yield from scheduler.steps()
        else:
            from flowlite._pool import ExecutorScheduler

            pool = ExecutorScheduler(self)
            self.interrupt = pool.wake
            yield from pool.steps(report_stages=report_stages)

    def stop(self) -> None:
        """Start no new task; any thread may call it."""
        self.stopped = True
        self.abort.set()

    def fail(self, index: int, error: BaseException) -> None:
        """Record the failure of task `index`; stop the run unless it keeps going."""
        name = self.plan._tasks[index].name
        error.add_note(f"flowlite: raised by task {name!r}")
        self.failures[index] = error
        if not self.keep_going or not isinstance(error, Exception):
            self.stop()

    def complete(self, index: int, outputs: Iterable[Any], counts: list[int], ready: deque[int]) -> None:
        """Store the outputs of task `index` and queue the tasks whose last input they were.

        The thread scheduler does the same inline, on its hot path.
        """
        plan = self.plan
        self.values.update(zip(plan._tasks[index]._outputs, outputs, strict=True))
        self.finished[index] = 1
        self.release_inputs(index)
        for dependent in plan._dependents[index]:
            counts[dependent] -= 1
            if counts[dependent] == 0:
                ready.append(dependent)

    def release_inputs(self, index: int) -> None:
        """Drop the values that no remaining task reads, once task `index` finished."""
        reads = self.remaining_reads
        if reads is None:
            return
        item = self.plan._tasks[index]
        for key in item._inputs:
            if key in reads:
                reads[key] -= 1
                if reads[key] == 0:
                    self.values.pop(key, None)
        for key in item._outputs:
            if reads.get(key) == 0:
                self.values.pop(key, None)

    def replay(self, events: Iterable[tuple[str, TaskEvent]]) -> None:
        """Deliver task events that a caller's executor brought back with a result."""
        from flowlite._attempts import log_retry

        for name, event in events:
            if name == "on_task_retry":
                retry = self._retries_of(event.task)
                log_retry(event.task, event.attempt, retry, event.error, event.delay or 0.0)
            self.hooks.emit(name, event)

    def _retries_of(self, name: str) -> int:
        for item in self.plan._tasks:
            if item.name == name and item.retry is not None:
                return item.retry.retries + 1
        return 1

    def finish(self) -> State:
        """Return the final state, or raise the run's failures or its cancellation."""
        if self.cancelled:
            # A cancellation explains failures that it caused, such as a
            # retry cut short, so the caller receives it. It is raised
            # even when every task finished, because a task may have returned
            # early on noticing cancelled().
            not_run = [item.name for index, item in enumerate(self.plan._tasks) if not self.finished[index]]
            names = ", ".join(map(repr, not_run[:10])) + (", ..." if len(not_run) > 10 else "")
            msg = (
                f"the run was cancelled before {len(not_run)} task(s) ran: {names}"
                if not_run
                else "the run was cancelled while its last tasks ran; their outputs are in .state"
            )
            cancelled = RunCancelled(msg, state=State._from_owned(self.values), not_run=not_run)
            for index, error in self.failures.items():
                cancelled.add_note(f"flowlite: task {self.plan._tasks[index].name!r} failed: {error!r}")
            raise cancelled
        if not self.failures:
            return State._from_owned(self.values)

        errors = list(self.failures.values())
        interrupts = [error for error in errors if not isinstance(error, Exception)]
        if not self.keep_going or interrupts:
            first = interrupts[0] if interrupts else errors[0]
            for index, other in self.failures.items():
                if other is not first:
                    name = self.plan._tasks[index].name
                    first.add_note(f"flowlite: task {name!r} also failed: {other!r}")
            try:
                raise first
            finally:
                del first, errors, interrupts

        tasks = self.plan._tasks
        failures = {tasks[index].name: error for index, error in self.failures.items()}
        skipped = [
            item.name
            for index, item in enumerate(tasks)
            if not self.finished[index] and index not in self.failures
        ]
        names = ", ".join(map(repr, failures))
        message = f"{len(failures)} task(s) failed: {names}; {len(skipped)} task(s) skipped"
        raise RunFailed(
            message,
            [error for error in errors if isinstance(error, Exception)],
            state=State._from_owned(self.values),
            failures={name: error for name, error in failures.items() if isinstance(error, Exception)},
            skipped=skipped,
        )


def _resolve_plan(
    source: Plan | Registry | Iterable[AnyTask], values: dict[str, Any], targets: Collection[str] | None
) -> Plan:
    if isinstance(source, Plan):
        if targets is None:
            return source
        available = source.available if source.available is not None else frozenset()
        # A provided key that the plan produces stays unavailable, so that
        # _check_initial_state reports the overwrite as it does without targets.
        provided = set(values).difference(source.outputs)
        return plan(source._registered, available=available | provided, targets=targets)
    if isinstance(source, (str, bytes, Mapping)) or not isinstance(source, Iterable):
        msg = f"run() needs a Plan, a Registry or an iterable of tasks, got {type(source).__name__}"
        raise InvalidArgumentError(msg)
    return plan(source, available=values.keys(), targets=targets)


def _check_initial_state(prepared: Plan, values: dict[str, Any]) -> None:
    for key in prepared.external_inputs:
        if key not in values:
            consumer = prepared.consumers_of(key)[0]
            import difflib

            suggestions = difflib.get_close_matches(key, list(values), n=3)
            hint = f" Did you mean {', '.join(map(repr, suggestions))}?" if suggestions else ""
            msg = (
                f"task {consumer.name!r} needs key {key!r}, which no task produces and the "
                f"initial state does not provide.{hint} Add it to the initial state"
            )
            raise MissingInputError(msg, task=consumer.name, key=key, suggestions=suggestions)

    for key in values:
        producer = prepared.producer_of(key)
        if producer is not None:
            msg = (
                f"the initial state provides {key!r}, which task {producer.name!r} of the plan "
                "would overwrite; build the plan with available=... to skip that task, or "
                "remove the key from the initial state"
            )
            raise OverwriteError(msg, task=producer.name, keys=[key])
