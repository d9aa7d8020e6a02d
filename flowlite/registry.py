"""`Registry`: an ordered, validated collection of tasks."""

from __future__ import annotations

import importlib
import threading
from collections.abc import Callable, Iterable, Iterator
from types import ModuleType
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar, final, overload

if TYPE_CHECKING:
    from flowlite._retry import Retry
from flowlite.errors import DuplicateOutputError, DuplicateTaskError, TaskDefinitionError, UnknownTaskError
from flowlite.task import Inputs, Outputs, Task, TaskDecorator

__all__ = ["Registry"]

P = ParamSpec("P")
R = TypeVar("R")


def qualified_name(item: Task[..., Any]) -> str:
    """Return `module.qualname` of a task's function, for messages that name two tasks."""
    module = item.__module__ if isinstance(item.__module__, str) else "?"
    label = f"{module}.{item.__qualname__}"
    return label if item.name == item.__name__ else f"{item.name!r} ({label})"


@final
class Registry:
    """An ordered collection of tasks with unique names and unique output keys.

    Iteration follows registration order. Registering the same task object
    again is a no-op; a different task with a taken name raises
    `DuplicateTaskError`, and a second producer of a key raises
    `DuplicateOutputError`.
    """

    __slots__ = ("_lock", "_producers", "_tasks", "_version", "_wiring_checked")

    def __init__(self, tasks: Iterable[Task[..., Any]] = ()) -> None:
        self._tasks: dict[str, Task[..., Any]] = {}
        self._producers: dict[str, Task[..., Any]] = {}
        self._lock = threading.Lock()
        # add() bumps the version; plan() records the version whose wiring
        # passed the type check, so an unchanged registry is checked once.
        self._version = 0
        self._wiring_checked = -1
        if isinstance(tasks, Task):
            msg = (
                f"Registry() takes an iterable of tasks, got the single task {tasks.name!r}; "
                "write Registry([task])"
            )
            raise TaskDefinitionError(msg, function=tasks.name)
        for item in tasks:
            self.add(item)

    @classmethod
    def from_module(cls, module: ModuleType | str) -> Registry:
        """Collect every `Task` bound to a name at the top level of `module`.

        `module` is a module object or a dotted name to import. Tasks are
        registered in the order their names were bound, imported tasks
        included, each task object once.
        """
        if isinstance(module, str):
            module = importlib.import_module(module)
        return cls(value for value in vars(module).values() if isinstance(value, Task))

    def add(self, item: Task[P, R]) -> Task[P, R]:
        """Register `item` and return it."""
        if not isinstance(item, Task):
            msg = (
                f"Registry.add() needs a Task, got {item!r} ({type(item).__name__}); "
                "decorate the function with @task first"
            )
            raise TaskDefinitionError(msg, function=repr(item))

        with self._lock:
            existing = self._tasks.get(item.name)
            if existing is item:
                return item
            if existing is not None:
                msg = (
                    f"two different tasks are named {item.name!r}: {qualified_name(existing)} and "
                    f"{qualified_name(item)}; pass name=... to @task to tell them apart"
                )
                raise DuplicateTaskError(msg, name=item.name)
            for key in item.outputs:
                producer = self._producers.get(key)
                if producer is not None:
                    msg = (
                        f"key {key!r} is produced by two tasks, {qualified_name(producer)} and "
                        f"{qualified_name(item)}; each key must have one producer, so rename "
                        "one of the outputs"
                    )
                    raise DuplicateOutputError(msg, key=key, tasks=(producer.name, item.name))

            self._tasks[item.name] = item
            self._version += 1
            for key in item.outputs:
                self._producers[key] = item
        return item

    @overload
    def task(self, fn: Callable[P, R], /) -> Task[P, R]: ...

    @overload
    def task(
        self,
        fn: None = None,
        /,
        *,
        inputs: Inputs = None,
        outputs: Outputs = None,
        name: str | None = None,
        retries: int | Retry | None = None,
        timeout: float | None = None,
    ) -> TaskDecorator: ...

    def task(
        self,
        fn: Callable[P, R] | None = None,
        /,
        *,
        inputs: Inputs = None,
        outputs: Outputs = None,
        name: str | None = None,
        retries: int | Retry | None = None,
        timeout: float | None = None,
    ) -> Task[P, R] | TaskDecorator:
        """Declare a task like `flowlite.task` and register it here."""
        decorator = TaskDecorator(
            inputs=inputs, outputs=outputs, name=name, retries=retries, timeout=timeout, register=self.add
        )
        if fn is None:
            return decorator
        return decorator(fn)

    def __getitem__(self, name: str) -> Task[..., Any]:
        try:
            return self._tasks[name]
        except KeyError:
            import difflib

            suggestions = difflib.get_close_matches(str(name), list(self._tasks), n=3)
            hint = f"; did you mean {', '.join(map(repr, suggestions))}?" if suggestions else ""
            msg = f"no task named {name!r} in this registry{hint}"
            raise UnknownTaskError(msg, name=name, suggestions=suggestions) from None

    def __contains__(self, item: object) -> bool:
        if isinstance(item, Task):
            return self._tasks.get(item.name) is item
        return item in self._tasks

    def __iter__(self) -> Iterator[Task[..., Any]]:
        return iter(tuple(self._tasks.values()))

    def __len__(self) -> int:
        return len(self._tasks)

    def __repr__(self) -> str:
        return f"Registry([{', '.join(self._tasks)}])"
