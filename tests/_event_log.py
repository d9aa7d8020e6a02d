"""`EventLog`, a hook that stores every run and task event for the tests to inspect."""

from __future__ import annotations

import threading
from dataclasses import dataclass

from flowlite import Hooks, RunInfo, TaskEvent


@dataclass(frozen=True)
class Received:
    """One event as a hook received it, with the thread that delivered it."""

    kind: str
    payload: TaskEvent | RunInfo
    thread: str
    thread_id: int


class EventLog(Hooks):
    """Stores the events of the runs it observes, in the order they arrived."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.received: list[Received] = []

    def _add(self, kind: str, payload: TaskEvent | RunInfo) -> None:
        thread = threading.current_thread()
        with self._lock:
            self.received.append(Received(kind, payload, thread.name, thread.ident or 0))

    def on_run_start(self, run: RunInfo) -> None:
        self._add("run_start", run)

    def on_run_end(self, run: RunInfo) -> None:
        self._add("run_end", run)

    def on_task_start(self, event: TaskEvent) -> None:
        self._add("start", event)

    def on_task_end(self, event: TaskEvent) -> None:
        self._add("end", event)

    def on_task_error(self, event: TaskEvent) -> None:
        self._add("error", event)

    def on_task_retry(self, event: TaskEvent) -> None:
        self._add("retry", event)

    def on_task_skip(self, event: TaskEvent) -> None:
        self._add("skip", event)

    def kinds(self) -> list[str]:
        """Return the kind of every event, in arrival order."""
        with self._lock:
            return [item.kind for item in self.received]

    def kinds_of(self, task: str) -> list[str]:
        """Return the kinds of the events of one task, in arrival order."""
        with self._lock:
            return [
                item.kind
                for item in self.received
                if isinstance(item.payload, TaskEvent) and item.payload.task == task
            ]

    def task_events(self, kind: str, task: str | None = None) -> list[TaskEvent]:
        """Return the task events of one kind, optionally of one task."""
        with self._lock:
            return [
                item.payload
                for item in self.received
                if item.kind == kind
                and isinstance(item.payload, TaskEvent)
                and (task is None or item.payload.task == task)
            ]

    def run_infos(self, kind: str) -> list[RunInfo]:
        """Return the `RunInfo` of every `run_start` or `run_end` event."""
        with self._lock:
            return [
                item.payload
                for item in self.received
                if isinstance(item.payload, RunInfo) and item.kind == kind
            ]
