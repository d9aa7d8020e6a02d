"""Read the signature and name of any callable; the one place that calls `inspect`."""

from __future__ import annotations

import functools
import inspect
import sys
import types
from collections.abc import Callable
from typing import Any

from flowlite import _rules


def read_signature(fn: Callable[..., Any]) -> inspect.Signature | None:
    """Return the call signature of `fn`, or None where Python records none.

    `inspect.signature` already unwraps `functools.wraps` decorators and
    partials, drops the bound argument of a bound method and reads
    `__call__` of a callable instance. Builtins and C functions without a
    text signature return None.
    """
    try:
        return inspect.signature(_without_wrapped_partials(fn))
    except (ValueError, TypeError):
        return None


def _without_wrapped_partials(fn: Callable[..., Any]) -> Callable[..., Any]:
    # `functools.update_wrapper(partial, f)` sets `__wrapped__ = f`, and
    # `inspect.signature` follows it to the full signature of `f`, listing
    # the arguments that the partial already fills. A fresh partial with the
    # same function and arguments has no `__wrapped__`.
    if not isinstance(fn, functools.partial):
        return fn
    return functools.partial(_without_wrapped_partials(fn.func), *fn.args, **fn.keywords)


def callable_name(fn: Callable[..., Any]) -> str:
    """Return the plain name of a function, partial, bound method or callable instance."""
    while isinstance(fn, functools.partial):
        fn = fn.func
    name = getattr(fn, "__name__", None)
    if isinstance(name, str) and name:
        return name
    return type(fn).__name__


def is_async(fn: Callable[..., Any]) -> bool:
    """Return True for an `async def` function, also behind a partial or bound method.

    Async generator functions count too, and a callable instance counts when
    its class defines `async def __call__`.
    """
    return is_coroutine_function(fn) or _unwrapped_test(fn, inspect.isasyncgenfunction)


def is_coroutine_function(fn: Callable[..., Any]) -> bool:
    """Return True when calling `fn` returns a coroutine to await (not an async generator)."""
    return _unwrapped_test(fn, inspect.iscoroutinefunction)


def _unwrapped_test(fn: Callable[..., Any], test: Callable[[Any], bool]) -> bool:
    while isinstance(fn, functools.partial):
        fn = fn.func
    if test(fn):
        return True
    return not inspect.isroutine(fn) and test(inspect.getattr_static(type(fn), "__call__", None))


def describe(signature: inspect.Signature) -> _rules.Signature:
    """Return the neutral description of `signature` that the declaration rules read.

    The return shape is left unknown here; `_annotations.return_shape` reads it.
    """
    parameters = tuple(
        _rules.Parameter(
            parameter.name, _rules.Kind(int(parameter.kind)), parameter.default is not inspect.Parameter.empty
        )
        for parameter in signature.parameters.values()
    )
    return _rules.Signature(parameters)


def without_receiver(signature: inspect.Signature) -> inspect.Signature:
    """Return `signature` without its first parameter, the `self` of a method."""
    return signature.replace(parameters=list(signature.parameters.values())[1:])


def is_method_definition(fn: Callable[..., Any], signature: inspect.Signature | None) -> bool:
    """Return True for a plain function defined in a class body whose first parameter is `self`.

    Such a function becomes a method when read from an instance, so its
    declaration binds the parameters after `self`. A bound method, a
    partial or a function defined elsewhere is not a method definition.
    """
    if not isinstance(fn, types.FunctionType) or signature is None:
        return False
    owner, _, _ = fn.__qualname__.rpartition(".")
    if not owner or owner.endswith("<locals>"):
        return False
    first = next(iter(signature.parameters.values()), None)
    return (
        first is not None
        and first.name == "self"
        and first.kind in (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    )


def namespace_of(fn: object) -> dict[str, Any]:
    """Return the global namespace in which the annotations of `fn` were written.

    The namespace is that of the function that `inspect.signature` reads:
    behind partials, bound methods and `functools.wraps` decorators, and
    the `__call__` of a callable instance. It is empty when none is known.
    """
    for _ in range(100):
        if isinstance(fn, functools.partial):
            fn = fn.func
        elif isinstance(fn, types.MethodType):
            fn = fn.__func__
        elif getattr(fn, "__wrapped__", None) is not None:
            fn = fn.__wrapped__  # type: ignore[attr-defined]
        else:
            break
    namespace = getattr(fn, "__globals__", None)
    if isinstance(namespace, dict):
        return namespace
    if not inspect.isroutine(fn) and not isinstance(fn, type):
        namespace = getattr(inspect.getattr_static(type(fn), "__call__", None), "__globals__", None)
        if isinstance(namespace, dict):
            return namespace
    module = sys.modules.get(getattr(fn, "__module__", None) or "")
    return vars(module) if module is not None else {}
