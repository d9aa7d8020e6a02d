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
        return inspect.signature(fn)
    except (ValueError, TypeError):
        return None


def callable_name(fn: Callable[..., Any]) -> str:
    """Return the plain name of a function, partial, bound method or callable instance."""
    while isinstance(fn, functools.partial):
        fn = fn.func
    name = getattr(fn, "__name__", None)
    if isinstance(name, str) and name:
        return name
    return type(fn).__name__


def is_async(fn: Callable[..., Any]) -> bool:
    """Return True for an `async def` function, also behind a partial or bound method."""
    while isinstance(fn, functools.partial):
        fn = fn.func
    if inspect.iscoroutinefunction(fn):
        return True
    # A callable instance is async when its class defines `async def __call__`.
    return not inspect.isroutine(fn) and inspect.iscoroutinefunction(
        inspect.getattr_static(type(fn), "__call__", None)
    )
