"""The default scheduler: the calling thread and up to `max_workers - 1` pool threads.

Every participating thread schedules for itself: it takes a ready task
under one lock, runs it without the lock, then records the outputs and
releases the tasks that became ready. There is no central dispatcher to
hand work to, so a chain of tasks runs entirely in the calling thread, and
a slow task in one thread never delays the bookkeeping of the others.
Threads are started only when more tasks are ready than threads are idle,
and they end with the run.
"""

from __future__ import annotations

import contextvars
import heapq
import threading
import time
from collections import deque
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flowlite._execution import Execution

__all__ = ["ThreadScheduler"]

# A task this slow makes the order of ready tasks worth computing.
_SLOW_SECONDS = 0.001


class ThreadScheduler:
    """One run of a plan on the calling thread plus lazily started pool threads."""

    def __init__(self, execution: Execution, *, report_stages: bool) -> None:
        plan = execution.plan
        self._execution = execution
        self._max_threads = execution.max_workers - 1
        self._report_stages = report_stages

        self._condition = threading.Condition(threading.Lock())
        self._counts = list(plan._dependency_counts)
        initial = [index for index, count in enumerate(self._counts) if count == 0]
        # With slow tasks and several threads, the order of ready tasks
        # decides the makespan, so the longest measured path goes first.
        self._ready: deque[int] | _RankedQueue = (
            _RankedQueue(initial, _remaining_seconds(execution))
            if plan._timings.slow and self._max_threads > 0
            else deque(initial)
        )
        self._active = 0
        self._idle = 0
        self._threads: list[threading.Thread] = []
        self._closing = False
        self._stage_left = [len(stage) for stage in plan._stages]
        self._next_stage = 0
        self._completed_stages: deque[int] = deque()
        self._internal_error: BaseException | None = None
        self._context = contextvars.copy_context()

    def steps(self) -> Iterator[int]:
        """Run the plan in the calling thread, yielding stage indices as stages complete.

        Stage indices are yielded only when the scheduler reports stages.
        """
        wait_for_threads = True
        try:
            while True:
                stage = self._work(main=True)
                if stage is None:
                    break
                yield stage
            if self._internal_error is not None:
                raise self._internal_error
        except GeneratorExit:
            # The consumer of stream() closed it: start nothing more and
            # wait below for the tasks that are running.
            self.wake(stop=True)
            raise
        except BaseException:
            # KeyboardInterrupt or another exception in the calling thread
            # returns at once, without waiting for running tasks.
            wait_for_threads = False
            self.wake(stop=True)
            raise
        finally:
            with self._condition:
                self._closing = True
                self._condition.notify_all()
            if wait_for_threads:
                for thread in self._threads:
                    thread.join()

    def wake(self, *, stop: bool = False) -> None:
        """Make every thread look at the run's stop flag; any thread may call it."""
        with self._condition:
            if stop:
                self._execution.stop()
            if self._execution.stopped:
                self._ready.clear()
            self._condition.notify_all()

    def _spawn(self) -> None:
        # Each pool thread runs in its own copy of the context of the thread
        # that started the run, so tasks see the caller's context variables
        # wherever they run (a context can be entered by one thread at a time).
        number = len(self._threads) + 1
        context = self._context.copy()
        thread = threading.Thread(
            target=context.run, args=(self._thread_main,), name=f"flowlite-worker-{number}", daemon=True
        )
        self._threads.append(thread)
        thread.start()

    def _thread_main(self) -> None:
        try:
            self._work(main=False)
        except BaseException as error:
            # Only a flowlite bug gets here, because task exceptions are
            # recorded as failures; the calling thread raises it.
            with self._condition:
                self._internal_error = error
                self._execution.stop()
                self._ready.clear()
                self._condition.notify_all()

    def _work(self, *, main: bool) -> int | None:
        # Take and run ready tasks until the run is over; the calling thread
        # also returns the index of each completed stage it must report.
        execution = self._execution
        plan = execution.plan
        tasks = plan._tasks
        calls = execution.calls
        getters = plan._getters
        dependents = plan._dependents
        values = execution.values
        finished = execution.finished
        started = execution.started
        # Only hooks read which tasks started (to report the others as skipped).
        track_started = bool(execution.hooks)
        release = execution.remaining_reads is not None
        ready = self._ready
        counts = self._counts
        condition = self._condition
        report_stages = self._report_stages
        timings = plan._timings
        seconds = timings.seconds
        clock = time.perf_counter
        slow_seconds = _SLOW_SECONDS

        with condition:
            while True:
                if report_stages and main and self._completed_stages:
                    return self._completed_stages.popleft()

                if ready and not execution.stopped:
                    index = ready.popleft()
                    spawn = False
                    if ready:
                        if self._idle:
                            condition.notify(min(self._idle, len(ready)))
                        else:
                            spawn = len(self._threads) < self._max_threads
                    func, positional, keywords, outputs, single = calls[index]
                    getter = getters[index]
                    if getter is None:
                        args: Any = ()
                    elif len(positional) == 1:
                        args = (getter(values),)
                    else:
                        args = getter(values)
                    kwargs = {name: values[key] for name, key in keywords} if keywords else None
                    self._active += 1
                    if track_started:
                        started.add(index)

                    condition.release()
                    try:
                        if spawn:
                            self._spawn()
                        error: BaseException | None = None
                        began = clock()
                        try:
                            result = func(*args, **kwargs) if kwargs else func(*args)
                            if not single:
                                result = tasks[index]._split_result(result)
                        except BaseException as caught:
                            error = caught
                    finally:
                        elapsed = clock() - began
                        condition.acquire()

                    self._active -= 1
                    if error is not None:
                        execution.fail(index, error)
                        if execution.stopped:
                            ready.clear()
                            condition.notify_all()
                        elif not self._active and not ready:
                            condition.notify_all()
                        if main and not isinstance(error, Exception):
                            raise error
                        del error
                        continue

                    if single:
                        values[outputs[0]] = result
                    else:
                        values.update(zip(outputs, result, strict=True))
                    # An idle thread must not keep released values alive.
                    del args, kwargs, result
                    earlier = seconds[index]
                    seconds[index] = (earlier + elapsed) / 2 if earlier else elapsed
                    # Two slow runs in a row: one alone may be a pause, such
                    # as a wait for the GIL, in a task that is really quick.
                    if elapsed > slow_seconds and earlier > slow_seconds:
                        timings.slow = True
                    finished[index] = 1
                    if release:
                        execution.release_inputs(index)
                    for dependent in dependents[index]:
                        counts[dependent] -= 1
                        if counts[dependent] == 0:
                            ready.append(dependent)
                    if report_stages:
                        self._report_stage(index)
                    continue

                if self._active == 0 and (execution.stopped or not ready):
                    condition.notify_all()
                    return None
                if not main and self._closing:
                    return None
                self._idle += 1
                condition.wait()
                self._idle -= 1

    def _report_stage(self, index: int) -> None:
        stage_left = self._stage_left
        stage_left[self._execution.plan._stage_of[index]] -= 1
        reported = False
        while self._next_stage < len(stage_left) and stage_left[self._next_stage] == 0:
            self._completed_stages.append(self._next_stage)
            self._next_stage += 1
            reported = True
        if reported:
            self._condition.notify_all()


def _remaining_seconds(execution: Execution) -> list[float]:
    # For each task, its measured seconds plus the longest measured path
    # through the tasks that depend on it.
    plan = execution.plan
    seconds = plan._timings.seconds
    dependents = plan._dependents
    remaining = [0.0] * len(seconds)
    for index in range(len(seconds) - 1, -1, -1):
        longest = max((remaining[dependent] for dependent in dependents[index]), default=0.0)
        remaining[index] = seconds[index] + longest
    return remaining


class _RankedQueue:
    """Ready tasks, longest remaining path first, then plan order."""

    __slots__ = ("_heap", "_rank")

    def __init__(self, indices: list[int], rank: list[float]) -> None:
        self._rank = rank
        self._heap = [(-rank[index], index) for index in indices]
        heapq.heapify(self._heap)

    def append(self, index: int) -> None:
        heapq.heappush(self._heap, (-self._rank[index], index))

    def popleft(self) -> int:
        return heapq.heappop(self._heap)[1]

    def clear(self) -> None:
        self._heap.clear()

    def __len__(self) -> int:
        return len(self._heap)
