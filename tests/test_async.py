"""Async tasks: run() gives them an event loop; arun() runs them on the caller's loop."""

from __future__ import annotations

import asyncio
import contextvars
import functools
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from typing import Any

import pytest

import flowlite
from flowlite import Registry, Retry, RunReport, TaskDefinitionError, TaskTimeoutError, task
from tests._tasks_for_async import double_later


async def fetch(url: str) -> str:
    await asyncio.sleep(0)
    return f"page:{url}"


class Fetcher:
    async def fetch(self, url: str) -> str:
        await asyncio.sleep(0)
        return f"method:{url}"

    async def __call__(self, url: str) -> str:
        await asyncio.sleep(0)
        return f"instance:{url}"


async def fetch_with_prefix(prefix: str, url: str) -> str:
    await asyncio.sleep(0)
    return f"{prefix}:{url}"


ASYNC_CALLABLES = [
    pytest.param(fetch, "page:u", id="function"),
    pytest.param(Fetcher().fetch, "method:u", id="bound-method"),
    pytest.param(Fetcher(), "instance:u", id="callable-instance"),
    pytest.param(functools.partial(fetch_with_prefix, "partial"), "partial:u", id="partial"),
]


@pytest.mark.parametrize(("function", "expected"), ASYNC_CALLABLES)
def test_async_callable_kinds_run(function: Any, expected: str) -> None:
    fetched = task(inputs=["url"], outputs="page", name="fetched")(function)

    assert fetched.is_async
    assert flowlite.run([fetched], {"url": "u"})["page"] == expected


@pytest.mark.parametrize(("function", "expected"), ASYNC_CALLABLES)
def test_async_callable_kinds_arun(function: Any, expected: str) -> None:
    fetched = task(inputs=["url"], outputs="page", name="fetched")(function)

    state = asyncio.run(flowlite.arun([fetched], {"url": "u"}))

    assert state["page"] == expected


def test_async_task_direct_call_returns_coroutine() -> None:
    fetched = task(fetch)

    assert asyncio.run(fetched("x")) == "page:x"


def test_async_generator_function_rejected() -> None:
    async def lines() -> Any:
        yield "line"

    with pytest.raises(TaskDefinitionError, match="async generator"):
        task(lines)


def test_run_async_tasks_in_parallel_threads() -> None:
    @task(inputs=["x"], outputs="left")
    async def left(x: int) -> int:
        await asyncio.sleep(0.3)
        return x + 1

    @task(inputs=["x"], outputs="right")
    async def right(x: int) -> int:
        await asyncio.sleep(0.3)
        return x + 2

    started = time.perf_counter()
    state = flowlite.run([left, right], {"x": 1})
    elapsed = time.perf_counter() - started

    assert state == {"x": 1, "left": 2, "right": 3}
    assert elapsed < 0.55


def test_run_async_multiple_outputs() -> None:
    @task(inputs=["x"], outputs=("low", "high"))
    async def bounds(x: int) -> tuple[int, int]:
        await asyncio.sleep(0)
        return x - 1, x + 1

    assert flowlite.run([bounds], {"x": 5}) == {"x": 5, "low": 4, "high": 6}


def test_run_async_exception_reaches_caller() -> None:
    failure = ValueError("bad page")

    @task(inputs=["url"], outputs="page")
    async def broken(url: str) -> str:
        await asyncio.sleep(0)
        raise failure

    with pytest.raises(ValueError, match="bad page") as caught:
        flowlite.run([broken], {"url": "u"})

    assert caught.value is failure
    assert "flowlite: raised by task 'broken'" in caught.value.__notes__


def test_run_async_timeout_cancels_coroutine() -> None:
    cancelled = threading.Event()

    @task(inputs=["x"], outputs="y", timeout=0.1)
    async def hang(x: int) -> int:
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            cancelled.set()
            raise
        return x

    started = time.perf_counter()
    with pytest.raises(TaskTimeoutError) as caught:
        flowlite.run([hang], {"x": 1})

    assert time.perf_counter() - started < 2
    assert caught.value.task == "hang"
    assert cancelled.is_set()


def test_run_async_retries_until_success() -> None:
    attempts: list[int] = []

    @task(inputs=["x"], outputs="y", retries=Retry(2, delay=0.01))
    async def flaky(x: int) -> int:
        attempts.append(x)
        await asyncio.sleep(0)
        if len(attempts) < 3:
            raise OSError("transient")
        return x

    assert flowlite.run([flaky], {"x": 7})["y"] == 7
    assert len(attempts) == 3


def test_run_called_from_running_loop() -> None:
    async def main() -> Any:
        return flowlite.run([task(inputs=["url"], outputs="page")(fetch)], {"url": "u"})

    assert asyncio.run(main())["page"] == "page:u"


def test_async_task_on_process_pool() -> None:
    with ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn")) as pool:
        state = flowlite.run([double_later], {"number": 21}, executor=pool)

    assert state["doubled"] == 42


def test_arun_overlaps_async_and_sync_tasks() -> None:
    @task(inputs=["x"], outputs="first")
    async def first(x: int) -> int:
        await asyncio.sleep(0.3)
        return x + 1

    @task(inputs=["x"], outputs="second")
    async def second(x: int) -> int:
        await asyncio.sleep(0.3)
        return x + 2

    @task(inputs=["x"], outputs="blocking")
    def blocking(x: int) -> str:
        time.sleep(0.3)
        return threading.current_thread().name

    @task(inputs=["first", "second", "blocking"], outputs="total")
    async def total(first: int, second: int, blocking: str) -> int:
        return first + second

    started = time.perf_counter()
    state = asyncio.run(flowlite.arun([first, second, blocking, total], {"x": 1}, max_workers=2))
    elapsed = time.perf_counter() - started

    assert state["total"] == 5
    assert state["blocking"].startswith("flowlite-worker")
    assert elapsed < 0.55


def test_arun_runs_async_tasks_on_callers_loop() -> None:
    @task(inputs=["x"], outputs="loop_id")
    async def which_loop(x: int) -> int:
        return id(asyncio.get_running_loop())

    async def main() -> tuple[int, int]:
        state = await flowlite.arun([which_loop], {"x": 1})
        return state["loop_id"], id(asyncio.get_running_loop())

    inside, caller = asyncio.run(main())

    assert inside == caller


def test_arun_failure_waits_for_running_tasks() -> None:
    finished = threading.Event()

    @task(inputs=["x"], outputs="slow")
    def slow(x: int) -> int:
        time.sleep(0.3)
        finished.set()
        return x

    @task(inputs=["x"], outputs="broken")
    async def broken(x: int) -> int:
        raise RuntimeError("boom")

    @task(inputs=["broken"], outputs="after")
    async def after(broken: int) -> int:
        return broken

    with pytest.raises(RuntimeError, match="boom"):
        asyncio.run(flowlite.arun([slow, broken, after], {"x": 1}))

    assert finished.is_set()


def test_arun_keep_going_reports_failures() -> None:
    @task(inputs=["x"], outputs="broken")
    async def broken(x: int) -> int:
        raise RuntimeError("boom")

    @task(inputs=["broken"], outputs="after")
    async def after(broken: int) -> int:
        return broken

    @task(inputs=["x"], outputs="fine")
    async def fine(x: int) -> int:
        return x

    with pytest.raises(flowlite.RunFailed) as caught:
        asyncio.run(flowlite.arun([broken, after, fine], {"x": 1}, keep_going=True))

    assert set(caught.value.failures) == {"broken"}
    assert caught.value.skipped == ("after",)
    assert caught.value.state["fine"] == 1


def test_arun_timeout_cancels_coroutine() -> None:
    @task(inputs=["x"], outputs="y", timeout=0.1)
    async def hang(x: int) -> int:
        await asyncio.sleep(10)
        return x

    started = time.perf_counter()
    with pytest.raises(TaskTimeoutError):
        asyncio.run(flowlite.arun([hang], {"x": 1}))

    assert time.perf_counter() - started < 2


def test_arun_cancelled_coroutine_cancels_tasks() -> None:
    cancelled = asyncio.Event()
    later_ran: list[str] = []

    @task(inputs=["x"], outputs="y")
    async def hang(x: int) -> int:
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            cancelled.set()
            raise
        return x

    @task(inputs=["y"], outputs="z")
    async def later(y: int) -> int:
        later_ran.append("later")
        return y

    async def main() -> None:
        running = asyncio.ensure_future(flowlite.arun([hang, later], {"x": 1}))
        await asyncio.sleep(0.05)
        running.cancel()
        with pytest.raises(asyncio.CancelledError):
            await running
        await asyncio.wait_for(cancelled.wait(), 1)

    asyncio.run(main())

    assert later_ran == []


def test_arun_cancel_token_from_thread() -> None:
    token = flowlite.CancelToken()

    @task(inputs=["x"], outputs="y")
    async def first(x: int) -> int:
        threading.Timer(0.05, token.cancel).start()
        await asyncio.sleep(0.2)
        return x

    @task(inputs=["y"], outputs="z")
    async def second(y: int) -> int:
        return y

    with pytest.raises(flowlite.RunCancelled) as caught:
        asyncio.run(flowlite.arun([first, second], {"x": 1}, cancel=token))

    assert caught.value.not_run == ("second",)
    assert caught.value.state["y"] == 1


def test_arun_hooks_see_async_retries() -> None:
    report = RunReport()
    attempts: list[int] = []

    @task(inputs=["x"], outputs="y", retries=Retry(1, delay=0))
    async def flaky(x: int) -> int:
        attempts.append(x)
        if len(attempts) == 1:
            raise OSError("transient")
        return x

    asyncio.run(flowlite.arun([flaky], {"x": 1}, hooks=[report]))

    (record,) = report.records
    assert record.status == "ok"
    assert record.attempts == 2


def test_arun_context_reaches_sync_tasks() -> None:
    request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id")

    @task(inputs=["x"], outputs="seen")
    def read_context(x: int) -> str:
        return request_id.get()

    async def main() -> Any:
        request_id.set("r-42")
        return await flowlite.arun([read_context], {"x": 1})

    assert asyncio.run(main())["seen"] == "r-42"


def test_arun_shares_one_plan_between_runs() -> None:
    @task(inputs=["x"], outputs="y")
    async def bump(x: int) -> int:
        await asyncio.sleep(0.01)
        return x + 1

    prepared = flowlite.plan(Registry([bump]), available={"x"})

    async def main() -> list[int]:
        states = await asyncio.gather(*(flowlite.arun(prepared, {"x": n}) for n in range(20)))
        return [state["y"] for state in states]

    assert asyncio.run(main()) == [n + 1 for n in range(20)]
