"""Module-level tasks for runs on a `ProcessPoolExecutor`.

A process pool pickles each task by its module and name, so the worker
processes must be able to import it. Tasks defined inside a test function
cannot run there.
"""

from __future__ import annotations

import os

from flowlite import Registry, task


@task(inputs=["number"], outputs="doubled")
def double(number: int) -> int:
    return number * 2


@task(inputs=["number"], outputs="tripled")
def triple(number: int) -> int:
    return number * 3


@task(inputs=["doubled", "tripled"], outputs=["total", "total_pid"])
def add_with_pid(doubled: int, tripled: int) -> tuple[int, int]:
    return doubled + tripled, os.getpid()


@task(inputs=["number"], outputs="never_stored")
def fail_with_value_error(number: int) -> int:
    raise ValueError(f"invalid number {number}")


def arithmetic_registry() -> Registry:
    """Return `double` and `triple` feeding `add_with_pid`."""
    return Registry([double, triple, add_with_pid])
