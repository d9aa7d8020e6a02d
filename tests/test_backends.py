"""The same runner behaviour on every backend: threads, thread pool, process pool and Dask.

Each behavioural test runs once per backend through the `backend` fixture,
which returns the run options that select it. The process pool and the Dask
cluster are shared by the whole session (see conftest.py). The tasks live in
`_tasks_for_backends`, which worker processes import.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

import _tasks_for_backends as tasks
import pytest

import flowlite
from flowlite import FlowliteError, Hooks, RunFailed, TaskEvent

if TYPE_CHECKING:
    from distributed import Client

BACKENDS = ["threads", "thread-pool", "process-pool", "dask"]


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> Iterator[dict[str, Any]]:
    """The run options that select one backend."""
    if request.param == "threads":
        yield {}
    elif request.param == "thread-pool":
        with ThreadPoolExecutor(max_workers=4, thread_name_prefix="backend-pool") as pool:
            yield {"executor": pool}
    elif request.param == "process-pool":
        yield {"executor": request.getfixturevalue("spawn_process_pool")}
    else:
        yield {"executor": request.getfixturevalue("dask_client")}


def arithmetic_state(marker_dir: Path, dividend: int = 17) -> dict[str, Any]:
    return {"dividend": dividend, "divisor": 5, "factor": 10, "marker_dir": str(marker_dir)}


def expected_total(dividend: int) -> int:
    quotient, remainder = divmod(dividend, 5)
    return quotient * quotient + remainder * 10


# --- results ---------------------------------------------------------------


def test_results_equal_sequential_run(backend: dict[str, Any], tmp_path: Path) -> None:
    initial = arithmetic_state(tmp_path)
    sequential = flowlite.run(tasks.arithmetic_registry(), initial, max_workers=1)

    state = flowlite.run(tasks.arithmetic_registry(), initial, **backend)

    assert state == sequential
    assert state == {
        **initial,
        "quotient": 3,
        "remainder": 2,
        "squared": 9,
        "scaled": 20,
        "total": 29,
    }
    assert tasks.marked(tmp_path) == {"total-29"}


def test_targets_return_initial_state_and_targets(backend: dict[str, Any], tmp_path: Path) -> None:
    initial = arithmetic_state(tmp_path)

    state = flowlite.run(tasks.arithmetic_registry(), initial, targets=["squared"], **backend)

    assert state == {**initial, "squared": 9}
    assert tasks.marked(tmp_path) == set()


def test_parameters_named_like_submit_options(backend: dict[str, Any]) -> None:
    # Client.submit takes key=, workers=, pure=, retries= and priority= itself.
    initial = {"key": "k", "workers": 2, "pure": False, "retries": 0, "priority": 5}

    state = flowlite.run([tasks.use_submit_option_names], initial, **backend)

    assert state["submit_names"] == "k:2:False:0:5"


def test_stream_yields_state_per_stage(backend: dict[str, Any], tmp_path: Path) -> None:
    initial = arithmetic_state(tmp_path)

    states = list(flowlite.stream(tasks.arithmetic_registry(), initial, **backend))

    new_keys = [set(state) - set(initial) for state in states]
    assert new_keys == [
        {"quotient", "remainder"},
        {"quotient", "remainder", "squared", "scaled"},
        {"quotient", "remainder", "squared", "scaled", "total"},
        {"quotient", "remainder", "squared", "scaled", "total"},
    ]
    assert states[-1]["total"] == 29


def test_concurrent_runs_of_one_plan(backend: dict[str, Any], tmp_path: Path) -> None:
    initial = arithmetic_state(tmp_path)
    prepared = flowlite.plan(tasks.arithmetic_registry(), available=initial)

    def total_of(dividend: int) -> int:
        state = flowlite.run(prepared, arithmetic_state(tmp_path, dividend), **backend)
        return int(state["total"])

    with ThreadPoolExecutor(max_workers=4, thread_name_prefix="caller") as callers:
        totals = list(callers.map(total_of, range(16)))

    assert totals == [expected_total(dividend) for dividend in range(16)]


# --- failures --------------------------------------------------------------


def test_task_exception_type_and_note(backend: dict[str, Any], tmp_path: Path) -> None:
    initial = {"number": -3, "marker_dir": str(tmp_path)}

    with pytest.raises(tasks.NegativeNumberError, match="number -3 is negative") as excinfo:
        flowlite.run(tasks.failing_registry(), initial, **backend)

    assert not isinstance(excinfo.value, FlowliteError)
    assert "flowlite: raised by task 'check_positive'" in excinfo.value.__notes__


def test_failure_runs_nothing_downstream(backend: dict[str, Any], tmp_path: Path) -> None:
    initial = {"number": -3, "marker_dir": str(tmp_path)}

    with pytest.raises(tasks.NegativeNumberError):
        flowlite.run(tasks.failing_registry(), initial, **backend)

    ran = tasks.marked(tmp_path)
    assert "check_positive" in ran
    assert ran.isdisjoint(tasks.DESCENDANTS_OF_CHECK)


def test_keep_going_skips_descendants(backend: dict[str, Any], tmp_path: Path) -> None:
    initial = {"number": -3, "marker_dir": str(tmp_path)}

    with pytest.raises(RunFailed) as excinfo:
        flowlite.run(tasks.failing_registry(), initial, keep_going=True, **backend)

    failed = excinfo.value
    assert list(failed.failures) == ["check_positive"]
    assert isinstance(failed.failures["check_positive"], tasks.NegativeNumberError)
    assert "flowlite: raised by task 'check_positive'" in failed.failures["check_positive"].__notes__
    assert failed.skipped == tasks.DESCENDANTS_OF_CHECK
    assert failed.state == {**initial, "slept": -3, "doubled": -6, "after_double": -5}
    assert tasks.marked(tmp_path) == {"check_positive", "sleep_briefly", "double", "after_double"}


def test_stream_failure_after_first_stage(backend: dict[str, Any], tmp_path: Path) -> None:
    # `check_positive` fails in stage 0, so no stage completes.
    initial = {"number": -3, "marker_dir": str(tmp_path)}
    states = flowlite.stream(tasks.failing_registry(), initial, **backend)

    with pytest.raises(tasks.NegativeNumberError):
        next(states)

    assert tasks.marked(tmp_path).isdisjoint(tasks.DESCENDANTS_OF_CHECK)


# --- Dask ------------------------------------------------------------------


class EventLog(Hooks):
    """Collects the names of the tasks whose end or error event arrived."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.ended: list[str] = []
        self.failed: list[str] = []

    def on_task_end(self, event: TaskEvent) -> None:
        with self.lock:
            self.ended.append(event.task)

    def on_task_error(self, event: TaskEvent) -> None:
        with self.lock:
            self.failed.append(event.task)


def test_dask_hooks_receive_task_events(dask_client: Client, tmp_path: Path) -> None:
    log = EventLog()

    with pytest.raises(RunFailed):
        flowlite.run(
            tasks.failing_registry(),
            {"number": -3, "marker_dir": str(tmp_path)},
            executor=dask_client,
            keep_going=True,
            hooks=[log],
        )

    assert sorted(log.ended) == ["after_double", "double", "sleep_briefly"]
    assert log.failed == ["check_positive"]


def test_dask_runs_task_defined_in_main(dask_client: Client, monkeypatch: pytest.MonkeyPatch) -> None:
    # A task bound to a name in __main__ pickles by that name, which the
    # workers' own __main__ lacks; the Dask backend sends it by value.
    def negate(number: int) -> int:
        return -number

    negate.__module__ = "__main__"
    negate.__qualname__ = "negate_in_main"
    negate_in_main = flowlite.task(outputs="negated")(negate)
    monkeypatch.setattr(sys.modules["__main__"], "negate_in_main", negate_in_main, raising=False)
    assert negate_in_main.__reduce__() == "negate_in_main"

    state = flowlite.run([negate_in_main], {"number": 4}, executor=dask_client)

    assert state["negated"] == -4


def test_dask_tasks_run_in_worker_processes(dask_client: Client) -> None:
    @flowlite.task(outputs="pid")
    def report_pid(number: int) -> int:
        return os.getpid()

    state = flowlite.run([report_pid], {"number": 1}, executor=dask_client)

    assert state["pid"] != os.getpid()


def test_dask_lambda_task_runs(dask_client: Client) -> None:
    # Dask pickles functions with cloudpickle, by value where needed.
    increment = flowlite.task(inputs=["number"], outputs="incremented", name="increment")(lambda n: n + 1)

    assert flowlite.run([increment], {"number": 1}, executor=dask_client)["incremented"] == 2


def test_dask_cancel_token_stops_run(dask_client: Client, tmp_path: Path) -> None:
    token = flowlite.CancelToken()
    token.cancel()

    with pytest.raises(flowlite.RunCancelled):
        flowlite.run(
            tasks.arithmetic_registry(), arithmetic_state(tmp_path), executor=dask_client, cancel=token
        )


# --- Client.get_executor() -------------------------------------------------


def test_client_executor_results_equal_sequential(dask_client: Client, tmp_path: Path) -> None:
    initial = arithmetic_state(tmp_path)
    sequential = flowlite.run(tasks.arithmetic_registry(), initial, max_workers=1)

    state = flowlite.run(tasks.arithmetic_registry(), initial, executor=dask_client.get_executor(pure=False))

    assert state == sequential


def test_client_executor_failure_type_and_note(dask_client: Client, tmp_path: Path) -> None:
    initial = {"number": -3, "marker_dir": str(tmp_path)}

    with pytest.raises(tasks.NegativeNumberError) as excinfo:
        flowlite.run(tasks.failing_registry(), initial, executor=dask_client.get_executor(pure=False))

    assert "flowlite: raised by task 'check_positive'" in excinfo.value.__notes__
    assert tasks.marked(tmp_path).isdisjoint(tasks.DESCENDANTS_OF_CHECK)


@pytest.mark.parametrize(("pure", "merged"), [(True, True), (False, False)], ids=["pure", "not-pure"])
def test_client_executor_pure_merges_identical_calls(dask_client: Client, pure: bool, merged: bool) -> None:
    # With pure=True, the default of get_executor(), Dask gives identical
    # calls one key, so two runs at once call an impure task only once.
    executor = dask_client.get_executor(pure=pure)
    start = threading.Barrier(2, timeout=30)

    def token_of_run() -> str:
        start.wait()
        return str(flowlite.run([tasks.new_token], {"number": 1}, executor=executor)["token"])

    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="caller") as callers:
        first, second = [future.result() for future in [callers.submit(token_of_run) for _ in range(2)]]

    assert (first == second) is merged


def test_dask_client_identical_runs_not_merged(dask_client: Client) -> None:
    start = threading.Barrier(2, timeout=30)

    def token_of_run() -> str:
        start.wait()
        return str(flowlite.run([tasks.new_token], {"number": 1}, executor=dask_client)["token"])

    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="caller") as callers:
        first, second = [future.result() for future in [callers.submit(token_of_run) for _ in range(2)]]

    assert first != second
