"""The pre-flight pickling check of runs on process pools and Dask.

Before any task starts, a run on a `ProcessPoolExecutor`, a Dask client or
`Client.get_executor()` pickles every task and every initial value that a
task reads, and raises `PicklingCheckError` for the first that fails.
"""

from __future__ import annotations

import multiprocessing
import pickle
import re
import subprocess
import sys
import textwrap
import threading
import time
import types
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

import _tasks_for_backends as tasks
import pytest

import flowlite
from flowlite import PicklingCheckError
from flowlite._preflight import check_picklable

if TYPE_CHECKING:
    from distributed import Client

# A check that passes the timeout has hung; it should take milliseconds.
CHECK_SECONDS = 5.0


def lambda_task() -> flowlite.Task[..., Any]:
    return flowlite.task(inputs=["number"], outputs="incremented", name="increment")(lambda n: n + 1)


def closure_task() -> flowlite.Task[..., Any]:
    offset = 10

    def shift(number: int) -> int:
        return number + offset

    return flowlite.task(outputs="shifted")(shift)


# --- process pools -----------------------------------------------------------


@pytest.mark.parametrize("make_task", [lambda_task, closure_task], ids=["lambda", "closure"])
def test_process_pool_rejects_local_function(
    spawn_process_pool: ProcessPoolExecutor, make_task: Any, tmp_path: Path
) -> None:
    item = make_task()
    started = time.monotonic()

    with pytest.raises(PicklingCheckError) as excinfo:
        flowlite.run(
            [item, tasks.double], {"number": 1, "marker_dir": str(tmp_path)}, executor=spawn_process_pool
        )

    assert time.monotonic() - started < CHECK_SECONDS
    error = excinfo.value
    assert error.task == item.name
    assert error.key is None
    assert f"task {item.name!r} cannot be sent" in str(error)
    assert "top level of a module" in str(error)
    assert isinstance(error, TypeError)
    assert tasks.marked(tmp_path) == set()


@pytest.mark.parametrize(
    "make_value",
    [threading.Lock, lambda: open(__file__)],  # noqa: SIM115
    ids=["lock", "open-file"],
)
def test_process_pool_rejects_initial_value(spawn_process_pool: ProcessPoolExecutor, make_value: Any) -> None:
    value = make_value()
    try:
        with pytest.raises(PicklingCheckError) as excinfo:
            flowlite.run([tasks.new_token], {"number": value}, executor=spawn_process_pool)
    finally:
        if hasattr(value, "close"):
            value.close()

    assert excinfo.value.key == "number"
    assert excinfo.value.task is None
    assert "initial value 'number'" in str(excinfo.value)
    assert isinstance(excinfo.value.__cause__, TypeError)


def test_process_pool_ignores_unread_value(spawn_process_pool: ProcessPoolExecutor, tmp_path: Path) -> None:
    # A value that no task reads stays in the caller's process.
    initial = {"number": 2, "marker_dir": str(tmp_path), "lock": threading.Lock()}

    state = flowlite.run([tasks.double], initial, executor=spawn_process_pool)

    assert state["doubled"] == 4


def test_thread_pool_runs_lambda_unchecked() -> None:
    with ThreadPoolExecutor(max_workers=1) as pool:
        state = flowlite.run([lambda_task()], {"number": 1}, executor=pool)

    assert state["incremented"] == 2


def test_stream_call_raises_before_first_next(spawn_process_pool: ProcessPoolExecutor) -> None:
    with pytest.raises(PicklingCheckError):
        flowlite.stream([lambda_task()], {"number": 1}, executor=spawn_process_pool)


# --- __main__ under the "spawn" method -------------------------------------------


@pytest.fixture
def fake_main(monkeypatch: pytest.MonkeyPatch) -> types.ModuleType:
    """A stand-in `__main__` module, as a script run with `python script.py` has."""
    module = types.ModuleType("__main__")
    module.__spec__ = None
    monkeypatch.setitem(sys.modules, "__main__", module)
    return module


def main_task(module: types.ModuleType, name: str) -> flowlite.Task[..., Any]:
    """Return a task that pickles by reference to `__main__.<name>`."""

    def negate(number: int) -> int:
        return -number

    negate.__module__ = "__main__"
    negate.__qualname__ = name
    negate.__name__ = name
    item = flowlite.task(outputs="negated")(negate)
    setattr(module, name, item)
    return item


def unstarted_pool(method: str) -> ProcessPoolExecutor:
    # A pool starts its processes at the first submit, which these checks never reach.
    return ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context(method))


SCRIPT = """\
from flowlite import task

@task(outputs="negated")
def top_level(number):
    return -number

if __name__ == "__main__":
    @task(outputs="negated")
    def guarded(number):
        return -number
"""


def test_main_interactive_rejected(fake_main: types.ModuleType) -> None:
    item = main_task(fake_main, "negate_interactive")
    pool = unstarted_pool("spawn")

    with pytest.raises(PicklingCheckError, match="interactive session") as excinfo:
        flowlite.run([item], {"number": 1}, executor=pool)

    assert excinfo.value.task == "negate_interactive"
    pool.shutdown()


def test_main_guarded_definition_rejected(fake_main: types.ModuleType, tmp_path: Path) -> None:
    script = tmp_path / "pipeline.py"
    script.write_text(SCRIPT)
    fake_main.__file__ = str(script)
    item = main_task(fake_main, "guarded")
    pool = unstarted_pool("spawn")

    with pytest.raises(PicklingCheckError, match=re.escape("if __name__ == '__main__'")) as excinfo:
        flowlite.run([item], {"number": 1}, executor=pool)

    assert str(script) in str(excinfo.value)
    pool.shutdown()


def test_main_top_level_definition_accepted(fake_main: types.ModuleType, tmp_path: Path) -> None:
    script = tmp_path / "pipeline.py"
    script.write_text(SCRIPT)
    fake_main.__file__ = str(script)
    item = main_task(fake_main, "top_level")
    prepared = flowlite.plan([item])
    pool = unstarted_pool("spawn")

    check_picklable(prepared, prepared._calls, {"number": 1}, pool)

    pool.shutdown()


def test_main_package_entry_point_rejected(fake_main: types.ModuleType) -> None:
    fake_main.__spec__ = types.SimpleNamespace(name="tool.__main__")  # type: ignore[assignment]
    item = main_task(fake_main, "negate_entry_point")
    pool = unstarted_pool("spawn")

    with pytest.raises(PicklingCheckError, match=re.escape("package entry point 'tool.__main__'")):
        flowlite.run([item], {"number": 1}, executor=pool)

    pool.shutdown()


def test_main_fork_pool_accepted(fake_main: types.ModuleType) -> None:
    # A forked worker starts with a copy of the parent's __main__.
    item = main_task(fake_main, "negate_forked")
    prepared = flowlite.plan([item])
    pool = unstarted_pool("fork")

    check_picklable(prepared, prepared._calls, {"number": 1}, pool)

    pool.shutdown()


def test_script_end_to_end_on_spawn_pool(tmp_path: Path) -> None:
    # A real script: the top-level task runs in a spawned worker, and the
    # one defined under the main guard is rejected before anything starts.
    script = tmp_path / "pipeline.py"
    script.write_text(
        SCRIPT
        + textwrap.indent(
            textwrap.dedent(
                """
                import multiprocessing
                from concurrent.futures import ProcessPoolExecutor
                from flowlite import PicklingCheckError, run

                context = multiprocessing.get_context("spawn")
                with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
                    print("top_level:", run([top_level], {"number": 2}, executor=pool)["negated"])
                    try:
                        run([guarded], {"number": 2}, executor=pool)
                    except PicklingCheckError as error:
                        print("guarded:", error.task)
                """
            ),
            "    ",
        )
    )

    result = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=120, check=False
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["top_level: -2", "guarded: guarded"]


# --- Dask ----------------------------------------------------------------------


def test_dask_client_rejects_lock_value(dask_client: Client) -> None:
    with pytest.raises(PicklingCheckError) as excinfo:
        flowlite.run([tasks.new_token], {"number": threading.Lock()}, executor=dask_client)

    assert excinfo.value.key == "number"
    assert "the Dask workers" in str(excinfo.value)


def test_dask_client_rejects_task_holding_lock(dask_client: Client) -> None:
    lock = threading.Lock()

    def locked_increment(number: int) -> int:
        with lock:
            return number + 1

    item = flowlite.task(outputs="incremented")(locked_increment)

    with pytest.raises(PicklingCheckError) as excinfo:
        flowlite.run([item], {"number": 1}, executor=dask_client)

    assert excinfo.value.task == "locked_increment"
    assert "locks, open files or connections" in str(excinfo.value)


def test_client_executor_rejects_main_task(dask_client: Client, monkeypatch: pytest.MonkeyPatch) -> None:
    # Under pytest, __main__ is pytest's own entry point, which the cluster's
    # worker processes do not run; the client itself sends the task by value.
    def negate(number: int) -> int:
        return -number

    negate.__module__ = "__main__"
    negate.__qualname__ = "negate_for_executor"
    item = flowlite.task(outputs="negated")(negate)
    monkeypatch.setattr(sys.modules["__main__"], "negate_for_executor", item, raising=False)

    with pytest.raises(PicklingCheckError, match="'negate_for_executor' in __main__"):
        flowlite.run([item], {"number": 1}, executor=dask_client.get_executor(pure=False))

    assert flowlite.run([item], {"number": 1}, executor=dask_client)["negated"] == -1


# --- the error ---------------------------------------------------------------------


def test_error_pickles_with_attributes(spawn_process_pool: ProcessPoolExecutor) -> None:
    with pytest.raises(PicklingCheckError) as excinfo:
        flowlite.run([lambda_task()], {"number": 1}, executor=spawn_process_pool)

    copied = pickle.loads(pickle.dumps(excinfo.value))

    assert type(copied) is PicklingCheckError
    assert copied.task == "increment"
    assert copied.key is None
    assert str(copied) == str(excinfo.value)
