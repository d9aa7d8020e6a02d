"""The pre-flight check: does every task and initial value pickle for the run's executor?

A process pool and a Dask cluster pickle each task and each value that a task
reads. Left to them, something that does not pickle fails late and far from
its cause: a process pool reports the pickling error as if the task had
raised it, and a worker that cannot load a task breaks the pool. A Dask
worker that cannot load one is removed, and the scheduler tries the task
again on the next. So before any task starts, such a run pickles every task
and every initial value that a task reads, with the pickler and protocol of
its executor, and raises `PicklingCheckError` naming the first that fails.

Pickling by reference also needs the name to exist in the worker. A worker
process started with the "spawn" or "forkserver" method has its own
`__main__`, so a reference to `__main__` is checked against what that worker
imports (see `_names_in_worker_main`).
"""

from __future__ import annotations

import ast
import functools
import os
import pickle
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from types import FunctionType
from typing import TYPE_CHECKING, Any, Literal

from flowlite._dask import dumps_call, is_dask_client, is_dask_executor
from flowlite.errors import PicklingCheckError
from flowlite.task import Task

if TYPE_CHECKING:
    from flowlite.plan import Call, Plan

__all__ = ["check_picklable"]

AnyTask = Task[..., Any]

# The check of `__main__` references: "worker-import" when the workers
# import the main script or module again, "never" when they cannot import it.
MainRule = Literal["worker-import", "never"] | None


@dataclass(frozen=True)
class _Destination:
    """The worker processes of one executor, and how it pickles what it sends them."""

    description: str
    pickler: type[pickle.Pickler]
    protocol: int
    # Whether `__main__` functions and classes pickle by reference, as with
    # the standard pickler, rather than by value, as with cloudpickle.
    main_functions_by_reference: bool
    main_rule: MainRule
    # The function that pickles what the executor sends for one task.
    dumps_call: Callable[[Callable[..., Any] | None, AnyTask, _Destination], None]


def check_picklable(plan: Plan, calls: Sequence[Call], values: Mapping[str, Any], executor: object) -> None:
    """Raise PicklingCheckError for the first task or initial value that `executor` cannot send.

    Checks every task of `plan` as `calls` runs it, and every initial value
    that a task reads. Does nothing for executors that share the caller's
    memory, such as thread pools, and for executors of unknown kinds.
    """
    destination = _destination_of(executor)
    if destination is None:
        return

    for index, item in enumerate(plan._tasks):
        func = calls[index][0]
        replaced = None if func is item.func else func
        try:
            destination.dumps_call(replaced, item, destination)
        except _MainReferenceError as error:
            msg = f"task {item.name!r} cannot be sent to {destination.description}: {error}"
            raise PicklingCheckError(msg, task=item.name) from None
        except Exception as error:
            msg = (
                f"task {item.name!r} cannot be sent to {destination.description}: pickling it failed "
                f"with {type(error).__name__}: {error}. {_task_hint(destination)}"
            )
            raise PicklingCheckError(msg, task=item.name) from error

    for key in plan.external_inputs:
        value = values[key]
        try:
            _dump(value, destination)
        except _MainReferenceError as error:
            msg = f"initial value {key!r} cannot be sent to {destination.description}: {error}"
            raise PicklingCheckError(msg, key=key) from None
        except Exception as error:
            msg = (
                f"initial value {key!r} ({type(value).__name__}) cannot be sent to "
                f"{destination.description}: pickling it failed with {type(error).__name__}: {error}. "
                "Pass a value that pickles, such as a file path in place of an open file, or run "
                "on threads (no executor, or a ThreadPoolExecutor)"
            )
            raise PicklingCheckError(msg, key=key) from error


def _task_hint(destination: _Destination) -> str:
    if destination.main_functions_by_reference:
        return (
            "A task that runs in another process must be a function defined at the top level of a "
            "module (not a lambda, a nested function or a closure), and it must not hold locks, "
            "open files or connections"
        )
    return "A task that runs on a Dask worker must not hold locks, open files or connections"


# --- destinations ------------------------------------------------------------


def _destination_of(executor: object) -> _Destination | None:
    from concurrent.futures import ProcessPoolExecutor

    if isinstance(executor, ProcessPoolExecutor):
        from multiprocessing.reduction import ForkingPickler

        method = _start_method(executor)
        return _Destination(
            description=f"the worker processes of the ProcessPoolExecutor (start method {method!r})",
            pickler=ForkingPickler,
            # multiprocessing's queues pickle with ForkingPickler.dumps() and the default protocol.
            protocol=pickle.DEFAULT_PROTOCOL,
            main_functions_by_reference=True,
            main_rule=None if method == "fork" else "worker-import",
            dumps_call=_dump_call_and_task,
        )
    if is_dask_client(executor):
        return _Destination(
            description="the Dask workers",
            pickler=_cloudpickle_pickler(),
            protocol=pickle.HIGHEST_PROTOCOL,
            main_functions_by_reference=False,
            # DaskScheduler sends `__main__` tasks by value (see dumps_call).
            main_rule=None,
            dumps_call=_dump_dask_payload,
        )
    if is_dask_executor(executor):
        client = getattr(executor, "_client", None)
        return _Destination(
            description="the Dask workers of client.get_executor()",
            pickler=_cloudpickle_pickler(),
            protocol=pickle.HIGHEST_PROTOCOL,
            main_functions_by_reference=False,
            main_rule=_dask_main_rule(client),
            dumps_call=_dump_call_and_task,
        )
    return None


def _start_method(executor: object) -> str:
    import multiprocessing

    context = getattr(executor, "_mp_context", None)
    if context is None:
        return multiprocessing.get_start_method()
    return str(context.get_start_method())


def _dask_main_rule(client: object) -> MainRule:
    # A LocalCluster's worker processes import the client's main script
    # again, like a spawned process pool; its threads share the client's
    # process. Other clusters' workers have a `__main__` of their own.
    cluster = getattr(client, "cluster", None)
    processes = getattr(cluster, "processes", None)
    if processes is False:
        return None
    if processes is True:
        import dask

        method = dask.config.get("distributed.worker.multiprocessing-method", "spawn")
        return None if method == "fork" else "worker-import"
    return "never"


@functools.cache
def _cloudpickle_pickler() -> type[pickle.Pickler]:
    import cloudpickle  # type: ignore[import-untyped]

    pickler: type[pickle.Pickler] = cloudpickle.Pickler
    return pickler


# --- pickling into nothing -----------------------------------------------------


class _MainReferenceError(Exception):
    """A reference to `__main__` that the worker processes cannot resolve."""


class _Discard:
    """A file that drops what it receives, so that a check never keeps a pickle in memory."""

    def write(self, data: bytes) -> int:
        return len(data)


def _dump_call_and_task(func: Callable[..., Any] | None, item: AnyTask, destination: _Destination) -> None:
    # What ExecutorScheduler submits for a task besides its arguments.
    _dump((func, item), destination)


def _dump_dask_payload(func: Callable[..., Any] | None, item: AnyTask, destination: _Destination) -> None:
    dumps_call(func, item)


def _dump(value: object, destination: _Destination) -> None:
    options: dict[str, Any] = {}
    if destination.protocol >= 5:
        # Large buffers, such as NumPy arrays, are neither copied nor written.
        options["buffer_callback"] = lambda buffer: False
    probe = _probe_class(destination.pickler)(_Discard(), destination.protocol, **options)
    probe.main_functions_by_reference = destination.main_functions_by_reference
    probe.dump(value)

    if probe.main_references and destination.main_rule is not None:
        _check_main_references(probe.main_references, destination.main_rule)


def _probe_class(base: type[pickle.Pickler]) -> type[Any]:
    probe = _probe_classes.get(base)
    if probe is not None:
        return probe

    class Probe(base):  # type: ignore[valid-type,misc]
        """A pickler that also records the references to `__main__` it writes."""

        main_functions_by_reference = True

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.main_references: list[str] = []

        def reducer_override(self, obj: object) -> Any:
            name = _main_reference(obj, self.main_functions_by_reference)
            if name is not None:
                self.main_references.append(name)
            parent = getattr(super(), "reducer_override", None)
            return NotImplemented if parent is None else parent(obj)

    _probe_classes[base] = Probe
    return Probe


_probe_classes: dict[type[pickle.Pickler], type[Any]] = {}


def _main_reference(obj: object, functions_by_reference: bool) -> str | None:
    # The qualified name under which `obj` pickles as a reference to `__main__`.
    if type(obj) is Task:
        reduced = obj.__reduce__()
        if isinstance(reduced, str) and obj.__module__ == "__main__":
            return reduced
        return None
    if functions_by_reference and isinstance(obj, (type, FunctionType)) and obj.__module__ == "__main__":
        return obj.__qualname__
    return None


# --- the names in a worker's __main__ -------------------------------------------------


def _check_main_references(references: list[str], rule: MainRule) -> None:
    if rule == "never":
        msg = (
            f"it refers to {references[0]!r} in __main__, and Dask workers in other processes "
            "cannot import the client's __main__. Pass the client itself as executor=client, "
            "which sends such tasks by value, or move the task into a module installed on the workers"
        )
        raise _MainReferenceError(msg)

    available, reason = _names_in_worker_main()
    for name in references:
        if available is not None and name.split(".")[0] not in available:
            msg = (
                f"it refers to {name!r} in __main__, which the worker processes cannot load because "
                f"{reason}. Define {name!r} at the top level of a module or script, outside "
                "`if __name__ == '__main__':`"
            )
            raise _MainReferenceError(msg)


def _names_in_worker_main() -> tuple[frozenset[str] | None, str]:
    """Return the top-level names that a spawned worker finds in `__main__`, and why others are missing.

    None means unknown, and then no reference is reported. This follows
    `get_preparation_data()` and `_fixup_main_from_name()` in CPython 3.11's
    `multiprocessing/spawn.py`: the worker runs the parent's main module or
    script again, without its `if __name__ == "__main__":` block, unless the
    main module is a package's `__main__`, which it does not run at all. An
    interactive session has no script to run.
    """
    main = sys.modules.get("__main__")
    module_name = getattr(getattr(main, "__spec__", None), "name", None)
    path = getattr(main, "__file__", None)
    if module_name is not None and (module_name == "__main__" or module_name.endswith(".__main__")):
        return frozenset(), f"__main__ is the package entry point {module_name!r}, which workers do not run"
    if module_name is None and path is None:
        return frozenset(), "__main__ is an interactive session, which has no script for the workers to run"
    if not isinstance(path, str):
        return None, ""
    try:
        modified = os.stat(path).st_mtime_ns
    except OSError:
        return None, ""
    reason = f"the workers run {path} without its `if __name__ == '__main__':` block"
    return _top_level_names(path, modified), reason


@functools.lru_cache(maxsize=8)
def _top_level_names(path: str, modified: int) -> frozenset[str] | None:
    # `modified` is part of the cache key, so an edited script is parsed again.
    try:
        with open(path, "rb") as file:
            tree = ast.parse(file.read(), path)
    except (OSError, SyntaxError, ValueError):
        return None
    names: set[str] = set()
    if not _collect_bound_names(tree.body, names):
        return None
    return frozenset(names)


def _collect_bound_names(statements: list[ast.stmt], names: set[str]) -> bool:
    # Add the names that the statements bind when the module runs under
    # another name; return False after `from ... import *`, which binds
    # names that the source does not show.
    for statement in statements:
        if isinstance(statement, ast.If) and _is_main_guard(statement.test):
            if not _collect_bound_names(statement.orelse, names):
                return False
        elif isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(statement.name)
        elif isinstance(statement, (ast.Import, ast.ImportFrom)):
            for alias in statement.names:
                if alias.name == "*":
                    return False
                names.add(alias.asname or alias.name.split(".")[0])
        else:
            for child in ast.iter_child_nodes(statement):
                if isinstance(child, ast.stmt):
                    if not _collect_bound_names([child], names):
                        return False
                    continue
                for node in ast.walk(child):
                    if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                        names.add(node.id)
    return True


def _is_main_guard(test: ast.expr) -> bool:
    # `__name__ == "__main__"`, either way round.
    if not (isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], ast.Eq)):
        return False
    sides = [test.left, test.comparators[0]]
    has_name = any(isinstance(side, ast.Name) and side.id == "__name__" for side in sides)
    has_main = any(isinstance(side, ast.Constant) and side.value == "__main__" for side in sides)
    return has_name and has_main
