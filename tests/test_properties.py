"""Properties of plan(), run() and stream() on random task graphs."""

from __future__ import annotations

import random
import threading
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import flowlite
from flowlite import Plan, RunFailed, Task

AnyTask = Task[..., Any]

# Each example builds and runs up to 300 tasks, so the examples are few and
# have no deadline. The module took about 6 s on a 2-core test machine.
GRAPH_SETTINGS = settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
MAX_TASKS = 300
MODULUS = 2**61 - 1
SEED = 7


@dataclass(frozen=True)
class Graph:
    """A random task graph.

    Task `i` is named `t{i}`, writes the key `k{i}` and reads the outputs of
    the earlier tasks `parents[i]`, or the external key `seed` when it has
    none. `registration` is the order in which the tasks are registered.
    """

    parents: tuple[tuple[int, ...], ...]
    registration: tuple[int, ...]

    def __len__(self) -> int:
        return len(self.parents)

    def descendants(self, start: int) -> set[int]:
        """Return the indices of every task that reads, directly or not, the output of `start`."""
        children: dict[int, list[int]] = {}
        for child, parents in enumerate(self.parents):
            for parent in parents:
                children.setdefault(parent, []).append(child)
        found: set[int] = set()
        pending = list(children.get(start, []))
        while pending:
            index = pending.pop()
            if index not in found:
                found.add(index)
                pending.extend(children.get(index, []))
        return found

    def ancestors(self, targets: set[int]) -> set[int]:
        """Return `targets` and every task whose output they need, directly or not."""
        found: set[int] = set()
        pending = list(targets)
        while pending:
            index = pending.pop()
            if index not in found:
                found.add(index)
                pending.extend(self.parents[index])
        return found


def random_graph(count: int, max_parents: int, locality: float, seed: int) -> Graph:
    """Return a graph of `count` tasks, each reading up to `max_parents` earlier tasks.

    With probability `locality` a parent is one of the three previous tasks,
    which makes long chains. Otherwise it is any earlier task, which makes
    wide fans.
    """
    generator = random.Random(seed)
    parents: list[tuple[int, ...]] = [()]
    for index in range(1, count):
        chosen: set[int] = set()
        for _ in range(generator.randint(0, max_parents)):
            if generator.random() < locality:
                chosen.add(generator.randint(max(0, index - 3), index - 1))
            else:
                chosen.add(generator.randint(0, index - 1))
        parents.append(tuple(sorted(chosen)))
    registration = list(range(count))
    generator.shuffle(registration)
    return Graph(tuple(parents), tuple(registration))


def graphs(max_tasks: int = MAX_TASKS) -> st.SearchStrategy[Graph]:
    # A seeded generator builds the edges: drawing hundreds of edges through
    # Hypothesis takes most of the test time. Shrinking still reduces the
    # task count and the shape parameters.
    return st.builds(
        random_graph,
        count=st.integers(1, max_tasks),
        max_parents=st.integers(0, 4),
        locality=st.sampled_from([0.0, 0.5, 0.9]),
        seed=st.integers(0, 2**32 - 1),
    )


def combine(index: int, values: Sequence[int]) -> int:
    """Return a value that depends on the task index and on each input and its position."""
    total = index * 1_000_003
    for position, value in enumerate(values):
        total += (position + 1) * value * 7_919
    return total % MODULUS


def reference_values(graph: Graph) -> dict[str, int]:
    """Evaluate the graph in plain Python, in index order, which is topological."""
    values: dict[str, int] = {"seed": SEED}
    for index, parents in enumerate(graph.parents):
        inputs = [values[f"k{parent}"] for parent in parents] if parents else [SEED]
        values[f"k{index}"] = combine(index, inputs)
    return values


class CallCounter:
    """Thread-safe count of calls per task index, and the order of the calls."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.counts: Counter[int] = Counter()
        self.order: list[int] = []

    def record(self, index: int) -> None:
        with self._lock:
            self.counts[index] += 1
            self.order.append(index)


class InjectedFailure(Exception):
    """The exception raised by the task chosen to fail."""


def build_tasks(
    graph: Graph, calls: CallCounter, failures: dict[int, BaseException] | None = None
) -> list[AnyTask]:
    """Return the graph's tasks in registration order; the tasks in `failures` raise."""
    failures = failures or {}

    def make_body(index: int) -> Callable[..., int]:
        def body(*values: int) -> int:
            calls.record(index)
            if index in failures:
                raise failures[index]
            return combine(index, values)

        return body

    tasks: dict[int, AnyTask] = {}
    for index, parents in enumerate(graph.parents):
        inputs = [f"k{parent}" for parent in parents] or ["seed"]
        tasks[index] = flowlite.task(inputs=inputs, outputs=f"k{index}", name=f"t{index}")(make_body(index))
    return [tasks[index] for index in graph.registration]


def index_of(item: AnyTask) -> int:
    return int(item.name[1:])


def stage_numbers(prepared: Plan) -> dict[int, int]:
    return {index_of(item): number for number, stage in enumerate(prepared.stages) for item in stage}


# --- planning --------------------------------------------------------------


@GRAPH_SETTINGS
@given(graph=graphs())
def test_plan_stages_valid_and_minimal(graph: Graph) -> None:
    prepared = flowlite.plan(build_tasks(graph, CallCounter()), available=["seed"])
    stage_of = stage_numbers(prepared)

    assert sorted(stage_of) == list(range(len(graph)))
    assert [index_of(item) for item in prepared.tasks] == [
        index_of(item) for stage in prepared.stages for item in stage
    ]
    for index, parents in enumerate(graph.parents):
        producer_stages = [stage_of[parent] for parent in parents]
        # Valid: every producer is in an earlier stage. Minimal: a task is
        # one stage after its latest producer, and in stage 0 without one.
        assert all(stage < stage_of[index] for stage in producer_stages), index
        assert stage_of[index] == (max(producer_stages) + 1 if producer_stages else 0), index


@GRAPH_SETTINGS
@given(graph=graphs())
def test_plan_stage_keeps_registration_order(graph: Graph) -> None:
    prepared = flowlite.plan(build_tasks(graph, CallCounter()), available=["seed"])
    registered_at = {index: position for position, index in enumerate(graph.registration)}

    for stage in prepared.stages:
        positions = [registered_at[index_of(item)] for item in stage]
        assert positions == sorted(positions)


@GRAPH_SETTINGS
@given(graph=graphs(), data=st.data())
def test_plan_targets_keep_exactly_ancestors(graph: Graph, data: st.DataObject) -> None:
    targets = data.draw(st.sets(st.integers(0, len(graph) - 1), min_size=1, max_size=5), label="targets")

    prepared = flowlite.plan(
        build_tasks(graph, CallCounter()), available=["seed"], targets=[f"k{index}" for index in targets]
    )

    assert {index_of(item) for item in prepared.tasks} == graph.ancestors(targets)


# --- running ---------------------------------------------------------------


@GRAPH_SETTINGS
@given(graph=graphs(), max_workers=st.sampled_from([None, 2, 4]))
def test_run_matches_sequential_and_reference(graph: Graph, max_workers: int | None) -> None:
    calls = CallCounter()
    sequential_calls = CallCounter()
    expected = reference_values(graph)

    threaded = flowlite.run(build_tasks(graph, calls), {"seed": SEED}, max_workers=max_workers)
    sequential = flowlite.run(build_tasks(graph, sequential_calls), {"seed": SEED}, max_workers=1)

    assert dict(threaded) == expected
    assert dict(sequential) == expected
    assert calls.counts == Counter(range(len(graph)))
    assert sequential_calls.counts == Counter(range(len(graph)))


@GRAPH_SETTINGS
@given(graph=graphs(max_tasks=120))
def test_run_shared_plan_on_caller_pool(graph: Graph) -> None:
    calls = CallCounter()
    prepared = flowlite.plan(build_tasks(graph, calls), available=["seed"])

    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=3) as executor:
        first = flowlite.run(prepared, {"seed": SEED}, executor=executor)
        second = flowlite.run(prepared, {"seed": SEED}, executor=executor)

    assert dict(first) == reference_values(graph)
    assert dict(second) == reference_values(graph)
    assert calls.counts == Counter(dict.fromkeys(range(len(graph)), 2))


@GRAPH_SETTINGS
@given(graph=graphs(), data=st.data())
def test_stream_states_hold_finished_stages(graph: Graph, data: st.DataObject) -> None:
    max_workers = data.draw(st.sampled_from([None, 1, 3]), label="max_workers")
    prepared = flowlite.plan(build_tasks(graph, CallCounter()), available=["seed"])
    expected = reference_values(graph)

    states = list(flowlite.stream(prepared, {"seed": SEED}, max_workers=max_workers))

    assert len(states) == len(prepared.stages)
    for number, state in enumerate(states):
        keys = ["seed"] + [f"k{index_of(item)}" for stage in prepared.stages[: number + 1] for item in stage]
        assert dict(state) == {key: expected[key] for key in keys}, number


@GRAPH_SETTINGS
@given(graph=graphs(), data=st.data())
def test_run_failure_stops_downstream(graph: Graph, data: st.DataObject) -> None:
    failing = data.draw(st.integers(0, len(graph) - 1), label="failing task")
    max_workers = data.draw(st.sampled_from([None, 1, 3]), label="max_workers")
    error = InjectedFailure(f"t{failing}")
    calls = CallCounter()

    with pytest.raises(InjectedFailure) as excinfo:
        flowlite.run(build_tasks(graph, calls, {failing: error}), {"seed": SEED}, max_workers=max_workers)

    assert excinfo.value is error
    assert any(f"'t{failing}'" in note for note in error.__notes__)
    assert calls.counts[failing] == 1
    assert max(calls.counts.values()) == 1
    assert not graph.descendants(failing) & set(calls.counts)
    if max_workers == 1:
        # One thread runs the tasks one at a time, so nothing starts after
        # the failing task.
        assert calls.order[-1] == failing


@GRAPH_SETTINGS
@given(graph=graphs(), data=st.data())
def test_keep_going_skips_exactly_descendants(graph: Graph, data: st.DataObject) -> None:
    failing = data.draw(st.integers(0, len(graph) - 1), label="failing task")
    max_workers = data.draw(st.sampled_from([None, 1, 3]), label="max_workers")
    error = InjectedFailure(f"t{failing}")
    calls = CallCounter()
    prepared = flowlite.plan(build_tasks(graph, calls, {failing: error}), available=["seed"])
    descendants = graph.descendants(failing)
    completed = set(range(len(graph))) - descendants - {failing}
    expected = reference_values(graph)

    with pytest.raises(RunFailed) as excinfo:
        flowlite.run(prepared, {"seed": SEED}, keep_going=True, max_workers=max_workers)

    failed = excinfo.value
    assert failed.failures == {f"t{failing}": error}
    assert failed.exceptions == (error,)
    assert list(failed.skipped) == [item.name for item in prepared.tasks if index_of(item) in descendants]
    assert calls.counts == Counter(completed | {failing})
    assert dict(failed.state) == {"seed": SEED} | {f"k{index}": expected[f"k{index}"] for index in completed}
