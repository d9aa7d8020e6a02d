"""Run-time type checks of a run with `check_types=True`.

A value is checked against an annotation conservatively: `isinstance` on
the annotation's class, with the union, literal, tuple and TypedDict forms
checked in full, and only the first item of a list, set or mapping checked
against the item types. Whatever cannot be checked cheaply passes, such as
an unresolved annotation, a protocol that is not runtime-checkable, or the
items of an iterator. The checks are off by default and cost nothing then.
"""

from __future__ import annotations

import collections.abc as abc
import itertools
import typing
from collections.abc import Mapping
from typing import Any, final

from flowlite._annotations import class_field_types, required_keys, task_types
from flowlite._attempts import Attempts, Reported
from flowlite._types import UNRESOLVED, format_type, normalize
from flowlite.errors import TypeCheckError

if typing.TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from flowlite.plan import Call, Plan
    from flowlite.task import Task

__all__ = [
    "CheckedCall",
    "check_initial_values",
    "check_outputs",
    "checked_calls",
    "describe_value",
    "matches",
]

# Nested containers are checked this deep; below that everything passes.
_MAX_DEPTH = 4


def matches(value: object, annotation: object, depth: int = 0) -> bool:
    """Return False when `value` definitely does not match `annotation`, True otherwise."""
    if type(annotation) is type and annotation is not float and annotation is not complex:
        # The common case, a plain class such as int or a dataclass.
        return isinstance(value, annotation)
    if depth > _MAX_DEPTH or annotation is UNRESOLVED:
        return True
    annotation = normalize(annotation)
    if annotation is Any or annotation is object:
        return True
    origin = typing.get_origin(annotation)
    arguments = typing.get_args(annotation)
    depth += 1

    if origin is typing.Union or origin is _UNION_TYPE:
        return any(matches(value, member, depth) for member in arguments)
    if origin is typing.Literal:
        return any(type(value) is type(allowed) and value == allowed for allowed in arguments)
    if isinstance(annotation, typing.TypeVar):
        return _matches_type_variable(value, annotation, depth)
    if isinstance(annotation, typing.NewType):
        return matches(value, annotation.__supertype__, depth)
    if origin is abc.Callable or annotation is abc.Callable:
        return callable(value)
    if origin is type:
        return _matches_class_object(value, arguments)
    if typing.is_typeddict(annotation):
        return _matches_typed_dict(value, annotation, depth)
    if origin is tuple:
        return _matches_tuple(value, arguments, depth)

    cls = origin if origin is not None else annotation
    if not isinstance(cls, type):
        return True
    if getattr(cls, "_is_protocol", False) and not getattr(cls, "_is_runtime_protocol", False):
        return True
    try:
        if not _is_instance(value, cls):
            return False
    except TypeError:
        return True
    return not arguments or _matches_items(value, cls, arguments, depth)


_UNION_TYPE = type(int | str)


def _is_instance(value: object, cls: type) -> bool:
    # The numeric tower of PEP 484: an int is accepted as a float, and an
    # int or a float as a complex.
    if cls is float:
        return isinstance(value, (int, float))
    if cls is complex:
        return isinstance(value, (int, float, complex))
    return isinstance(value, cls)


def _matches_type_variable(value: object, variable: typing.TypeVar, depth: int) -> bool:
    if variable.__constraints__:
        return any(matches(value, constraint, depth) for constraint in variable.__constraints__)
    return variable.__bound__ is None or matches(value, variable.__bound__, depth)


def _matches_class_object(value: object, arguments: tuple[object, ...]) -> bool:
    if not isinstance(value, type):
        return False
    expected = normalize(arguments[0]) if arguments else Any
    if not isinstance(expected, type):
        return True
    try:
        return issubclass(value, expected)
    except TypeError:
        return True


def _matches_typed_dict(value: object, typed_dict: Any, depth: int) -> bool:
    if not isinstance(value, dict):
        return False
    if any(key not in value for key in required_keys(typed_dict)):
        return False
    fields = class_field_types(typed_dict)
    return all(matches(item, fields[key], depth) for key, item in value.items() if key in fields)


def _matches_tuple(value: object, arguments: tuple[object, ...], depth: int) -> bool:
    if not isinstance(value, tuple):
        return False
    if not arguments:
        return True
    if len(arguments) == 2 and arguments[1] is Ellipsis:
        return not value or matches(value[0], arguments[0], depth)
    if any(typing.get_origin(item) is typing.Unpack for item in arguments):
        return True
    if len(value) != len(arguments):
        return False
    return all(matches(item, expected, depth) for item, expected in zip(value, arguments, strict=True))


def _matches_items(value: object, cls: type, arguments: tuple[object, ...], depth: int) -> bool:
    # Only the first item is checked, so the cost does not grow with the
    # size of the value. Iterators and generators are never advanced.
    if isinstance(value, Mapping) and len(arguments) == 2:
        first = next(iter(value.items()), None)
        if first is None:
            return True
        return matches(first[0], arguments[0], depth) and matches(first[1], arguments[1], depth)
    if isinstance(value, abc.Collection) and len(arguments) == 1 and not isinstance(value, Mapping):
        item: object = next(iter(value), _NOTHING)
        return item is _NOTHING or matches(item, arguments[0], depth)
    return True


_NOTHING = object()


def describe_value(value: object) -> str:
    """Return the type of `value` for a message, with the types of its first items: `list[int]`."""
    name = type(value).__qualname__
    if value is None:
        return "None"
    if isinstance(value, tuple) and type(value) is tuple:
        items = [type(item).__qualname__ for item in itertools.islice(value, 5)]
        return f"tuple[{', '.join(items)}{', ...' if len(value) > 5 else ''}]" if items else "tuple[()]"
    if isinstance(value, Mapping):
        first = next(iter(value.items()), None)
        return (
            name if first is None else f"{name}[{type(first[0]).__qualname__}, {type(first[1]).__qualname__}]"
        )
    if isinstance(value, (list, set, frozenset)):
        item: object = next(iter(value), _NOTHING)
        return name if item is _NOTHING else f"{name}[{type(item).__qualname__}]"
    return name


# Checks of a run.


def check_outputs(item: Task[..., Any], result: object) -> None:
    """Raise `TypeCheckError` when a value that `item` returned does not match its return annotation.

    `result` is what the run's call returned: the function's return value,
    or the outputs that a retrying call already split.
    """
    expected = task_types(item).outputs
    if not expected:
        return
    if isinstance(result, Reported):
        values: tuple[Any, ...] = result.outputs
    elif item._single_output:
        values = (result,)
    else:
        values = item._split_result(result)
    for key, value in zip(item._outputs, values, strict=False):
        annotation = expected.get(key)
        if annotation is not None and not matches(value, annotation):
            expected_text = format_type(annotation)
            received = describe_value(value)
            msg = (
                f"task {item.name!r} returned {received} for output {key!r}, but its return annotation "
                f"says {expected_text}; fix the function or its annotation (run(..., check_types=False) "
                "skips this check)"
            )
            raise TypeCheckError(msg, task=item.name, key=key, expected=expected_text, received=received)


def check_initial_values(prepared: Plan, values: Mapping[str, Any]) -> None:
    """Raise `TypeCheckError` when a value of the initial state does not match a consumer's annotation."""
    for key in prepared.external_inputs:
        if key not in values:
            continue
        value = values[key]
        for consumer in prepared.consumers_of(key):
            for parameter, consumed, annotation in task_types(consumer).inputs:
                if consumed != key or matches(value, annotation):
                    continue
                expected_text = format_type(annotation)
                received = describe_value(value)
                msg = (
                    f"task {consumer.name!r} expects {expected_text} for parameter {parameter!r}, but "
                    f"the initial state's {key!r} is {received}; pass a value of that type or change "
                    "the annotation (run(..., check_types=False) skips this check)"
                )
                raise TypeCheckError(
                    msg, task=consumer.name, key=key, expected=expected_text, received=received
                )


@final
class CheckedCall:
    """A task's call in a run with `check_types=True`: the call, then a check of its outputs.

    It replaces the function in the run's call table. `func` is what the
    table held before, or None for the task's own function, which the task
    supplies after pickling: a decorated function does not pickle by its
    name, because that name refers to the task.
    """

    __slots__ = ("_func", "_plain_class", "_task")

    def __init__(self, item: Task[..., Any], func: Callable[..., Any] | None) -> None:
        self._task = item
        self._func = func
        # A single output annotated with a plain class, the common case, is
        # checked here with one isinstance() call.
        annotation = task_types(item).outputs.get(item._outputs[0]) if item._single_output else None
        plain = type(annotation) is type and annotation not in (float, complex)
        self._plain_class = annotation if plain and isinstance(annotation, type) else None

    def __reduce__(self) -> tuple[Any, ...]:
        return (CheckedCall, (self._task, self._func))

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        func = self._task.func if self._func is None else self._func
        result = func(*args, **kwargs)
        plain_class = self._plain_class
        if plain_class is None or not isinstance(result, plain_class):
            check_outputs(self._task, result)
        return result

    async def call_async(self, *args: Any, **kwargs: Any) -> tuple[Any, ...] | Reported:
        """Await an `async def` task on the running loop, check its outputs and return them.

        The outputs come back as a tuple, or as the `Reported` of a call with
        retries or a timeout.
        """
        item = self._task
        inner = self._func
        if isinstance(inner, Attempts):
            result = await inner.call_async(*args, **kwargs)
        else:
            result = await item.func(*args, **kwargs)
        check_outputs(item, result)
        if isinstance(result, Reported):
            return result
        return (result,) if item._single_output else item._split_result(result)


def checked_calls(prepared: Plan, calls: Sequence[Call]) -> list[Call]:
    """Return the run's call table with a `CheckedCall` for every task whose outputs are annotated."""
    checked: list[Call] = []
    for item, call in zip(prepared._tasks, calls, strict=True):
        if not task_types(item).outputs:
            checked.append(call)
            continue
        func = call[0]
        checked.append((CheckedCall(item, None if func is item.func else func), *call[1:]))
    return checked
