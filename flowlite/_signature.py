"""Read the signature and name of any callable; the one place that calls `inspect`."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any


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
    while isinstance(fn, functools.partial):
        fn = fn.func
    if _is_async_def(fn):
        return True
    return not inspect.isroutine(fn) and _is_async_def(inspect.getattr_static(type(fn), "__call__", None))


def _is_async_def(fn: object) -> bool:
    # Coroutine functions and async generator functions are both `async def`.
    return inspect.iscoroutinefunction(fn) or inspect.isasyncgenfunction(fn)
