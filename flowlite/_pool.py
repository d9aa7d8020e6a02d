"""The scheduler for a caller's executor: submit ready tasks, collect finished ones."""

from __future__ import annotations

import contextvars
import queue
import threading
from collections import deque
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from flowlite._attempts import Reported
from flowlite.task import Task

if TYPE_CHECKING:
    from concurrent.futures import Future

    from flowlite._execution import Execution

__all__ = ["ExecutorScheduler"]

AnyTask = Task[..., Any]
Outcome = tuple[int, tuple[Any, ...], BaseException | None]


class _Cancelled(Exception):
    """Raised by a queued thread-pool call that finds the run already stopped."""


def _call_guarded(
    abort: threading.Event,
    keep_going: bool,
    func: Callable[..., Any] | None,
    item: AnyTask,
    args: list[Any],
    kwargs: dict[str, Any],
) -> tuple[Any, ...] | Reported:
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
) -> tuple[Any, ...] | Reported:
    # Module-level so that process pools can pickle it by reference. `func`
    # is None for the task's own function: the task pickles by reference,
    # but a decorated function does not, because its name refers to the task.
    result = (item.func if func is None else func)(*args, **kwargs)
    if isinstance(result, Reported):
        return result
    return (result,) if item._single_output else item._split_result(result)


def take_finished(done: queue.SimpleQueue[Any]) -> list[Any]:
    """Wait for one finished future, then take every other one already queued.

    A None in the queue only wakes the scheduler and is dropped.
    """
    finished = [done.get()]
    while True:
        try:
            finished.append(done.get_nowait())
        except queue.Empty:
            break
    return [future for future in finished if future is not None]


class ExecutorScheduler:
    """Runs a plan on a caller's `concurrent.futures.Executor`; this thread only schedules."""

    def __init__(self, execution: Execution) -> None:
        from concurrent.futures import ThreadPoolExecutor

        self._execution = execution
        executor = execution.executor
        assert executor is not None
        self._executor = executor
        self._guarded = isinstance(executor, ThreadPoolExecutor)
        self._done: queue.SimpleQueue[Future[Any] | None] = queue.SimpleQueue()
        self._running: dict[Future[Any], int] = {}
        self._context = contextvars.copy_context()

    def wake(self) -> None:
        """Make the scheduling loop look at the run's stop flag; any thread may call it."""
        self._done.put(None)

    def steps(self, *, report_stages: bool) -> Iterator[int]:
        """Run the plan, yielding each stage index once it completes when `report_stages`."""
        execution = self._execution
        plan = execution.plan
        stage_of = plan._stage_of
        counts = list(plan._dependency_counts)
        ready = deque(index for index, count in enumerate(counts) if count == 0)
        stage_left = [len(stage) for stage in plan._stages]
        next_stage = 0
        running = self._running
        interrupted = True

        try:
            while True:
                if execution.abort.is_set():
                    self._stop()
                while ready and not execution.stopped:
                    index = ready.popleft()
                    future = self._submit(index)
                    execution.started.add(index)
                    running[future] = index
                    future.add_done_callback(self._done.put)
                if not running:
                    break

                for index, result, failure in self._collect():
                    if failure is not None:
                        execution.fail(index, failure)
                        if execution.stopped:
                            self._stop()
                        continue
                    execution.complete(index, result, counts, ready)
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
            execution.stop()
            self._stop()
            while running:
                self._collect()
            raise
        finally:
            if interrupted:
                # An exception in the scheduling thread, such as
                # KeyboardInterrupt: start nothing more and return without
                # waiting for the tasks that are running.
                execution.stop()
                self._stop()

    def _submit(self, index: int) -> Future[Any]:
        execution = self._execution
        func, positional, keywords, _, _ = execution.calls[index]
        item = execution.plan._tasks[index]
        values = execution.values
        args = [values[key] for key in positional]
        kwargs = {name: values[key] for name, key in keywords}
        replaced = None if func is item.func else func
        if self._guarded:
            # Same process: the call runs in a copy of the run's context, so
            # cancelled() and the caller's context variables work there too.
            return self._executor.submit(
                self._context.copy().run,
                _call_guarded,
                execution.abort,
                execution.keep_going,
                replaced,
                item,
                args,
                kwargs,
            )
        return self._executor.submit(_call, replaced, item, args, kwargs)

    def _collect(self) -> list[Outcome]:
        outcome: list[Outcome] = []
        for future in take_finished(self._done):
            index = self._running.pop(future)
            if future.cancelled():
                continue
            error = future.exception()
            if isinstance(error, _Cancelled):
                continue
            if error is not None:
                self._execution.replay(getattr(error, "flowlite_events", ()))
                outcome.append((index, (), error))
                continue
            result = future.result()
            if isinstance(result, Reported):
                self._execution.replay(result.events)
                result = result.outputs
            outcome.append((index, result, None))
        return outcome

    def _stop(self) -> None:
        # Queued calls are cancelled, and the abort flag stops any that a
        # pool thread takes before the cancellation reaches it.
        for future in self._running:
            future.cancel()
