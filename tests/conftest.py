"""Shared fixtures: every test fails if it leaves threads running.

The session-scoped executors (a spawned process pool and a local Dask
cluster) start their threads once and stop them when the session ends. Those
threads do not count as leaked.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor, wait
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from distributed import Client

# Threads get this long to finish after a test before they count as leaked.
LEAK_GRACE_SECONDS = 5.0

# Threads that the session-scoped fixtures below started.
_session_threads: set[threading.Thread] = set()


@pytest.fixture(autouse=True)
def no_leaked_threads() -> Iterator[None]:
    before = set(threading.enumerate())
    yield
    deadline = time.monotonic() + LEAK_GRACE_SECONDS
    while True:
        leaked = [
            t
            for t in threading.enumerate()
            if t not in before and t not in _session_threads and t.is_alive()
        ]
        if not leaked or time.monotonic() > deadline:
            break
        time.sleep(0.01)
    assert not leaked, f"test left threads running: {[t.name for t in leaked]}"


@contextlib.contextmanager
def _session_owned_threads() -> Iterator[None]:
    # Everything that starts threads for a session fixture runs in here,
    # including a first use that starts the threads an executor starts lazily.
    before = set(threading.enumerate())
    try:
        yield
    finally:
        _session_threads.update(set(threading.enumerate()) - before)


@pytest.fixture(scope="session")
def spawn_process_pool() -> Iterator[ProcessPoolExecutor]:
    """A two-process pool started with the "spawn" method, shared by the whole session."""
    with _session_owned_threads():
        pool = ProcessPoolExecutor(max_workers=2, mp_context=multiprocessing.get_context("spawn"))
        wait([pool.submit(pow, 2, 5) for _ in range(2)], timeout=60)
    try:
        yield pool
    finally:
        pool.shutdown(wait=True)


@pytest.fixture(scope="session")
def dask_client() -> Iterator[Client]:
    """A client of a two-worker local Dask cluster on 127.0.0.1, shared by the whole session.

    The workers are separate processes, so every task and value crosses a
    process boundary as it would on a real cluster.
    """
    from distributed import Client, LocalCluster

    with _session_owned_threads():
        cluster = LocalCluster(
            host="127.0.0.1",
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            # The scheduler serves HTTP in any case, so a free port on the
            # loopback address avoids a clash with a dashboard on 8787.
            dashboard_address="127.0.0.1:0",
        )
        client = Client(cluster)
        future = client.submit(pow, 2, 5, pure=False)
        future.add_done_callback(lambda _: None)
        client.gather([future, client.scatter(1)])
        client.cancel([client.submit(time.sleep, 0.01, pure=False)])
    try:
        yield client
    finally:
        client.close()
        cluster.close()
