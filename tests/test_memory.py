"""Memory: with `targets`, intermediate values are released during the run; otherwise they are kept."""

from __future__ import annotations

import gc
import threading
import tracemalloc
import weakref
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

import flowlite

VALUE_BYTES = 20 * 2**20
CHAIN_LENGTH = 20
LAST_KEY = f"step_{CHAIN_LENGTH - 1}"

# With targets, a chain keeps only the input and the output of the running
# task. Measured peak: 40 MiB over the baseline, which is two values
# (tracemalloc, Python 3.11, 2-core Linux machine). The bound allows two more.
RELEASED_PEAK_LIMIT = 4 * VALUE_BYTES


def chain_of_buffers() -> list[flowlite.Task[..., Any]]:
    """Return step_0 -> ... -> step_19; each step reads the previous buffer and returns a new 20 MiB one."""

    def make_step(index: int) -> flowlite.Task[..., Any]:
        source = "seed" if index == 0 else f"step_{index - 1}"

        def step(previous: Any) -> bytearray:
            buffer = bytearray(VALUE_BYTES)
            buffer[0] = (previous[0] + 1) % 256 if index else 1
            return buffer

        return flowlite.task(inputs=[source], outputs=f"step_{index}", name=f"step_{index}")(step)

    return [make_step(index) for index in range(CHAIN_LENGTH)]


@pytest.fixture
def traced_memory() -> Iterator[Callable[[], int]]:
    """Trace allocations; yield a function that returns the peak in bytes above the start of the test."""
    gc.collect()
    tracemalloc.start()
    baseline = tracemalloc.get_traced_memory()[0]

    def peak_above_baseline() -> int:
        return tracemalloc.get_traced_memory()[1] - baseline

    try:
        yield peak_above_baseline
    finally:
        tracemalloc.stop()


def test_targets_release_chain_values(traced_memory: Callable[[], int]) -> None:
    state = flowlite.run(chain_of_buffers(), {"seed": b"\x00"}, targets=[LAST_KEY])
    peak = traced_memory()

    assert peak < RELEASED_PEAK_LIMIT
    assert set(state) == {"seed", LAST_KEY}
    assert state[LAST_KEY][0] == CHAIN_LENGTH


def test_targets_release_on_thread_pool(traced_memory: Callable[[], int]) -> None:
    with ThreadPoolExecutor(max_workers=2) as pool:
        state = flowlite.run(chain_of_buffers(), {"seed": b"\x00"}, targets=[LAST_KEY], executor=pool)
    peak = traced_memory()

    assert peak < RELEASED_PEAK_LIMIT
    assert set(state) == {"seed", LAST_KEY}


def test_no_targets_keeps_every_value(traced_memory: Callable[[], int]) -> None:
    state = flowlite.run(chain_of_buffers(), {"seed": b"\x00"})
    peak = traced_memory()

    assert len(state) == CHAIN_LENGTH + 1
    assert peak >= CHAIN_LENGTH * VALUE_BYTES


def test_stream_keeps_every_value(traced_memory: Callable[[], int]) -> None:
    states = list(flowlite.stream(chain_of_buffers(), {"seed": b"\x00"}, targets=[LAST_KEY]))
    peak = traced_memory()

    assert len(states[-1]) == CHAIN_LENGTH + 1
    assert peak >= CHAIN_LENGTH * VALUE_BYTES


def test_targets_keep_middle_target() -> None:
    state = flowlite.run(chain_of_buffers(), {"seed": b"\x00"}, targets=["step_5", LAST_KEY])

    assert set(state) == {"seed", "step_5", LAST_KEY}
    assert state["step_5"][0] == 6


class Blob:
    """A value that can be watched with a weak reference."""

    __slots__ = ("__weakref__", "name")

    def __init__(self, name: str) -> None:
        self.name = name


def test_targets_release_after_last_reader() -> None:
    # source is read by left and right; it must outlive left and be gone
    # once both have finished. One worker makes the order load, left,
    # right, merge, so no idle pool thread still refers to an old value.
    watched: dict[str, weakref.ref[Blob]] = {}
    alive_in: dict[str, bool] = {}

    def is_alive(name: str) -> bool:
        gc.collect()
        return watched[name]() is not None

    @flowlite.task(inputs=["seed"], outputs="source")
    def load(seed: int) -> Blob:
        blob = Blob("source")
        watched["source"] = weakref.ref(blob)
        return blob

    @flowlite.task(inputs=["source"], outputs="left")
    def left(source: Blob) -> Blob:
        return Blob("left")

    @flowlite.task(inputs=["source"], outputs="right")
    def right(source: Blob) -> Blob:
        return Blob("right")

    @flowlite.task(inputs=["left", "right"], outputs="merged")
    def merge(left: Blob, right: Blob) -> str:
        alive_in["merge"] = is_alive("source")
        return left.name + right.name

    state = flowlite.run([load, left, right, merge], {"seed": 0}, targets=["merged"], max_workers=1)

    assert state["merged"] == "leftright"
    assert alive_in == {"merge": False}


def test_targets_release_despite_idle_thread() -> None:
    watched: dict[str, weakref.ref[Blob]] = {}
    both_running = threading.Barrier(2, timeout=5.0)

    @flowlite.task(inputs=["seed"], outputs="source")
    def load(seed: int) -> Blob:
        blob = Blob("source")
        watched["source"] = weakref.ref(blob)
        return blob

    @flowlite.task(inputs=["source"], outputs="left")
    def left(source: Blob) -> Blob:
        both_running.wait()
        return Blob("left")

    @flowlite.task(inputs=["source"], outputs="right")
    def right(source: Blob) -> Blob:
        both_running.wait()
        return Blob("right")

    @flowlite.task(inputs=["left", "right"], outputs="merged")
    def merge(left: Blob, right: Blob) -> bool:
        gc.collect()
        return watched["source"]() is not None

    state = flowlite.run([load, left, right, merge], {"seed": 0}, targets=["merged"])

    assert state["merged"] is False
