"""`Plan` and `plan()`: the task graph, its validation and its stages."""

from __future__ import annotations

import graphlib
import itertools
from collections.abc import Callable, Collection, Iterable, Mapping
from typing import Any, final

from flowlite.errors import (
    CycleError,
    InvalidArgumentError,
    MissingInputError,
    OverwriteError,
    TaskDefinitionError,
    UnknownKeyError,
)
from flowlite.registry import Registry
from flowlite.task import Task

__all__ = ["Plan", "plan"]

AnyTask = Task[..., Any]

Call = tuple[Any, tuple[str, ...], tuple[tuple[str, str], ...], tuple[str, ...], bool]
"""How to call one task: the function, the keys passed positionally, the
`(parameter, key)` pairs passed by name, the output keys, and whether the
return value is stored whole under the single output key."""


@final
class Timings:
    """Smoothed seconds per task over earlier runs of a plan, in plan order.

    The thread scheduler records them and, once some task took over a
    millisecond in two runs in a row, starts ready tasks with the longest
    measured remaining path first. Runs of one plan in many threads may update it at once; each
    entry is replaced whole, so a reader sees an old or a new value.
    """

    __slots__ = ("seconds", "slow")

    def __init__(self, count: int) -> None:
        self.seconds = [0.0] * count
        self.slow = False


@final
class Plan:
    """An immutable, validated task graph, ready to run any number of times.

    `stages` groups the tasks by the length of their longest chain of
    producers (registration order inside a stage), `tasks` is one
    topological order, and `external_inputs` the keys the initial state must
    provide. A plan stores no run state, so many threads may run it at once.
    """

    __slots__ = (
        "_available",
        "_calls",
        "_consumers",
        "_dependency_counts",
        "_dependents",
        "_external_inputs",
        "_getters",
        "_producers",
        "_registered",
        "_stage_of",
        "_stages",
        "_tasks",
        "_timings",
        "_wrapped",
    )

    _available: frozenset[str] | None
    _calls: tuple[Call, ...]
    # Built on the first call of consumers_of().
    _consumers: dict[str, tuple[AnyTask, ...]] | None
    _dependency_counts: tuple[int, ...]
    _dependents: tuple[tuple[int, ...], ...]
    # Built on first use, like _consumers: runs read them once per run, and
    # a plan that is checked and cached may never need them.
    _external_inputs: tuple[str, ...] | None
    # Per task, None without positional inputs, else an itemgetter of their
    # keys: it returns the one value, or a tuple of several (see `_calls`).
    _getters: tuple[Callable[[Mapping[str, Any]], Any] | None, ...]
    _producers: dict[str, AnyTask] | None
    _registered: tuple[AnyTask, ...]
    _stage_of: tuple[int, ...]
    # Measured by the thread scheduler; the only part of a plan that changes.
    _timings: Timings
    # Positions of the tasks that a run calls through a wrapper: those with
    # retries, a timeout, or an async function.
    _wrapped: tuple[int, ...]
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
        external = self._external_inputs
        if external is None:
            producers = self._producer_map()
            keys = (key for item in self._tasks for key in item._inputs if key not in producers)
            external = tuple(dict.fromkeys(keys))
            # Two threads may both build it; either result is the same.
            object.__setattr__(self, "_external_inputs", external)
        return external

    @property
    def available(self) -> frozenset[str] | None:
        """The keys the plan was built to expect in the initial state, or None if not given."""
        return self._available

    @property
    def outputs(self) -> tuple[str, ...]:
        """Every key the plan's tasks produce."""
        return tuple(self._producer_map())

    def producer_of(self, key: str) -> AnyTask | None:
        """Return the task of this plan that produces `key`, or None."""
        return self._producer_map().get(key)

    def _producer_map(self) -> dict[str, AnyTask]:
        producers = self._producers
        if producers is None:
            producers = {key: item for item in self._tasks for key in item._outputs}
            object.__setattr__(self, "_producers", producers)
        return producers

    def consumers_of(self, key: str) -> tuple[AnyTask, ...]:
        """Return the tasks of this plan that read `key`, in plan order."""
        consumers = self._consumers
        if consumers is None:
            lists: dict[str, list[AnyTask]] = {}
            for item in self._tasks:
                for consumed in item._inputs:
                    lists.setdefault(consumed, []).append(item)
            consumers = {consumed: tuple(items) for consumed, items in lists.items()}
            # Two threads may both build it; either result is the same.
            object.__setattr__(self, "_consumers", consumers)
        return consumers.get(key, ())

    def __len__(self) -> int:
        return len(self._tasks)

    def __repr__(self) -> str:
        return f"<Plan: {len(self._tasks)} tasks in {len(self._stages)} stages>"


def plan(
    registry: Registry | Iterable[AnyTask],
    *,
    available: Collection[str] | None = None,
    targets: Collection[str] | None = None,
    check_types: bool = True,
) -> Plan:
    """Build and validate the task graph of `registry`.

    `available` names the keys the initial state will hold: a consumed key
    that is neither available nor produced then raises `MissingInputError`,
    and a task whose outputs are all available is left out. `targets` keeps
    only the tasks needed to produce those keys. With `check_types` (the
    default), each producer's return annotation is compared with the
    annotation of every parameter that its key feeds, and a definite
    mismatch raises `TypeMismatchError`; a pair that cannot be decided passes.

    Raises `CycleError`, `MissingInputError`, `UnknownKeyError` (a target
    nobody produces), `OverwriteError` (some, but not all, of a task's
    outputs available), `TypeMismatchError`, and `TaskDefinitionError` for
    a task defined in a class body that was not read from an instance.
    """
    if not isinstance(registry, Registry):
        registry = Registry(registry)
    registered = tuple(registry)
    _check_bound(registered)
    available_keys = None if available is None else _key_set(available, "available")

    producers = _active_producers(registered, available_keys)
    needed = _needed_tasks(registered, producers, available_keys, targets)
    dependencies = _dependencies(registered, needed, producers, available_keys)
    stages = _stages(registered, needed, dependencies, producers)
    result = _build(registered, stages, dependencies, available_keys)
    if check_types and registry._wiring_checked != registry._version:
        from flowlite._annotations import check_wiring

        check_wiring(result._tasks, result._producer_map())
        # Every plan of a registry pairs a subset of the producers and
        # consumers of the full one, so a pass over all of its tasks
        # holds for every later plan until a task is added.
        if len(result._tasks) == len(registered):
            registry._wiring_checked = registry._version
    return result


def _check_bound(registered: tuple[AnyTask, ...]) -> None:
    # A task made from a method in a class body needs its instance: read
    # from an instance, the task passes it as `self`.
    for item in registered:
        if item._method:
            msg = (
                f"task {item.name!r} is the method {item.__qualname__} read from its class, so the "
                "runner would have no instance to pass as self; register the task read from an "
                f"instance, such as Registry([instance.{item.__name__}])"
            )
            raise TaskDefinitionError(msg, function=item.__name__, parameter="self")


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


# The helpers below refer to tasks by their index in registration order.


def _active_producers(registered: tuple[AnyTask, ...], available: frozenset[str] | None) -> dict[str, int]:
    # A task whose outputs are all available already has its results and is
    # left out; one with only some of them would overwrite a provided value.
    producers: dict[str, int] = {}
    for index, item in enumerate(registered):
        outputs = item._outputs
        if available and not available.isdisjoint(outputs):
            provided = [key for key in outputs if key in available]
            if len(provided) == len(outputs):
                continue
            missing = [key for key in outputs if key not in available]
            msg = (
                f"task {item.name!r} produces {list(outputs)!r}; the initial state "
                f"provides {provided!r} but not {missing!r}, so running the task would "
                "overwrite provided values. Provide all of its outputs or none of them"
            )
            raise OverwriteError(msg, task=item.name, keys=provided)
        for key in outputs:
            producers[key] = index
    return producers


def _needed_tasks(
    registered: tuple[AnyTask, ...],
    producers: dict[str, int],
    available: frozenset[str] | None,
    targets: Collection[str] | None,
) -> list[int]:
    # Sinks always run; a task with outputs runs unless all of them are available.
    active = [
        index for index, item in enumerate(registered) if not item._outputs or item._outputs[0] in producers
    ]
    if targets is None:
        return active

    wanted = _key_set(targets, "targets")
    pending: list[int] = []
    for key in sorted(wanted):
        producer = producers.get(key)
        if producer is not None:
            pending.append(producer)
        elif available is None or key not in available:
            known = sorted(set(producers) | (available or set()))
            import difflib

            suggestions = difflib.get_close_matches(key, known, n=3)
            hint = f"; did you mean {', '.join(map(repr, suggestions))}?" if suggestions else ""
            msg = f"target {key!r} is produced by no task and is not in the available keys{hint}"
            raise UnknownKeyError(msg, key=key, suggestions=suggestions)

    chosen: set[int] = set()
    while pending:
        index = pending.pop()
        if index in chosen:
            continue
        chosen.add(index)
        pending.extend(producers[key] for key in registered[index]._inputs if key in producers)
    return [index for index in active if index in chosen]


def _dependencies(
    registered: tuple[AnyTask, ...],
    needed: list[int],
    producers: dict[str, int],
    available: frozenset[str] | None,
) -> dict[int, set[int]]:
    dependencies: dict[int, set[int]] = {}
    for index in needed:
        item = registered[index]
        inputs = item._inputs
        dependencies[index] = {producers[key] for key in inputs if key in producers}
        if available is None or len(dependencies[index]) == len(inputs):
            continue
        for key in inputs:
            if key not in producers and key not in available:
                known = sorted(set(producers) | available)
                import difflib

                suggestions = difflib.get_close_matches(key, known, n=3)
                hint = f" Did you mean {', '.join(map(repr, suggestions))}?" if suggestions else ""
                msg = (
                    f"task {item.name!r} needs key {key!r}, which no task produces and the "
                    f"initial state does not provide.{hint} Add it to the initial state or "
                    "register a task that produces it"
                )
                raise MissingInputError(msg, task=item.name, key=key, suggestions=suggestions)
    return dependencies


def _stages(
    registered: tuple[AnyTask, ...],
    needed: list[int],
    dependencies: dict[int, set[int]],
    producers: dict[str, int],
) -> list[list[int]]:
    # graphlib releases tasks in batches whose producers have all finished;
    # batch k is exactly the set of tasks whose longest chain of producers
    # has length k.
    sorter: graphlib.TopologicalSorter[int] = graphlib.TopologicalSorter()
    for index in needed:
        sorter.add(index, *dependencies[index])
    try:
        sorter.prepare()
    except graphlib.CycleError as error:
        cycle = [registered[index] for index in error.args[1]]
        raise _cycle_error(cycle, {key: registered[index] for key, index in producers.items()}) from None

    stages: list[list[int]] = []
    while sorter.is_active():
        batch = sorted(sorter.get_ready())
        stages.append(batch)
        sorter.done(*batch)
    return stages


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
    registered: tuple[AnyTask, ...],
    stage_indices: list[list[int]],
    dependencies: dict[int, set[int]],
    available: frozenset[str] | None,
) -> Plan:
    order = [index for stage in stage_indices for index in stage]
    position = [0] * len(registered)
    for at, index in enumerate(order):
        position[index] = at
    tasks = tuple(registered[index] for index in order)
    stages = tuple(tuple(registered[index] for index in stage) for stage in stage_indices)

    dependents: list[list[int]] = [[] for _ in order]
    for at, index in enumerate(order):
        for producer in dependencies[index]:
            dependents[position[producer]].append(at)

    result = object.__new__(Plan)
    fields: dict[str, object] = {
        "_available": available,
        "_calls": tuple(item._call for item in tasks),
        "_consumers": None,
        "_dependency_counts": tuple(len(dependencies[index]) for index in order),
        "_dependents": tuple(tuple(indices) for indices in dependents),
        "_external_inputs": None,
        "_producers": None,
        "_registered": tuple(registered[index] for index in sorted(order)),
        "_stage_of": tuple(number for number, stage in enumerate(stage_indices) for _ in stage),
        "_stages": stages,
        "_tasks": tasks,
        "_timings": Timings(len(tasks)),
        "_getters": tuple(item._getter for item in tasks),
        "_wrapped": tuple(index for index, item in enumerate(tasks) if item._wrapped),
    }
    for name, value in fields.items():
        object.__setattr__(result, name, value)
    return result
