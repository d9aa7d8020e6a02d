"""Tasks and callables for the pickling and process-pool tests.

A worker process started with the "spawn" method imports this module by its
name to load the module-level tasks that the parent pickled by reference.
"""

from __future__ import annotations

import os

from flowlite import task


@task
def add_one(number: int) -> int:
    """Return `number` plus one."""
    return number + 1


@task(outputs="worker_pid")
def report_pid(number: int) -> int:
    """Return the id of the process that runs the task."""
    return os.getpid()


@task(outputs=["quotient", "remainder"])
def divide(dividend: int, divisor: int) -> tuple[int, int]:
    return divmod(dividend, divisor)


@task(outputs=["quotient", "remainder"])
def divide_into_list(dividend: int, divisor: int) -> list[int]:
    # Declares two outputs but returns a list, which the runner rejects.
    return list(divmod(dividend, divisor))


def subtract(minuend: int, subtrahend: int) -> int:
    """A plain function, made into tasks by the tests."""
    return minuend - subtrahend


class Scaler:
    """A picklable object whose bound method and `__call__` become tasks."""

    def __init__(self, factor: int) -> None:
        self.factor = factor

    def scale(self, value: int) -> int:
        return value * self.factor

    def __call__(self, value: int) -> int:
        return value * self.factor


class Namespace:
    """A class attribute that is a task, pickled by its dotted qualified name."""

    @task(outputs="negated")
    def negate(value: int) -> int:
        return -value
