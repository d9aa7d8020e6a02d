"""run() and stream(): scheduling, executors, failures, arguments and concurrent runs."""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from contextlib import closing
from typing import Any

import _tasks_for_runs
import pytest

import flowlite
from flowlite import (
    FlowliteError,
    InvalidArgumentError,
    InvalidKeyError,
    MissingInputError,
    OutputError,
    OverwriteError,
    Registry,
    RunFailed,
    State,
    Task,
    UnknownKeyError,
)

AnyTask = Task[..., Any]

# Timeout for events, barriers and joins. Passing tests never reach it, and
# it turns a scheduling bug into a failure instead of a hang.
WAIT_SECONDS = 5.0


class Recorder:
    """A thread-safe log of the tasks that ran and the threads they ran in."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.calls: list[str] = []
        self.thread_names: dict[str, str] = {}
        self.thread_ids: dict[str, int] = {}

    def record(self, name: str) -> None:
        with self._lock:
            self.calls.append(name)
            self.thread_names[name] = threading.current_thread().name
            self.thread_ids[name] = threading.get_ident()


def traced(
    recorder: Recorder,
    name: str,
    inputs: Sequence[str] = (),
    *,
    action: Callable[[], object] | None = None,
) -> AnyTask:
    """Return a task that records its call, runs `action`, and returns `name(inputs...)`.

    The returned text shows which values reached the task, so a final state
    shows the whole data flow.
    """

    def body(*values: object) -> str:
        recorder.record(name)
        if action is not None:
            action()
        return f"{name}({','.join(map(str, values))})"

    return flowlite.task(inputs=list(inputs), outputs=name, name=name)(body)


def diamond(recorder: Recorder) -> Registry:
    """Return `load` -> (`left`, `right`) -> `merge`, reading the external key `raw`."""
    return Registry(
        [
            traced(recorder, "load", ["raw"]),
            traced(recorder, "left", ["load"]),
            traced(recorder, "right", ["load"]),
            traced(recorder, "merge", ["left", "right"]),
        ]
    )


DIAMOND_RESULT = {
    "raw": "x",
    "load": "load(x)",
    "left": "left(load(x))",
    "right": "right(load(x))",
    "merge": "merge(left(load(x)),right(load(x)))",
}


def worker_threads() -> list[threading.Thread]:
    return [thread for thread in threading.enumerate() if thread.name.startswith("flowlite-worker")]


@pytest.fixture
def thread_pool() -> Iterator[ThreadPoolExecutor]:
    executor = ThreadPoolExecutor(max_workers=3, thread_name_prefix="caller-pool")
    try:
        yield executor
    finally:
        executor.shutdown(wait=True)


@pytest.fixture
def process_pool() -> Iterator[ProcessPoolExecutor]:
    # Spawned workers import the tasks by module name, which also checks
    # that the tasks pickle by reference.
    executor = ProcessPoolExecutor(max_workers=2, mp_context=multiprocessing.get_context("spawn"))
    try:
        yield executor
    finally:
        executor.shutdown(wait=True)


# --- results ---------------------------------------------------------------


@pytest.mark.parametrize(
    "make_source",
    [
        lambda registry: registry,
        lambda registry: flowlite.plan(registry),
        lambda registry: flowlite.plan(registry, available=["raw"]),
        lambda registry: list(registry),
    ],
    ids=["registry", "plan", "plan-with-available", "list-of-tasks"],
)
def test_run_source_kinds(make_source: Callable[[Registry], object]) -> None:
    state = flowlite.run(make_source(diamond(Recorder())), {"raw": "x"})  # type: ignore[arg-type]

    assert state == DIAMOND_RESULT
    assert isinstance(state, State)


@pytest.mark.parametrize("max_workers", [None, 1, 2, 8])
def test_run_result_independent_of_pool_size(max_workers: int | None) -> None:
    recorder = Recorder()

    state = flowlite.run(diamond(recorder), {"raw": "x"}, max_workers=max_workers)

    assert state == DIAMOND_RESULT
    assert sorted(recorder.calls) == ["left", "load", "merge", "right"]


def test_run_keeps_initial_state_order() -> None:
    state = flowlite.run(diamond(Recorder()), {"raw": "x", "unused": 1})

    assert list(state)[:2] == ["raw", "unused"]


@pytest.mark.parametrize("make_initial", [dict, State], ids=["dict", "State"])
def test_run_leaves_initial_state_unchanged(make_initial: Callable[[dict[str, str]], Any]) -> None:
    initial = make_initial({"raw": "x"})

    flowlite.run(diamond(Recorder()), initial)

    assert dict(initial) == {"raw": "x"}


@pytest.mark.parametrize(
    ("inputs", "expected"),
    [
        (["b"], ((2,), {})),
        (["b", "c"], ((2, 3), {})),
        ({"value": "b"}, ((), {"value": 2})),
    ],
    ids=["one-key", "two-keys", "by-name"],
)
def test_run_passes_only_declared_inputs(inputs: object, expected: tuple[object, object]) -> None:
    def capture(*args: object, **kwargs: object) -> tuple[object, object]:
        return args, kwargs

    capturing = flowlite.task(inputs=inputs, outputs="received")(capture)  # type: ignore[call-overload]

    state = flowlite.run([capturing], {"a": 1, "b": 2, "c": 3, "d": 4})

    assert state["received"] == expected


@pytest.mark.parametrize(
    "returned",
    [("H", "T"), {"head": "H", "tail": "T"}, {"tail": "T", "head": "H"}],
    ids=["tuple", "mapping", "mapping-other-order"],
)
def test_run_stores_multiple_outputs(returned: object) -> None:
    @flowlite.task(inputs=["raw"], outputs=["head", "tail"])
    def split(raw: str) -> object:
        return returned

    state = flowlite.run([split], {"raw": "x"})

    assert state["head"] == "H"
    assert state["tail"] == "T"


def test_run_single_output_keeps_returned_dict() -> None:
    @flowlite.task(inputs=["raw"], outputs="parsed")
    def parse(raw: str) -> dict[str, str]:
        return {"head": raw}

    assert flowlite.run([parse], {"raw": "x"})["parsed"] == {"head": "x"}


def test_run_sink_runs_and_stores_nothing() -> None:
    written: list[str] = []

    @flowlite.task(inputs=["raw"], outputs=())
    def save(raw: str) -> str:
        written.append(raw)
        return "ignored"

    state = flowlite.run([save], {"raw": "x"})

    assert written == ["x"]
    assert state == {"raw": "x"}


def test_run_empty_plan_returns_initial_state() -> None:
    assert flowlite.run(Registry(), {"raw": "x"}) == {"raw": "x"}


# --- scheduling ------------------------------------------------------------


def test_run_independent_tasks_in_parallel() -> None:
    recorder = Recorder()
    barrier = threading.Barrier(2, timeout=WAIT_SECONDS)
    tasks = [
        traced(recorder, "first", ["raw"], action=barrier.wait),
        traced(recorder, "second", ["raw"], action=barrier.wait),
    ]

    state = flowlite.run(tasks, {"raw": "x"})

    assert state["first"] == "first(x)"
    assert state["second"] == "second(x)"
    assert recorder.thread_ids["first"] != recorder.thread_ids["second"]


def test_run_two_sleeps_overlap() -> None:
    recorder = Recorder()
    tasks = [
        traced(recorder, "nap_one", ["raw"], action=lambda: time.sleep(0.5)),
        traced(recorder, "nap_two", ["raw"], action=lambda: time.sleep(0.5)),
    ]

    started = time.perf_counter()
    flowlite.run(tasks, {"raw": "x"})
    seconds = time.perf_counter() - started

    # One after the other would take at least 1.0 s.
    assert seconds < 0.9


def test_run_slow_branch_does_not_delay_other() -> None:
    recorder = Recorder()
    other_branch_done = threading.Event()
    seen_while_slow: list[bool] = []

    def wait_for_other_branch() -> None:
        seen_while_slow.append(other_branch_done.wait(WAIT_SECONDS))

    tasks = [
        traced(recorder, "slow", ["raw"], action=wait_for_other_branch),
        traced(recorder, "after_slow", ["slow"]),
        traced(recorder, "quick", ["raw"]),
        traced(recorder, "after_quick", ["quick"], action=other_branch_done.set),
    ]

    state = flowlite.run(tasks, {"raw": "x"})

    assert seen_while_slow == [True]
    assert recorder.calls.index("after_quick") < recorder.calls.index("after_slow")
    assert state["after_slow"] == "after_slow(slow(x))"


def test_run_consumer_starts_before_stage_ends() -> None:
    # `fast_child` is in stage 1 and `slow` in stage 0, so a stage-by-stage
    # runner would wait for `slow` before starting `fast_child`.
    recorder = Recorder()
    child_done = threading.Event()
    seen_while_slow: list[bool] = []

    tasks = [
        traced(
            recorder, "slow", ["raw"], action=lambda: seen_while_slow.append(child_done.wait(WAIT_SECONDS))
        ),
        traced(recorder, "fast", ["raw"]),
        traced(recorder, "fast_child", ["fast"], action=child_done.set),
    ]

    flowlite.run(tasks, {"raw": "x"})

    assert seen_while_slow == [True]


@pytest.mark.parametrize("max_workers", [None, 2, 3])
def test_run_pool_size_caps_concurrency(max_workers: int | None) -> None:
    limit = flowlite.default_max_workers() if max_workers is None else max_workers
    condition = threading.Condition()
    release = threading.Event()
    started: list[str] = []

    def hold() -> None:
        with condition:
            started.append(threading.current_thread().name)
            condition.notify_all()
        release.wait(WAIT_SECONDS)

    tasks = [
        flowlite.task(inputs=[], outputs=f"held{index}", name=f"hold{index}")(hold)
        for index in range(limit + 1)
    ]
    outcome: dict[str, object] = {}

    def run_tasks() -> None:
        try:
            outcome["state"] = flowlite.run(tasks, {}, max_workers=max_workers)
        except BaseException as error:
            outcome["error"] = error

    runner = threading.Thread(target=run_tasks, name="test-runner")
    runner.start()
    try:
        with condition:
            reached_limit = condition.wait_for(lambda: len(started) >= limit, timeout=WAIT_SECONDS)
        # Give a task beyond the limit time to start, which it must not.
        time.sleep(0.2)
        with condition:
            started_while_held = len(started)
    finally:
        release.set()
        runner.join(WAIT_SECONDS)

    assert reached_limit
    assert started_while_held == limit
    assert "error" not in outcome
    assert len(outcome["state"]) == limit + 1  # type: ignore[arg-type]


def test_run_worker_threads_have_flowlite_prefix() -> None:
    recorder = Recorder()
    barrier = threading.Barrier(3, timeout=WAIT_SECONDS)
    tasks = [traced(recorder, f"part{index}", ["raw"], action=barrier.wait) for index in range(3)]

    flowlite.run(tasks, {"raw": "x"})

    caller = threading.current_thread().name
    pool_names = [name for name in recorder.thread_names.values() if name != caller]
    assert len(pool_names) >= 2
    for name in pool_names:
        assert name.startswith("flowlite-worker"), name


def test_run_chain_runs_in_calling_thread() -> None:
    recorder = Recorder()
    tasks = [
        traced(recorder, "first", ["raw"]),
        traced(recorder, "second", ["first"]),
        traced(recorder, "third", ["second"]),
    ]

    flowlite.run(tasks, {"raw": "x"})

    assert set(recorder.thread_ids.values()) == {threading.get_ident()}


def test_run_max_workers_one_uses_calling_thread() -> None:
    recorder = Recorder()
    thread_counts: list[int] = []
    tasks = [
        traced(
            recorder, f"part{index}", ["raw"], action=lambda: thread_counts.append(threading.active_count())
        )
        for index in range(6)
    ]
    tasks.append(traced(recorder, "combine", [f"part{index}" for index in range(6)]))
    threads_before = threading.active_count()

    flowlite.run(tasks, {"raw": "x"}, max_workers=1)

    assert set(recorder.thread_ids.values()) == {threading.get_ident()}
    assert set(thread_counts) == {threads_before}
    assert recorder.calls == [f"part{index}" for index in range(6)] + ["combine"]


# --- executors -------------------------------------------------------------


def test_run_on_caller_thread_pool(thread_pool: ThreadPoolExecutor) -> None:
    recorder = Recorder()
    barrier = threading.Barrier(2, timeout=WAIT_SECONDS)
    tasks = [
        traced(recorder, "first", ["raw"], action=barrier.wait),
        traced(recorder, "second", ["raw"], action=barrier.wait),
        traced(recorder, "lone", ["first", "second"]),
    ]

    state = flowlite.run(tasks, {"raw": "x"}, executor=thread_pool)

    assert state["lone"] == "lone(first(x),second(x))"
    for name, thread_name in recorder.thread_names.items():
        assert thread_name.startswith("caller-pool"), (name, thread_name)


def test_run_keeps_caller_thread_pool_open(thread_pool: ThreadPoolExecutor) -> None:
    flowlite.run(diamond(Recorder()), {"raw": "x"}, executor=thread_pool)

    assert thread_pool.submit(pow, 2, 5).result(timeout=WAIT_SECONDS) == 32


def test_run_on_process_pool(process_pool: ProcessPoolExecutor) -> None:
    state = flowlite.run(_tasks_for_runs.arithmetic_registry(), {"number": 5}, executor=process_pool)

    assert state["doubled"] == 10
    assert state["tripled"] == 15
    assert state["total"] == 25
    assert state["total_pid"] != os.getpid()


def test_run_keeps_caller_process_pool_open(process_pool: ProcessPoolExecutor) -> None:
    flowlite.run(_tasks_for_runs.arithmetic_registry(), {"number": 5}, executor=process_pool)

    assert process_pool.submit(pow, 2, 5).result(timeout=60) == 32


def test_run_process_pool_failure_reaches_caller(process_pool: ProcessPoolExecutor) -> None:
    with pytest.raises(ValueError, match="invalid number 7") as excinfo:
        flowlite.run([_tasks_for_runs.fail_with_value_error], {"number": 7}, executor=process_pool)

    assert any("'fail_with_value_error'" in note for note in excinfo.value.__notes__)


# --- failures --------------------------------------------------------------


class TaskFailure(Exception):
    """An exception raised by a test task."""


def failing(recorder: Recorder, name: str, inputs: Sequence[str], error: BaseException) -> AnyTask:
    def explode() -> None:
        raise error

    return traced(recorder, name, inputs, action=explode)


FAILURE_SCENARIOS: dict[str, dict[str, object]] = {
    "lone-task": {"parallel": False, "max_workers": None},
    "parallel-sibling": {"parallel": True, "max_workers": None},
    "max-workers-one": {"parallel": True, "max_workers": 1},
    "caller-thread-pool": {"parallel": True, "max_workers": None, "executor": True},
}


@pytest.mark.parametrize("scenario", FAILURE_SCENARIOS.values(), ids=FAILURE_SCENARIOS.keys())
def test_run_reraises_task_exception_object(
    scenario: dict[str, object], thread_pool: ThreadPoolExecutor
) -> None:
    recorder = Recorder()
    error = TaskFailure("disk full")
    tasks = [traced(recorder, "load", ["raw"]), failing(recorder, "explode", ["load"], error)]
    if scenario["parallel"]:
        tasks.append(traced(recorder, "sibling", ["load"]))
    options: dict[str, Any] = {"max_workers": scenario["max_workers"]}
    if scenario.get("executor"):
        options = {"executor": thread_pool}

    with pytest.raises(TaskFailure) as excinfo:
        flowlite.run(tasks, {"raw": "x"}, **options)

    assert excinfo.value is error
    assert not isinstance(excinfo.value, FlowliteError)
    assert any("'explode'" in note for note in excinfo.value.__notes__)


def test_run_starts_no_task_after_failure() -> None:
    recorder = Recorder()
    sibling_started = threading.Event()
    error = TaskFailure("stop here")

    def fail_once_sibling_runs() -> None:
        sibling_started.wait(WAIT_SECONDS)
        raise error

    def sibling_work() -> None:
        sibling_started.set()
        time.sleep(0.3)

    # Both pool slots are busy with `boom` and `sibling` until `boom` fails,
    # so the queued tasks and `after_sibling` could only start afterwards.
    tasks = [
        traced(recorder, "boom", ["raw"], action=fail_once_sibling_runs),
        traced(recorder, "sibling", ["raw"], action=sibling_work),
        *(traced(recorder, f"queued{index}", ["raw"]) for index in range(4)),
        traced(recorder, "after_sibling", ["sibling"]),
    ]

    with pytest.raises(TaskFailure):
        flowlite.run(tasks, {"raw": "x"}, max_workers=2)

    assert sorted(recorder.calls) == ["boom", "sibling"]


def test_run_waits_for_running_sibling() -> None:
    recorder = Recorder()
    sibling_started = threading.Event()
    sibling_finished = threading.Event()

    def fail_once_sibling_runs() -> None:
        sibling_started.wait(WAIT_SECONDS)
        raise TaskFailure("stop here")

    def sibling_work() -> None:
        sibling_started.set()
        time.sleep(0.5)
        sibling_finished.set()

    tasks = [
        traced(recorder, "boom", ["raw"], action=fail_once_sibling_runs),
        traced(recorder, "sibling", ["raw"], action=sibling_work),
    ]

    with pytest.raises(TaskFailure):
        flowlite.run(tasks, {"raw": "x"})

    assert sibling_started.is_set()
    assert sibling_finished.is_set()
    assert worker_threads() == []


def test_run_failure_in_chain_skips_downstream() -> None:
    recorder = Recorder()
    tasks = [
        traced(recorder, "load", ["raw"]),
        failing(recorder, "explode", ["load"], TaskFailure("broken")),
        traced(recorder, "after", ["explode"]),
    ]

    with pytest.raises(TaskFailure):
        flowlite.run(tasks, {"raw": "x"})

    assert recorder.calls == ["load", "explode"]


# --- keep_going ------------------------------------------------------------


def branching_with_failure(recorder: Recorder, error: Exception) -> list[AnyTask]:
    """Return tasks in which `bad` fails and `child`, `grandchild` and `merge` depend on it."""
    return [
        traced(recorder, "root", ["raw"]),
        traced(recorder, "unrelated", ["raw"]),
        failing(recorder, "bad", ["root"], error),
        traced(recorder, "good", ["root"]),
        traced(recorder, "child", ["bad"]),
        traced(recorder, "good_child", ["good"]),
        traced(recorder, "grandchild", ["child"]),
        traced(recorder, "merge", ["good_child", "grandchild"]),
    ]


@pytest.mark.parametrize("max_workers", [None, 1])
def test_keep_going_runs_unaffected_tasks(max_workers: int | None) -> None:
    recorder = Recorder()
    error = TaskFailure("bad input")

    with pytest.raises(RunFailed) as excinfo:
        flowlite.run(
            branching_with_failure(recorder, error), {"raw": "x"}, keep_going=True, max_workers=max_workers
        )

    failed = excinfo.value
    assert sorted(recorder.calls) == ["bad", "good", "good_child", "root", "unrelated"]
    assert failed.failures == {"bad": error}
    assert failed.failures["bad"] is error
    assert failed.exceptions == (error,)
    assert failed.skipped == ("child", "grandchild", "merge")
    assert failed.state == {
        "raw": "x",
        "root": "root(x)",
        "unrelated": "unrelated(x)",
        "good": "good(root(x))",
        "good_child": "good_child(good(root(x)))",
    }


def test_keep_going_error_types() -> None:
    with pytest.raises(RunFailed) as excinfo:
        flowlite.run(branching_with_failure(Recorder(), TaskFailure("bad")), {"raw": "x"}, keep_going=True)

    assert isinstance(excinfo.value, ExceptionGroup)
    assert isinstance(excinfo.value, FlowliteError)
    assert "'bad'" in str(excinfo.value)


def test_keep_going_failure_has_note() -> None:
    error = TaskFailure("bad")

    with pytest.raises(RunFailed):
        flowlite.run(branching_with_failure(Recorder(), error), {"raw": "x"}, keep_going=True)

    assert any("'bad'" in note for note in error.__notes__)


def test_keep_going_collects_every_failure() -> None:
    recorder = Recorder()
    first = TaskFailure("first")
    second = TaskFailure("second")
    tasks = [
        failing(recorder, "fail_a", ["raw"], first),
        failing(recorder, "fail_b", ["raw"], second),
        traced(recorder, "fine", ["raw"]),
        traced(recorder, "needs_both", ["fail_a", "fail_b"]),
    ]

    with pytest.raises(RunFailed) as excinfo:
        flowlite.run(tasks, {"raw": "x"}, keep_going=True)

    failed = excinfo.value
    assert failed.failures == {"fail_a": first, "fail_b": second}
    assert set(failed.exceptions) == {first, second}
    assert failed.skipped == ("needs_both",)
    assert failed.state == {"raw": "x", "fine": "fine(x)"}


def test_keep_going_without_failure_returns_state() -> None:
    assert flowlite.run(diamond(Recorder()), {"raw": "x"}, keep_going=True) == DIAMOND_RESULT


def test_keep_going_except_star_matches_task_error() -> None:
    error = TaskFailure("bad")
    caught: list[BaseException] = []

    try:
        flowlite.run(branching_with_failure(Recorder(), error), {"raw": "x"}, keep_going=True)
    except* TaskFailure as group:
        caught.extend(group.exceptions)

    assert caught == [error]


# --- output errors ---------------------------------------------------------

BAD_RETURNS = {
    "tuple-too-long": ("H", "T", "extra"),
    "tuple-too-short": ("H",),
    "mapping-missing-key": {"head": "H"},
    "mapping-extra-key": {"head": "H", "tail": "T", "extra": "E"},
    "list": ["H", "T"],
    "scalar": 5,
}


def splitting(recorder: Recorder, returned: object) -> AnyTask:
    def split(raw: str) -> object:
        recorder.record("split")
        return returned

    return flowlite.task(inputs=["raw"], outputs=["head", "tail"])(split)


@pytest.mark.parametrize("returned", BAD_RETURNS.values(), ids=BAD_RETURNS.keys())
def test_output_error_names_task(returned: object) -> None:
    with pytest.raises(OutputError) as excinfo:
        flowlite.run([splitting(Recorder(), returned)], {"raw": "x"})

    assert excinfo.value.task == "split"
    assert excinfo.value.outputs == ("head", "tail")
    assert "'split'" in str(excinfo.value)


@pytest.mark.parametrize("returned", BAD_RETURNS.values(), ids=BAD_RETURNS.keys())
@pytest.mark.parametrize("max_workers", [None, 1])
def test_output_error_writes_nothing(returned: object, max_workers: int | None) -> None:
    recorder = Recorder()
    tasks = [
        splitting(recorder, returned),
        traced(recorder, "use_head", ["head"]),
        traced(recorder, "other", ["raw"]),
    ]

    with pytest.raises(RunFailed) as excinfo:
        flowlite.run(tasks, {"raw": "x"}, keep_going=True, max_workers=max_workers)

    failed = excinfo.value
    assert isinstance(failed.failures["split"], OutputError)
    assert "head" not in failed.state
    assert "tail" not in failed.state
    assert failed.skipped == ("use_head",)
    assert failed.state == {"raw": "x", "other": "other(x)"}


# --- initial state and arguments -------------------------------------------


@pytest.mark.parametrize("make_source", [lambda r: r, flowlite.plan], ids=["registry", "plan"])
def test_run_missing_input_names_consumer(make_source: Callable[[Registry], Any]) -> None:
    with pytest.raises(MissingInputError) as excinfo:
        flowlite.run(make_source(diamond(Recorder())), {"rwa": "x"})

    error = excinfo.value
    assert error.task == "load"
    assert error.key == "raw"
    assert "'load'" in str(error)
    assert "'raw'" in str(error)


def test_run_missing_input_runs_nothing() -> None:
    recorder = Recorder()
    tasks = [traced(recorder, "first", ["raw"]), traced(recorder, "second", ["other"])]

    with pytest.raises(MissingInputError):
        flowlite.run(tasks, {"raw": "x"})

    assert recorder.calls == []


def test_run_prepared_plan_overwrite_raises() -> None:
    recorder = Recorder()
    prepared = flowlite.plan(diamond(recorder))

    with pytest.raises(OverwriteError) as excinfo:
        flowlite.run(prepared, {"raw": "x", "left": "given"})

    assert excinfo.value.task == "left"
    assert excinfo.value.keys == ("left",)
    assert "'left'" in str(excinfo.value)
    assert recorder.calls == []


def test_run_plan_targets_overwrite_raises() -> None:
    recorder = Recorder()
    prepared = flowlite.plan(diamond(recorder))

    with pytest.raises(OverwriteError) as excinfo:
        flowlite.run(prepared, {"raw": "x", "load": "given"}, targets=["left"])

    assert excinfo.value.task == "load"
    assert excinfo.value.keys == ("load",)
    assert recorder.calls == []


def test_run_registry_skips_task_with_given_outputs() -> None:
    recorder = Recorder()

    state = flowlite.run(diamond(recorder), {"raw": "x", "left": "given"})

    assert "left" not in recorder.calls
    assert state["left"] == "given"
    assert state["merge"] == "merge(given,right(load(x)))"


def test_run_registry_partial_outputs_overwrite() -> None:
    with pytest.raises(OverwriteError) as excinfo:
        flowlite.run([splitting(Recorder(), ("H", "T"))], {"raw": "x", "tail": "given"})

    assert excinfo.value.task == "split"
    assert excinfo.value.keys == ("tail",)


def test_run_plan_with_available_skips_task() -> None:
    recorder = Recorder()
    prepared = flowlite.plan(diamond(recorder), available=["raw", "left"])

    state = flowlite.run(prepared, {"raw": "x", "left": "given"})

    assert "left" not in recorder.calls
    assert state["merge"] == "merge(given,right(load(x)))"


INVALID_OPTIONS: dict[str, dict[str, Any]] = {
    "max-workers-zero": {"max_workers": 0},
    "max-workers-negative": {"max_workers": -2},
    "max-workers-float": {"max_workers": 1.5},
    "executor-not-executor": {"executor": object()},
    "executor-class": {"executor": ThreadPoolExecutor},
    "targets-str": {"targets": "merge"},
}


@pytest.mark.parametrize("options", INVALID_OPTIONS.values(), ids=INVALID_OPTIONS.keys())
def test_run_invalid_option_raises(options: dict[str, Any]) -> None:
    recorder = Recorder()

    with pytest.raises(InvalidArgumentError):
        flowlite.run(diamond(recorder), {"raw": "x"}, **options)

    assert recorder.calls == []


@pytest.mark.parametrize("options", INVALID_OPTIONS.values(), ids=INVALID_OPTIONS.keys())
def test_stream_invalid_option_raises(options: dict[str, Any]) -> None:
    with pytest.raises(InvalidArgumentError):
        list(flowlite.stream(diamond(Recorder()), {"raw": "x"}, **options))


@pytest.mark.parametrize("options", INVALID_OPTIONS.values(), ids=INVALID_OPTIONS.keys())
def test_stream_call_validates_arguments(options: dict[str, Any]) -> None:
    with pytest.raises(InvalidArgumentError):
        flowlite.stream(diamond(Recorder()), {"raw": "x"}, **options)


def test_stream_call_checks_initial_state() -> None:
    with pytest.raises(MissingInputError):
        flowlite.stream(diamond(Recorder()), {})


def test_run_max_workers_with_executor_raises(thread_pool: ThreadPoolExecutor) -> None:
    with pytest.raises(InvalidArgumentError, match="max_workers"):
        flowlite.run(diamond(Recorder()), {"raw": "x"}, max_workers=2, executor=thread_pool)


@pytest.mark.parametrize(
    "initial_state", [[("raw", "x")], None, "raw", 5], ids=["pairs", "none", "str", "int"]
)
def test_run_non_mapping_state_raises(initial_state: object) -> None:
    with pytest.raises(InvalidArgumentError, match="mapping"):
        flowlite.run(diamond(Recorder()), initial_state)  # type: ignore[arg-type]


@pytest.mark.parametrize("source", ["load", {"load": "x"}, 5, None], ids=["str", "dict", "int", "none"])
def test_run_invalid_source_raises(source: object) -> None:
    with pytest.raises(InvalidArgumentError):
        flowlite.run(source, {"raw": "x"})  # type: ignore[arg-type]


@pytest.mark.parametrize("key", [1, "", None], ids=["int", "empty", "none"])
def test_run_invalid_state_key_raises(key: object) -> None:
    with pytest.raises(InvalidKeyError):
        flowlite.run(diamond(Recorder()), {"raw": "x", key: 1})  # type: ignore[dict-item]


# --- targets ---------------------------------------------------------------


@pytest.mark.parametrize("make_source", [lambda r: r, flowlite.plan], ids=["registry", "plan"])
def test_run_targets_runs_needed_tasks(make_source: Callable[[Registry], Any]) -> None:
    recorder = Recorder()

    state = flowlite.run(make_source(diamond(recorder)), {"raw": "x"}, targets=["left"])

    assert recorder.calls == ["load", "left"]
    # Intermediate values are released: the result holds the initial state and the targets.
    assert state == {"raw": "x", "left": "left(load(x))"}


@pytest.mark.parametrize("make_source", [lambda r: r, flowlite.plan], ids=["registry", "plan"])
def test_run_unknown_target_raises(make_source: Callable[[Registry], Any]) -> None:
    with pytest.raises(UnknownKeyError) as excinfo:
        flowlite.run(make_source(diamond(Recorder())), {"raw": "x"}, targets=["merged"])

    assert excinfo.value.key == "merged"
    assert "merge" in excinfo.value.suggestions


def test_run_targets_with_given_intermediate() -> None:
    recorder = Recorder()

    state = flowlite.run(diamond(recorder), {"raw": "x", "load": "given"}, targets=["right"])

    assert recorder.calls == ["right"]
    assert state["right"] == "right(given)"


# --- concurrent and repeated runs ------------------------------------------


def arithmetic_plan() -> flowlite.Plan:
    @flowlite.task(inputs=["number"], outputs="doubled")
    def double(number: int) -> int:
        return number * 2

    @flowlite.task(inputs=["number"], outputs="squared")
    def square(number: int) -> int:
        return number * number

    @flowlite.task(inputs=["doubled", "squared"], outputs="total")
    def add(doubled: int, squared: int) -> int:
        return doubled + squared

    return flowlite.plan(Registry([double, square, add]), available=["number"])


def test_plan_runs_from_many_threads() -> None:
    prepared = arithmetic_plan()
    thread_count = 16
    runs_per_thread = 50
    start = threading.Barrier(thread_count, timeout=WAIT_SECONDS)
    wrong: list[tuple[int, object]] = []
    errors: list[BaseException] = []
    completed: list[int] = []

    def run_many(worker: int) -> None:
        try:
            start.wait()
            for step in range(runs_per_thread):
                number = worker * 1_000 + step
                state = flowlite.run(prepared, {"number": number})
                if state != {
                    "number": number,
                    "doubled": 2 * number,
                    "squared": number**2,
                    "total": 2 * number + number**2,
                }:
                    wrong.append((number, dict(state)))
            completed.append(worker)
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=run_many, args=(worker,)) for worker in range(thread_count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert errors == []
    assert wrong == []
    assert sorted(completed) == list(range(thread_count))


def _run_successfully() -> None:
    flowlite.run(diamond(Recorder()), {"raw": "x"})


def _run_with_failure() -> None:
    tasks = [*diamond(Recorder()), failing(Recorder(), "explode", ["raw"], TaskFailure("x"))]
    with pytest.raises(TaskFailure):
        flowlite.run(tasks, {"raw": "x"})


def _run_keep_going_with_failure() -> None:
    with pytest.raises(RunFailed):
        flowlite.run(branching_with_failure(Recorder(), TaskFailure("x")), {"raw": "x"}, keep_going=True)


def _stream_closed_early() -> None:
    with closing(flowlite.stream(diamond(Recorder()), {"raw": "x"})) as states:
        next(states)


@pytest.mark.parametrize(
    "run_once",
    [_run_successfully, _run_with_failure, _run_keep_going_with_failure, _stream_closed_early],
    ids=["success", "failure", "keep-going", "stream-closed"],
)
def test_repeated_runs_leave_no_threads(run_once: Callable[[], None]) -> None:
    threads_before = set(threading.enumerate())

    for _ in range(30):
        run_once()
        assert worker_threads() == []

    assert set(threading.enumerate()) == threads_before


# --- stream ----------------------------------------------------------------


def test_stream_yields_state_per_stage() -> None:
    states = list(flowlite.stream(diamond(Recorder()), {"raw": "x"}))

    assert [dict(state) for state in states] == [
        {"raw": "x", "load": "load(x)"},
        {"raw": "x", "load": "load(x)", "left": "left(load(x))", "right": "right(load(x))"},
        DIAMOND_RESULT,
    ]
    assert all(isinstance(state, State) for state in states)


def test_stream_last_state_equals_run() -> None:
    states = list(flowlite.stream(diamond(Recorder()), {"raw": "x"}))

    assert states[-1] == flowlite.run(diamond(Recorder()), {"raw": "x"})


@pytest.mark.parametrize("max_workers", [None, 1])
def test_stream_states_per_stage_of_wide_plan(max_workers: int | None) -> None:
    recorder = Recorder()
    tasks = [
        traced(recorder, "a0", ["raw"]),
        traced(recorder, "b0", ["raw"]),
        traced(recorder, "a1", ["a0"]),
        traced(recorder, "c0", ["raw"]),
        traced(recorder, "b2", ["a1", "b0"]),
    ]
    prepared = flowlite.plan(tasks)

    states = list(flowlite.stream(prepared, {"raw": "x"}, max_workers=max_workers))

    assert len(states) == len(prepared.stages)
    for index, state in enumerate(states):
        expected_keys = {"raw"} | {item.name for stage in prepared.stages[: index + 1] for item in stage}
        assert set(state) == expected_keys, index


def test_stream_state_omits_early_later_stage() -> None:
    recorder = Recorder()
    late_done = threading.Event()
    late_done_at_first_state: list[bool] = []
    tasks = [
        traced(recorder, "waits_for_late", ["raw"], action=lambda: late_done.wait(WAIT_SECONDS)),
        traced(recorder, "early", ["raw"]),
        traced(recorder, "late", ["early"], action=late_done.set),
    ]

    states = []
    for state in flowlite.stream(tasks, {"raw": "x"}):
        if not states:
            late_done_at_first_state.append(late_done.is_set())
        states.append(state)

    assert late_done_at_first_state == [True]
    assert dict(states[0]) == {"raw": "x", "waits_for_late": "waits_for_late(x)", "early": "early(x)"}
    assert states[1]["late"] == "late(early(x))"


def test_stream_on_caller_thread_pool(thread_pool: ThreadPoolExecutor) -> None:
    states = list(flowlite.stream(diamond(Recorder()), {"raw": "x"}, executor=thread_pool))

    assert [len(state) for state in states] == [2, 4, 5]
    assert states[-1] == DIAMOND_RESULT


def test_stream_close_waits_and_starts_nothing() -> None:
    recorder = Recorder()
    long_started = threading.Event()
    long_finished = threading.Event()
    closed = threading.Event()
    started_after_close: list[str] = []

    def note_start(name: str) -> None:
        if closed.is_set():
            started_after_close.append(name)

    def long_work() -> None:
        note_start("long")
        long_started.set()
        time.sleep(0.5)
        long_finished.set()

    # Stage 0 ends only once `long` (stage 1) has started, so `long` is
    # running when the consumer receives the first state and closes.
    tasks = [
        traced(recorder, "first", ["raw"]),
        traced(recorder, "gate", ["raw"], action=lambda: long_started.wait(WAIT_SECONDS)),
        traced(recorder, "short", ["first"], action=lambda: note_start("short")),
        traced(recorder, "long", ["first"], action=long_work),
        traced(recorder, "after_long", ["long"], action=lambda: note_start("after_long")),
        traced(recorder, "after_gate", ["gate"], action=lambda: note_start("after_gate")),
    ]

    long_running_at_close: list[bool] = []
    with closing(flowlite.stream(tasks, {"raw": "x"}, max_workers=4)) as states:
        for state in states:
            assert set(state) == {"raw", "first", "gate"}
            long_running_at_close.append(long_started.is_set() and not long_finished.is_set())
            closed.set()
            break

    assert long_running_at_close == [True]
    assert long_finished.is_set()
    assert started_after_close == []
    assert "after_long" not in recorder.calls
    assert worker_threads() == []


def test_stream_break_closes_generator() -> None:
    recorder = Recorder()
    tasks = [
        traced(recorder, "first", ["raw"]),
        traced(recorder, "second", ["first"]),
        traced(recorder, "third", ["second"]),
    ]

    for _state in flowlite.stream(tasks, {"raw": "x"}):
        break

    assert recorder.calls == ["first"]
    assert worker_threads() == []


def test_stream_failure_after_completed_stage() -> None:
    recorder = Recorder()
    error = TaskFailure("stage one failed")
    tasks = [
        traced(recorder, "load", ["raw"]),
        failing(recorder, "explode", ["load"], error),
        traced(recorder, "after", ["explode"]),
    ]
    states = flowlite.stream(tasks, {"raw": "x"})

    first = next(states)
    with pytest.raises(TaskFailure) as excinfo:
        next(states)

    assert first == {"raw": "x", "load": "load(x)"}
    assert excinfo.value is error
    assert "after" not in recorder.calls


def test_stream_keep_going_raises_run_failed() -> None:
    error = TaskFailure("bad")

    with pytest.raises(RunFailed) as excinfo:
        list(flowlite.stream(branching_with_failure(Recorder(), error), {"raw": "x"}, keep_going=True))

    assert excinfo.value.failures == {"bad": error}
    assert excinfo.value.skipped == ("child", "grandchild", "merge")
