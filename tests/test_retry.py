"""Retries: the `Retry` policy, its validation, and retried tasks in real runs."""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import _tasks_for_faults
import pytest
from _event_log import EventLog

import flowlite
from flowlite import (
    CancelToken,
    InvalidArgumentError,
    Retry,
    RunCancelled,
    RunReport,
    TaskDefinitionError,
)

# Timeout for events and the upper bound of a run that must not hang.
WAIT_SECONDS = 5.0


@pytest.fixture(scope="module")
def process_pool() -> Iterator[ProcessPoolExecutor]:
    pool = _tasks_for_faults.start_process_pool()
    try:
        yield pool
    finally:
        pool.shutdown(wait=True)


def failing_until(succeed_on: int, error: Callable[[int], BaseException]) -> Callable[[int], int]:
    """Return a function that raises `error(attempt)` before attempt `succeed_on`, then returns it."""
    lock = threading.Lock()
    attempts: list[int] = []

    def flaky(seed: int) -> int:
        with lock:
            attempts.append(len(attempts) + 1)
            attempt = attempts[-1]
        if attempt < succeed_on:
            raise error(attempt)
        return attempt

    return flaky


# --- the Retry policy --------------------------------------------------------


INVALID_POLICIES: dict[str, Callable[[], Retry]] = {
    "negative-retries": lambda: Retry(-1),
    "float-retries": lambda: Retry(1.5),  # type: ignore[arg-type]
    "bool-retries": lambda: Retry(True),
    "str-retries": lambda: Retry("3"),  # type: ignore[arg-type]
    "negative-delay": lambda: Retry(2, delay=-1),
    "nan-delay": lambda: Retry(2, delay=math.nan),
    "infinite-delay": lambda: Retry(2, delay=math.inf),
    "str-delay": lambda: Retry(2, delay="1"),  # type: ignore[arg-type]
    "empty-delay-sequence": lambda: Retry(2, delay=[]),
    "negative-in-sequence": lambda: Retry(2, delay=[0.1, -0.1]),
    "backoff-below-one": lambda: Retry(2, backoff=0.5),
    "negative-max-delay": lambda: Retry(2, max_delay=-1),
    "negative-jitter": lambda: Retry(2, jitter=-0.1),
    "retry-on-instance": lambda: Retry(2, retry_on=ValueError("x")),  # type: ignore[arg-type]
    "retry-on-non-exception": lambda: Retry(2, retry_on=int),  # type: ignore[arg-type]
    "retry-on-mixed-tuple": lambda: Retry(2, retry_on=(ValueError, 3)),  # type: ignore[arg-type]
    "retry-on-empty-tuple": lambda: Retry(2, retry_on=()),
}


@pytest.mark.parametrize("make_policy", INVALID_POLICIES.values(), ids=INVALID_POLICIES.keys())
def test_retry_invalid_value_raises(make_policy: Callable[[], Retry]) -> None:
    with pytest.raises(InvalidArgumentError):
        make_policy()


def test_retry_invalid_value_message_shows_value() -> None:
    with pytest.raises(InvalidArgumentError, match=r"backoff must be a finite number >= 1, got 0\.5"):
        Retry(2, backoff=0.5)


def test_retry_number_delay_backs_off() -> None:
    policy = Retry(4, delay=0.5, backoff=2)

    delays = [policy.delay_before(retry) for retry in range(1, 5)]

    assert delays == [0.5, 1.0, 2.0, 4.0]


def test_retry_max_delay_caps_backoff() -> None:
    policy = Retry(4, delay=0.5, backoff=2, max_delay=1.5)

    delays = [policy.delay_before(retry) for retry in range(1, 5)]

    assert delays == [0.5, 1.0, 1.5, 1.5]


def test_retry_delay_sequence_repeats_last() -> None:
    policy = Retry(4, delay=[0.1, 0.3])

    delays = [policy.delay_before(retry) for retry in range(1, 5)]

    assert delays == [0.1, 0.3, 0.3, 0.3]


def test_retry_delay_callable_gets_retry_number() -> None:
    policy = Retry(3, delay=lambda retry: retry * 0.25)

    delays = [policy.delay_before(retry) for retry in range(1, 4)]

    assert delays == [0.25, 0.5, 0.75]


def test_retry_negative_callable_delay_is_zero() -> None:
    policy = Retry(1, delay=lambda retry: -5.0)

    assert policy.delay_before(1) == 0.0


def test_retry_jitter_adds_bounded_extra() -> None:
    policy = Retry(1, delay=1.0, jitter=0.5)

    delays = [policy.delay_before(1) for _ in range(200)]

    assert min(delays) >= 1.0
    assert max(delays) <= 1.5
    assert len(set(delays)) > 1


def test_retry_max_delay_caps_jitter() -> None:
    policy = Retry(1, delay=1.0, jitter=5.0, max_delay=1.2)

    delays = [policy.delay_before(1) for _ in range(50)]

    assert max(delays) <= 1.2


@pytest.mark.parametrize(
    ("retry_on", "error", "expected"),
    [
        (OSError, ConnectionError("reset"), True),
        (OSError, ValueError("bad"), False),
        ((KeyError, OSError), TimeoutError("slow"), True),
        (lambda error: "transient" in str(error), RuntimeError("transient glitch"), True),
        (lambda error: "transient" in str(error), RuntimeError("disk full"), False),
    ],
    ids=["subclass", "other-class", "tuple", "predicate-true", "predicate-false"],
)
def test_retry_should_retry_matches_retry_on(retry_on: Any, error: Exception, expected: bool) -> None:
    assert Retry(2, retry_on=retry_on).should_retry(error, 1) is expected


def test_retry_should_retry_stops_after_last() -> None:
    policy = Retry(2)

    assert policy.should_retry(ValueError("x"), 2) is True
    assert policy.should_retry(ValueError("x"), 3) is False


def test_retry_never_retries_keyboard_interrupt() -> None:
    assert Retry(2, retry_on=BaseException).should_retry(KeyboardInterrupt(), 1) is False


# --- declaring retries on a task ------------------------------------------------


def test_task_int_retries_becomes_policy() -> None:
    @flowlite.task(retries=3)
    def fetch(url: str) -> str:
        return url

    assert fetch.retry == Retry(3)


def test_task_zero_retries_has_no_policy() -> None:
    @flowlite.task(retries=0)
    def fetch(url: str) -> str:
        return url

    assert fetch.retry is None


def test_task_keeps_retry_policy_object() -> None:
    policy = Retry(2, delay=[0.1, 0.2], retry_on=(OSError,))

    @flowlite.task(retries=policy)
    def fetch(url: str) -> str:
        return url

    assert fetch.retry is policy


INVALID_TASK_OPTIONS: dict[str, tuple[dict[str, Any], str]] = {
    "negative-retries": ({"retries": -1}, "retries"),
    "float-retries": ({"retries": 2.5}, "retries"),
    "bool-retries": ({"retries": True}, "retries"),
    "str-retries": ({"retries": "3"}, "retries"),
    "zero-timeout": ({"timeout": 0}, "timeout"),
    "negative-timeout": ({"timeout": -1}, "timeout"),
    "nan-timeout": ({"timeout": math.nan}, "timeout"),
    "str-timeout": ({"timeout": "5"}, "timeout"),
}


@pytest.mark.parametrize(
    ("options", "parameter"), INVALID_TASK_OPTIONS.values(), ids=INVALID_TASK_OPTIONS.keys()
)
def test_task_invalid_fault_option_names_parameter(options: dict[str, Any], parameter: str) -> None:
    def fetch(url: str) -> str:
        return url

    with pytest.raises(TaskDefinitionError) as caught:
        flowlite.task(**options)(fetch)

    assert caught.value.parameter == parameter
    assert caught.value.function == "fetch"
    assert "'fetch'" in str(caught.value)


def test_task_retries_named_timeout_names_retries() -> None:
    def fetch(url: str) -> str:
        return url

    with pytest.raises(TaskDefinitionError) as caught:
        flowlite.task(retries="timeout")(fetch)  # type: ignore[call-overload]

    assert caught.value.parameter == "retries"


# --- retried tasks in runs ------------------------------------------------------


def test_run_retries_until_success() -> None:
    flaky = flowlite.task(inputs=["seed"], outputs="attempt", name="flaky", retries=3)(
        failing_until(3, lambda attempt: ConnectionError(f"reset {attempt}"))
    )

    state = flowlite.run([flaky], {"seed": 0})

    assert state["attempt"] == 3


def test_run_exhausted_retries_raise_last_error() -> None:
    raised: list[BaseException] = []

    def always_fails(seed: int) -> int:
        raised.append(ConnectionError(f"reset {len(raised) + 1}"))
        raise raised[-1]

    failing = flowlite.task(inputs=["seed"], outputs="never", retries=2)(always_fails)

    with pytest.raises(ConnectionError) as caught:
        flowlite.run([failing], {"seed": 0})

    assert len(raised) == 3
    assert caught.value is raised[-1]
    assert "flowlite: raised by task 'always_fails'" in caught.value.__notes__


def test_run_non_matching_error_not_retried() -> None:
    calls: list[int] = []

    @flowlite.task(inputs=["seed"], outputs="parsed", retries=Retry(3, retry_on=(OSError,)))
    def parse(seed: int) -> int:
        calls.append(seed)
        raise ValueError("malformed record")

    with pytest.raises(ValueError, match="malformed record"):
        flowlite.run([parse], {"seed": 0})

    assert calls == [0]


def test_run_predicate_decides_retry() -> None:
    messages = iter(["transient: busy", "permanent: gone", "transient: busy"])
    calls: list[str] = []

    @flowlite.task(
        inputs=["seed"], outputs="value", retries=Retry(5, retry_on=lambda error: "transient" in str(error))
    )
    def call_service(seed: int) -> int:
        message = next(messages)
        calls.append(message)
        raise RuntimeError(message)

    with pytest.raises(RuntimeError, match="permanent: gone"):
        flowlite.run([call_service], {"seed": 0})

    assert calls == ["transient: busy", "permanent: gone"]


def test_run_retry_events_carry_backoff_delays() -> None:
    log = EventLog()
    flaky = flowlite.task(
        inputs=["seed"],
        outputs="attempt",
        name="flaky",
        retries=Retry(4, delay=0.01, backoff=2, max_delay=0.03, jitter=0),
    )(failing_until(5, lambda attempt: ConnectionError(f"reset {attempt}")))

    flowlite.run([flaky], {"seed": 0}, hooks=[log])

    delays = [event.delay for event in log.task_events("retry")]
    assert delays == pytest.approx([0.01, 0.02, 0.03, 0.03])


def test_run_retry_events_follow_delay_sequence() -> None:
    log = EventLog()
    flaky = flowlite.task(
        inputs=["seed"], outputs="attempt", name="flaky", retries=Retry(3, delay=[0.005, 0.01])
    )(failing_until(4, lambda attempt: OSError(f"busy {attempt}")))

    flowlite.run([flaky], {"seed": 0}, hooks=[log])

    delays = [event.delay for event in log.task_events("retry")]
    assert delays == pytest.approx([0.005, 0.01, 0.01])


def test_run_retry_events_count_attempts() -> None:
    log = EventLog()
    flaky = flowlite.task(inputs=["seed"], outputs="attempt", name="flaky", retries=3)(
        failing_until(3, lambda attempt: ConnectionError(f"reset {attempt}"))
    )

    flowlite.run([flaky], {"seed": 0}, hooks=[log])

    retries = log.task_events("retry")
    assert [event.attempt for event in retries] == [1, 2]
    assert [str(event.error) for event in retries] == ["reset 1", "reset 2"]
    assert log.task_events("end")[0].attempt == 3
    assert log.kinds_of("flaky") == ["start", "retry", "retry", "end"]


def test_run_retry_sleep_really_waits() -> None:
    flaky = flowlite.task(inputs=["seed"], outputs="attempt", name="flaky", retries=Retry(2, delay=0.15))(
        failing_until(3, lambda attempt: OSError(f"busy {attempt}"))
    )
    started = time.perf_counter()

    flowlite.run([flaky], {"seed": 0})

    assert time.perf_counter() - started >= 0.3


def test_run_report_counts_attempts() -> None:
    report = RunReport()
    flaky = flowlite.task(inputs=["seed"], outputs="attempt", name="flaky", retries=3)(
        failing_until(3, lambda attempt: ConnectionError(f"reset {attempt}"))
    )

    flowlite.run([flaky], {"seed": 0}, hooks=[report])

    (record,) = report.records
    assert record.attempts == 3
    assert [attempt for attempt, _, _, _ in record.retries] == [1, 2]


def test_run_failed_retries_reach_report() -> None:
    report = RunReport()
    failing = flowlite.task(inputs=["seed"], outputs="never", name="failing", retries=2)(
        failing_until(99, lambda attempt: ConnectionError(f"reset {attempt}"))
    )

    with pytest.raises(ConnectionError):
        flowlite.run([failing], {"seed": 0}, hooks=[report])

    (record,) = report.records
    assert record.status == "failed"
    assert record.attempts == 3
    assert record.error == "ConnectionError('reset 3')"


def test_run_logs_warning_per_retry(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="flowlite")
    flaky = flowlite.task(inputs=["seed"], outputs="attempt", name="flaky", retries=3)(
        failing_until(3, lambda attempt: ConnectionError(f"reset {attempt}"))
    )

    flowlite.run([flaky], {"seed": 0})

    warnings = [record for record in caplog.records if record.levelno == logging.WARNING]
    assert len(warnings) == 2
    assert "task 'flaky' attempt 1 of 4 failed" in warnings[0].getMessage()
    assert all(record.name == "flowlite" for record in warnings)


def test_run_retry_sleep_ends_on_failure() -> None:
    @flowlite.task(inputs=["seed"], outputs="retried", retries=Retry(3, delay=30))
    def always_down(seed: int) -> int:
        raise ConnectionError("service down")

    @flowlite.task(inputs=["seed"], outputs="broken")
    def fail_soon(seed: int) -> int:
        time.sleep(0.2)
        raise ValueError("broken input")

    started = time.perf_counter()
    with pytest.raises(ValueError, match="broken input"):
        flowlite.run([always_down, fail_soon], {"seed": 0})

    assert time.perf_counter() - started < WAIT_SECONDS


def test_run_retry_sleep_ends_on_cancel() -> None:
    token = CancelToken()
    log = EventLog()

    @flowlite.task(inputs=["seed"], outputs="retried", retries=Retry(3, delay=30))
    def always_down(seed: int) -> int:
        raise ConnectionError("service down")

    timer = threading.Timer(0.2, token.cancel)
    timer.start()
    started = time.perf_counter()
    try:
        with pytest.raises((ConnectionError, RunCancelled)):
            flowlite.run([always_down], {"seed": 0}, cancel=token, hooks=[log])
    finally:
        timer.join()

    assert time.perf_counter() - started < WAIT_SECONDS
    assert log.kinds_of("always_down") == ["start", "retry", "error"]


def test_run_cancel_during_retry_raises_cancelled() -> None:
    token = CancelToken()

    @flowlite.task(inputs=["seed"], outputs="retried", retries=Retry(3, delay=30))
    def always_down(seed: int) -> int:
        raise ConnectionError("service down")

    timer = threading.Timer(0.2, token.cancel)
    timer.start()
    try:
        with pytest.raises(RunCancelled):
            flowlite.run([always_down], {"seed": 0}, cancel=token)
    finally:
        timer.join()


def test_thread_pool_retries_until_success() -> None:
    report = RunReport()
    flaky = flowlite.task(inputs=["seed"], outputs="attempt", name="flaky", retries=3)(
        failing_until(3, lambda attempt: ConnectionError(f"reset {attempt}"))
    )

    with ThreadPoolExecutor(max_workers=2) as pool:
        state = flowlite.run([flaky], {"seed": 0}, executor=pool, hooks=[report])

    assert state["attempt"] == 3
    assert report.records[0].attempts == 3


def test_process_pool_retries_until_success(process_pool: ProcessPoolExecutor, tmp_path: Path) -> None:
    log = EventLog()

    state = flowlite.run(
        [_tasks_for_faults.flaky_fetch], {"workdir": str(tmp_path)}, executor=process_pool, hooks=[log]
    )

    assert state["fetched"] == 3
    assert [event.delay for event in log.task_events("retry")] == pytest.approx([0.01, 0.02])
    assert log.task_events("end")[0].attempt == 3


def test_process_pool_raises_last_attempt_error(process_pool: ProcessPoolExecutor, tmp_path: Path) -> None:
    with pytest.raises(ConnectionRefusedError, match="refused on attempt 3"):
        flowlite.run([_tasks_for_faults.always_refused], {"workdir": str(tmp_path)}, executor=process_pool)

    assert len((tmp_path / "always_refused").read_text().splitlines()) == 3


def test_process_pool_logs_retry_warning(
    process_pool: ProcessPoolExecutor, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="flowlite")

    flowlite.run([_tasks_for_faults.flaky_fetch], {"workdir": str(tmp_path)}, executor=process_pool)

    assert len([record for record in caplog.records if record.levelno == logging.WARNING]) == 2
