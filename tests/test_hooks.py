"""Run hooks and logging: the events, their order and threads, failing hooks, and the `flowlite` logger."""

from __future__ import annotations

import contextvars
import logging
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import _tasks_for_faults
import pytest
from _event_log import EventLog

import flowlite
from flowlite import CancelToken, Hooks, InvalidArgumentError, RunCancelled, RunInfo, TaskEvent

# Timeout for events and barriers; passing tests never reach it.
WAIT_SECONDS = 5.0


@pytest.fixture(scope="module")
def process_pool() -> Iterator[ProcessPoolExecutor]:
    pool = _tasks_for_faults.start_process_pool()
    try:
        yield pool
    finally:
        pool.shutdown(wait=True)


def make_diamond() -> list[flowlite.Task[..., Any]]:
    """Return load -> (left, right) -> merge; left and right meet at a barrier, so they run at once."""
    both_running = threading.Barrier(2, timeout=WAIT_SECONDS)

    @flowlite.task(inputs=["raw"], outputs="load")
    def load(raw: str) -> str:
        return raw.upper()

    @flowlite.task(inputs=["load"], outputs="left")
    def left(load: str) -> str:
        both_running.wait()
        return load + "-left"

    @flowlite.task(inputs=["load"], outputs="right")
    def right(load: str) -> str:
        both_running.wait()
        return load + "-right"

    @flowlite.task(inputs=["left", "right"], outputs="merge")
    def merge(left: str, right: str) -> str:
        return f"{left}+{right}"

    return [load, left, right, merge]


def failing_chain() -> list[flowlite.Task[..., Any]]:
    """Return parse -> store, where parse raises ValueError."""

    @flowlite.task(inputs=["raw"], outputs="parsed")
    def parse(raw: str) -> str:
        raise ValueError(f"malformed record {raw!r}")

    @flowlite.task(inputs=["parsed"], outputs="stored")
    def store(parsed: str) -> str:
        return parsed

    return [parse, store]


# --- event order and content --------------------------------------------------------


def test_hooks_run_events_frame_task_events() -> None:
    log = EventLog()

    flowlite.run(make_diamond(), {"raw": "x"}, hooks=[log])

    kinds = log.kinds()
    assert kinds[0] == "run_start"
    assert kinds[-1] == "run_end"
    assert kinds.count("run_start") == 1
    assert kinds.count("run_end") == 1


@pytest.mark.parametrize("task", ["load", "left", "right", "merge"])
def test_hooks_task_starts_then_ends(task: str) -> None:
    log = EventLog()

    flowlite.run(make_diamond(), {"raw": "x"}, hooks=[log])

    assert log.kinds_of(task) == ["start", "end"]


def test_hooks_dependent_starts_after_producer_ends() -> None:
    log = EventLog()

    flowlite.run(make_diamond(), {"raw": "x"}, hooks=[log])

    order = [(item.kind, item.payload.task) for item in log.received if isinstance(item.payload, TaskEvent)]
    assert order.index(("end", "load")) < order.index(("start", "left"))
    assert order.index(("end", "left")) < order.index(("start", "merge"))
    assert order.index(("end", "right")) < order.index(("start", "merge"))


def test_hooks_run_info_describes_run() -> None:
    log = EventLog()
    before = time.time()

    flowlite.run(make_diamond(), {"raw": "x"}, hooks=[log])

    (start,) = log.run_infos("run_start")
    (end,) = log.run_infos("run_end")
    assert start.tasks == 4
    assert start.status == "running"
    assert start.ended is None
    assert end.run_id == start.run_id
    assert end.status == "ok"
    assert end.error is None
    assert end.ended is not None
    assert before <= start.started <= end.ended


def test_hooks_task_event_fields() -> None:
    log = EventLog()

    flowlite.run(make_diamond(), {"raw": "x"}, hooks=[log])

    (start,) = log.task_events("start", "merge")
    (end,) = log.task_events("end", "merge")
    (run_start,) = log.run_infos("run_start")
    assert start.run_id == run_start.run_id
    assert start.attempt == 1
    assert start.worker != ""
    assert end.worker == start.worker
    assert end.duration is not None
    assert end.duration >= 0
    assert end.time >= start.time
    assert end.error is None


def test_hooks_worker_names_running_thread() -> None:
    log = EventLog()

    flowlite.run(make_diamond(), {"raw": "x"}, hooks=[log])

    workers = {event.task: event.worker for event in log.task_events("start")}
    assert {workers["left"], workers["right"]} == {"MainThread", "flowlite-worker-1"}


def test_hooks_live_events_arrive_in_task_thread() -> None:
    log = EventLog()

    flowlite.run(make_diamond(), {"raw": "x"}, hooks=[log])

    for item in log.received:
        if isinstance(item.payload, TaskEvent) and item.kind in ("start", "end"):
            assert item.thread == item.payload.worker


def test_hooks_error_event_carries_exception() -> None:
    log = EventLog()

    with pytest.raises(ValueError, match="malformed record") as caught:
        flowlite.run(failing_chain(), {"raw": "x"}, hooks=[log])

    (error,) = log.task_events("error")
    assert error.task == "parse"
    assert error.error is caught.value
    assert error.attempt == 1
    assert log.kinds_of("parse") == ["start", "error"]


def test_hooks_failed_run_end_carries_error() -> None:
    log = EventLog()

    with pytest.raises(ValueError, match="malformed record") as caught:
        flowlite.run(failing_chain(), {"raw": "x"}, hooks=[log])

    (end,) = log.run_infos("run_end")
    assert end.status == "failed"
    assert end.error is caught.value


def test_hooks_skip_after_failure() -> None:
    log = EventLog()

    with pytest.raises(ValueError, match="malformed record"):
        flowlite.run(failing_chain(), {"raw": "x"}, hooks=[log])

    (skip,) = log.task_events("skip")
    assert skip.task == "store"
    assert skip.reason == "the run stopped"


def test_hooks_skip_reason_with_keep_going() -> None:
    log = EventLog()

    with pytest.raises(flowlite.RunFailed):
        flowlite.run(failing_chain(), {"raw": "x"}, hooks=[log], keep_going=True)

    (skip,) = log.task_events("skip")
    assert skip.reason == "an input was not produced"


def test_hooks_cancelled_run_status() -> None:
    log = EventLog()
    token = CancelToken()
    token.cancel()

    with pytest.raises(RunCancelled):
        flowlite.run(failing_chain(), {"raw": "x"}, hooks=[log], cancel=token)

    (end,) = log.run_infos("run_end")
    assert end.status == "cancelled"
    assert [event.task for event in log.task_events("skip")] == ["parse", "store"]


def test_hooks_interrupted_run_status() -> None:
    log = EventLog()

    @flowlite.task(inputs=["raw"], outputs="parsed")
    def interrupt(raw: str) -> str:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        flowlite.run([interrupt], {"raw": "x"}, hooks=[log])

    (end,) = log.run_infos("run_end")
    assert end.status == "interrupted"
    assert isinstance(end.error, KeyboardInterrupt)


def test_hooks_interrupt_skips_no_running_task() -> None:
    log = EventLog()
    slow_started = threading.Event()
    release = threading.Event()

    @flowlite.task(inputs=["raw"], outputs="parsed")
    def interrupt(raw: str) -> str:
        slow_started.wait(WAIT_SECONDS)
        raise KeyboardInterrupt

    @flowlite.task(inputs=["raw"], outputs="slow")
    def slow(raw: str) -> str:
        slow_started.set()
        release.wait(WAIT_SECONDS)
        return raw

    try:
        with pytest.raises(KeyboardInterrupt):
            flowlite.run([interrupt, slow], {"raw": "x"}, hooks=[log])
    finally:
        release.set()

    assert log.task_events("skip", "slow") == []


def test_hooks_retry_event_before_end() -> None:
    log = EventLog()
    attempts: list[int] = []

    @flowlite.task(inputs=["raw"], outputs="fetched", retries=2)
    def fetch(raw: str) -> int:
        attempts.append(1)
        if len(attempts) == 1:
            raise ConnectionError("reset")
        return len(attempts)

    flowlite.run([fetch], {"raw": "x"}, hooks=[log])

    assert log.kinds_of("fetch") == ["start", "retry", "end"]
    (retry,) = log.task_events("retry")
    assert isinstance(retry.error, ConnectionError)
    assert retry.delay == 0.0
    assert retry.duration is not None


def test_hooks_see_separate_run_ids() -> None:
    log = EventLog()
    tasks = make_diamond()

    flowlite.run(tasks, {"raw": "x"}, hooks=[log])
    flowlite.run(tasks, {"raw": "y"}, hooks=[log])

    run_ids = [info.run_id for info in log.run_infos("run_start")]
    assert len(set(run_ids)) == 2
    assert {event.run_id for event in log.task_events("start")} == set(run_ids)


def test_hooks_duck_typed_object_accepted() -> None:
    ended: list[str] = []

    class EndsOnly:
        def on_task_end(self, event: TaskEvent) -> None:
            ended.append(event.task)

    # Type checkers expect Hooks subclasses; at run time any object with a hook method works.
    flowlite.run(make_diamond(), {"raw": "x"}, hooks=[EndsOnly()])  # type: ignore[list-item]

    assert sorted(ended) == ["left", "load", "merge", "right"]


def test_hooks_several_hooks_all_called() -> None:
    logs = [EventLog(), EventLog()]

    flowlite.run(make_diamond(), {"raw": "x"}, hooks=logs)

    assert logs[0].kinds().count("end") == 4
    assert logs[1].kinds().count("end") == 4


# --- invalid hooks ----------------------------------------------------------------


INVALID_HOOKS: dict[str, Any] = {
    "single-hook": Hooks(),
    "int": 5,
    "plain-object": [object()],
    "none-in-list": [None],
}


@pytest.mark.parametrize("hooks", INVALID_HOOKS.values(), ids=INVALID_HOOKS.keys())
def test_hooks_invalid_value_raises(hooks: Any) -> None:
    with pytest.raises(InvalidArgumentError):
        flowlite.run(make_diamond(), {"raw": "x"}, hooks=hooks)


def test_hooks_single_hook_message_shows_fix() -> None:
    with pytest.raises(InvalidArgumentError, match=r"write hooks=\[hook\]"):
        flowlite.run(make_diamond(), {"raw": "x"}, hooks=Hooks())  # type: ignore[arg-type]


def test_hooks_string_value_raises() -> None:
    with pytest.raises(InvalidArgumentError):
        flowlite.run(make_diamond(), {"raw": "x"}, hooks="report")  # type: ignore[arg-type]


# --- failing hooks -------------------------------------------------------------------


class FailingHooks(Hooks):
    """Raises from every event."""

    def __init__(self) -> None:
        self.calls = 0

    def _fail(self) -> None:
        self.calls += 1
        raise RuntimeError("hook bug")

    def on_run_start(self, run: RunInfo) -> None:
        self._fail()

    def on_run_end(self, run: RunInfo) -> None:
        self._fail()

    def on_task_start(self, event: TaskEvent) -> None:
        self._fail()

    def on_task_end(self, event: TaskEvent) -> None:
        self._fail()

    def on_task_error(self, event: TaskEvent) -> None:
        self._fail()

    def on_task_retry(self, event: TaskEvent) -> None:
        self._fail()

    def on_task_skip(self, event: TaskEvent) -> None:
        self._fail()


def test_failing_hook_does_not_change_result(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.ERROR, logger="flowlite")
    failing = FailingHooks()
    log = EventLog()

    state = flowlite.run(make_diamond(), {"raw": "x"}, hooks=[failing, log])

    assert state["merge"] == "X-left+X-right"
    assert failing.calls == 10
    assert log.kinds().count("end") == 4


def test_failing_hook_logged_as_error(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.ERROR, logger="flowlite")
    failing = FailingHooks()

    flowlite.run(make_diamond(), {"raw": "x"}, hooks=[failing])

    errors = [record for record in caplog.records if record.levelno == logging.ERROR]
    assert len(errors) == 10
    assert all(record.name == "flowlite" for record in errors)
    assert all(record.exc_info is not None for record in errors)
    assert "failed in on_run_start; the run goes on" in errors[0].getMessage()


def test_failing_hook_keeps_task_error(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.ERROR, logger="flowlite")

    with pytest.raises(ValueError, match="malformed record"):
        flowlite.run(failing_chain(), {"raw": "x"}, hooks=[FailingHooks()])

    messages = [record.getMessage() for record in caplog.records]
    assert any("failed in on_task_error" in message for message in messages)


def test_failing_hook_on_thread_pool(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.ERROR, logger="flowlite")

    with ThreadPoolExecutor(max_workers=2) as pool:
        state = flowlite.run(make_diamond(), {"raw": "x"}, hooks=[FailingHooks()], executor=pool)

    assert state["merge"] == "X-left+X-right"
    assert len(caplog.records) == 10


# --- context variables ---------------------------------------------------------------------


def test_context_variable_reaches_worker_threads() -> None:
    request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="unset")
    both_running = threading.Barrier(2, timeout=WAIT_SECONDS)
    seen: dict[str, tuple[str, str]] = {}

    def reader(name: str) -> flowlite.Task[..., Any]:
        def body(seed: int) -> str:
            both_running.wait()
            seen[name] = (threading.current_thread().name, request_id.get())
            return request_id.get()

        return flowlite.task(inputs=["seed"], outputs=name, name=name)(body)

    request_id.set("request-42")
    flowlite.run([reader("left"), reader("right")], {"seed": 0})

    assert sorted(thread for thread, _ in seen.values()) == ["MainThread", "flowlite-worker-1"]
    assert [value for _, value in seen.values()] == ["request-42", "request-42"]


# --- caller's executors -------------------------------------------------------------


def test_thread_pool_events_arrive_in_scheduling_thread() -> None:
    log = EventLog()
    caller = threading.get_ident()

    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="caller-pool") as pool:
        flowlite.run(make_diamond(), {"raw": "x"}, hooks=[log], executor=pool)

    task_items = [item for item in log.received if isinstance(item.payload, TaskEvent)]
    workers = [item.payload.worker for item in task_items if isinstance(item.payload, TaskEvent)]
    assert len(task_items) == 8
    assert {item.thread_id for item in task_items} == {caller}
    assert all(worker.startswith("caller-pool") for worker in workers)


def test_thread_pool_events_keep_task_order() -> None:
    log = EventLog()

    with ThreadPoolExecutor(max_workers=2) as pool:
        flowlite.run(make_diamond(), {"raw": "x"}, hooks=[log], executor=pool)

    for task in ("load", "left", "right", "merge"):
        assert log.kinds_of(task) == ["start", "end"]


def test_process_pool_events_arrive_in_scheduling_thread(
    process_pool: ProcessPoolExecutor, tmp_path: Path
) -> None:
    log = EventLog()
    caller = threading.get_ident()

    flowlite.run(
        [_tasks_for_faults.flaky_fetch], {"workdir": str(tmp_path)}, executor=process_pool, hooks=[log]
    )

    task_items = [item for item in log.received if isinstance(item.payload, TaskEvent)]
    (start,) = log.task_events("start")
    assert [item.kind for item in task_items] == ["start", "retry", "retry", "end"]
    assert {item.thread_id for item in task_items} == {caller}
    assert start.worker.startswith("SpawnProcess-")
    assert start.worker.endswith("/MainThread")


def test_process_pool_error_events_arrive(process_pool: ProcessPoolExecutor, tmp_path: Path) -> None:
    log = EventLog()

    with pytest.raises(ConnectionRefusedError):
        flowlite.run(
            [_tasks_for_faults.always_refused], {"workdir": str(tmp_path)}, executor=process_pool, hooks=[log]
        )

    assert log.kinds_of("always_refused") == ["start", "retry", "retry", "error"]
    assert log.task_events("error")[0].attempt == 3


# --- logging -----------------------------------------------------------------------------


def test_debug_log_per_task(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="flowlite")

    flowlite.run(make_diamond(), {"raw": "x"})

    messages = [record.getMessage() for record in caplog.records if record.levelno == logging.DEBUG]
    assert len(messages) == 8
    assert sum("task 'merge' started on" in message for message in messages) == 1
    assert sum("task 'merge' ended after" in message for message in messages) == 1


def test_debug_log_reports_failure(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="flowlite")

    with pytest.raises(ValueError, match="malformed record"):
        flowlite.run(failing_chain(), {"raw": "x"})

    debug = [record.getMessage() for record in caplog.records if record.levelno == logging.DEBUG]
    assert any("task 'parse' failed after 1 attempt(s)" in message for message in debug)


def test_no_debug_log_when_disabled(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="flowlite")

    flowlite.run(make_diamond(), {"raw": "x"})

    assert caplog.records == []


def test_task_failure_logs_no_error(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="flowlite")

    with pytest.raises(ValueError, match="malformed record"):
        flowlite.run(failing_chain(), {"raw": "x"})

    assert [record for record in caplog.records if record.levelno >= logging.WARNING] == []
