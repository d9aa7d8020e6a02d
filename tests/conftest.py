"""Shared fixtures: every test fails if it leaves threads running."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

# Threads get this long to finish after a test before they count as leaked.
LEAK_GRACE_SECONDS = 5.0


@pytest.fixture(autouse=True)
def no_leaked_threads() -> Iterator[None]:
    before = set(threading.enumerate())
    yield
    deadline = time.monotonic() + LEAK_GRACE_SECONDS
    while True:
        leaked = [t for t in threading.enumerate() if t not in before and t.is_alive()]
        if not leaked or time.monotonic() > deadline:
            break
        time.sleep(0.01)
    assert not leaked, f"test left threads running: {[t.name for t in leaked]}"
