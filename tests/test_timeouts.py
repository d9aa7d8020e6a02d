"""Timeouts: `TaskTimeoutError`, abandoned threads, SIGALRM in process pools, retries after a timeout."""

from __future__ import annotations

import contextvars
import logging
import subprocess
import sys
import textwrap
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
from flowlite import Retry, TaskTimeoutError

# Upper bound of anything that must not hang. The timeouts themselves are
# a few tenths of a second.
WAIT_SECONDS = 5.0

# How long after its limit a timed-out attempt may take to raise. The
# measured median is 2 to 5 ms on threads and in a process pool. The bound
# only catches a timeout that waits for the stuck call.
LATENESS_SECONDS = 1.0


@pytest.fixture
def release() -> Iterator[threading.Event]:
    """An event that stuck task functions wait on; set at the end of the test so abandoned threads end."""
    event = threading.Event()
    yield event
    event.set()


@pytest.fixture(scope="module")
def process_pool() -> Iterator[ProcessPoolExecutor]:
    # One worker: a timed-out call that went on running would keep the
    # only worker busy, and the next submit would wait for it.
    pool = _tasks_for_faults.start_process_pool(max_workers=1)
    try:
        yield pool
    finally:
        pool.shutdown(wait=True)


def stuck_task(
    release: threading.Event, *, timeout: float = 0.2, retries: int | Retry = 0
) -> flowlite.Task[..., Any]:
    """Return the task `stuck`, which blocks until `release` is set (at most WAIT_SECONDS)."""

    def stuck(seed: int) -> str:
        release.wait(WAIT_SECONDS)
        return "released"

    return flowlite.task(inputs=["seed"], outputs="stuck", timeout=timeout, retries=retries)(stuck)


def timeout_threads() -> list[threading.Thread]:
    return [thread for thread in threading.enumerate() if thread.name.startswith("flowlite-timeout-")]


# --- threads ---------------------------------------------------------------------


def test_timeout_error_carries_task_details(release: threading.Event) -> None:
    with pytest.raises(TaskTimeoutError) as caught:
        flowlite.run([stuck_task(release)], {"seed": 0})

    error = caught.value
    assert isinstance(error, TimeoutError)
    assert error.task == "stuck"
    assert error.timeout == 0.2
    assert error.attempt == 1
    assert "flowlite: raised by task 'stuck'" in error.__notes__


def test_timeout_message_names_task_and_limit(release: threading.Event) -> None:
    with pytest.raises(
        TaskTimeoutError, match=r"task 'stuck' attempt 1 timed out after 0\.2 s; the call goes on"
    ):
        flowlite.run([stuck_task(release)], {"seed": 0})


@pytest.mark.parametrize("max_workers", [1, 2])
def test_timeout_raises_shortly_after_limit(release: threading.Event, max_workers: int) -> None:
    started = time.perf_counter()
    with pytest.raises(TaskTimeoutError):
        flowlite.run([stuck_task(release)], {"seed": 0}, max_workers=max_workers)
    elapsed = time.perf_counter() - started

    assert elapsed >= 0.2
    assert elapsed < 0.2 + LATENESS_SECONDS


def test_timeout_abandons_named_daemon_thread(release: threading.Event) -> None:
    with pytest.raises(TaskTimeoutError):
        flowlite.run([stuck_task(release)], {"seed": 0})

    abandoned = timeout_threads()
    assert [thread.name for thread in abandoned] == ["flowlite-timeout-stuck"]
    assert abandoned[0].daemon
    assert abandoned[0].is_alive()


def test_timeout_abandoned_call_result_dropped(release: threading.Event) -> None:
    # The abandoned call returns after the run; nothing of it reaches a state.
    with pytest.raises(TaskTimeoutError) as caught:
        flowlite.run([stuck_task(release)], {"seed": 0})
    (abandoned,) = timeout_threads()

    release.set()
    abandoned.join(WAIT_SECONDS)

    assert not abandoned.is_alive()
    assert caught.value.attempt == 1


def test_timeout_does_not_block_next_run(release: threading.Event) -> None:
    with pytest.raises(TaskTimeoutError):
        flowlite.run([stuck_task(release)], {"seed": 0})

    @flowlite.task(inputs=["seed"], outputs="doubled")
    def double(seed: int) -> int:
        return seed * 2

    started = time.perf_counter()
    state = flowlite.run([double], {"seed": 21})

    assert state["doubled"] == 42
    assert time.perf_counter() - started < LATENESS_SECONDS
    assert timeout_threads()


def test_timeout_frees_caller_thread_pool(release: threading.Event) -> None:
    pool = ThreadPoolExecutor(max_workers=1)
    try:
        with pytest.raises(TaskTimeoutError):
            flowlite.run([stuck_task(release)], {"seed": 0}, executor=pool)

        assert pool.submit(pow, 2, 5).result(timeout=LATENESS_SECONDS) == 32
    finally:
        started = time.perf_counter()
        pool.shutdown(wait=True)
        shutdown_seconds = time.perf_counter() - started

    assert shutdown_seconds < LATENESS_SECONDS


def test_timeout_retry_runs_on_freed_slot(release: threading.Event) -> None:
    attempts: list[int] = []
    log = EventLog()

    @flowlite.task(inputs=["seed"], outputs="attempt", timeout=0.2, retries=1)
    def stall_once(seed: int) -> int:
        attempts.append(len(attempts) + 1)
        if len(attempts) == 1:
            release.wait(WAIT_SECONDS)
        return len(attempts)

    started = time.perf_counter()
    state = flowlite.run([stall_once], {"seed": 0}, max_workers=1, hooks=[log])

    assert state["attempt"] == 2
    assert time.perf_counter() - started < 0.2 + LATENESS_SECONDS
    (retry,) = log.task_events("retry")
    assert isinstance(retry.error, TaskTimeoutError)
    assert log.task_events("end")[0].attempt == 2


def test_timeout_each_attempt_times_out(release: threading.Event) -> None:
    with pytest.raises(TaskTimeoutError) as caught:
        flowlite.run([stuck_task(release, timeout=0.1, retries=2)], {"seed": 0})

    assert caught.value.attempt == 3
    assert len(timeout_threads()) == 3


def test_timeout_retry_on_oserror_covers_timeouts(release: threading.Event) -> None:
    # TimeoutError is a subclass of OSError, so retry_on=(OSError,) retries timeouts too.
    log = EventLog()
    task = stuck_task(release, timeout=0.1, retries=Retry(1, retry_on=(OSError,)))

    with pytest.raises(TaskTimeoutError):
        flowlite.run([task], {"seed": 0}, hooks=[log])

    assert len(log.task_events("retry")) == 1


def test_timeout_fast_task_returns_value() -> None:
    @flowlite.task(inputs=["seed"], outputs="doubled", timeout=2.0)
    def double(seed: int) -> int:
        return seed * 2

    assert flowlite.run([double], {"seed": 4})["doubled"] == 8


def test_timeout_task_error_passes_through() -> None:
    error = ValueError("malformed record")

    @flowlite.task(inputs=["seed"], outputs="parsed", timeout=2.0)
    def parse(seed: int) -> int:
        raise error

    with pytest.raises(ValueError, match="malformed record") as caught:
        flowlite.run([parse], {"seed": 0})

    assert caught.value is error


def test_timeout_thread_sees_context_variables() -> None:
    request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="unset")

    @flowlite.task(inputs=["seed"], outputs="seen", timeout=2.0)
    def read_request_id(seed: int) -> str:
        return request_id.get()

    request_id.set("request-7")

    assert flowlite.run([read_request_id], {"seed": 0})["seen"] == "request-7"


def test_timeout_logs_abandon_warning(release: threading.Event, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="flowlite")

    with pytest.raises(TaskTimeoutError):
        flowlite.run([stuck_task(release)], {"seed": 0})

    messages = [record.getMessage() for record in caplog.records if record.levelno == logging.WARNING]
    assert messages == ["task 'stuck' attempt 1 timed out after 0.2 s; abandoning its thread"]


def test_timeout_abandoned_thread_allows_interpreter_exit(tmp_path: Path) -> None:
    script = tmp_path / "stuck.py"
    script.write_text(
        textwrap.dedent(
            """
            import time
            import flowlite

            @flowlite.task(inputs=["seed"], outputs="slept", timeout=0.2)
            def sleep_long(seed):
                time.sleep(30)
                return seed

            try:
                flowlite.run([sleep_long], {"seed": 0})
            except flowlite.TaskTimeoutError as error:
                print("timed out:", error.task)
            """
        ),
        encoding="utf-8",
    )

    started = time.perf_counter()
    completed = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=60, check=False
    )
    elapsed = time.perf_counter() - started

    assert completed.returncode == 0, completed.stderr
    assert completed.stdout == "timed out: sleep_long\n"
    assert elapsed < WAIT_SECONDS


# --- process pools -----------------------------------------------------------------


def test_process_pool_timeout_raises_error(process_pool: ProcessPoolExecutor, tmp_path: Path) -> None:
    started = time.perf_counter()
    with pytest.raises(TaskTimeoutError) as caught:
        flowlite.run(
            [_tasks_for_faults.sleep_past_timeout], {"workdir": str(tmp_path)}, executor=process_pool
        )
    elapsed = time.perf_counter() - started

    assert caught.value.task == "sleep_past_timeout"
    assert caught.value.timeout == 0.3
    assert caught.value.attempt == 1
    assert elapsed < 0.3 + LATENESS_SECONDS


def test_process_pool_timeout_interrupts_call(process_pool: ProcessPoolExecutor, tmp_path: Path) -> None:
    with pytest.raises(TaskTimeoutError) as caught:
        flowlite.run(
            [_tasks_for_faults.sleep_past_timeout], {"workdir": str(tmp_path)}, executor=process_pool
        )

    # The pool has one worker, so it runs this call at once only if the timed-out call stopped.
    assert process_pool.submit(pow, 2, 5).result(timeout=LATENESS_SECONDS) == 32
    assert "abandoned" not in str(caught.value)
    assert not (tmp_path / "finished").exists()


def test_process_pool_timeout_then_retry(process_pool: ProcessPoolExecutor, tmp_path: Path) -> None:
    log = EventLog()

    state = flowlite.run(
        [_tasks_for_faults.stall_once], {"workdir": str(tmp_path)}, executor=process_pool, hooks=[log]
    )

    assert state["recovered"] == 2
    (retry,) = log.task_events("retry")
    assert isinstance(retry.error, TaskTimeoutError)
    assert retry.error.attempt == 1


def test_abandoned_call_failure_logged(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="flowlite")
    failed = threading.Event()

    @flowlite.task(inputs=["seed"], outputs="late", timeout=0.05)
    def fails_late(seed: int) -> int:
        time.sleep(0.2)
        failed.set()
        raise RuntimeError("too late to matter")

    with pytest.raises(TaskTimeoutError):
        flowlite.run([fails_late], {"seed": 0})
    assert failed.wait(2)

    deadline = time.monotonic() + 2
    errors: list[str] = []
    while not errors and time.monotonic() < deadline:
        errors = [record.getMessage() for record in caplog.records if record.levelno == logging.ERROR]
        time.sleep(0.01)
    assert errors == [
        "flowlite-timeout-fails_late raised RuntimeError('too late to matter') "
        "after its caller stopped waiting for it"
    ]
