"""Cancellation: `CancelToken`, `cancelled()`, `RunCancelled` and Ctrl-C during a run."""

from __future__ import annotations

import os
import signal
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

import flowlite
from flowlite import CancelToken, FlowliteError, InvalidArgumentError, RunCancelled

# Timeout for events and joins, and the upper bound of a run that must not hang.
WAIT_SECONDS = 5.0

# How long Ctrl-C may take to reach the caller. Measured medians are 26 to
# 65 ms and the maximum 124 ms on a 2-core machine. The bound catches a run
# that waits for its CPU-bound tasks, which spin for 5 s each.
INTERRUPT_SECONDS = 2.0


@pytest.fixture(scope="module")
def process_pool() -> Iterator[ProcessPoolExecutor]:
    pool = _tasks_for_faults.start_process_pool()
    try:
        yield pool
    finally:
        pool.shutdown(wait=True)


def cancel_when(token: CancelToken, event: threading.Event) -> threading.Thread:
    """Start a thread that cancels `token` once `event` is set."""

    def wait_then_cancel() -> None:
        if event.wait(WAIT_SECONDS):
            token.cancel()

    thread = threading.Thread(target=wait_then_cancel, name="test-canceller")
    thread.start()
    return thread


# --- CancelToken ---------------------------------------------------------------------


def test_token_starts_not_cancelled() -> None:
    token = CancelToken()

    assert token.cancelled is False
    assert token.wait(0.01) is False


def test_token_cancel_sets_flag() -> None:
    token = CancelToken()

    token.cancel()
    token.cancel()

    assert token.cancelled is True
    assert token.wait(0) is True
    assert repr(token) == "<CancelToken cancelled=True>"


def test_token_wait_wakes_on_cancel() -> None:
    token = CancelToken()
    timer = threading.Timer(0.05, token.cancel)
    timer.start()

    woke = token.wait(WAIT_SECONDS)
    timer.join()

    assert woke is True


def test_cancelled_false_outside_run() -> None:
    assert flowlite.cancelled() is False


def test_run_invalid_cancel_raises() -> None:
    @flowlite.task(inputs=["seed"], outputs="copy")
    def copy(seed: int) -> int:
        return seed

    with pytest.raises(InvalidArgumentError, match=r"cancel must be a flowlite\.CancelToken, got Event"):
        flowlite.run([copy], {"seed": 0}, cancel=threading.Event())  # type: ignore[arg-type]


# --- cancelling a run ------------------------------------------------------------------


def chain_with_running_first(token: CancelToken, finished: list[str]) -> list[flowlite.Task[..., Any]]:
    """Return first -> second -> third, where `first` waits for the cancellation and then finishes."""

    @flowlite.task(inputs=["seed"], outputs="first")
    def first(seed: int) -> str:
        token.wait(WAIT_SECONDS)
        time.sleep(0.1)
        finished.append("first")
        return "first done"

    @flowlite.task(inputs=["first"], outputs="second")
    def second(first: str) -> str:
        finished.append("second")
        return "second done"

    @flowlite.task(inputs=["second"], outputs="third")
    def third(second: str) -> str:
        finished.append("third")
        return "third done"

    return [first, second, third]


def test_cancel_raises_run_cancelled() -> None:
    token = CancelToken()
    finished: list[str] = []
    timer = threading.Timer(0.1, token.cancel)
    timer.start()

    with pytest.raises(RunCancelled) as caught:
        flowlite.run(chain_with_running_first(token, finished), {"seed": 0}, cancel=token)
    timer.join()

    assert isinstance(caught.value, FlowliteError)
    assert caught.value.not_run == ("second", "third")
    assert str(caught.value) == "the run was cancelled before 2 task(s) ran: 'second', 'third'"


def test_cancel_waits_for_running_task() -> None:
    token = CancelToken()
    finished: list[str] = []
    timer = threading.Timer(0.1, token.cancel)
    timer.start()

    with pytest.raises(RunCancelled) as caught:
        flowlite.run(chain_with_running_first(token, finished), {"seed": 0}, cancel=token)
    timer.join()

    assert finished == ["first"]
    assert dict(caught.value.state) == {"seed": 0, "first": "first done"}


def test_cancel_from_task_of_parallel_branch() -> None:
    token = CancelToken()
    left_started = threading.Event()
    started: list[str] = []

    @flowlite.task(inputs=["seed"], outputs="left")
    def left(seed: int) -> str:
        started.append("left")
        left_started.set()
        token.wait(WAIT_SECONDS)
        return "left done"

    @flowlite.task(inputs=["seed"], outputs="right")
    def right(seed: int) -> str:
        started.append("right")
        left_started.wait(WAIT_SECONDS)
        token.cancel()
        return "right done"

    @flowlite.task(inputs=["left", "right"], outputs="merged")
    def merge(left: str, right: str) -> str:
        started.append("merge")
        return left + right

    with pytest.raises(RunCancelled) as caught:
        flowlite.run([left, right, merge], {"seed": 0}, cancel=token)

    assert sorted(started) == ["left", "right"]
    assert caught.value.not_run == ("merge",)
    assert caught.value.state["left"] == "left done"
    assert caught.value.state["right"] == "right done"


def test_cancel_before_run_runs_nothing() -> None:
    token = CancelToken()
    token.cancel()
    finished: list[str] = []

    with pytest.raises(RunCancelled) as caught:
        flowlite.run(chain_with_running_first(token, finished), {"seed": 0}, cancel=token)

    assert finished == []
    assert caught.value.not_run == ("first", "second", "third")
    assert dict(caught.value.state) == {"seed": 0}


def test_cancel_token_reused_stays_cancelled() -> None:
    token = CancelToken()
    finished: list[str] = []
    timer = threading.Timer(0.05, token.cancel)
    timer.start()
    with pytest.raises(RunCancelled):
        flowlite.run(chain_with_running_first(token, finished), {"seed": 0}, cancel=token)
    timer.join()

    with pytest.raises(RunCancelled) as caught:
        flowlite.run(chain_with_running_first(token, finished), {"seed": 0}, cancel=token)

    assert caught.value.not_run == ("first", "second", "third")


def test_cancel_after_run_has_no_effect() -> None:
    token = CancelToken()
    finished: list[str] = []

    @flowlite.task(inputs=["seed"], outputs="copy")
    def copy(seed: int) -> int:
        finished.append("copy")
        return seed

    state = flowlite.run([copy], {"seed": 3}, cancel=token)
    token.cancel()

    assert state["copy"] == 3


def test_cancel_stream_raises_run_cancelled() -> None:
    token = CancelToken()
    finished: list[str] = []
    timer = threading.Timer(0.1, token.cancel)
    timer.start()

    with pytest.raises(RunCancelled) as caught:
        list(flowlite.stream(chain_with_running_first(token, finished), {"seed": 0}, cancel=token))
    timer.join()

    assert caught.value.not_run == ("second", "third")


def test_cancel_on_thread_pool() -> None:
    token = CancelToken()
    finished: list[str] = []
    timer = threading.Timer(0.1, token.cancel)
    timer.start()

    with ThreadPoolExecutor(max_workers=2) as pool, pytest.raises(RunCancelled) as caught:
        flowlite.run(chain_with_running_first(token, finished), {"seed": 0}, executor=pool, cancel=token)
    timer.join()

    assert finished == ["first"]
    assert caught.value.not_run == ("second", "third")


def test_cancel_on_process_pool(process_pool: ProcessPoolExecutor, tmp_path: Path) -> None:
    token = CancelToken()
    first_started = tmp_path / "first_started"

    def cancel_once_started() -> None:
        deadline = time.monotonic() + WAIT_SECONDS
        while not first_started.exists() and time.monotonic() < deadline:
            time.sleep(0.01)
        token.cancel()

    canceller = threading.Thread(target=cancel_once_started, name="test-canceller")
    canceller.start()
    tasks: list[flowlite.Task[..., Any]] = [_tasks_for_faults.first_step, _tasks_for_faults.second_step]
    try:
        with pytest.raises(RunCancelled) as caught:
            flowlite.run(tasks, {"workdir": str(tmp_path)}, executor=process_pool, cancel=token)
    finally:
        canceller.join()

    assert caught.value.not_run == ("second_step",)
    assert caught.value.state["first"] == "first"
    assert not (tmp_path / "second_started").exists()


def test_cancel_during_last_task_raises() -> None:
    # The last task may have returned early on noticing the cancellation,
    # so the caller learns of it even though every task finished.
    token = CancelToken()

    @flowlite.task(inputs=["seed"], outputs="copy")
    def copy_then_cancel(seed: int) -> int:
        token.cancel()
        return seed

    with pytest.raises(RunCancelled) as caught:
        flowlite.run([copy_then_cancel], {"seed": 3}, cancel=token)

    assert caught.value.state["copy"] == 3
    assert caught.value.not_run == ()


# --- cancelled() inside tasks -----------------------------------------------------------


def poll_cancelled(seconds: float) -> bool:
    """Return True as soon as `flowlite.cancelled()` is True, or False after `seconds`."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if flowlite.cancelled():
            return True
        time.sleep(0.005)
    return False


def test_cancelled_turns_true_in_task() -> None:
    token = CancelToken()
    before: list[bool] = []

    @flowlite.task(inputs=["seed"], outputs="noticed")
    def cooperative(seed: int) -> bool:
        before.append(flowlite.cancelled())
        return poll_cancelled(WAIT_SECONDS)

    timer = threading.Timer(0.1, token.cancel)
    timer.start()
    started = time.perf_counter()
    with pytest.raises(RunCancelled) as caught:
        flowlite.run([cooperative], {"seed": 0}, cancel=token)
    timer.join()

    assert before == [False]
    assert caught.value.state["noticed"] is True
    assert time.perf_counter() - started < WAIT_SECONDS


def test_cancelled_reaches_worker_threads() -> None:
    token = CancelToken()
    both_started = threading.Barrier(2, timeout=WAIT_SECONDS)
    threads: dict[str, str] = {}

    def noticing(name: str) -> flowlite.Task[..., Any]:
        def body(seed: int) -> bool:
            threads[name] = threading.current_thread().name
            both_started.wait()
            return poll_cancelled(WAIT_SECONDS)

        return flowlite.task(inputs=["seed"], outputs=name, name=name)(body)

    timer = threading.Timer(0.1, token.cancel)
    timer.start()
    with pytest.raises(RunCancelled) as caught:
        flowlite.run([noticing("left"), noticing("right")], {"seed": 0}, cancel=token)
    timer.join()

    assert caught.value.state["left"] is True
    assert caught.value.state["right"] is True
    assert sorted(threads.values()) == ["MainThread", "flowlite-worker-1"]


def test_cancelled_true_after_other_failure() -> None:
    noticed: list[bool] = []

    @flowlite.task(inputs=["seed"], outputs="waited")
    def cooperative(seed: int) -> int:
        noticed.append(poll_cancelled(WAIT_SECONDS))
        return seed

    @flowlite.task(inputs=["seed"], outputs="broken")
    def fail_soon(seed: int) -> int:
        time.sleep(0.05)
        raise ValueError("broken input")

    with pytest.raises(ValueError, match="broken input"):
        flowlite.run([cooperative, fail_soon], {"seed": 0})

    assert noticed == [True]


def test_cancelled_false_in_next_run() -> None:
    token = CancelToken()
    token.cancel()

    @flowlite.task(inputs=["seed"], outputs="seen")
    def read_flag(seed: int) -> bool:
        return flowlite.cancelled()

    with pytest.raises(RunCancelled):
        flowlite.run([read_flag], {"seed": 0}, cancel=token)

    assert flowlite.run([read_flag], {"seed": 0})["seen"] is False
    assert flowlite.cancelled() is False


def test_cancelled_turns_true_on_thread_pool() -> None:
    token = CancelToken()

    @flowlite.task(inputs=["seed"], outputs="noticed")
    def cooperative(seed: int) -> bool:
        return poll_cancelled(1.0)

    timer = threading.Timer(0.1, token.cancel)
    timer.start()
    with ThreadPoolExecutor(max_workers=1) as pool, pytest.raises(RunCancelled) as caught:
        flowlite.run([cooperative], {"seed": 0}, executor=pool, cancel=token)
    timer.join()

    assert caught.value.state["noticed"] is True


# --- Ctrl-C ----------------------------------------------------------------------------

# Each task writes "started NAME" with one os.write, so lines from several
# threads never interleave, then spins in pure-Python code for SPIN seconds.
INTERRUPT_SCRIPT = textwrap.dedent(
    """
    import os
    import sys
    import time
    from concurrent.futures import ThreadPoolExecutor

    import flowlite

    SPIN = 5.0

    def spin(name, seconds):
        os.write(1, f"started {name}\\n".encode())
        deadline = time.perf_counter() + seconds
        total = 0
        while time.perf_counter() < deadline:
            total += sum(range(500))
        os.write(1, f"finished {name}\\n".encode())
        return total

    @flowlite.task(inputs=["seed"], outputs="short")
    def short(seed):
        return spin("short", 0.05)

    @flowlite.task(inputs=["seed"], outputs="spin_a")
    def spin_a(seed):
        return spin("spin_a", SPIN)

    @flowlite.task(inputs=["seed"], outputs="spin_b")
    def spin_b(seed):
        return spin("spin_b", SPIN)

    @flowlite.task(inputs=["seed"], outputs="spin_c")
    def spin_c(seed):
        return spin("spin_c", SPIN)

    @flowlite.task(inputs=["spin_a", "spin_b", "spin_c"], outputs="late")
    def late(spin_a, spin_b, spin_c):
        return spin("late", 0.05)

    scenario = sys.argv[1]
    if scenario == "caller-busy":
        # The calling thread runs short, then spin_b; one pool thread runs
        # spin_a, and spin_c waits for a free thread.
        flowlite.run([short, spin_a, spin_b, spin_c, late], {"seed": 0}, max_workers=2)
    elif scenario == "caller-waiting":
        # After short, the calling thread waits while three pool threads spin.
        flowlite.run([short, spin_a, spin_b, spin_c, late], {"seed": 0}, max_workers=4)
    else:
        # The calling thread only schedules; the caller's pool runs the tasks.
        with ThreadPoolExecutor(max_workers=2) as pool:
            try:
                flowlite.run([short, spin_a, spin_b, spin_c, late], {"seed": 0}, executor=pool)
            except KeyboardInterrupt:
                os.write(1, b"caught KeyboardInterrupt\\n")
                # The pool's threads finish their tasks before the interpreter exits.
                os._exit(130)
    """
)

INTERRUPT_SCENARIOS = {
    "caller-busy": {"short", "spin_a", "spin_b"},
    "caller-waiting": {"short", "spin_a", "spin_b", "spin_c"},
    "thread-pool": {"short", "spin_a", "spin_b"},
}


def read_started(stream: object, expected: set[str]) -> set[str]:
    """Read "started NAME" lines until every expected name appeared; return the names read."""
    started: set[str] = set()
    while not expected <= started:
        line = stream.readline()  # type: ignore[attr-defined]
        if not line:
            break
        if line.startswith("started "):
            started.add(line.split()[1])
    return started


@pytest.mark.parametrize("scenario", INTERRUPT_SCENARIOS.keys())
def test_ctrl_c_reaches_caller_quickly(scenario: str, tmp_path: Path) -> None:
    script = tmp_path / "interrupted.py"
    script.write_text(INTERRUPT_SCRIPT, encoding="utf-8")
    expected = INTERRUPT_SCENARIOS[scenario]
    process = subprocess.Popen(
        [sys.executable, str(script), scenario],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        started = read_started(process.stdout, expected)
        assert started == expected
        # Let the spinning tasks get well into their loops.
        time.sleep(0.2)

        interrupted_at = time.perf_counter()
        os.kill(process.pid, signal.SIGINT)
        stdout, stderr = process.communicate(timeout=30)
        exit_seconds = time.perf_counter() - interrupted_at
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()

    assert exit_seconds < INTERRUPT_SECONDS
    assert "started" not in stdout
    assert "finished spin" not in stdout
    if scenario == "thread-pool":
        assert stdout == "caught KeyboardInterrupt\n"
        assert process.returncode == 130
    else:
        assert "KeyboardInterrupt" in stderr.splitlines()
        assert process.returncode == -signal.SIGINT
