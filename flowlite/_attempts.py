"""Attempts of one task: retries, timeouts and task events around the function call."""

from __future__ import annotations

import contextvars
import functools
import logging
import sys
import threading
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from types import FrameType
from typing import Any, final

from flowlite.errors import TaskTimeoutError
from flowlite.hooks import HookCaller, TaskEvent
from flowlite.task import Task

__all__ = ["AsyncCall", "Attempts", "Reported", "run_coroutine"]

logger = logging.getLogger("flowlite")


@final
@dataclass(frozen=True, slots=True)
class Reported:
    """A task's outputs plus the events that a caller's executor could not deliver live."""

    outputs: tuple[Any, ...]
    events: tuple[tuple[str, TaskEvent], ...]


class Attempts:
    """Calls a task's function with the task's retry policy and timeout.

    With `hooks`, the task events go to them as they happen, in the thread
    that runs the task. Without, as in another process, the call returns a
    `Reported` with the events for the scheduling thread to deliver; a
    failure carries them in its `flowlite_events` attribute.
    """

    __slots__ = ("_hooks", "_run_id", "_stop", "_task")

    def __init__(
        self, task: Task[..., Any], run_id: int, hooks: HookCaller | None, stop: threading.Event | None
    ) -> None:
        self._task = task
        self._run_id = run_id
        self._hooks = hooks
        self._stop = stop

    def __reduce__(self) -> tuple[Any, ...]:
        # Hooks and the stop flag belong to the scheduling process.
        return (Attempts, (self._task, self._run_id, None, None))

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        progress = _Progress(self)
        attempt = 1
        while True:
            started = time.perf_counter()
            try:
                outputs = self._task._split_result(self._call_once(args, kwargs, attempt))
            except BaseException as error:
                delay = progress.failed(error, attempt, started)
                if delay is None:
                    raise
                if self._wait(delay):
                    progress.stopped(error, attempt)
                    raise
                attempt += 1
                continue
            return progress.succeeded(outputs, attempt)

    async def call_async(self, *args: Any, **kwargs: Any) -> Any:
        """Await an `async def` task with its retries, timeout and events, on the running loop."""
        import asyncio

        progress = _Progress(self)
        attempt = 1
        while True:
            started = time.perf_counter()
            try:
                outputs = self._task._split_result(await self._await_once(args, kwargs, attempt))
            except BaseException as error:
                delay = progress.failed(error, attempt, started)
                if delay is None:
                    raise
                await asyncio.sleep(delay)
                if self._stopping():
                    progress.stopped(error, attempt)
                    raise
                attempt += 1
                continue
            return progress.succeeded(outputs, attempt)

    def _call_once(self, args: tuple[Any, ...], kwargs: dict[str, Any], attempt: int) -> Any:
        task = self._task
        if task.is_async:
            return run_coroutine(self._await_once(args, kwargs, attempt))
        timeout = task.timeout
        func: Callable[..., Any] = task.func
        if timeout is None:
            return func(*args, **kwargs)
        if _can_use_alarm():
            return _call_with_alarm(func, args, kwargs, timeout, task.name, attempt)
        return _call_in_thread(func, args, kwargs, timeout, task.name, attempt)

    async def _await_once(self, args: tuple[Any, ...], kwargs: dict[str, Any], attempt: int) -> Any:
        # asyncio cancels a coroutine that runs out of time, unlike a thread.
        import asyncio

        task = self._task
        if task.timeout is None:
            return await task.func(*args, **kwargs)
        try:
            async with asyncio.timeout(task.timeout):
                return await task.func(*args, **kwargs)
        except TimeoutError as error:
            if isinstance(error, TaskTimeoutError):
                raise
            raise _timeout_error(task.name, task.timeout, attempt, abandoned=False) from None

    def _stopping(self) -> bool:
        return self._stop is not None and self._stop.is_set()

    def _wait(self, seconds: float) -> bool:
        # Sleep before a retry; return True when the run stopped meanwhile.
        if self._stop is None:
            time.sleep(seconds)
            return False
        return self._stop.wait(seconds)


class _Progress:
    """The events of one task's attempts: start, retries, and the end or the error."""

    __slots__ = ("_attempts", "_events", "_started", "_worker")

    def __init__(self, attempts: Attempts) -> None:
        self._attempts = attempts
        self._events: list[tuple[str, TaskEvent]] = []
        self._worker = _worker_name()
        self._started = time.perf_counter()
        task = attempts._task
        self._emit("on_task_start", TaskEvent(attempts._run_id, task.name, time.time(), 1, self._worker))

    def _emit(self, name: str, event: TaskEvent) -> None:
        hooks = self._attempts._hooks
        if hooks is None:
            self._events.append((name, event))
        else:
            hooks.emit(name, event)

    def failed(self, error: BaseException, attempt: int, attempt_started: float) -> float | None:
        """Record a failed attempt; return the delay before the next one, or None if it was the last."""
        attempts = self._attempts
        task = attempts._task
        retry = task.retry
        now = time.perf_counter()
        if retry is not None and retry.should_retry(error, attempt) and not attempts._stopping():
            delay = retry.delay_before(attempt)
            if attempts._hooks is not None:
                # Otherwise the scheduling thread logs it when it replays the event.
                log_retry(task.name, attempt, retry.retries + 1, error, delay)
            event = TaskEvent(
                attempts._run_id,
                task.name,
                time.time(),
                attempt,
                self._worker,
                now - attempt_started,
                error,
                delay,
            )
            self._emit("on_task_retry", event)
            self._attach(error)
            return delay

        event = TaskEvent(
            attempts._run_id, task.name, time.time(), attempt, self._worker, now - self._started, error
        )
        self._emit("on_task_error", event)
        self._attach(error)
        return None

    def stopped(self, error: BaseException, attempt: int) -> None:
        """Record that the run stopped during the delay before a retry, so `error` is the task's last."""
        attempts = self._attempts
        duration = time.perf_counter() - self._started
        event = TaskEvent(
            attempts._run_id, attempts._task.name, time.time(), attempt, self._worker, duration, error
        )
        self._emit("on_task_error", event)
        self._attach(error)

    def _attach(self, error: BaseException) -> None:
        # A caller's executor delivers the events of a failed task with its exception.
        if self._events:
            error.flowlite_events = tuple(self._events)  # type: ignore[attr-defined]

    def succeeded(self, outputs: tuple[Any, ...], attempt: int) -> Any:
        """Record the end of the task; return what the scheduler stores."""
        attempts = self._attempts
        task = attempts._task
        event = TaskEvent(
            attempts._run_id,
            task.name,
            time.time(),
            attempt,
            self._worker,
            time.perf_counter() - self._started,
        )
        self._emit("on_task_end", event)
        if attempts._hooks is None:
            return Reported(outputs, tuple(self._events))
        # The scheduler splits the result again; a tuple of the right
        # length passes through unchanged.
        return outputs[0] if task._single_output else outputs


def log_retry(name: str, attempt: int, attempts: int, error: BaseException | None, delay: float) -> None:
    """Log the warning for a failed attempt that will be retried."""
    logger.warning(
        "task %r attempt %d of %d failed with %r; retrying in %.3g s", name, attempt, attempts, error, delay
    )


def run_coroutine(coroutine: Coroutine[Any, Any, Any]) -> Any:
    """Run a coroutine to completion from synchronous code, in this thread if it has no running loop."""
    import asyncio

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)

    # The thread already runs an event loop (run() called from async code),
    # so the coroutine gets a loop of its own in another thread.
    call = _ThreadCall(functools.partial(asyncio.run, coroutine), "flowlite-async")
    call.wait(None)
    return call.result()


class AsyncCall:
    """Runs an `async def` task from a synchronous scheduler; picklable by its task."""

    __slots__ = ("_task",)

    def __init__(self, task: Task[..., Any]) -> None:
        self._task = task

    def __reduce__(self) -> tuple[Any, ...]:
        return (AsyncCall, (self._task,))

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return run_coroutine(self._task.func(*args, **kwargs))


def _worker_name() -> str:
    thread = threading.current_thread().name
    # A pool's worker process has imported multiprocessing; without it the
    # task runs in the process that started the run.
    multiprocessing = sys.modules.get("multiprocessing")
    if multiprocessing is None or multiprocessing.parent_process() is None:
        return thread
    return f"{multiprocessing.current_process().name}/{thread}"


def _timeout_error(name: str, timeout: float, attempt: int, abandoned: bool) -> TaskTimeoutError:
    detail = (
        "; the call goes on in an abandoned daemon thread until it returns, and its result is dropped"
        if abandoned
        else ""
    )
    msg = f"task {name!r} attempt {attempt} timed out after {timeout:g} s{detail}"
    return TaskTimeoutError(msg, task=name, timeout=timeout, attempt=attempt)


def _can_use_alarm() -> bool:
    # In the main thread of a pool's worker process, SIGALRM interrupts the
    # call itself, so a timed-out attempt really stops. Elsewhere the signal
    # would reach the caller's own program.
    import signal

    multiprocessing = sys.modules.get("multiprocessing")
    return (
        multiprocessing is not None
        and hasattr(signal, "setitimer")
        and multiprocessing.parent_process() is not None
        and threading.current_thread() is threading.main_thread()
        and signal.getsignal(signal.SIGALRM) in (signal.SIG_DFL, signal.SIG_IGN, None)
    )


def _call_with_alarm(
    func: Callable[..., Any],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    timeout: float,
    name: str,
    attempt: int,
) -> Any:
    import signal

    def expire(signum: int, frame: FrameType | None) -> None:
        raise _timeout_error(name, timeout, attempt, abandoned=False)

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, timeout)
    try:
        return func(*args, **kwargs)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _call_in_thread(
    func: Callable[..., Any],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    timeout: float,
    name: str,
    attempt: int,
) -> Any:
    # A thread cannot be stopped, so the call runs in a daemon thread of its
    # own: on a timeout the worker moves on, and the abandoned thread blocks
    # neither later runs nor interpreter exit.
    call = _ThreadCall(functools.partial(func, *args, **kwargs), f"flowlite-timeout-{name}")
    if not call.wait(timeout):
        logger.warning(
            "task %r attempt %d timed out after %g s; abandoning its thread", name, attempt, timeout
        )
        raise _timeout_error(name, timeout, attempt, abandoned=True)
    return call.result()


class _ThreadCall:
    """A call running in a daemon thread of its own, in a copy of the caller's context."""

    __slots__ = ("_abandoned", "_done", "_outcome")

    def __init__(self, call: Callable[[], Any], name: str) -> None:
        self._done = threading.Event()
        self._abandoned = False
        self._outcome: tuple[bool, Any] = (False, None)
        context = contextvars.copy_context()
        threading.Thread(target=context.run, args=(self._run, call, name), name=name, daemon=True).start()

    def _run(self, call: Callable[[], Any], name: str) -> None:
        try:
            self._outcome = (True, call())
        except BaseException as error:
            self._outcome = (False, error)
            if self._abandoned:
                # The caller no longer waits for this call, so its failure is logged.
                logger.error("%s raised %r after its caller stopped waiting for it", name, error)
        finally:
            self._done.set()

    def wait(self, timeout: float | None) -> bool:
        """Wait for the call to end; on a timeout, abandon it and return False."""
        if self._done.wait(timeout):
            return True
        self._abandoned = True
        return self._done.is_set()

    def result(self) -> Any:
        """Return the call's value or raise its exception."""
        succeeded, value = self._outcome
        if succeeded:
            return value
        raise value
