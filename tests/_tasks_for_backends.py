"""Module-level tasks for the runner tests that every backend runs.

Process pools and Dask workers load these tasks by importing this module, so
none of them may be defined inside a test. Tasks that run in another process
cannot append to a list of the test, so they record their calls as files in
the `marker_dir` that the initial state provides.
"""

from __future__ import annotations

import time
import uuid
from pathlib import Path

from flowlite import Registry, task


class NegativeNumberError(ValueError):
    """Raised by `check_positive`; module-level, so that it pickles."""


def mark(marker_dir: str, name: str) -> None:
    """Record that the task `name` ran, as an empty file in `marker_dir`."""
    (Path(marker_dir) / name).touch()


def marked(marker_dir: str) -> set[str]:
    """Return the names of the tasks that recorded a call in `marker_dir`."""
    return {path.name for path in Path(marker_dir).iterdir()}


# --- a plan with fan-out, fan-in, several outputs, inputs by name and a sink


@task(outputs=["quotient", "remainder"])
def divide(dividend: int, divisor: int) -> tuple[int, int]:
    return divmod(dividend, divisor)


@task(inputs={"number": "quotient"}, outputs="squared")
def square(number: int) -> int:
    return number * number


@task(outputs="scaled")
def scale(remainder: int, factor: int) -> int:
    return remainder * factor


@task(outputs="total")
def add(squared: int, scaled: int) -> int:
    return squared + scaled


@task(outputs=())
def record_total(total: int, marker_dir: str) -> None:
    mark(marker_dir, f"total-{total}")


def arithmetic_registry() -> Registry:
    """Return divide -> (square, scale) -> add -> record_total.

    The initial state provides dividend, divisor, factor and marker_dir.
    """
    return Registry([divide, square, scale, add, record_total])


# --- failures


@task(outputs="checked")
def check_positive(number: int, marker_dir: str) -> int:
    mark(marker_dir, "check_positive")
    if number < 0:
        raise NegativeNumberError(f"number {number} is negative")
    return number


@task(outputs="slept")
def sleep_briefly(number: int, marker_dir: str) -> int:
    mark(marker_dir, "sleep_briefly")
    time.sleep(0.3)
    return number


@task(outputs="after_check")
def after_check(checked: int, marker_dir: str) -> int:
    mark(marker_dir, "after_check")
    return checked + 1


@task(outputs="after_after_check")
def after_after_check(after_check: int, marker_dir: str) -> int:
    mark(marker_dir, "after_after_check")
    return after_check + 1


@task(outputs="doubled")
def double(number: int, marker_dir: str) -> int:
    mark(marker_dir, "double")
    return number * 2


@task(outputs="after_double")
def after_double(doubled: int, marker_dir: str) -> int:
    mark(marker_dir, "after_double")
    return doubled + 1


@task(outputs="merged")
def merge(after_double: int, after_after_check: int, marker_dir: str) -> int:
    mark(marker_dir, "merge")
    return after_double + after_after_check


def failing_registry() -> Registry:
    """Return a plan in which `check_positive` fails for a negative `number`.

    Its descendants are `after_check`, `after_after_check` and `merge`;
    `double`, `after_double` and `sleep_briefly` do not depend on it.
    """
    return Registry(
        [check_positive, sleep_briefly, double, after_check, after_double, after_after_check, merge]
    )


DESCENDANTS_OF_CHECK = ("after_check", "after_after_check", "merge")


# --- parameters with the names of Client.submit's own options


@task(outputs="submit_names")
def use_submit_option_names(key: str, workers: int, pure: bool, retries: int, priority: int) -> str:
    return f"{key}:{workers}:{pure}:{retries}:{priority}"


# --- an impure task: every call returns a new value


@task(outputs="token")
def new_token(number: int) -> str:
    time.sleep(0.3)
    return uuid.uuid4().hex
