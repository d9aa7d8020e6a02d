"""Module-level tasks for the retry, timeout and cancellation tests on a `ProcessPoolExecutor`.

A process pool pickles each task by its module and name, so the worker
processes must be able to import it. The tasks count their attempts in
files under the `workdir` directory of the state. Module globals would not
do, because one worker process serves many tests and would carry the
counts from one test to the next.
"""

from __future__ import annotations

import multiprocessing
import os
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from flowlite import Retry, task

# Long enough that a test fails clearly if the timeout does not interrupt
# the call, short enough that a broken interruption ends on its own.
STALL_SECONDS = 10.0


def count_attempt(workdir: str, name: str) -> int:
    """Append one line to `workdir/name` and return the number of lines, this attempt included."""
    path = Path(workdir) / name
    with path.open("a", encoding="utf-8") as file:
        file.write(f"{os.getpid()}\n")
    return len(path.read_text(encoding="utf-8").splitlines())


@task(inputs=["workdir"], outputs="fetched", retries=Retry(3, delay=0.01, backoff=2))
def flaky_fetch(workdir: str) -> int:
    """Fail with ConnectionError on the first two attempts, then return the attempt number."""
    attempt = count_attempt(workdir, "flaky_fetch")
    if attempt < 3:
        raise ConnectionError(f"connection reset on attempt {attempt}")
    return attempt


@task(inputs=["workdir"], outputs="refused", retries=Retry(2, delay=0.01))
def always_refused(workdir: str) -> int:
    """Fail on every attempt with a ConnectionRefusedError that names the attempt."""
    attempt = count_attempt(workdir, "always_refused")
    raise ConnectionRefusedError(f"refused on attempt {attempt}")


@task(inputs=["workdir"], outputs="slept", timeout=0.3)
def sleep_past_timeout(workdir: str) -> str:
    """Sleep far past the timeout; the marker file `finished` shows that the call was not interrupted."""
    time.sleep(STALL_SECONDS)
    (Path(workdir) / "finished").touch()
    return "finished"


@task(inputs=["workdir"], outputs="recovered", timeout=0.3, retries=1)
def stall_once(workdir: str) -> int:
    """Stall past the timeout on the first attempt, then return the attempt number."""
    attempt = count_attempt(workdir, "stall_once")
    if attempt == 1:
        time.sleep(STALL_SECONDS)
    return attempt


@task(inputs=["workdir"], outputs="first")
def first_step(workdir: str) -> str:
    """Write the marker file `first_started`, then take half a second."""
    (Path(workdir) / "first_started").touch()
    time.sleep(0.5)
    return "first"


@task(inputs=["first", "workdir"], outputs="second")
def second_step(first: str, workdir: str) -> str:
    """Write the marker file `second_started`."""
    (Path(workdir) / "second_started").touch()
    return f"second after {first}"


@task(inputs=["workdir"], outputs="pid")
def report_pid(workdir: str) -> int:
    """Return the worker's process id."""
    return os.getpid()


def start_process_pool(max_workers: int = 2) -> ProcessPoolExecutor:
    """Start a spawn-based process pool whose helper threads already run.

    The pool starts its management threads at the first submit, so a pool
    shared by several tests would otherwise show up as threads leaked by the
    first test that uses it.
    """
    pool = ProcessPoolExecutor(max_workers=max_workers, mp_context=multiprocessing.get_context("spawn"))
    pool.submit(os.getpid).result(timeout=60)
    return pool
