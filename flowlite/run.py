"""`run()` and `stream()`: dependency-driven execution of a plan."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any, Unpack

from flowlite._execution import Execution, RunOptions, default_max_workers
from flowlite.plan import Plan
from flowlite.registry import Registry
from flowlite.state import State
from flowlite.task import Task

__all__ = ["RunOptions", "arun", "default_max_workers", "run", "stream"]

AnyTask = Task[..., Any]


def run(
    registry_or_plan: Plan | Registry | Iterable[AnyTask],
    initial_state: Mapping[str, Any],
    **options: Unpack[RunOptions],
) -> State:
    """Run every task of the plan and return the final state.

    A task starts as soon as its inputs exist. Without `executor`, at most
    `max_workers` tasks run at once (default `default_max_workers()`): the
    calling thread runs tasks itself, and pool threads named
    `flowlite-worker-N` start only while more tasks are ready than threads
    are free, so a chain of tasks never leaves the calling thread and
    `max_workers=1` starts no thread at all. `executor` takes any
    `concurrent.futures.Executor`, which then runs every task and is not
    shut down. The options are described in `RunOptions`.

    A task's exception reaches the caller unchanged, with a note naming the
    task; no task starts after it, and `run()` returns only once the running
    tasks have finished. With `keep_going=True`, every task that does not
    depend on a failed one still runs, and `RunFailed` reports all failures
    at the end. A `KeyboardInterrupt` in the calling thread returns at once,
    without waiting for the tasks that are running.
    """
    execution = Execution(registry_or_plan, initial_state, options)
    with execution:
        for _ in execution.steps(report_stages=False):
            pass
        return execution.finish()


def stream(
    registry_or_plan: Plan | Registry | Iterable[AnyTask],
    initial_state: Mapping[str, Any],
    **options: Unpack[RunOptions],
) -> Iterator[State]:
    """Run like `run()`, yielding the state after each stage of the plan.

    The k-th state contains the initial state and the outputs of stages 0 to k,
    also when later tasks have already finished. While the consumer holds a
    state, pool threads go on with ready tasks but the calling thread runs
    none, and with a caller's `executor` no new task is submitted. Closing
    the generator early stops the run and waits for the running tasks.
    After a failure, the states of the stages completed before it have been
    yielded and the failure is raised as in `run()`.
    """
    # Validate here, so that a mistake raises at the call rather than at the
    # first next() of the returned generator.
    execution = Execution(registry_or_plan, initial_state, options)
    return _stream_states(execution)


def _stream_states(execution: Execution) -> Iterator[State]:
    # Each yielded state holds every output of its stages, so nothing is
    # released early, with targets or without.
    execution.remaining_reads = None
    with execution:
        current = State(execution.values)
        stages = execution.plan.stages
        for index in execution.steps(report_stages=True):
            produced = {key: execution.values[key] for item in stages[index] for key in item.outputs}
            current = current.with_values(produced)
            yield current
        execution.finish()


async def arun(
    registry_or_plan: Plan | Registry | Iterable[AnyTask],
    initial_state: Mapping[str, Any],
    **options: Unpack[RunOptions],
) -> State:
    """Run the plan from async code: the coroutine form of `run()`.

    `async def` tasks run on the running event loop, concurrently with each
    other, and their timeouts cancel them. Synchronous tasks run on a pool
    of `max_workers` threads, or on `executor`. Cancelling the coroutine
    cancels the async tasks that are running and starts nothing new; sync
    tasks already on a thread finish on their own.
    """
    from flowlite._async import AsyncScheduler

    execution = Execution(registry_or_plan, initial_state, options, live_hooks=False)
    with execution:
        scheduler = AsyncScheduler(execution)
        execution.interrupt = scheduler.wake
        await scheduler.run()
        return execution.finish()
