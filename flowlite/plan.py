"""`Plan` and `plan()`: the task graph, its validation and its stages."""

from __future__ import annotations

import difflib
import graphlib
import itertools
from collections.abc import Collection, Iterable
from typing import Any, final

from flowlite.errors import (
    CycleError,
    InvalidArgumentError,
    MissingInputError,
    OverwriteError,
    UnknownKeyError,
)
from flowlite.registry import Registry
from flowlite.task import Task

__all__ = ["Plan", "plan"]

AnyTask = Task[..., Any]


@final
class Plan:
    """An immutable, validated task graph, ready to run any number of times.

    `stages` groups the tasks by the length of their longest chain of
    producers (registration order inside a stage), `tasks` is one
    topological order, and `external_inputs` the keys the initial state must
    provide. A plan holds no run state, so many threads may run it at once.
    """

    __slots__ = (
        "_available",
        "_calls",
        "_consumers",
        "_dependency_counts",
        "_dependents",
        "_external_inputs",
        "_producers",
        "_registered",
        "_stage_of",
        "_stages",
        "_tasks",
    )

    _available: frozenset[str] | None
    # Per task, what the runner needs to call it: the function, the keys
    # passed positionally, the (parameter, key) pairs passed by name, the
    # output keys, and whether the return value is stored whole.
    _calls: tuple[tuple[Any, tuple[str, ...], tuple[tuple[str, str], ...], tuple[str, ...], bool], ...]
    _consumers: dict[str, tuple[AnyTask, ...]]
    _dependency_counts: tuple[int, ...]
    _dependents: tuple[tuple[int, ...], ...]
    _external_inputs: tuple[str, ...]
    _producers: dict[str, AnyTask]
    _registered: tuple[AnyTask, ...]
    _stage_of: tuple[int, ...]
    _stages: tuple[tuple[AnyTask, ...], ...]
    _tasks: tuple[AnyTask, ...]

    def __init__(self) -> None:
        msg = "Plan objects are built by flowlite.plan(registry, ...)"
        raise TypeError(msg)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"Plan is immutable; cannot set attribute {name!r}")

    @property
    def stages(self) -> tuple[tuple[AnyTask, ...], ...]:
        """The tasks grouped by stage; stage k needs only outputs of stages before k."""
        return self._stages

    @property
    def tasks(self) -> tuple[AnyTask, ...]:
        """Every task of the plan in one topological order (stage by stage)."""
        return self._tasks

    @property
    def external_inputs(self) -> tuple[str, ...]:
        """The keys that tasks consume and no task of the plan produces, in plan order."""
        return self._external_inputs

    @property
    def available(self) -> frozenset[str] | None:
        """The keys the plan was built to expect in the initial state, or None if not given."""
        return self._available

    @property
    def outputs(self) -> tuple[str, ...]:
        """Every key the plan's tasks produce."""
        return tuple(self._producers)

    def producer_of(self, key: str) -> AnyTask | None:
        """Return the task of this plan that produces `key`, or None."""
        return self._producers.get(key)

    def consumers_of(self, key: str) -> tuple[AnyTask, ...]:
        """Return the tasks of this plan that read `key`, in plan order."""
        return self._consumers.get(key, ())

    def __len__(self) -> int:
        return len(self._tasks)

    def __repr__(self) -> str:
        return f"<Plan: {len(self._tasks)} tasks in {len(self._stages)} stages>"


def plan(
    registry: Registry | Iterable[AnyTask],
    *,
    available: Collection[str] | None = None,
    targets: Collection[str] | None = None,
) -> Plan:
    """Build and validate the task graph of `registry`.

    `available` names the keys the initial state will hold: a consumed key
    that is neither available nor produced then raises `MissingInputError`,
    and a task whose outputs are all available is left out. `targets` keeps
    only the tasks needed to produce those keys.

    Raises `CycleError`, `MissingInputError`, `UnknownKeyError` (a target
    nobody produces) and `OverwriteError` (some, but not all, of a task's
    outputs available).
    """
    if not isinstance(registry, Registry):
        registry = Registry(registry)
    registered = tuple(registry)
    available_keys = None if available is None else _key_set(available, "available")

    producers = _active_producers(registered, available_keys)
    needed = _needed_tasks(registered, producers, available_keys, targets)
    dependencies = _dependencies(needed, producers, available_keys)
    order = _topological_order(needed, dependencies, producers)
    return _build(needed, dependencies, order, available_keys)


def _key_set(keys: Collection[str], argument: str) -> frozenset[str]:
    if isinstance(keys, str):
        msg = f"{argument} must be a collection of keys, not the single str {keys!r}; write [{keys!r}]"
        raise InvalidArgumentError(msg)
    try:
        result = frozenset(keys)
    except TypeError:
        msg = f"{argument} must be a collection of str keys, got {keys!r}"
        raise InvalidArgumentError(msg) from None
    for key in result:
        if not isinstance(key, str):
            msg = f"{argument} must contain str keys, got {key!r} ({type(key).__name__})"
            raise InvalidArgumentError(msg)
    return result


def _active_producers(
    registered: tuple[AnyTask, ...], available: frozenset[str] | None
) -> dict[str, AnyTask]:
    # A task whose outputs are all available already has its results and is
    # left out; one with only some of them would overwrite a provided value.
    producers: dict[str, AnyTask] = {}
    for item in registered:
        if available is not None and item.outputs:
            provided = [key for key in item.outputs if key in available]
            if len(provided) == len(item.outputs):
                continue
            if provided:
                missing = [key for key in item.outputs if key not in available]
                msg = (
                    f"task {item.name!r} produces {list(item.outputs)!r}; the initial state "
                    f"provides {provided!r} but not {missing!r}, so running the task would "
                    "overwrite provided values. Provide all of its outputs or none of them"
                )
                raise OverwriteError(msg, task=item.name, keys=provided)
        for key in item.outputs:
            producers[key] = item
    return producers


def _needed_tasks(
    registered: tuple[AnyTask, ...],
    producers: dict[str, AnyTask],
    available: frozenset[str] | None,
    targets: Collection[str] | None,
) -> list[AnyTask]:
    active = [item for item in registered if not item.outputs or any(k in producers for k in item.outputs)]
    if targets is None:
        return active

    wanted = _key_set(targets, "targets")
    known = set(producers) | (available or set())
    pending: list[AnyTask] = []
    for key in sorted(wanted):
        producer = producers.get(key)
        if producer is not None:
            pending.append(producer)
        elif available is None or key not in available:
            suggestions = difflib.get_close_matches(key, sorted(known), n=3)
            hint = f"; did you mean {', '.join(map(repr, suggestions))}?" if suggestions else ""
            msg = f"target {key!r} is produced by no task and is not in the available keys{hint}"
            raise UnknownKeyError(msg, key=key, suggestions=suggestions)

    chosen: set[int] = set()
    while pending:
        item = pending.pop()
        if id(item) in chosen:
            continue
        chosen.add(id(item))
        pending.extend(producers[key] for key in item.inputs if key in producers)
    return [item for item in active if id(item) in chosen]


def _dependencies(
    needed: list[AnyTask], producers: dict[str, AnyTask], available: frozenset[str] | None
) -> dict[int, list[AnyTask]]:
    dependencies: dict[int, list[AnyTask]] = {}
    for item in needed:
        upstream: dict[int, AnyTask] = {}
        for key in item.inputs:
            producer = producers.get(key)
            if producer is not None:
                upstream[id(producer)] = producer
            elif available is not None and key not in available:
                known = sorted(set(producers) | available)
                suggestions = difflib.get_close_matches(key, known, n=3)
                hint = f" Did you mean {', '.join(map(repr, suggestions))}?" if suggestions else ""
                msg = (
                    f"task {item.name!r} needs key {key!r}, which no task produces and the "
                    f"initial state does not provide.{hint} Add it to the initial state or "
                    "register a task that produces it"
                )
                raise MissingInputError(msg, task=item.name, key=key, suggestions=suggestions)
        dependencies[id(item)] = list(upstream.values())
    return dependencies


def _topological_order(
    needed: list[AnyTask], dependencies: dict[int, list[AnyTask]], producers: dict[str, AnyTask]
) -> list[AnyTask]:
    by_id = {id(item): item for item in needed}
    sorter: graphlib.TopologicalSorter[int] = graphlib.TopologicalSorter()
    for item in needed:
        sorter.add(id(item), *(id(producer) for producer in dependencies[id(item)]))
    try:
        return [by_id[node] for node in sorter.static_order()]
    except graphlib.CycleError as error:
        nodes = [by_id[node] for node in error.args[1]]
        raise _cycle_error(nodes, producers) from None


def _cycle_error(nodes: list[AnyTask], producers: dict[str, AnyTask]) -> CycleError:
    # graphlib lists the cycle so that each node is a producer of the next.
    edges: list[tuple[str, str, str]] = []
    for producer, consumer in itertools.pairwise(nodes):
        key = next(k for k in consumer.inputs if producers.get(k) is producer)
        edges.append((producer.name, key, consumer.name))
    text = nodes[0].name + "".join(f" -[{key}]-> {consumer}" for _, key, consumer in edges)
    msg = (
        f"tasks depend on each other in a cycle: {text}. Every key must be produced "
        "before it is consumed; change the inputs or outputs of one of these tasks"
    )
    return CycleError(msg, cycle=edges)


def _build(
    needed: list[AnyTask],
    dependencies: dict[int, list[AnyTask]],
    order: list[AnyTask],
    available: frozenset[str] | None,
) -> Plan:
    # A task's stage is the length of its longest chain of producers.
    stage_of: dict[int, int] = {}
    for item in order:
        upstream = dependencies[id(item)]
        stage_of[id(item)] = 1 + max(stage_of[id(p)] for p in upstream) if upstream else 0

    buckets: list[list[AnyTask]] = [[] for _ in range(max(stage_of.values(), default=-1) + 1)]
    for item in needed:
        buckets[stage_of[id(item)]].append(item)
    stages = tuple(tuple(bucket) for bucket in buckets)
    tasks = tuple(item for stage in stages for item in stage)

    position = {id(item): index for index, item in enumerate(tasks)}
    dependents: list[list[int]] = [[] for _ in tasks]
    for item in tasks:
        for producer in dependencies[id(item)]:
            dependents[position[id(producer)]].append(position[id(item)])

    producers = {key: item for item in tasks for key in item.outputs}
    consumers: dict[str, list[AnyTask]] = {}
    for item in tasks:
        for key in item.inputs:
            consumers.setdefault(key, []).append(item)

    result = object.__new__(Plan)
    fields: dict[str, object] = {
        "_available": available,
        "_calls": tuple(
            (
                item.func,
                item._binding.positional,
                item._binding.keywords,
                item.outputs,
                item._single_output,
            )
            for item in tasks
        ),
        "_consumers": {key: tuple(items) for key, items in consumers.items()},
        "_dependency_counts": tuple(len(dependencies[id(item)]) for item in tasks),
        "_dependents": tuple(tuple(indices) for indices in dependents),
        "_external_inputs": tuple(key for key in consumers if key not in producers),
        "_producers": producers,
        "_registered": tuple(needed),
        "_stage_of": tuple(index for index, stage in enumerate(stages) for _ in stage),
        "_stages": stages,
        "_tasks": tasks,
    }
    for name, value in fields.items():
        object.__setattr__(result, name, value)
    return result
