"""`CancelToken` and `cancelled()`: stopping a run from outside, and noticing it from inside."""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Callable
from typing import final

__all__ = ["CancelToken", "cancelled"]


@final
class CancelToken:
    """A flag that stops the runs it is passed to, from any thread.

    After `cancel()`, a run started with `run(..., cancel=token)` starts no
    new task, waits for the tasks that are running and raises
    `RunCancelled`. A token stays cancelled; use a new one for a new run.
    """

    __slots__ = ("_callbacks", "_event", "_lock")

    def __init__(self) -> None:
        self._event = threading.Event()
        self._lock = threading.Lock()
        self._callbacks: list[Callable[[], None]] = []

    def cancel(self) -> None:
        """Cancel every run that uses this token."""
        with self._lock:
            if self._event.is_set():
                return
            self._event.set()
            callbacks = list(self._callbacks)
        for callback in callbacks:
            callback()

    @property
    def cancelled(self) -> bool:
        """Whether `cancel()` was called."""
        return self._event.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until cancelled or until `timeout` seconds pass; return `cancelled`."""
        return self._event.wait(timeout)

    def _subscribe(self, callback: Callable[[], None]) -> Callable[[], None]:
        # Call `callback` once on cancellation (at once if already cancelled);
        # returns the function that unsubscribes it.
        with self._lock:
            if not self._event.is_set():
                self._callbacks.append(callback)
                return lambda: self._unsubscribe(callback)
        callback()
        return lambda: None

    def _unsubscribe(self, callback: Callable[[], None]) -> None:
        with self._lock:
            if callback in self._callbacks:
                self._callbacks.remove(callback)

    def __repr__(self) -> str:
        return f"<CancelToken cancelled={self.cancelled}>"


# The stop flag of the run whose task is executing in this context.
_current_stop: contextvars.ContextVar[threading.Event | None] = contextvars.ContextVar(
    "flowlite_current_stop", default=None
)


def cancelled() -> bool:
    """Return whether the run executing the calling task is stopping.

    A long task can poll this and return early. It turns True when the run
    is cancelled, interrupted or stopped by another task's failure, and is
    always False outside a run.
    """
    stop = _current_stop.get()
    return stop is not None and stop.is_set()
