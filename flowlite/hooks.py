"""Run hooks: callbacks on run and task events, and the events they receive."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal, final

from flowlite.errors import InvalidArgumentError

__all__ = ["Hooks", "RunInfo", "TaskEvent"]

logger: logging.Logger = logging.getLogger("flowlite")

RunStatus = Literal["running", "ok", "failed", "cancelled", "interrupted"]


@final
@dataclass(frozen=True, slots=True)
class TaskEvent:
    """One event of one task in one run.

    `time` is the wall-clock time of the event (`time.time()`), `attempt`
    the 1-based attempt it belongs to, and `worker` the thread (or process
    and thread) that ran the task. `duration` is in seconds: the whole task
    for end and error events, the failed attempt for retry events. `error`
    is the exception of error and retry events, `delay` the seconds before
    the next attempt, and `reason` why a skipped task did not run.
    """

    run_id: int
    task: str
    time: float
    attempt: int = 1
    worker: str = ""
    duration: float | None = None
    error: BaseException | None = None
    delay: float | None = None
    reason: str | None = None


@final
@dataclass(frozen=True, slots=True)
class RunInfo:
    """A run as hooks see it at its start and at its end.

    `tasks` counts the tasks of the plan; `ended`, `error` and the final
    `status` are set at the end.
    """

    run_id: int
    tasks: int
    started: float
    ended: float | None = None
    status: RunStatus = "running"
    error: BaseException | None = None


class Hooks:
    """Base class for run observers; override the events you need.

    Task events arrive from the threads that run the tasks, possibly several
    at once, so an implementation that keeps state needs a lock. With a
    caller's executor, a task's events arrive in the scheduling thread when
    its result comes back. An exception raised by a hook is logged on the
    `flowlite` logger and never changes the run.
    """

    def on_run_start(self, run: RunInfo) -> None:
        """Called once before the first task starts."""

    def on_run_end(self, run: RunInfo) -> None:
        """Called once after the last task ended, also when the run failed."""

    def on_task_start(self, event: TaskEvent) -> None:
        """Called before the first attempt of a task."""

    def on_task_end(self, event: TaskEvent) -> None:
        """Called after a task returned a value that fits its outputs."""

    def on_task_error(self, event: TaskEvent) -> None:
        """Called after the last attempt of a task raised."""

    def on_task_retry(self, event: TaskEvent) -> None:
        """Called after a failed attempt that will be retried after `event.delay` seconds."""

    def on_task_skip(self, event: TaskEvent) -> None:
        """Called at the end of a run for each task that did not start."""


class DebugLog(Hooks):
    """Logs each task's start, end and error on the `flowlite` logger at DEBUG level."""

    def on_task_start(self, event: TaskEvent) -> None:
        logger.debug("run %d task %r started on %s", event.run_id, event.task, event.worker)

    def on_task_end(self, event: TaskEvent) -> None:
        logger.debug(
            "run %d task %r ended after %.6f s and %d attempt(s)",
            event.run_id,
            event.task,
            event.duration,
            event.attempt,
        )

    def on_task_error(self, event: TaskEvent) -> None:
        logger.debug(
            "run %d task %r failed after %d attempt(s): %r",
            event.run_id,
            event.task,
            event.attempt,
            event.error,
        )


_EVENTS = (
    "on_run_start",
    "on_run_end",
    "on_task_start",
    "on_task_end",
    "on_task_error",
    "on_task_retry",
    "on_task_skip",
)


@final
class HookCaller:
    """Calls every hook for an event, logging and dropping what a hook raises."""

    __slots__ = ("_hooks",)

    def __init__(self, hooks: Iterable[object]) -> None:
        hooks = tuple(hooks)
        for hook in hooks:
            if not any(callable(getattr(hook, name, None)) for name in _EVENTS):
                msg = (
                    f"hook {hook!r} has none of the methods {', '.join(_EVENTS)}; "
                    "subclass flowlite.Hooks and override the events you need"
                )
                raise InvalidArgumentError(msg)
        self._hooks = hooks

    def __bool__(self) -> bool:
        return bool(self._hooks)

    def emit(self, name: str, payload: TaskEvent | RunInfo) -> None:
        for hook in self._hooks:
            method = getattr(hook, name, None)
            if method is None:
                continue
            try:
                method(payload)
            except Exception:
                logger.exception("hook %r failed in %s; the run goes on", hook, name)
