"""Tasks defined in a class body, and the declaration rules that compare outputs with return annotations."""

from __future__ import annotations

import functools
import inspect
import multiprocessing
import pickle
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from typing import NamedTuple, NotRequired, TypedDict

import _method_tasks as shipped
import pytest

from flowlite import Registry, Task, TaskDefinitionError, plan, run, task

# Tasks in a class body


def test_class_access_returns_task_itself() -> None:
    assert shipped.Converter.convert is shipped.Converter.__dict__["convert"]


def test_method_task_declares_without_self() -> None:
    unbound = shipped.Converter.convert

    assert unbound.inputs == ("number",)
    assert unbound.parameters == {"number": "number"}


def test_instance_access_binds_task() -> None:
    converter = shipped.Converter(3)

    bound = converter.convert

    assert isinstance(bound, Task)
    assert bound(2) == 6
    assert bound.func == converter.convert.func
    assert bound.inputs == ("number",)
    assert bound.outputs == ("converted",)


def test_bound_task_signature_has_no_self() -> None:
    bound = shipped.Converter(3).convert

    assert list(inspect.signature(bound).parameters) == ["number"]


def test_unbound_task_called_with_instance() -> None:
    converter = shipped.Converter(5)

    assert shipped.Converter.convert(converter, 2) == 10


def test_bound_tasks_run_in_plan() -> None:
    converter = shipped.Converter(2)

    state = run([converter.convert, converter.describe], {"number": 4})

    assert state["described"] == "8 m"


def test_bound_tasks_of_two_instances_differ() -> None:
    first = shipped.Converter(2).convert
    second = shipped.Converter(3).convert

    assert first(1) == 2
    assert second(1) == 3


def test_plan_rejects_unbound_method_task() -> None:
    with pytest.raises(TaskDefinitionError) as raised:
        plan([shipped.Converter.convert])

    assert raised.value.function == "convert"
    assert raised.value.parameter == "self"
    assert "Registry([instance.convert])" in str(raised.value)


def test_unbound_method_task_pickles_by_name() -> None:
    restored = pickle.loads(pickle.dumps(shipped.Converter.convert))

    assert restored is shipped.Converter.convert


def test_bound_method_task_pickles_by_value() -> None:
    bound = shipped.Converter(4).convert

    restored = pickle.loads(pickle.dumps(bound))

    assert restored(2) == 8
    assert restored.inputs == ("number",)


def test_bound_method_tasks_run_in_process_pool() -> None:
    converter = shipped.Converter(7)
    context = multiprocessing.get_context("spawn")

    with ProcessPoolExecutor(1, mp_context=context) as pool:
        state = run(Registry([converter.convert, converter.describe]), {"number": 1}, executor=pool)

    assert state["described"] == "7 m"


def test_task_of_partial_does_not_bind() -> None:
    def scale(value: int, factor: int) -> int:
        return value * factor

    class Holder:
        triple = task(outputs="tripled")(functools.partial(scale, factor=3))

    holder = Holder()

    assert holder.triple is Holder.triple
    assert holder.triple(2) == 6


def test_module_function_in_class_binds_like_function() -> None:
    def greet(who: object) -> str:
        return f"hello {type(who).__name__}"

    class Greeter:
        hello = task(outputs="greeting")(greet)

    bound = Greeter().hello

    assert bound() == "hello Greeter"
    assert bound.inputs == ()


def test_self_not_first_is_plain_function() -> None:
    class Namespace:
        @task(outputs="negated")
        def negate(value: int) -> int:  # type: ignore[misc]
            return -value

    assert Namespace.negate.inputs == ("value",)
    assert len(plan([Namespace.negate])) == 1


# Outputs against the return annotation


class Counts(TypedDict):
    words: int
    lines: int


class Partial(TypedDict):
    words: int
    note: NotRequired[str]


class Bounds(NamedTuple):
    low: int
    high: int


def _definition_error(build: Callable[[], object]) -> TaskDefinitionError:
    with pytest.raises(TaskDefinitionError) as raised:
        build()
    return raised.value


def test_tuple_length_mismatch_rejected() -> None:
    def bounds(values: list[int]) -> tuple[int, int]:
        return min(values), max(values)

    error = _definition_error(lambda: task(outputs=["low", "high", "mean"])(bounds))

    assert error.function == "bounds"
    assert str(error) == (
        "task 'bounds' declares 3 outputs ['low', 'high', 'mean'] but its return annotation is a tuple "
        "of 2 values; declare 2 output keys, one per tuple item, or change the return annotation"
    )


def test_named_tuple_length_mismatch_rejected() -> None:
    def bounds(values: list[int]) -> Bounds:
        return Bounds(min(values), max(values))

    error = _definition_error(lambda: task(outputs=["low"])(bounds))

    assert "tuple of 2 values" in str(error)


def test_typed_dict_keys_mismatch_rejected() -> None:
    def counts(text: str) -> Counts:
        return {"words": 1, "lines": 1}

    error = _definition_error(lambda: task(outputs=["words", "chars"])(counts))

    assert error.key == "chars"
    assert "lacks ['lines'] and has ['chars']" in str(error)


def test_typed_dict_optional_key_rejected() -> None:
    def partial(text: str) -> Partial:
        return {"words": 1}

    error = _definition_error(lambda: task(outputs=["words", "note"])(partial))

    assert error.key == "note"
    assert "does not require ['note']" in str(error)


def test_none_return_with_several_outputs_rejected() -> None:
    def save(text: str) -> None:
        pass

    error = _definition_error(lambda: task(outputs=["path", "size"])(save))

    assert "return annotation is None" in str(error)


@pytest.mark.parametrize(
    "outputs",
    [pytest.param(None, id="omitted"), pytest.param("counts", id="one-key"), pytest.param((), id="sink")],
)
def test_single_output_ignores_return_shape(outputs: str | tuple[()] | None) -> None:
    def counts(text: str) -> Counts:
        return {"words": 1, "lines": 1}

    assert task(outputs=outputs)(counts).func is counts


def test_matching_outputs_accepted() -> None:
    def counts(text: str) -> Counts:
        return {"words": 1, "lines": 1}

    def bounds(values: list[int]) -> Bounds:
        return Bounds(min(values), max(values))

    assert task(outputs=["lines", "words"])(counts).outputs == ("lines", "words")
    assert task(outputs=["low", "high"])(bounds).outputs == ("low", "high")


def test_variadic_tuple_return_not_checked() -> None:
    def parts(text: str) -> tuple[str, ...]:
        return tuple(text.split())

    assert task(outputs=["a", "b", "c"])(parts).outputs == ("a", "b", "c")


def test_unresolvable_return_not_checked() -> None:
    # The module has `from __future__ import annotations`, so the name is never evaluated.
    def parts(text: str) -> tuple[Missing, Missing]:  # type: ignore[name-defined]  # noqa: F821
        return ("a", "b")

    assert task(outputs=["a", "b", "c"])(parts).outputs == ("a", "b", "c")
