"""The annotations of tasks, resolved one at a time, and the plan-time check that compares them.

An annotation written as a string (under `from __future__ import
annotations`, or quoted by hand) is evaluated in the namespace of the
function. A name that does not resolve there, such as an import under
`TYPE_CHECKING` or a class local to a function, makes only that one
annotation `UNRESOLVED`, and every comparison with it returns UNKNOWN.
Resolved annotations are cached per function, so tasks made from one
function resolve them once.
"""

from __future__ import annotations

import contextlib
import inspect
import sys
import typing
import weakref
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from flowlite import _rules
from flowlite._signature import namespace_of
from flowlite._types import INCOMPATIBLE, UNRESOLVED, compatibility, format_type, normalize
from flowlite.errors import TypeMismatchError

if typing.TYPE_CHECKING:
    from flowlite.task import Task

__all__ = [
    "TaskTypes",
    "check_wiring",
    "class_field_types",
    "required_keys",
    "resolve",
    "return_shape",
    "task_types",
]

_EMPTY = inspect.Parameter.empty


def resolve(annotation: object, namespace: Mapping[str, Any]) -> object:
    """Evaluate a string annotation in `namespace`; return `UNRESOLVED` if that fails.

    Annotations that are not strings are returned unchanged, and a missing
    annotation is returned as `Any`.
    """
    if annotation is _EMPTY:
        return Any
    if isinstance(annotation, typing.ForwardRef):
        annotation = annotation.__forward_arg__
    if not isinstance(annotation, str):
        return annotation
    # typing.get_type_hints evaluates string annotations the same way.
    scope = namespace if isinstance(namespace, dict) else dict(namespace)
    try:
        return eval(annotation, scope)
    except Exception:
        return UNRESOLVED


# The shape of a return value, for the declaration rules.


def return_shape(fn: Callable[..., Any], signature: inspect.Signature | None) -> _rules.ReturnShape:
    """Return what the return annotation of `fn` states about the layout of its return value."""
    if signature is None or signature.return_annotation is _EMPTY:
        return _rules.UNKNOWN_RETURN
    return shape_of(resolve(signature.return_annotation, namespace_of(fn)))


def shape_of(annotation: object) -> _rules.ReturnShape:
    """Return the layout that a resolved return annotation states."""
    annotation = normalize(annotation)
    if annotation is type(None):
        return _rules.ReturnShape("none")
    if typing.get_origin(annotation) is tuple:
        arguments = typing.get_args(annotation)
        variadic = len(arguments) == 2 and arguments[1] is Ellipsis
        if variadic or any(typing.get_origin(item) is typing.Unpack for item in arguments):
            return _rules.UNKNOWN_RETURN
        return _rules.ReturnShape("tuple", length=len(arguments))
    if isinstance(annotation, type) and issubclass(annotation, tuple) and hasattr(annotation, "_fields"):
        return _rules.ReturnShape("tuple", length=len(annotation._fields))
    if typing.is_typeddict(annotation):
        keys = tuple(typing.cast(Mapping[str, object], annotation.__annotations__))
        name = typing.cast(str, annotation.__name__)  # type: ignore[attr-defined]
        return _rules.ReturnShape("typeddict", name=name, keys=keys, required=required_keys(annotation))
    return _rules.UNKNOWN_RETURN


# Field types of TypedDicts and named tuples.

_field_cache: weakref.WeakKeyDictionary[type, dict[str, object]] = weakref.WeakKeyDictionary()


def class_field_types(cls: Any) -> dict[str, object]:
    """Return the resolved annotation of each field of a TypedDict or named tuple class."""
    cached = _field_cache.get(cls)
    if cached is not None:
        return cached
    module = sys.modules.get(getattr(cls, "__module__", "") or "")
    namespace = vars(module) if module is not None else {}
    annotations = getattr(cls, "__annotations__", {})
    fields = {name: resolve(annotation, namespace) for name, annotation in annotations.items()}
    _field_cache[cls] = fields
    return fields


def required_keys(typed_dict: Any) -> frozenset[str]:
    """Return the keys that a TypedDict requires.

    Under `from __future__ import annotations`, Python 3.11 does not see a
    `NotRequired[...]` or `Required[...]` written as a string, so the
    resolved field annotations correct `__required_keys__`.
    """
    required = set(typed_dict.__required_keys__)
    for key, annotation in class_field_types(typed_dict).items():
        origin = typing.get_origin(annotation)
        if origin is typing.NotRequired:
            required.discard(key)
        elif origin is typing.Required:
            required.add(key)
    return frozenset(required)


# Per-function and per-task annotations.


@dataclass(frozen=True, slots=True)
class _FunctionTypes:
    parameters: Mapping[str, object]  # resolved, for annotated parameters only
    var_positional: str | None
    var_keyword: str | None
    returns: object  # resolved, or None when the return is not annotated


_function_cache: weakref.WeakKeyDictionary[Callable[..., Any], _FunctionTypes] = weakref.WeakKeyDictionary()


def _function_types(fn: Callable[..., Any], signature: inspect.Signature) -> _FunctionTypes:
    try:
        cached = _function_cache.get(fn)
    except TypeError:
        # Some builtins cannot be weakly referenced.
        cached = None
    if cached is not None:
        return cached

    namespace: Mapping[str, Any] | None = None
    parameters: dict[str, object] = {}
    var_positional = var_keyword = None
    for parameter in signature.parameters.values():
        if parameter.kind is inspect.Parameter.VAR_POSITIONAL:
            var_positional = parameter.name
        elif parameter.kind is inspect.Parameter.VAR_KEYWORD:
            var_keyword = parameter.name
        if parameter.annotation is not _EMPTY:
            namespace = namespace_of(fn) if namespace is None else namespace
            parameters[parameter.name] = resolve(parameter.annotation, namespace)
    returns = None
    if signature.return_annotation is not _EMPTY:
        namespace = namespace_of(fn) if namespace is None else namespace
        returns = resolve(signature.return_annotation, namespace)

    result = _FunctionTypes(parameters, var_positional, var_keyword, returns)
    with contextlib.suppress(TypeError):
        _function_cache[fn] = result
    return result


@dataclass(frozen=True, slots=True)
class TaskTypes:
    """The annotations that one task's wiring is checked against.

    `inputs` lists `(parameter, key, annotation)` for each annotated bound
    parameter; `outputs` maps each output key with a known type to it.
    """

    inputs: tuple[tuple[str, str, object], ...]
    outputs: Mapping[str, object]


_NO_TYPES = TaskTypes((), {})


def task_types(item: Task[..., Any]) -> TaskTypes:
    """Return the resolved annotations of a task's bound parameters and outputs (cached on the task)."""
    cached: TaskTypes | None = item.__dict__.get("_resolved_types")
    if cached is not None:
        return cached
    signature: inspect.Signature | None = item._signature
    result = _NO_TYPES if signature is None else _task_types(item, _function_types(item._func, signature))
    item.__dict__["_resolved_types"] = result
    return result


def _task_types(item: Task[..., Any], types: _FunctionTypes) -> TaskTypes:
    inputs: list[tuple[str, str, object]] = []
    if types.parameters:
        for parameter, key in item._binding.parameters.items():
            annotation = _parameter_type(parameter, types)
            if annotation is not None:
                inputs.append((parameter, key, annotation))
    outputs = _output_types(types.returns, item._outputs, item._single_output)
    return TaskTypes(tuple(inputs), outputs)


def _parameter_type(parameter: str, types: _FunctionTypes) -> object | None:
    # A bound name is a parameter, `*args[i]` for an extra positional, or a
    # name that **kwargs receives.
    if parameter in types.parameters:
        return types.parameters[parameter]
    if parameter.startswith("*") and types.var_positional is not None:
        return types.parameters.get(types.var_positional)
    if types.var_keyword is not None and parameter.isidentifier():
        return types.parameters.get(types.var_keyword)
    return None


def _output_types(returns: object, keys: tuple[str, ...], single: bool) -> Mapping[str, object]:
    if returns is None or not keys:
        return {}
    if single:
        return {keys[0]: returns}
    annotation = normalize(returns)
    shape = shape_of(annotation)
    if shape.kind == "tuple" and shape.length == len(keys):
        if typing.get_origin(annotation) is tuple:
            items: Iterable[object] = typing.get_args(annotation)
        else:
            items = class_field_types(annotation).values()
        return dict(zip(keys, items, strict=False))
    if shape.kind == "typeddict":
        fields = class_field_types(annotation)
        return {key: fields[key] for key in keys if key in fields}
    return {}


# The plan-time check.


def check_wiring(tasks: Iterable[Task[..., Any]], producers: Mapping[str, Task[..., Any]]) -> None:
    """Raise `TypeMismatchError` for the first key whose producer's type definitely does not fit a consumer.

    Tasks are checked in the given order. A pair of types that the checker
    cannot decide passes.
    """
    # One pass over the producers, so each task's annotations are read once.
    produced_types: dict[str, object] = {}
    for producer in set(producers.values()):
        produced_types.update(task_types(producer).outputs)

    for consumer in tasks:
        for parameter, key, expected in task_types(consumer).inputs:
            produced = produced_types.get(key)
            if produced is None or produced is expected:
                continue
            if compatibility(produced, expected) is INCOMPATIBLE:
                raise _mismatch(producers[key], consumer, key, parameter, produced, expected)


def _mismatch(
    producer: Task[..., Any],
    consumer: Task[..., Any],
    key: str,
    parameter: str,
    produced: object,
    expected: object,
) -> TypeMismatchError:
    produced_text = format_type(produced)
    expected_text = format_type(expected)
    msg = (
        f"task {consumer.name!r} expects {expected_text} for parameter {parameter!r}, but task "
        f"{producer.name!r} produces key {key!r} as {produced_text}; change one of the two "
        "annotations, or convert the value in a task between them (plan(..., check_types=False) "
        "skips this check)"
    )
    return TypeMismatchError(
        msg,
        producer=producer.name,
        consumer=consumer.name,
        key=key,
        parameter=parameter,
        produced=produced_text,
        expected=expected_text,
    )
