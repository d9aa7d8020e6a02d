"""The scheduler of `arun()`: async tasks on the running event loop, sync tasks on threads."""

from __future__ import annotations

import asyncio
import contextvars
import functools
from collections import deque
from typing import TYPE_CHECKING, Any

from flowlite._attempts import Attempts, Reported
from flowlite._pool import _call
from flowlite._runtime_checks import CheckedCall

if TYPE_CHECKING:
    from concurrent.futures import Executor

    from flowlite._execution import Execution

__all__ = ["AsyncScheduler"]


class AsyncScheduler:
    """Runs a plan from a coroutine: every task starts as soon as its inputs exist."""

    def __init__(self, execution: Execution) -> None:
        self._execution = execution
        self._loop = asyncio.get_running_loop()
        self._wake: asyncio.Future[None] = self._loop.create_future()
        self._own_pool: Executor | None = None

    def wake(self) -> None:
        """Make the scheduler look at the run's stop flag; any thread may call it."""
        self._loop.call_soon_threadsafe(self._resolve_wake)

    def _resolve_wake(self) -> None:
        if not self._wake.done():
            self._wake.set_result(None)

    def _pool(self) -> Executor:
        if self._execution.executor is not None:
            return self._execution.executor
        if self._own_pool is None:
            from concurrent.futures import ThreadPoolExecutor

            self._own_pool = ThreadPoolExecutor(
                self._execution.max_workers, thread_name_prefix="flowlite-worker"
            )
        return self._own_pool

    async def run(self) -> None:
        """Run the plan to its end, or until it stops after a failure or a cancellation."""
        execution = self._execution
        plan = execution.plan
        counts = list(plan._dependency_counts)
        ready = deque(index for index, count in enumerate(counts) if count == 0)
        running: dict[asyncio.Future[Any], int] = {}
        waited = False

        try:
            while True:
                while ready and not execution.stopped:
                    index = ready.popleft()
                    running[self._start(index)] = index
                if not running:
                    break

                if self._wake.done():
                    self._wake = self._loop.create_future()
                done, _ = await asyncio.wait({*running, self._wake}, return_when=asyncio.FIRST_COMPLETED)
                for future in done:
                    if future is self._wake:
                        continue
                    index = running.pop(future)
                    error = future.exception()
                    if error is not None:
                        execution.replay(getattr(error, "flowlite_events", ()))
                        execution.fail(index, error)
                        continue
                    result = future.result()
                    if isinstance(result, Reported):
                        execution.replay(result.events)
                        result = result.outputs
                    execution.complete(index, result, counts, ready)
            waited = True
        finally:
            if not waited:
                # The coroutine was cancelled or interrupted: cancel the async
                # tasks, and leave the threads of sync tasks to finish alone.
                execution.stop()
                for future in running:
                    future.cancel()
            if self._own_pool is not None:
                self._own_pool.shutdown(wait=waited, cancel_futures=True)

    def _start(self, index: int) -> asyncio.Future[Any]:
        execution = self._execution
        item = execution.plan._tasks[index]
        func, positional, keywords, _, _ = execution.calls[index]
        args = [execution.values[key] for key in positional]
        kwargs = {name: execution.values[key] for name, key in keywords}

        if item.is_async:
            # CheckedCall (check_types=True) wraps Attempts and checks the outputs.
            attempts = func if isinstance(func, (Attempts, CheckedCall)) else None
            if attempts is not None:
                coroutine = attempts.call_async(*args, **kwargs)
            else:
                coroutine = _await_outputs(item, args, kwargs)
            return asyncio.ensure_future(coroutine)

        # Sync tasks run on threads, in a copy of this coroutine's context.
        replaced = None if func is item.func else func
        call = functools.partial(_call, replaced, item, args, kwargs)
        return self._loop.run_in_executor(self._pool(), contextvars.copy_context().run, call)


async def _await_outputs(item: Any, args: list[Any], kwargs: dict[str, Any]) -> tuple[Any, ...]:
    result = await item.func(*args, **kwargs)
    return (result,) if item._single_output else tuple(item._split_result(result))
