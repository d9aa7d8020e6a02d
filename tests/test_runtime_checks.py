"""Run-time type checks: `run(..., check_types=True)` checks the initial state and every task's outputs."""

from __future__ import annotations

import asyncio
import multiprocessing
import pickle
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from typing import Any, Literal, NewType, NotRequired, Optional, TypedDict, TypeVar

import _tasks_for_runs as shipped
import pytest

import flowlite
from flowlite import TypeCheckError, plan, run, stream, task
from flowlite._runtime_checks import CheckedCall, checked_calls, describe_value, matches
from flowlite._types import UNRESOLVED

UserId = NewType("UserId", int)
Number = TypeVar("Number", int, float)


class Point(TypedDict):
    x: int
    label: NotRequired[str]


# Value, annotation, whether the value matches.
VALUES: list[tuple[object, object, bool]] = [
    (1, int, True),
    ("1", int, False),
    (True, int, True),
    (1, float, True),
    (1.5, complex, True),
    ("x", float, False),
    (None, Optional[int], True),  # noqa: UP045 - the typing.Optional spelling is the case
    (None, int, False),
    (1, int | str, True),
    (b"x", int | str, False),
    ([1, 2], list[int], True),
    (["a"], list[int], False),
    ([], list[int], True),
    ((1, "a"), tuple[int, str], True),
    ((1, 2), tuple[int, str], False),
    ((1, 2, 3), tuple[int, ...], True),
    ((1,), tuple[int, int], False),
    ({"a": 1}, dict[str, int], True),
    ({"a": "b"}, Mapping[str, int], False),
    ([1], Sequence[int], True),
    ({1}, frozenset[int], False),
    ("a", Literal["a", "b"], True),
    ("c", Literal["a", "b"], False),
    (1, Literal[True], False),
    (5, UserId, True),
    ("5", UserId, False),
    (1.5, Number, True),
    ("x", Number, False),
    ({"x": 1}, Point, True),
    ({"label": "a"}, Point, False),
    ({"x": "1"}, Point, False),
    (len, Callable[[str], int], True),
    (3, Callable[[str], int], False),
    (int, type[int], True),
    (str, type[int], False),
    (object(), Any, True),
    (object(), UNRESOLVED, True),
    (iter([1]), Iterator[str], True),
]


@pytest.mark.parametrize(("value", "annotation", "expected"), VALUES)
def test_value_matches_annotation(value: object, annotation: object, expected: bool) -> None:
    assert matches(value, annotation) is expected


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (1, "int"),
        (None, "None"),
        ([1], "list[int]"),
        ({"a": 1.0}, "dict[str, float]"),
        ((1, "a"), "tuple[int, str]"),
    ],
)
def test_describe_value_shows_first_items(value: object, text: str) -> None:
    assert describe_value(value) == text


# Tasks for the runs


@task(outputs="words")
def split(text: str) -> list[str]:
    return text.split()


@task(outputs="count")
def count(words: list[str]) -> int:
    return len(words)


@task(outputs="count")
def count_wrongly(words: list[str]) -> int:
    return str(len(words))  # type: ignore[return-value]


@task(outputs="doubled")
def double(count: int) -> int:
    return count * 2


@task(outputs=["low", "high"])
def bounds(words: list[str]) -> tuple[int, int]:
    lengths = [len(word) for word in words]
    return min(lengths), str(max(lengths))  # type: ignore[return-value]


def _type_check_error(action: Callable[[], object]) -> TypeCheckError:
    with pytest.raises(TypeCheckError) as raised:
        action()
    return raised.value


def test_run_passes_matching_values() -> None:
    state = run([split, count, double], {"text": "a b c"}, check_types=True)

    assert state["doubled"] == 6


def test_initial_state_value_checked() -> None:
    error = _type_check_error(lambda: run([split, count], {"text": 3}, check_types=True))

    assert (error.task, error.key, error.expected, error.received) == ("split", "text", "str", "int")
    assert str(error) == (
        "task 'split' expects str for parameter 'text', but the initial state's 'text' is int; pass a "
        "value of that type or change the annotation (run(..., check_types=False) skips this check)"
    )


def test_initial_state_checked_before_any_task() -> None:
    calls: list[str] = []

    @task(outputs="seen")
    def record(flag: bool) -> bool:
        calls.append("record")
        return flag

    @task(outputs="number")
    def parse(text: str) -> int:
        return int(text)

    with pytest.raises(TypeCheckError):
        run([record, parse], {"flag": True, "text": 3}, check_types=True)

    assert calls == []


def test_output_checked_before_downstream() -> None:
    calls: list[int] = []

    @task(outputs="final")
    def finish(count: int) -> int:
        calls.append(count)
        return count

    error = _type_check_error(lambda: run([split, count_wrongly, finish], {"text": "a b"}, check_types=True))

    assert calls == []
    assert (error.task, error.key, error.expected, error.received) == ("count_wrongly", "count", "int", "str")
    assert error.__notes__ == ["flowlite: raised by task 'count_wrongly'"]


def test_output_error_message() -> None:
    error = _type_check_error(lambda: run([split, count_wrongly], {"text": "a"}, check_types=True))

    assert str(error) == (
        "task 'count_wrongly' returned str for output 'count', but its return annotation says int; "
        "fix the function or its annotation (run(..., check_types=False) skips this check)"
    )


def test_several_outputs_checked_per_key() -> None:
    error = _type_check_error(lambda: run([split, bounds], {"text": "a bb"}, check_types=True))

    assert (error.key, error.expected, error.received) == ("high", "int", "str")


def test_checks_off_by_default() -> None:
    state = run([split, count_wrongly], {"text": "a b"})

    assert state["count"] == "2"


def test_checks_off_leave_call_table() -> None:
    prepared = plan([split, count])

    assert all(not isinstance(call[0], CheckedCall) for call in prepared._calls)


def test_stream_checks_types() -> None:
    states = stream([split, count_wrongly], {"text": "a"}, check_types=True)

    with pytest.raises(TypeCheckError):
        list(states)


def test_keep_going_reports_type_error() -> None:
    with pytest.raises(flowlite.RunFailed) as raised:
        run([split, count_wrongly, double], {"text": "a"}, check_types=True, keep_going=True)

    assert isinstance(raised.value.failures["count_wrongly"], TypeCheckError)
    assert raised.value.skipped == ("double",)


def test_thread_pool_executor_checks_types() -> None:
    with ThreadPoolExecutor(2) as pool:
        error = _type_check_error(
            lambda: run([split, count_wrongly], {"text": "a"}, check_types=True, executor=pool)
        )

    assert error.task == "count_wrongly"


def test_retried_task_checked_after_retries() -> None:
    attempts: list[int] = []

    @task(outputs="flaky", retries=1)
    def flaky(text: str) -> int:
        attempts.append(1)
        if len(attempts) == 1:
            raise ConnectionError("first attempt fails")
        return text  # type: ignore[return-value]

    error = _type_check_error(lambda: run([flaky], {"text": "a"}, check_types=True))

    assert len(attempts) == 2
    assert error.received == "str"


def test_async_task_checked_in_run_and_arun() -> None:
    @task(outputs=["status", "body"])
    async def fetch(url: str) -> tuple[int, bytes]:
        return 200, url  # type: ignore[return-value]

    in_run = _type_check_error(lambda: run([fetch], {"url": "x"}, check_types=True))
    in_arun = _type_check_error(lambda: asyncio.run(flowlite.arun([fetch], {"url": "x"}, check_types=True)))

    assert (in_run.key, in_run.received) == ("body", "str")
    assert (in_arun.key, in_arun.received) == ("body", "str")


def test_checked_call_pickles_by_task() -> None:
    call = CheckedCall(shipped.double, None)

    restored = pickle.loads(pickle.dumps(call))

    assert restored(4) == 8


def test_process_pool_checks_types() -> None:
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(1, mp_context=context) as pool:
        state = run(shipped.arithmetic_registry(), {"number": 2}, check_types=True, executor=pool)
        error = _type_check_error(
            lambda: run([shipped.double], {"number": "2"}, check_types=True, executor=pool)
        )

    assert state["doubled"] == 4
    assert error.task == "double"


def test_unannotated_tasks_not_wrapped() -> None:
    @task(outputs="value")
    def produce(number):  # type: ignore[no-untyped-def]
        return number

    prepared = plan([produce])

    assert checked_calls(prepared, prepared._calls) == list(prepared._calls)
