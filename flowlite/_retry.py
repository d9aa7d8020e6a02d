"""`Retry`: when a failed task is attempted again, and after which delay."""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import final

from flowlite.errors import InvalidArgumentError, OutputError

__all__ = ["Retry", "check_timeout", "make_retry"]

Delay = float | Sequence[float] | Callable[[int], float]
RetryOn = type[BaseException] | tuple[type[BaseException], ...] | Callable[[BaseException], bool]


@final
@dataclass(frozen=True, slots=True)
class Retry:
    """A retry policy for one task.

    `retries` is the number of attempts after the first. Before retry *n*
    (1-based) the task waits `delay` seconds times `backoff ** (n - 1)`, or
    `delay[n - 1]` for a sequence (its last item repeats), or `delay(n)` for
    a callable; then up to `jitter` seconds of random extra, and at most
    `max_delay` seconds in all. `retry_on` is an exception class, a tuple of
    them, or a predicate on the exception; by default every `Exception` is
    retried. An `OutputError` is never retried, because another attempt
    would return the same wrong shape. Invalid values raise
    `InvalidArgumentError` at creation.
    """

    retries: int
    delay: Delay = 0.0
    backoff: float = 1.0
    max_delay: float | None = None
    jitter: float = 0.0
    retry_on: RetryOn = Exception

    def __post_init__(self) -> None:
        if isinstance(self.retries, bool) or not isinstance(self.retries, int) or self.retries < 0:
            msg = f"retries must be an int >= 0, got {self.retries!r}"
            raise InvalidArgumentError(msg)
        _check_delay(self.delay)
        _check_number("backoff", self.backoff, minimum=1.0)
        if self.max_delay is not None:
            _check_number("max_delay", self.max_delay, minimum=0.0)
        _check_number("jitter", self.jitter, minimum=0.0)
        _check_retry_on(self.retry_on)

    def should_retry(self, error: BaseException, attempt: int) -> bool:
        """Return whether `error`, raised by attempt number `attempt`, earns another attempt."""
        # An OutputError is a wrong return value, which another attempt
        # would repeat.
        if attempt > self.retries or not isinstance(error, Exception) or isinstance(error, OutputError):
            return False
        retry_on = self.retry_on
        if isinstance(retry_on, (type, tuple)):
            return isinstance(error, retry_on)
        return bool(retry_on(error))

    def delay_before(self, retry: int) -> float:
        """Return the seconds to wait before retry number `retry` (1-based)."""
        delay = self.delay
        if callable(delay):
            seconds = float(delay(retry))
        elif isinstance(delay, Sequence):
            seconds = float(delay[min(retry, len(delay)) - 1])
        else:
            seconds = float(delay) * self.backoff ** (retry - 1)
        if self.jitter:
            seconds += random.uniform(0.0, self.jitter)
        if self.max_delay is not None:
            seconds = min(seconds, self.max_delay)
        return max(seconds, 0.0)


def _check_number(name: str, value: object, *, minimum: float) -> None:
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not math.isfinite(value)
        or value < minimum
    ):
        msg = f"{name} must be a finite number >= {minimum:g}, got {value!r}"
        raise InvalidArgumentError(msg)


def _check_delay(delay: object) -> None:
    if callable(delay):
        return
    if isinstance(delay, Sequence) and not isinstance(delay, str):
        if not delay:
            msg = "delay must not be an empty sequence; give at least one number of seconds"
            raise InvalidArgumentError(msg)
        for item in delay:
            _check_number("each delay", item, minimum=0.0)
        return
    _check_number("delay", delay, minimum=0.0)


def _check_retry_on(retry_on: object) -> None:
    classes = retry_on if isinstance(retry_on, tuple) else (retry_on,)
    if all(isinstance(item, type) and issubclass(item, BaseException) for item in classes) and classes:
        return
    if not isinstance(retry_on, (type, tuple)) and callable(retry_on):
        return
    msg = (
        f"retry_on must be an exception class, a tuple of them or a predicate taking the "
        f"exception, got {retry_on!r}"
    )
    raise InvalidArgumentError(msg)


def make_retry(retries: int | Retry | None) -> Retry | None:
    """Normalise the `retries` argument of `@task`: a count or a `Retry`."""
    if retries is None or isinstance(retries, Retry):
        return retries if retries is None or retries.retries else None
    policy = Retry(retries)
    return policy if policy.retries else None


def check_timeout(timeout: object) -> float | None:
    """Return `timeout` as seconds, or None for no timeout."""
    if timeout is None:
        return None
    _check_number("timeout", timeout, minimum=0.0)
    assert isinstance(timeout, (int, float))
    if timeout == 0:
        msg = "timeout must be greater than 0 seconds, or None for no timeout"
        raise InvalidArgumentError(msg)
    return float(timeout)
