"""The exception hierarchy.

Every error that flowlite raises for its own reasons derives from
`FlowliteError` and also from the builtin exception it means, so callers can
catch either. Each error carries its data as attributes. Exceptions raised by
a task itself are never wrapped: they reach the caller unchanged, with a note.
"""

from __future__ import annotations

import functools
import graphlib
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = [
    "CycleError",
    "DuplicateOutputError",
    "DuplicateTaskError",
    "FlowliteError",
    "InvalidArgumentError",
    "InvalidKeyError",
    "MissingInputError",
    "OutputError",
    "OverwriteError",
    "PicklingCheckError",
    "RunCancelled",
    "RunFailed",
    "TaskDefinitionError",
    "TaskTimeoutError",
    "TypeCheckError",
    "TypeMismatchError",
    "UnknownKeyError",
    "UnknownTaskError",
]


class FlowliteError(Exception):
    """Base class of every error that flowlite raises for its own reasons."""

    def __reduce__(self) -> tuple[Any, ...]:
        # By default, pickle and copy call the class with `args` alone, which
        # fails for the subclasses' keyword-only arguments. A process pool
        # pickles the errors raised in its workers, such as OutputError, so
        # rebuild from `args` and the attribute dict instead.
        return (_restore_error, (type(self), self.args), self.__dict__)


def _restore_error(cls: type[FlowliteError], args: tuple[Any, ...]) -> FlowliteError:
    # BaseException.__new__ stores `args` without calling __init__. Pickle
    # then restores the attributes through BaseException.__setstate__.
    return cls.__new__(cls, *args)


class TaskDefinitionError(FlowliteError, TypeError):
    """A `@task` declaration that cannot work, reported at decoration time.

    `function` is the decorated callable's name, `parameter` and `key` the
    parameter and key involved, where there is one.
    """

    def __init__(
        self, message: str, *, function: str, parameter: str | None = None, key: str | None = None
    ) -> None:
        super().__init__(message)
        self.function = function
        self.parameter = parameter
        self.key = key


class InvalidArgumentError(FlowliteError, ValueError):
    """An argument to `plan()`, `run()` or `stream()` that they cannot use."""


class InvalidKeyError(FlowliteError, TypeError):
    """A state key that is not a non-empty `str`."""

    def __init__(self, message: str, *, key: object) -> None:
        super().__init__(message)
        self.key = key


class DuplicateTaskError(FlowliteError, ValueError):
    """Two different tasks registered under one name."""

    def __init__(self, message: str, *, name: str) -> None:
        super().__init__(message)
        self.name = name


class DuplicateOutputError(FlowliteError, ValueError):
    """Two tasks that produce the same key."""

    def __init__(self, message: str, *, key: str, tasks: tuple[str, str]) -> None:
        super().__init__(message)
        self.key = key
        self.tasks = tasks


class _KeyErrorMessage(KeyError):
    # KeyError's str() is the repr of its argument, which would print a
    # multi-line message as one quoted line.
    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class UnknownTaskError(FlowliteError, _KeyErrorMessage):
    """A task name that the registry does not contain."""

    def __init__(self, message: str, *, name: str, suggestions: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.name = name
        self.suggestions: tuple[str, ...] = tuple(suggestions)


class UnknownKeyError(FlowliteError, _KeyErrorMessage):
    """A requested key (a target) that no task produces and no input provides."""

    def __init__(self, message: str, *, key: str, suggestions: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.key = key
        self.suggestions: tuple[str, ...] = tuple(suggestions)


class MissingInputError(UnknownKeyError):
    """A key that a task consumes but that no task produces and the state lacks.

    `task` is the name of the consuming task and `suggestions` the closest
    known keys.
    """

    def __init__(self, message: str, *, task: str, key: str, suggestions: Sequence[str] = ()) -> None:
        super().__init__(message, key=key, suggestions=suggestions)
        self.task = task


class CycleError(FlowliteError, graphlib.CycleError):
    """Tasks whose declared keys depend on each other in a circle.

    `cycle` lists the edges of one cycle in order as `(producer, key,
    consumer)` tuples of task names and keys; the last consumer is the first
    producer.
    """

    def __init__(self, message: str, *, cycle: Sequence[tuple[str, str, str]]) -> None:
        super().__init__(message)
        self.cycle: list[tuple[str, str, str]] = list(cycle)


class OverwriteError(FlowliteError, ValueError):
    """A run that would overwrite a value the caller provided.

    Raised when the available keys or the initial state hold some, but not
    all, of a task's outputs, or when a prepared plan would recompute a key
    that the initial state already holds.
    """

    def __init__(self, message: str, *, task: str, keys: Sequence[str]) -> None:
        super().__init__(message)
        self.task = task
        self.keys: tuple[str, ...] = tuple(keys)


class PicklingCheckError(FlowliteError, TypeError):
    """A task or initial value that a run cannot send to the worker processes of its executor.

    Raised before any task starts when `executor` is a `ProcessPoolExecutor`,
    a `distributed.Client` or the executor of `Client.get_executor()`.
    `task` names the task, or `key` the initial-state key, and the other is
    None. The pickling error, if there was one, is the `__cause__`.
    """

    def __init__(self, message: str, *, task: str | None = None, key: str | None = None) -> None:
        super().__init__(message)
        self.task = task
        self.key = key


class TaskTimeoutError(FlowliteError, TimeoutError):
    """One attempt of a task that ran longer than the task's `timeout`.

    A thread cannot be stopped from outside, so on a thread the timed-out
    call is abandoned and goes on until it returns; its result is dropped.
    """

    def __init__(self, message: str, *, task: str, timeout: float, attempt: int) -> None:
        super().__init__(message)
        self.task = task
        self.timeout = timeout
        self.attempt = attempt

    def __reduce__(self) -> tuple[Any, ...]:
        # OSError, the base of TimeoutError, reads its arguments in __init__,
        # so the error is rebuilt through its constructor.
        return (_restore_timeout, (str(self), self.task, self.timeout, self.attempt), self.__dict__)


def _restore_timeout(message: str, task: str, timeout: float, attempt: int) -> TaskTimeoutError:
    return TaskTimeoutError(message, task=task, timeout=timeout, attempt=attempt)


class RunCancelled(FlowliteError):
    """A run stopped through its `CancelToken` before every task had run.

    `state` contains the initial state and every output produced before the
    cancellation; `not_run` names the tasks that never started, in plan order.
    """

    def __init__(self, message: str, *, state: Mapping[str, Any], not_run: Sequence[str]) -> None:
        super().__init__(message)
        self.state = state
        self.not_run: tuple[str, ...] = tuple(not_run)


class TypeMismatchError(FlowliteError, TypeError):
    """A key whose producer's return type definitely does not fit a consumer's parameter.

    Raised by `plan()`. `producer` and `consumer` are the two task names,
    `key` the key between them, `parameter` the consumer's parameter, and
    `produced` and `expected` the two annotations as text.
    """

    def __init__(
        self,
        message: str,
        *,
        producer: str,
        consumer: str,
        key: str,
        parameter: str,
        produced: str,
        expected: str,
    ) -> None:
        super().__init__(message)
        self.producer = producer
        self.consumer = consumer
        self.key = key
        self.parameter = parameter
        self.produced = produced
        self.expected = expected


class TypeCheckError(FlowliteError, TypeError):
    """A value that does not match the annotation it must match, found by a run with `check_types=True`.

    `task` names the task whose parameter (for a value of the initial state)
    or output (for a value the task returned) is annotated, `key` the key
    of the value, and `expected` and `received` the annotation and the
    value's type, as text.
    """

    def __init__(self, message: str, *, task: str, key: str, expected: str, received: str) -> None:
        super().__init__(message)
        self.task = task
        self.key = key
        self.expected = expected
        self.received = received


class OutputError(FlowliteError, ValueError):
    """A task's return value that does not fit its declared outputs.

    Nothing of such a return value is written to the state.
    """

    def __init__(self, message: str, *, task: str, outputs: Sequence[str], value: object) -> None:
        super().__init__(message)
        self.task = task
        self.outputs: tuple[str, ...] = tuple(outputs)
        self.value = value


class RunFailed(ExceptionGroup[Exception], FlowliteError):
    """One or more task failures of a run with `keep_going=True`.

    `exceptions` contains the tasks' own exception objects. `state` is the state
    with every output that was produced, `failures` maps each failed task's
    name to its exception, and `skipped` names the tasks that did not run
    because an input was missing, in plan order.
    """

    state: Mapping[str, Any]
    failures: Mapping[str, Exception]
    skipped: tuple[str, ...]

    def __new__(
        cls,
        message: str,
        exceptions: Sequence[Exception],
        *,
        state: Mapping[str, Any],
        failures: Mapping[str, Exception],
        skipped: Sequence[str] = (),
    ) -> RunFailed:
        self = super().__new__(cls, message, exceptions)
        self.state = state
        self.failures = dict(failures)
        self.skipped = tuple(skipped)
        return self

    def __init__(
        self,
        message: str,
        exceptions: Sequence[Exception],
        *,
        state: Mapping[str, Any],
        failures: Mapping[str, Exception],
        skipped: Sequence[str] = (),
    ) -> None:
        super().__init__(message, exceptions)

    def __reduce__(self) -> tuple[Any, ...]:
        # An exception group must be created through its own __new__, which
        # here takes the run's data as keyword arguments.
        rebuild = functools.partial(RunFailed, state=self.state, failures=self.failures, skipped=self.skipped)
        return (rebuild, (self.message, list(self.exceptions)), self.__dict__)

    def derive(self, excs: Sequence[Exception]) -> RunFailed:  # type: ignore[override]
        # `except*` splits a group through derive(); the parts keep the run's data.
        return RunFailed(self.message, excs, state=self.state, failures=self.failures, skipped=self.skipped)
