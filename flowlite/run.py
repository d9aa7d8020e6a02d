"""`run()` and `stream()`: dependency-driven execution of a plan on an executor."""

from __future__ import annotations

import logging
import os
import queue
import threading
from collections import deque
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from flowlite._threads import ThreadScheduler
from flowlite.errors import (
    InvalidArgumentError,
    MissingInputError,
    OverwriteError,
    RunFailed,
)
from flowlite.plan import Call, Plan, plan
from flowlite.registry import Registry
from flowlite.state import State, _check_key
from flowlite.task import Task

if TYPE_CHECKING:
    from concurrent.futures import Executor, Future

__all__ = ["default_max_workers", "run", "stream"]

logger = logging.getLogger("flowlite")

AnyTask = Task[..., Any]


def default_max_workers() -> int:
    """Return the default thread count: `min(32, os.cpu_count() + 4)`.

    This is `ThreadPoolExecutor`'s own default, which suits tasks that wait
    on files and networks as well as short CPU-bound ones.
    """
    return min(32, (os.cpu_count() or 1) + 4)


def run(
    registry_or_plan: Plan | Registry | Iterable[AnyTask],
    initial_state: Mapping[str, Any],
    *,
    max_workers: int | None = None,
    executor: Executor | None = None,
    targets: Collection[str] | None = None,
    keep_going: bool = False,
) -> State:
    """Run every task of the plan and return the final state.

    A task starts as soon as its inputs exist. Without `executor`, at most
    `max_workers` tasks run at once (default `default_max_workers()`): the
    calling thread runs tasks itself, and pool threads named
    `flowlite-worker-N` start only while more tasks are ready than threads
    are free, so a chain of tasks never leaves the calling thread and
    `max_workers=1` starts no thread at all. `executor` takes any
    `concurrent.futures.Executor`, which then runs every task and is not
    shut down.

    A task's exception reaches the caller unchanged, with a note naming the
    task; no task starts after it, and `run()` returns only once the running
    tasks have finished. With `keep_going=True`, every task that does not
    depend on a failed one still runs, and `RunFailed` reports all failures
    at the end.
    """
    execution = _Execution(registry_or_plan, initial_state, max_workers, executor, targets, keep_going)
    for _ in execution.steps(report_stages=False):
        pass
    return execution.finish()


def stream(
    registry_or_plan: Plan | Registry | Iterable[AnyTask],
    initial_state: Mapping[str, Any],
    *,
    max_workers: int | None = None,
    executor: Executor | None = None,
    targets: Collection[str] | None = None,
    keep_going: bool = False,
) -> Iterator[State]:
    """Run like `run()`, yielding the state after each stage of the plan.

    The k-th state holds the initial state and the outputs of stages 0 to k,
    also when later tasks have already finished. While the consumer holds a
    state, pool threads go on with ready tasks but the calling thread runs
    none, and with a caller's `executor` no new task is submitted. Closing
    the generator early stops the run and waits for the running tasks.
    After a failure, the states of the stages completed before it have been
    yielded and the failure is raised as in `run()`.
    """
    # Validate here, so that a mistake raises at the call rather than at the
    # first next() of the returned generator.
    execution = _Execution(registry_or_plan, initial_state, max_workers, executor, targets, keep_going)
    return _stream_states(execution)


def _stream_states(execution: _Execution) -> Iterator[State]:
    current = State(execution.values)
    stages = execution.plan.stages
    for index in execution.steps(report_stages=True):
        produced = {key: execution.values[key] for item in stages[index] for key in item.outputs}
        current = current.with_values(produced)
        yield current
    execution.finish()


class _Cancelled(Exception):
    """Raised by a queued thread-pool call that finds the run already failed."""


def _call_guarded(
    abort: threading.Event,
    keep_going: bool,
    func: Callable[..., Any] | None,
    item: AnyTask,
    args: list[Any],
    kwargs: dict[str, Any],
) -> tuple[Any, ...]:
    # Thread pools share memory with the scheduler, so a queued call checks
    # the run's abort flag and never starts after a failure, even one the
    # scheduler has not seen yet.
    if abort.is_set():
        raise _Cancelled
    try:
        return _call(func, item, args, kwargs)
    except Exception:
        if not keep_going:
            abort.set()
        raise
    except BaseException:
        abort.set()
        raise


def _call(
    func: Callable[..., Any] | None, item: AnyTask, args: list[Any], kwargs: dict[str, Any]
) -> tuple[Any, ...]:
    # Module-level so that process pools can pickle it by reference. `func`
    # is None for the task's own function: the task pickles by reference,
    # but a decorated function does not, because its name refers to the task.
    result = (item.func if func is None else func)(*args, **kwargs)
    return (result,) if item._single_output else item._split_result(result)


class _Execution:
    """The mutable state of one run of a plan; used by one thread only."""

    def __init__(
        self,
        source: Plan | Registry | Iterable[AnyTask],
        initial_state: Mapping[str, Any],
        max_workers: int | None,
        executor: Executor | None,
        targets: Collection[str] | None,
        keep_going: bool,
    ) -> None:
        if not isinstance(initial_state, Mapping):
            msg = f"initial_state must be a mapping of keys to values, got {type(initial_state).__name__}"
            raise InvalidArgumentError(msg)
        self.values: dict[str, Any] = dict(initial_state)
        for key in self.values:
            _check_key(key)

        self.plan = _resolve_plan(source, self.values, targets)
        _check_initial_state(self.plan, self.values)
        # What the schedulers call for each task, in plan order. Run options
        # that act on every call (checks, retries) replace the function here.
        self.calls: Sequence[Call] = self.plan._calls
        self.keep_going = keep_going
        self.failures: dict[int, BaseException] = {}
        self.finished: set[int] = set()
        self._configure_executor(max_workers, executor)

    def _configure_executor(self, max_workers: int | None, executor: Executor | None) -> None:
        from concurrent.futures import Executor, ThreadPoolExecutor

        if max_workers is not None and (not isinstance(max_workers, int) or max_workers < 1):
            msg = f"max_workers must be a positive int, got {max_workers!r}"
            raise InvalidArgumentError(msg)
        if executor is not None and max_workers is not None:
            msg = (
                "max_workers sizes flowlite's own thread pool; with executor=..., size that executor instead"
            )
            raise InvalidArgumentError(msg)
        if executor is not None and not isinstance(executor, Executor):
            msg = (
                f"executor must be a concurrent.futures.Executor, got {type(executor).__name__}; "
                "for a Dask client pass client.get_executor()"
            )
            raise InvalidArgumentError(msg)

        self.executor = executor
        self.max_workers = max_workers or default_max_workers()
        self.guarded = isinstance(executor, ThreadPoolExecutor)
        self.abort = threading.Event()
        self.stopped = False

    def steps(self, *, report_stages: bool) -> Iterator[int]:
        """Run the plan; with `report_stages`, yield each stage index once it completes."""
        if self.executor is None:
            scheduler = ThreadScheduler(
                self.plan,
                self.values,
                max_workers=self.max_workers,
                keep_going=self.keep_going,
                report_stages=report_stages,
                failures=self.failures,
                finished=self.finished,
                calls=self.calls,
            )
            yield from scheduler.steps()
            return
        yield from self._steps_on_executor(report_stages)

    def _steps_on_executor(self, report_stages: bool) -> Iterator[int]:
        # The caller's executor runs every task; this thread only schedules.
        plan = self.plan
        tasks = plan._tasks
        dependents = plan._dependents
        stage_of = plan._stage_of
        values = self.values
        counts = list(plan._dependency_counts)
        ready = deque(index for index, count in enumerate(counts) if count == 0)
        stage_left = [len(stage) for stage in plan._stages]
        next_stage = 0
        done: queue.SimpleQueue[Future[tuple[Any, ...]]] = queue.SimpleQueue()
        running: dict[Future[tuple[Any, ...]], int] = {}
        interrupted = True

        try:
            while True:
                while ready and not self.stopped:
                    index = ready.popleft()
                    future = self._submit(index, values)
                    running[future] = index
                    future.add_done_callback(done.put)
                if not running:
                    break

                for index, result, failure in self._collect(done, running):
                    if failure is not None:
                        self._fail(index, failure, running)
                        continue
                    values.update(zip(tasks[index].outputs, result, strict=True))
                    self.finished.add(index)
                    for dependent in dependents[index]:
                        counts[dependent] -= 1
                        if counts[dependent] == 0:
                            ready.append(dependent)
                    stage_left[stage_of[index]] -= 1

                while report_stages and next_stage < len(stage_left) and stage_left[next_stage] == 0:
                    interrupted = False
                    try:
                        yield next_stage
                    finally:
                        interrupted = True
                    next_stage += 1
            interrupted = False
        except GeneratorExit:
            # The stream's consumer closed the generator at a yield: start
            # nothing more, and wait for the tasks that are running.
            self._stop(running)
            while running:
                self._collect(done, running)
            raise
        finally:
            if interrupted:
                # An exception in the scheduling thread, such as
                # KeyboardInterrupt: start nothing more and return without
                # waiting for the tasks that are running.
                self._stop(running)

    def _submit(self, index: int, values: dict[str, Any]) -> Future[tuple[Any, ...]]:
        func, positional, keywords, _, _ = self.calls[index]
        item = self.plan._tasks[index]
        args = [values[key] for key in positional]
        kwargs = {name: values[key] for name, key in keywords}
        replaced = None if func is item.func else func
        assert self.executor is not None
        if self.guarded:
            return self.executor.submit(
                _call_guarded, self.abort, self.keep_going, replaced, item, args, kwargs
            )
        return self.executor.submit(_call, replaced, item, args, kwargs)

    def _collect(
        self,
        done: queue.SimpleQueue[Future[tuple[Any, ...]]],
        running: dict[Future[tuple[Any, ...]], int],
    ) -> list[tuple[int, tuple[Any, ...], BaseException | None]]:
        # Wait for one future to finish, then take every other finished one.
        finished = [done.get()]
        while True:
            try:
                finished.append(done.get_nowait())
            except queue.Empty:
                break

        outcome: list[tuple[int, tuple[Any, ...], BaseException | None]] = []
        for future in finished:
            index = running.pop(future)
            if future.cancelled():
                continue
            error = future.exception()
            if isinstance(error, _Cancelled):
                continue
            outcome.append((index, () if error is not None else future.result(), error))
        return outcome

    def _fail(self, index: int, error: BaseException, running: dict[Future[tuple[Any, ...]], int]) -> None:
        name = self.plan._tasks[index].name
        error.add_note(f"flowlite: raised by task {name!r}")
        self.failures[index] = error
        if not self.keep_going or not isinstance(error, Exception):
            self._stop(running)

    def _stop(self, running: dict[Future[tuple[Any, ...]], int]) -> None:
        # Queued calls are cancelled, and the abort flag stops any that a
        # pool thread takes before the cancellation reaches it.
        self.stopped = True
        self.abort.set()
        for future in running:
            future.cancel()

    def finish(self) -> State:
        """Return the final state, or raise the run's failures."""
        if not self.failures:
            return State._from_owned(self.values)

        errors = list(self.failures.values())
        if not self.keep_going or not all(isinstance(error, Exception) for error in errors):
            first = (
                next(e for e in errors if not isinstance(e, Exception))
                if not all(isinstance(e, Exception) for e in errors)
                else errors[0]
            )
            for index, other in self.failures.items():
                if other is not first:
                    name = self.plan._tasks[index].name
                    first.add_note(f"flowlite: task {name!r} also failed: {other!r}")
            try:
                raise first
            finally:
                del first, errors

        tasks = self.plan._tasks
        failures = {tasks[index].name: error for index, error in self.failures.items()}
        skipped = [
            item.name
            for index, item in enumerate(tasks)
            if index not in self.finished and index not in self.failures
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
