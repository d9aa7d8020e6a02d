"""The default scheduler: learned task durations decide which ready task starts first."""

from __future__ import annotations

import time
from collections.abc import Callable

import flowlite
from flowlite import Plan, task

# The two quick tasks sleep, which releases the GIL, so the thread that took
# the slow task logs its start before a pool thread can take another task.
QUICK_SECONDS = 0.05


def build_plan(started: list[str], slow_seconds: float, quick_seconds: float = QUICK_SECONDS) -> Plan:
    def worker(name: str, seconds: float) -> Callable[[int], int]:
        def body(start: int) -> int:
            started.append(name)
            time.sleep(seconds)
            return start

        return body

    tasks = [
        task(worker("first", quick_seconds), inputs=["start"], outputs="first_out", name="first"),
        task(worker("second", quick_seconds), inputs=["start"], outputs="second_out", name="second"),
        task(worker("slow", slow_seconds), inputs=["start"], outputs="slow_out", name="slow"),
    ]
    return flowlite.plan(tasks, available={"start"})


# With two workers and three ready tasks, the first two to start are the
# two that the ready queue hands out first; the third waits for a free
# worker. Which of the first two logs its start first is a race.


def test_first_run_starts_in_plan_order() -> None:
    started: list[str] = []
    prepared = build_plan(started, 0.2)

    flowlite.run(prepared, {"start": 0}, max_workers=2)

    assert started[2] == "slow"


def test_slow_task_starts_first_third_run() -> None:
    # The first two runs measure the slow task twice; the third orders by it.
    started: list[str] = []
    prepared = build_plan(started, 0.2)
    flowlite.run(prepared, {"start": 0}, max_workers=2)
    flowlite.run(prepared, {"start": 0}, max_workers=2)
    started.clear()

    flowlite.run(prepared, {"start": 0}, max_workers=2)

    assert "slow" in started[:2]


def test_fast_tasks_keep_plan_order() -> None:
    # Tasks under a millisecond do not make ordering worth its cost.
    started: list[str] = []
    prepared = build_plan(started, 0.0, quick_seconds=0.0)

    for _ in range(3):
        flowlite.run(prepared, {"start": 0}, max_workers=2)

    assert prepared._timings.slow is False


def test_single_worker_keeps_plan_order() -> None:
    started: list[str] = []
    prepared = build_plan(started, 0.2)
    flowlite.run(prepared, {"start": 0}, max_workers=2)
    flowlite.run(prepared, {"start": 0}, max_workers=2)
    started.clear()

    flowlite.run(prepared, {"start": 0}, max_workers=1)

    assert started == ["first", "second", "slow"]


def test_second_run_decides_ordering() -> None:
    started: list[str] = []
    prepared = build_plan(started, 0.2)

    flowlite.run(prepared, {"start": 0}, max_workers=2)
    after_one = prepared._timings.slow
    flowlite.run(prepared, {"start": 0}, max_workers=2)

    assert after_one is False
    assert prepared._timings.slow is True


def test_one_slow_pause_keeps_fifo() -> None:
    # A quick task that was slow once, such as while waiting for the GIL,
    # does not switch the plan to ordering by duration.
    pauses = iter([0.02])

    def sometimes_slow(start: int) -> int:
        time.sleep(next(pauses, 0.0))
        return start

    prepared = flowlite.plan([task(sometimes_slow, inputs=["start"], outputs="out")], available={"start"})
    for _ in range(3):
        flowlite.run(prepared, {"start": 0}, max_workers=2)

    assert prepared._timings.slow is False


def test_timings_record_each_task() -> None:
    started: list[str] = []
    prepared = build_plan(started, 0.2)

    flowlite.run(prepared, {"start": 0}, max_workers=2)
    flowlite.run(prepared, {"start": 0}, max_workers=2)

    seconds = dict(zip((item.name for item in prepared.tasks), prepared._timings.seconds, strict=True))
    assert seconds["slow"] >= 0.15
    assert seconds["first"] < 0.15
    assert prepared._timings.slow
