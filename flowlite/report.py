"""`RunReport`: a hook that records where the time of a run went."""

from __future__ import annotations

import json
import os
import threading
from dataclasses import dataclass, field
from typing import Any, Literal, final

from flowlite.hooks import Hooks, RunInfo, TaskEvent

__all__ = ["RunReport", "TaskRecord"]

TaskStatus = Literal["running", "ok", "failed", "skipped"]


@final
@dataclass(slots=True)
class TaskRecord:
    """The record that a `RunReport` keeps for one task of the run.

    Times are wall-clock seconds (`time.time()`); `start` and `end` are None
    for a skipped task. `worker` is the thread, or process and thread, that
    ran the task, and `error` the `repr` of its last exception.
    """

    task: str
    status: TaskStatus = "running"
    start: float | None = None
    end: float | None = None
    attempts: int = 0
    worker: str = ""
    error: str | None = None
    retries: list[tuple[int, str, float, float]] = field(default_factory=list)
    """Per failed attempt that was retried: its number, the error's repr, the delay and the time."""

    @property
    def duration(self) -> float | None:
        """Seconds from the start of the first attempt to the end of the last."""
        if self.start is None or self.end is None:
            return None
        return self.end - self.start


@final
class RunReport(Hooks):
    """Records every task of the runs it observes: pass it in `hooks=[report]`.

    `records` lists the tasks in the order they started (skipped tasks
    last); `str(report)` is a text table; `to_chrome_trace()` returns the
    run in the Chrome trace event format, which Perfetto and
    `chrome://tracing` open as a timeline. One report can observe several
    runs; each record then belongs to the run it names in `run_ids`.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._records: dict[tuple[int, str], TaskRecord] = {}
        self._runs: dict[int, RunInfo] = {}

    # Hooks

    def on_run_start(self, run: RunInfo) -> None:
        with self._lock:
            self._runs[run.run_id] = run

    def on_run_end(self, run: RunInfo) -> None:
        with self._lock:
            self._runs[run.run_id] = run

    def on_task_start(self, event: TaskEvent) -> None:
        with self._lock:
            self._records[(event.run_id, event.task)] = TaskRecord(
                event.task, "running", start=event.time, attempts=1, worker=event.worker
            )

    def on_task_retry(self, event: TaskEvent) -> None:
        with self._lock:
            record = self._record(event)
            record.attempts = event.attempt + 1
            record.retries.append((event.attempt, repr(event.error), event.delay or 0.0, event.time))

    def on_task_end(self, event: TaskEvent) -> None:
        with self._lock:
            record = self._record(event)
            record.status = "ok"
            record.end = event.time
            record.attempts = event.attempt

    def on_task_error(self, event: TaskEvent) -> None:
        with self._lock:
            record = self._record(event)
            record.status = "failed"
            record.end = event.time
            record.attempts = event.attempt
            record.error = repr(event.error)

    def on_task_skip(self, event: TaskEvent) -> None:
        # An interrupted run also reports the tasks still running as
        # skipped; their records keep the start they have.
        with self._lock:
            key = (event.run_id, event.task)
            if key not in self._records:
                self._records[key] = TaskRecord(event.task, "skipped", error=event.reason)

    def _record(self, event: TaskEvent) -> TaskRecord:
        # A caller's executor delivers all events of a task at once, in order.
        key = (event.run_id, event.task)
        if key not in self._records:
            self._records[key] = TaskRecord(event.task, start=event.time, worker=event.worker)
        return self._records[key]

    # Results

    @property
    def records(self) -> list[TaskRecord]:
        """The task records, ordered by start time, skipped tasks last."""
        with self._lock:
            records = list(self._records.values())
        return sorted(records, key=lambda r: (r.start is None, r.start or 0.0))

    @property
    def run_ids(self) -> list[int]:
        """The ids of the runs observed, in start order."""
        with self._lock:
            return list(self._runs)

    def table(self) -> str:
        """Return the records as a fixed-width text table, times relative to the first start."""
        records = self.records
        starts = [r.start for r in records if r.start is not None]
        origin = min(starts) if starts else 0.0
        header = ("task", "status", "start s", "duration s", "attempts", "worker")
        rows = [
            (
                r.task,
                r.status,
                "" if r.start is None else f"{r.start - origin:.3f}",
                "" if r.duration is None else f"{r.duration:.3f}",
                str(r.attempts),
                r.worker,
            )
            for r in records
        ]
        widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
        lines = [
            "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
            for line in [header, *rows]
        ]
        lines.insert(1, "  ".join("-" * width for width in widths))
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.table()

    def to_chrome_trace(self) -> dict[str, Any]:
        """Return the runs as a Chrome trace: one complete event per task, one track per worker.

        Times are microseconds since the first task's start. Retries appear
        as instant events on the task's track.
        """
        records = [r for r in self.records if r.start is not None]
        origin = min((r.start for r in records if r.start is not None), default=0.0)
        tracks: dict[str, int] = {}
        events: list[dict[str, Any]] = []
        for record in records:
            assert record.start is not None
            track = tracks.setdefault(record.worker or "?", len(tracks) + 1)
            end = record.end if record.end is not None else record.start
            events.append(
                {
                    "name": record.task,
                    "cat": record.status,
                    "ph": "X",
                    "ts": round((record.start - origin) * 1e6, 3),
                    "dur": round((end - record.start) * 1e6, 3),
                    "pid": os.getpid(),
                    "tid": track,
                    "args": {"status": record.status, "attempts": record.attempts, "error": record.error},
                }
            )
            for attempt, error, delay, when in record.retries:
                events.append(
                    {
                        "name": f"retry after attempt {attempt}",
                        "ph": "i",
                        "s": "t",
                        "ts": round((when - origin) * 1e6, 3),
                        "pid": os.getpid(),
                        "tid": track,
                        "args": {"error": error, "delay_s": delay},
                    }
                )
        for worker, track in tracks.items():
            events.append(
                {"name": "thread_name", "ph": "M", "pid": os.getpid(), "tid": track, "args": {"name": worker}}
            )
        return {"traceEvents": events, "displayTimeUnit": "ms"}

    def write_chrome_trace(self, path: str | os.PathLike[str]) -> None:
        """Write `to_chrome_trace()` as JSON to `path`."""
        with open(path, "w", encoding="utf-8") as file:
            json.dump(self.to_chrome_trace(), file)
