"""Plan-time type checks: how two annotations compare, and `plan()` comparing producers with consumers."""

from __future__ import annotations

import collections
import enum
import numbers
import time
import typing
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from typing import (
    Annotated,
    Any,
    Generic,
    Literal,
    NamedTuple,
    NewType,
    NotRequired,
    Optional,
    Protocol,
    TypedDict,
    TypeVar,
    Union,
    runtime_checkable,
)

import _annotated_tasks as annotated
import pytest

import flowlite
from flowlite import Registry, TypeMismatchError, plan, task
from flowlite._annotations import resolve, task_types
from flowlite._types import UNRESOLVED, Compatibility, compatibility, format_type

COMPATIBLE = Compatibility.COMPATIBLE
INCOMPATIBLE = Compatibility.INCOMPATIBLE
UNKNOWN = Compatibility.UNKNOWN

T = TypeVar("T")
Number = TypeVar("Number", bound=float)
IntOrStr = TypeVar("IntOrStr", int, str)
Item_co = TypeVar("Item_co", covariant=True)
UserId = NewType("UserId", int)
OrderId = NewType("OrderId", int)
AdminId = NewType("AdminId", UserId)


class Readable(Protocol):
    def read(self) -> str: ...


@runtime_checkable
class CheckedReadable(Protocol):
    def read(self) -> str: ...


class Reader:
    def read(self) -> str:
        return ""


class Color(enum.Enum):
    RED = 1
    BLUE = 2


class Point(TypedDict):
    x: int
    y: int


class SparsePoint(TypedDict):
    x: int
    y: NotRequired[int]


class Pair(NamedTuple):
    low: int
    high: str


class Rows(list[int]):
    pass


class Box(Generic[Item_co]):
    pass


class IntBox(Box[int]):
    pass


# Producer type, consumer type, expected result.
MATRIX: list[tuple[object, object, Compatibility]] = [
    # Any, object and missing annotations
    (Any, int, COMPATIBLE),
    (int, Any, COMPATIBLE),
    (int, object, COMPATIBLE),
    (object, int, INCOMPATIBLE),
    (UNRESOLVED, int, UNKNOWN),
    (int, UNRESOLVED, UNKNOWN),
    # Plain classes and the numeric tower
    (int, int, COMPATIBLE),
    (bool, int, COMPATIBLE),
    (int, bool, INCOMPATIBLE),
    (int, float, COMPATIBLE),
    (bool, float, COMPATIBLE),
    (float, int, INCOMPATIBLE),
    (int, complex, COMPATIBLE),
    (float, complex, COMPATIBLE),
    (complex, float, INCOMPATIBLE),
    (str, bytes, INCOMPATIBLE),
    (int, numbers.Real, COMPATIBLE),
    (float, numbers.Integral, INCOMPATIBLE),
    (typing.NoReturn, int, COMPATIBLE),
    # Optional and unions on either side
    (int, Optional[int], COMPATIBLE),  # noqa: UP045 - the typing.Optional spelling is the case
    (Optional[int], int, INCOMPATIBLE),  # noqa: UP045
    (None, Optional[str], COMPATIBLE),  # noqa: UP045
    (None, int, INCOMPATIBLE),
    (int | str, int | str | None, COMPATIBLE),
    (int | str, int, INCOMPATIBLE),
    (Union[int, str], float | str, COMPATIBLE),  # noqa: UP007
    (Union[int, "Missing"], int, UNKNOWN),  # noqa: F821 - a forward reference to no class
    # Generic classes and their abstract bases
    (list[str], Sequence[str], COMPATIBLE),
    (list[int], list[str], INCOMPATIBLE),
    (list[int], Sequence[str], INCOMPATIBLE),
    (list[int], list[float], INCOMPATIBLE),
    (Sequence[int], Sequence[float], COMPATIBLE),
    (list, list[int], COMPATIBLE),
    (list[Any], list[int], COMPATIBLE),
    (typing.List[int], typing.Sequence[int], COMPATIBLE),  # noqa: UP006
    (dict[str, int], Mapping[str, int], COMPATIBLE),
    (dict[str, int], Mapping[str, float], COMPATIBLE),
    (dict[str, int], Mapping[str, str], INCOMPATIBLE),
    (dict[str, int], Iterable[str], COMPATIBLE),
    (collections.Counter[str], Mapping[str, int], COMPATIBLE),
    (set[int], frozenset[int], INCOMPATIBLE),
    (frozenset[bool], typing.AbstractSet[int], COMPATIBLE),
    (str, Sequence[str], COMPATIBLE),
    (str, Iterable[int], INCOMPATIBLE),
    (bytes, Sequence[int], COMPATIBLE),
    (list[int], Hashable, INCOMPATIBLE),
    (Rows, Sequence[int], COMPATIBLE),
    (Rows, Sequence[str], INCOMPATIBLE),
    (IntBox, Box[float], COMPATIBLE),
    (Box[str], Box[int], INCOMPATIBLE),
    (Iterable[int], list[int], INCOMPATIBLE),
    # Tuples and named tuples
    (tuple[int, str], tuple[int, str], COMPATIBLE),
    (tuple[int, int], tuple[int, ...], COMPATIBLE),
    (tuple[int, str], tuple[int, ...], INCOMPATIBLE),
    (tuple[int, int], tuple[int], INCOMPATIBLE),
    (tuple[int, ...], tuple[int, int], UNKNOWN),
    (tuple[int, str], Sequence[int | str], COMPATIBLE),
    (Pair, tuple[int, str], COMPATIBLE),
    (Pair, tuple[str, str], INCOMPATIBLE),
    # Type variables
    (T, int, UNKNOWN),
    (int, T, COMPATIBLE),
    (Number, float, COMPATIBLE),
    (str, Number, INCOMPATIBLE),
    (int, Number, COMPATIBLE),
    (IntOrStr, int, UNKNOWN),
    (IntOrStr, bytes, INCOMPATIBLE),
    (bytes, IntOrStr, INCOMPATIBLE),
    # Literal, Annotated, NewType
    (Literal[1], int, COMPATIBLE),
    (Literal[1, 2], float, COMPATIBLE),
    (Literal["a"], Literal["a", "b"], COMPATIBLE),
    (Literal["c"], Literal["a", "b"], INCOMPATIBLE),
    (Literal[1], Literal[True], INCOMPATIBLE),
    (str, Literal["a"], INCOMPATIBLE),
    (bool, Literal[True, False], COMPATIBLE),
    (Color, Literal[Color.RED, Color.BLUE], COMPATIBLE),
    (Annotated[int, "unit: m"], int, COMPATIBLE),
    (int, Annotated[str, "label"], INCOMPATIBLE),
    (UserId, int, COMPATIBLE),
    (int, UserId, INCOMPATIBLE),
    (UserId, OrderId, INCOMPATIBLE),
    (AdminId, UserId, COMPATIBLE),
    (UserId, UserId, COMPATIBLE),
    # Protocols
    (Reader, Readable, UNKNOWN),
    (Reader, CheckedReadable, COMPATIBLE),
    (int, CheckedReadable, INCOMPATIBLE),
    (Readable, Reader, UNKNOWN),
    # TypedDict
    (Point, Point, COMPATIBLE),
    (Point, Mapping[str, object], COMPATIBLE),
    (Point, dict[str, int], INCOMPATIBLE),
    (dict[str, int], Point, INCOMPATIBLE),
    (Point, SparsePoint, INCOMPATIBLE),
    # Callables and class objects
    (Callable[[int], str], Callable[[int], str], COMPATIBLE),
    (Callable[[float], str], Callable[[int], str], COMPATIBLE),
    (Callable[[int], str], Callable[[str], str], INCOMPATIBLE),
    (Callable[..., str], Callable[[int], str], COMPATIBLE),
    (int, Callable[[int], str], INCOMPATIBLE),
    (Reader, Callable[[], str], INCOMPATIBLE),
    (type[bool], type[int], COMPATIBLE),
    (type[int], type[str], INCOMPATIBLE),
    (int, type[int], INCOMPATIBLE),
]


def _case_id(case: tuple[object, object, Compatibility]) -> str:
    source, target, expected = case
    return f"{format_type(source)}->{format_type(target)}={expected.value}"


@pytest.mark.parametrize(("source", "target", "expected"), MATRIX, ids=[_case_id(case) for case in MATRIX])
def test_compatibility_matrix(source: object, target: object, expected: Compatibility) -> None:
    assert compatibility(source, target) is expected


def test_compatibility_matrix_is_large() -> None:
    answers = [expected for _, _, expected in MATRIX]

    assert len(MATRIX) >= 30
    assert {COMPATIBLE, INCOMPATIBLE, UNKNOWN} <= set(answers)


@pytest.mark.parametrize(
    ("annotation", "text"),
    [
        (int, "int"),
        (None, "None"),
        (list[str], "list[str]"),
        (Sequence[int] | None, "Sequence[int] | None"),
        (dict[str, list[int]], "dict[str, list[int]]"),
        (Literal["a", 1], "Literal['a', 1]"),
        (tuple[int, ...], "tuple[int, ...]"),
        (Callable[[int], str], "Callable[[int], str]"),
        (UserId, "UserId"),
        (T, "T"),
        (Annotated[int, "m"], "int"),
        (UNRESOLVED, "?"),
    ],
)
def test_format_type_reads_like_source(annotation: object, text: str) -> None:
    assert format_type(annotation) == text


# Resolving annotations


def test_resolve_string_annotation() -> None:
    assert resolve("list[int]", {}) == list[int]


def test_resolve_unknown_name_is_unresolved() -> None:
    assert resolve("Decimal", {}) is UNRESOLVED


def test_resolve_leaves_objects_unchanged() -> None:
    assert resolve(int, {}) is int


def test_unresolved_return_leaves_parameter_checks() -> None:
    # `amount: Decimal` cannot be resolved, but `lengths` is still checked.
    types = task_types(annotated.report)

    assert [(parameter, annotation) for parameter, _, annotation in types.inputs] == [
        ("amount", UNRESOLVED),
        ("lengths", list[int]),
    ]


def test_unresolved_annotation_passes_plan() -> None:
    prepared = plan([annotated.split_words, annotated.measure, annotated.parse_amount, annotated.report])

    assert len(prepared) == 4


def test_unresolved_annotation_keeps_other_parameter_checked() -> None:
    tasks = [annotated.split_words, annotated.measure, annotated.parse_amount, annotated.report_with_words]

    with pytest.raises(TypeMismatchError) as raised:
        plan(tasks)

    assert raised.value.parameter == "lengths"


def test_local_class_under_future_annotations_is_unknown() -> None:
    class Local:
        pass

    @task(outputs="local")
    def make() -> Local:
        return Local()

    @task(outputs="used")
    def use(local: str) -> str:
        return local

    # The annotations here are strings, and `Local` is not a global name.
    assert task_types(make).outputs == {"local": UNRESOLVED}
    assert len(plan([make, use])) == 2


# plan() compares producers with consumers


def _mismatch(tasks: list[flowlite.Task[..., Any]]) -> TypeMismatchError:
    with pytest.raises(TypeMismatchError) as raised:
        plan(tasks)
    return raised.value


def test_plan_rejects_definite_mismatch() -> None:
    error = _mismatch([annotated.split_words, annotated.report_with_words, annotated.measure])

    assert error.producer == "measure"
    assert error.consumer == "report_with_words"
    assert error.key == "lengths"
    assert error.parameter == "lengths"
    assert error.produced == "list[int]"
    assert error.expected == "list[str]"


def test_mismatch_message_names_tasks_key_types() -> None:
    error = _mismatch([annotated.split_words, annotated.report_with_words, annotated.measure])

    assert str(error) == (
        "task 'report_with_words' expects list[str] for parameter 'lengths', but task 'measure' "
        "produces key 'lengths' as list[int]; change one of the two annotations, or convert the "
        "value in a task between them (plan(..., check_types=False) skips this check)"
    )


def test_mismatch_is_type_error() -> None:
    error = _mismatch([annotated.split_words, annotated.report_with_words, annotated.measure])

    assert isinstance(error, TypeError)
    assert isinstance(error, flowlite.FlowliteError)


def test_plan_accepts_compatible_types() -> None:
    prepared = plan([annotated.split_words, annotated.measure, annotated.join_words])

    assert len(prepared) == 3


def test_check_types_false_skips_check() -> None:
    prepared = plan(
        [annotated.split_words, annotated.report_with_words, annotated.measure], check_types=False
    )

    assert len(prepared) == 3


def test_named_tuple_outputs_typed_per_key() -> None:
    assert task_types(annotated.locate).outputs == {"start": int, "end": int}
    assert len(plan([annotated.locate, annotated.width])) == 2


def test_typed_dict_outputs_typed_per_key() -> None:
    assert task_types(annotated.summarize).outputs == {"word_count": int, "title": str}


def test_typed_dict_output_mismatch() -> None:
    error = _mismatch([annotated.summarize, annotated.shout])

    assert (error.key, error.produced, error.expected) == ("title", "str", "bytes")


def test_tuple_output_mismatch() -> None:
    @task(outputs=["low", "high"])
    def bounds(values: list[int]) -> tuple[int, str]:
        return min(values), str(max(values))

    @task(outputs="spread")
    def spread(low: int, high: int) -> int:
        return high - low

    error = _mismatch([bounds, spread])

    assert (error.key, error.parameter, error.produced) == ("high", "high", "str")


def test_variadic_parameter_checked_per_key() -> None:
    @task(outputs="name")
    def name() -> str:
        return "x"

    @task(inputs=["count", "name"], outputs="total")
    def add(*numbers: int) -> int:
        return sum(numbers)

    @task(outputs="count")
    def count() -> int:
        return 1

    error = _mismatch([name, count, add])

    assert (error.key, error.parameter) == ("name", "*numbers[1]")


def test_keyword_variadic_parameter_checked() -> None:
    @task(outputs="label")
    def label() -> bytes:
        return b"x"

    @task(inputs={"label": "label"}, outputs="options")
    def options(**values: str) -> dict[str, str]:
        return values

    assert _mismatch([label, options]).parameter == "label"


def test_unannotated_tasks_pass() -> None:
    @task(outputs="value")
    def produce():  # type: ignore[no-untyped-def]
        return 1

    @task(outputs="result")
    def consume(value: str) -> str:
        return value

    assert len(plan([produce, consume])) == 2


def test_method_task_checked_without_self() -> None:
    class Source:
        @task(outputs="number")
        def number(self) -> int:
            return 1

    @task(outputs="text")
    def text(number: str) -> str:
        return number

    error = _mismatch([Source().number, text])

    assert (error.producer, error.produced) == ("number", "int")


def test_only_tasks_in_plan_are_checked() -> None:
    # With targets, the mismatched consumer is not part of the plan.
    prepared = plan(
        [annotated.split_words, annotated.measure, annotated.report_with_words, annotated.join_words],
        targets=["joined"],
    )

    assert [item.name for item in prepared.tasks] == ["split_words", "join_words"]


def test_plan_ten_thousand_annotated_tasks_quickly() -> None:
    def step(value: int) -> int:
        return value + 1

    tasks = [
        task(inputs=[f"k{index}"], outputs=f"k{index + 1}", name=f"t{index}")(step) for index in range(10_000)
    ]
    registry = Registry(tasks)

    started = time.perf_counter()
    prepared = plan(registry)
    seconds = time.perf_counter() - started

    assert len(prepared) == 10_000
    # The bound is loose for slow CI machines; see the report in the docs.
    assert seconds < 5.0
