"""Tests of `task` and `Task`: the decorator forms, how inputs and outputs bind,
how return values are split, what the task keeps of its function, pickling,
and every declaration mistake that the decorator rejects."""

from __future__ import annotations

import copy
import functools
import inspect
import math
import multiprocessing
import operator
import os
import pickle
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import _tasks_for_pickling as shipped
import pytest

import flowlite
from flowlite import OutputError, Registry, RunFailed, Task, TaskDefinitionError, task

# Callables that the tests turn into tasks. Their results depend on the
# order of their arguments, so a value passed to the wrong parameter shows.


def subtract(minuend: int, subtrahend: int) -> int:
    """Return `minuend - subtrahend`."""
    return minuend - subtrahend


def scale(value: int, factor: int = 2) -> int:
    return value * factor


def with_unit(value: int, *, unit: str) -> str:
    return f"{value} {unit}"


def difference(left: int, right: int, /) -> int:
    return left - right


def join_parts(separator: str, *parts: str) -> str:
    return separator.join(parts)


def describe(name: str, **details: str) -> tuple[str, dict[str, str]]:
    return (name, details)


def shout(message: str) -> str:
    return message.upper()


def rectangle_area(width: int, height: int) -> int:
    return width * height


def echo(returned: object) -> object:
    return returned


class Multiplier:
    def __init__(self, factor: int) -> None:
        self.factor = factor

    def multiply(self, value: int) -> int:
        """Multiply `value` by the factor."""
        return value * self.factor

    def __call__(self, value: int) -> int:
        return value * self.factor


def uppercase_result(fn: Callable[..., str]) -> Callable[..., str]:
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> str:
        return fn(*args, **kwargs).upper()

    return wrapper


@uppercase_result
def greet(name: str, punctuation: str = "!") -> str:
    """Greet `name`."""
    return f"hello {name}{punctuation}"


@task(outputs=["quotient", "remainder"])
def divide(dividend: int, divisor: int) -> tuple[int, int]:
    return divmod(dividend, divisor)


# Decorator forms


def test_bare_decorator_returns_task() -> None:
    @task
    def tokenize(text: str) -> list[str]:
        return text.split()

    assert isinstance(tokenize, Task)
    assert tokenize.name == "tokenize"
    assert tokenize.inputs == ("text",)
    assert tokenize.outputs == ("tokenize",)


def test_called_decorator_applies_declarations() -> None:
    @task(inputs=["text"], outputs="words", name="split_words")
    def split(raw: str) -> list[str]:
        return raw.split()

    assert isinstance(split, Task)
    assert split.name == "split_words"
    assert split.inputs == ("text",)
    assert split.outputs == ("words",)
    assert split.parameters == {"raw": "text"}


def test_called_decorator_without_declarations() -> None:
    @task()
    def tokenize(text: str) -> list[str]:
        return text.split()

    assert tokenize.name == "tokenize"
    assert tokenize.inputs == ("text",)
    assert tokenize.outputs == ("tokenize",)


def test_plain_call_on_existing_function() -> None:
    clean = task(inputs=["raw"], outputs="clean")(str.strip)

    assert isinstance(clean, Task)
    assert clean.inputs == ("raw",)
    assert clean.outputs == ("clean",)
    assert flowlite.run(Registry([clean]), {"raw": "  text \n"})["clean"] == "text"


def test_plain_call_leaves_function_unchanged() -> None:
    declared = task(subtract)

    assert declared is not subtract
    assert inspect.isfunction(subtract)
    assert subtract(7, 2) == 5


def test_task_of_task_redeclares_function() -> None:
    first = task(outputs="difference")(subtract)
    second = task(inputs=["total", "cost"], outputs="profit")(first)

    assert second.func is subtract
    assert second.parameters == {"minuend": "total", "subtrahend": "cost"}


# Inputs: a bare str, and one key feeding two parameters


def test_bare_str_input_is_one_key() -> None:
    declared = task(inputs="text")(shout)

    assert declared.inputs == ("text",)
    assert declared.parameters == {"message": "text"}


def test_bare_str_input_not_split() -> None:
    # Split into characters, "ab" would cover both parameters of pair().
    def pair(a: int, b: int) -> tuple[int, int]:
        return (a, b)

    with pytest.raises(TaskDefinitionError) as caught:
        task(inputs="ab")(pair)

    assert caught.value.parameter == "b"


def test_bare_str_output_is_one_key() -> None:
    declared = task(outputs="ab")(shout)

    assert declared.outputs == ("ab",)
    assert declared._split_result("AB") == ("AB",)


@pytest.mark.parametrize(
    "inputs",
    [["side", "side"], {"width": "side", "height": "side"}],
    ids=["sequence", "mapping"],
)
def test_same_key_feeds_two_parameters(inputs: object) -> None:
    square = task(inputs=inputs, outputs="area")(rectangle_area)

    assert square.inputs == ("side",)
    assert square.parameters == {"width": "side", "height": "side"}
    assert flowlite.run(Registry([square]), {"side": 3})["area"] == 9


# Every kind of callable: binding, direct call and a run


@dataclass(frozen=True)
class Kind:
    """A callable made into a task, the expected binding, and one call and one run of it.

    `parameters` lists the bindings in binding order (the order of the
    declaration), which is the order of the task's `inputs`.
    """

    build: Callable[[], Task[..., Any]]
    parameters: dict[str, str]
    outputs: tuple[str, ...]
    call_args: tuple[Any, ...]
    call_result: object
    state: dict[str, Any]
    run_result: object
    call_kwargs: dict[str, Any] = field(default_factory=dict)


KINDS = [
    pytest.param(
        Kind(
            build=lambda: task(subtract),
            parameters={"minuend": "minuend", "subtrahend": "subtrahend"},
            outputs=("subtract",),
            call_args=(7, 2),
            call_result=5,
            state={"minuend": 7, "subtrahend": 2},
            run_result=5,
        ),
        id="function-inputs-omitted",
    ),
    pytest.param(
        Kind(
            build=lambda: task(inputs=["total", "cost"], outputs="profit")(subtract),
            parameters={"minuend": "total", "subtrahend": "cost"},
            outputs=("profit",),
            call_args=(7,),
            call_kwargs={"subtrahend": 2},
            call_result=5,
            state={"total": 7, "cost": 2},
            run_result=5,
        ),
        id="function-inputs-sequence",
    ),
    pytest.param(
        Kind(
            build=lambda: task(inputs={"subtrahend": "cost", "minuend": "total"}, outputs="profit")(subtract),
            parameters={"subtrahend": "cost", "minuend": "total"},
            outputs=("profit",),
            call_args=(7, 2),
            call_result=5,
            state={"total": 7, "cost": 2},
            run_result=5,
        ),
        id="function-inputs-mapping",
    ),
    pytest.param(
        Kind(
            build=lambda: task(inputs=["width", "height"], outputs="diagonal")(math.hypot),
            parameters={"args[0]": "width", "args[1]": "height"},
            outputs=("diagonal",),
            call_args=(3, 4),
            call_result=5.0,
            state={"width": 3, "height": 4},
            run_result=5.0,
        ),
        id="builtin-without-signature",
    ),
    pytest.param(
        Kind(
            build=lambda: task(inputs=["raw"], outputs="clean")(str.strip),
            parameters={"self": "raw"},
            outputs=("clean",),
            call_args=("  text ",),
            call_result="text",
            state={"raw": "  text "},
            run_result="text",
        ),
        id="method-descriptor",
    ),
    pytest.param(
        Kind(
            build=lambda: task(inputs=["raw", "junk"], outputs="clean")(str.strip),
            parameters={"self": "raw", "chars": "junk"},
            outputs=("clean",),
            call_args=("--text--", "-"),
            call_result="text",
            state={"raw": "--text--", "junk": "-"},
            run_result="text",
        ),
        id="method-descriptor-optional-argument",
    ),
    pytest.param(
        Kind(
            build=lambda: task(operator.add),
            parameters={"a": "a", "b": "b"},
            outputs=("add",),
            call_args=("ab", "cd"),
            call_result="abcd",
            state={"a": "ab", "b": "cd"},
            run_result="abcd",
        ),
        id="c-function-inputs-omitted",
    ),
    pytest.param(
        Kind(
            build=lambda: task(inputs=["prefix", "suffix"], outputs="word")(operator.add),
            parameters={"a": "prefix", "b": "suffix"},
            outputs=("word",),
            call_args=("ab", "cd"),
            call_result="abcd",
            state={"prefix": "ab", "suffix": "cd"},
            run_result="abcd",
        ),
        id="c-function-inputs-sequence",
    ),
    pytest.param(
        Kind(
            build=lambda: task(functools.partial(subtract, 10)),
            parameters={"subtrahend": "subtrahend"},
            outputs=("subtract",),
            call_args=(3,),
            call_result=7,
            state={"subtrahend": 3},
            run_result=7,
        ),
        id="partial-positional",
    ),
    pytest.param(
        Kind(
            build=lambda: task(functools.partial(subtract, subtrahend=1)),
            parameters={"minuend": "minuend"},
            outputs=("subtract",),
            call_args=(5,),
            call_result=4,
            state={"minuend": 5},
            run_result=4,
        ),
        id="partial-keyword",
    ),
    pytest.param(
        Kind(
            build=lambda: task(functools.update_wrapper(functools.partial(subtract, 10), subtract)),
            parameters={"subtrahend": "subtrahend"},
            outputs=("subtract",),
            call_args=(3,),
            call_result=7,
            state={"subtrahend": 3},
            run_result=7,
        ),
        id="partial-update-wrapper",
    ),
    pytest.param(
        Kind(
            build=lambda: task(
                functools.partial(
                    functools.update_wrapper(functools.partial(subtract, subtrahend=1), subtract), 5
                )
            ),
            parameters={},
            outputs=("subtract",),
            call_args=(),
            call_result=4,
            state={},
            run_result=4,
        ),
        id="partial-of-update-wrapper-partial",
    ),
    pytest.param(
        Kind(
            build=lambda: task(Multiplier(3).multiply),
            parameters={"value": "value"},
            outputs=("multiply",),
            call_args=(2,),
            call_result=6,
            state={"value": 2},
            run_result=6,
        ),
        id="bound-method",
    ),
    pytest.param(
        Kind(
            build=lambda: task(inputs=["amount"], outputs="scaled")(Multiplier(3).multiply),
            parameters={"value": "amount"},
            outputs=("scaled",),
            call_args=(2,),
            call_result=6,
            state={"amount": 2},
            run_result=6,
        ),
        id="bound-method-inputs-sequence",
    ),
    pytest.param(
        Kind(
            build=lambda: task(outputs="tripled")(Multiplier(3)),
            parameters={"value": "value"},
            outputs=("tripled",),
            call_args=(2,),
            call_result=6,
            state={"value": 2},
            run_result=6,
        ),
        id="callable-instance",
    ),
    pytest.param(
        Kind(
            build=lambda: task(greet),
            parameters={"name": "name"},
            outputs=("greet",),
            call_args=("ada",),
            call_result="HELLO ADA!",
            state={"name": "ada"},
            run_result="HELLO ADA!",
        ),
        id="wraps-decorated",
    ),
    pytest.param(
        Kind(
            build=lambda: task(inputs={"name": "user", "punctuation": "mark"})(greet),
            parameters={"name": "user", "punctuation": "mark"},
            outputs=("greet",),
            call_args=("ada", "?"),
            call_result="HELLO ADA?",
            state={"user": "ada", "mark": "?"},
            run_result="HELLO ADA?",
        ),
        id="wraps-decorated-inputs-mapping",
    ),
    pytest.param(
        Kind(
            build=lambda: task(scale),
            parameters={"value": "value"},
            outputs=("scale",),
            call_args=(3,),
            call_result=6,
            state={"value": 3},
            run_result=6,
        ),
        id="default-inputs-omitted",
    ),
    pytest.param(
        Kind(
            build=lambda: task(inputs=["amount", "ratio"])(scale),
            parameters={"value": "amount", "factor": "ratio"},
            outputs=("scale",),
            call_args=(3, 5),
            call_result=15,
            state={"amount": 3, "ratio": 5},
            run_result=15,
        ),
        id="default-inputs-sequence",
    ),
    pytest.param(
        Kind(
            build=lambda: task(inputs={"factor": "ratio", "value": "amount"})(scale),
            parameters={"factor": "ratio", "value": "amount"},
            outputs=("scale",),
            call_args=(3,),
            call_kwargs={"factor": 5},
            call_result=15,
            state={"amount": 3, "ratio": 5},
            run_result=15,
        ),
        id="default-inputs-mapping",
    ),
    pytest.param(
        Kind(
            build=lambda: task(with_unit),
            parameters={"value": "value", "unit": "unit"},
            outputs=("with_unit",),
            call_args=(3,),
            call_kwargs={"unit": "kg"},
            call_result="3 kg",
            state={"value": 3, "unit": "kg"},
            run_result="3 kg",
        ),
        id="keyword-only-inputs-omitted",
    ),
    pytest.param(
        Kind(
            build=lambda: task(inputs={"value": "weight", "unit": "weight_unit"})(with_unit),
            parameters={"value": "weight", "unit": "weight_unit"},
            outputs=("with_unit",),
            call_args=(3,),
            call_kwargs={"unit": "kg"},
            call_result="3 kg",
            state={"weight": 3, "weight_unit": "kg"},
            run_result="3 kg",
        ),
        id="keyword-only-inputs-mapping",
    ),
    pytest.param(
        Kind(
            build=lambda: task(difference),
            parameters={"left": "left", "right": "right"},
            outputs=("difference",),
            call_args=(7, 2),
            call_result=5,
            state={"left": 7, "right": 2},
            run_result=5,
        ),
        id="positional-only-inputs-omitted",
    ),
    pytest.param(
        Kind(
            build=lambda: task(inputs=["high", "low"])(difference),
            parameters={"left": "high", "right": "low"},
            outputs=("difference",),
            call_args=(7, 2),
            call_result=5,
            state={"high": 7, "low": 2},
            run_result=5,
        ),
        id="positional-only-inputs-sequence",
    ),
    pytest.param(
        Kind(
            build=lambda: task(inputs={"right": "low", "left": "high"})(difference),
            parameters={"right": "low", "left": "high"},
            outputs=("difference",),
            call_args=(7, 2),
            call_result=5,
            state={"high": 7, "low": 2},
            run_result=5,
        ),
        id="positional-only-inputs-mapping",
    ),
    pytest.param(
        Kind(
            build=lambda: task(join_parts),
            parameters={"separator": "separator"},
            outputs=("join_parts",),
            call_args=("-",),
            call_result="",
            state={"separator": "-"},
            run_result="",
        ),
        id="var-positional-inputs-omitted",
    ),
    pytest.param(
        Kind(
            build=lambda: task(inputs=["glue", "first", "second"], outputs="joined")(join_parts),
            parameters={"separator": "glue", "*parts[0]": "first", "*parts[1]": "second"},
            outputs=("joined",),
            call_args=("-", "a", "b"),
            call_result="a-b",
            state={"glue": "-", "first": "a", "second": "b"},
            run_result="a-b",
        ),
        id="var-positional-inputs-sequence",
    ),
    pytest.param(
        Kind(
            build=lambda: task(describe),
            parameters={"name": "name"},
            outputs=("describe",),
            call_args=("ada",),
            call_kwargs={"role": "admin"},
            call_result=("ada", {"role": "admin"}),
            state={"name": "ada"},
            run_result=("ada", {}),
        ),
        id="var-keyword-inputs-omitted",
    ),
    pytest.param(
        Kind(
            build=lambda: task(inputs={"name": "user", "role": "user_role"})(describe),
            parameters={"name": "user", "role": "user_role"},
            outputs=("describe",),
            call_args=("ada",),
            call_kwargs={"role": "admin"},
            call_result=("ada", {"role": "admin"}),
            state={"user": "ada", "user_role": "admin"},
            run_result=("ada", {"role": "admin"}),
        ),
        id="var-keyword-inputs-mapping",
    ),
]


@pytest.mark.parametrize("kind", KINDS)
def test_kind_binds_parameters(kind: Kind) -> None:
    assert kind.build().parameters == kind.parameters


@pytest.mark.parametrize("kind", KINDS)
def test_kind_inputs_are_distinct_keys(kind: Kind) -> None:
    assert kind.build().inputs == tuple(dict.fromkeys(kind.parameters.values()))


@pytest.mark.parametrize("kind", KINDS)
def test_kind_declares_outputs(kind: Kind) -> None:
    assert kind.build().outputs == kind.outputs


@pytest.mark.parametrize("kind", KINDS)
def test_kind_direct_call_matches_function(kind: Kind) -> None:
    assert kind.build()(*kind.call_args, **kind.call_kwargs) == kind.call_result


@pytest.mark.parametrize("kind", KINDS)
def test_kind_run_passes_values_to_parameters(kind: Kind) -> None:
    declared = kind.build()

    state = flowlite.run(Registry([declared]), kind.state)

    assert state[declared.outputs[0]] == kind.run_result


# Outputs


def test_outputs_omitted_is_function_name() -> None:
    declared = task(inputs=["total", "cost"])(subtract)

    assert declared.outputs == ("subtract",)


def test_outputs_omitted_ignores_task_name() -> None:
    declared = task(name="profit_task")(subtract)

    assert declared.outputs == ("subtract",)


@pytest.mark.parametrize(
    "returned",
    [{"quotient": 3}, (3, 1), None, [3, 1]],
    ids=["dict", "tuple", "none", "list"],
)
def test_single_output_stores_value_whole(returned: object) -> None:
    declared = task(outputs="result")(echo)

    assert declared._split_result(returned) == (returned,)


def test_single_output_run_stores_dict_whole() -> None:
    declared = task(outputs="record")(echo)

    state = flowlite.run(Registry([declared]), {"returned": {"quotient": 3, "remainder": 1}})

    assert state["record"] == {"quotient": 3, "remainder": 1}


@pytest.mark.parametrize(
    ("returned", "expected"),
    [
        ((3, 1), (3, 1)),
        ({"quotient": 3, "remainder": 1}, (3, 1)),
        ({"remainder": 1, "quotient": 3}, (3, 1)),
        (flowlite.State(remainder=1, quotient=3), (3, 1)),
        ((None, None), (None, None)),
    ],
    ids=["tuple", "mapping", "mapping-other-order", "state-mapping", "tuple-of-none"],
)
def test_several_outputs_split_result(returned: object, expected: tuple[Any, ...]) -> None:
    assert divide._split_result(returned) == expected


@pytest.mark.parametrize("outputs", [(), []], ids=["tuple", "list"])
def test_sink_declares_no_outputs(outputs: object) -> None:
    declared = task(outputs=outputs)(echo)

    assert declared.outputs == ()


@pytest.mark.parametrize("returned", [None, 5, (1, 2), {"key": 1}], ids=["none", "int", "tuple", "dict"])
def test_sink_ignores_return_value(returned: object) -> None:
    declared = task(outputs=())(echo)

    assert declared._split_result(returned) == ()


def test_sink_runs_and_adds_no_keys() -> None:
    written: list[str] = []

    @task(outputs=())
    def write(text: str) -> int:
        written.append(text)
        return len(text)

    state = flowlite.run(Registry([write]), {"text": "report"})

    assert written == ["report"]
    assert dict(state) == {"text": "report"}


def test_invoke_passes_positional_arguments() -> None:
    assert divide._invoke([7, 2], {}) == (3, 1)


def test_invoke_passes_keyword_arguments() -> None:
    assert divide._invoke([], {"divisor": 2, "dividend": 7}) == (3, 1)


def test_invoke_wraps_single_output() -> None:
    declared = task(outputs="record")(echo)

    assert declared._invoke([{"a": 1}], {}) == ({"a": 1},)


def test_run_splits_tuple_into_outputs() -> None:
    state = flowlite.run(Registry([divide]), {"dividend": 7, "divisor": 2})

    assert state["quotient"] == 3
    assert state["remainder"] == 1


def test_run_splits_mapping_into_outputs() -> None:
    @task(outputs=["low", "high"])
    def bounds(values: list[int]) -> dict[str, int]:
        return {"high": max(values), "low": min(values)}

    state = flowlite.run(Registry([bounds]), {"values": [4, 1, 9]})

    assert state["low"] == 1
    assert state["high"] == 9


# OutputError: each wrong return value for outputs ["quotient", "remainder"],
# with the words that the message uses for it.
WRONG_RESULTS = [
    pytest.param((3,), "a tuple of length 1", id="short-tuple"),
    pytest.param((3, 1, 0), "a tuple of length 3", id="long-tuple"),
    pytest.param((), "a tuple of length 0", id="empty-tuple"),
    pytest.param(None, "NoneType None", id="none"),
    pytest.param([3, 1], "list [3, 1]", id="list"),
    pytest.param("ab", "str 'ab'", id="two-character-str"),
    pytest.param(31, "int 31", id="int"),
    pytest.param({"quotient": 3}, "missing keys ['remainder']", id="mapping-missing-key"),
    pytest.param({"quotient": 3, "remainder": 1, "rest": 0}, "extra keys ['rest']", id="mapping-extra-key"),
    pytest.param(
        {"quotient": 3, "rest": 0},
        "missing keys ['remainder'] and extra keys ['rest']",
        id="mapping-missing-and-extra",
    ),
]


def _output_error(declared: Task[..., Any], returned: object) -> OutputError:
    with pytest.raises(OutputError) as caught:
        declared._split_result(returned)
    return caught.value


@pytest.mark.parametrize(("returned", "description"), WRONG_RESULTS)
def test_output_error_names_task(returned: object, description: str) -> None:
    error = _output_error(divide, returned)

    assert error.task == "divide"
    assert "task 'divide'" in str(error)


@pytest.mark.parametrize(("returned", "description"), WRONG_RESULTS)
def test_output_error_names_declared_keys(returned: object, description: str) -> None:
    error = _output_error(divide, returned)

    assert error.outputs == ("quotient", "remainder")
    assert "['quotient', 'remainder']" in str(error)


@pytest.mark.parametrize(("returned", "description"), WRONG_RESULTS)
def test_output_error_names_returned_value(returned: object, description: str) -> None:
    error = _output_error(divide, returned)

    assert error.value is returned
    assert description in str(error)


@pytest.mark.parametrize(("returned", "description"), WRONG_RESULTS)
def test_invoke_raises_output_error(returned: object, description: str) -> None:
    declared = task(outputs=["quotient", "remainder"])(echo)

    with pytest.raises(OutputError, match=r"task 'echo'"):
        declared._invoke([returned], {})


@pytest.mark.parametrize(("returned", "description"), WRONG_RESULTS)
def test_run_raises_output_error(returned: object, description: str) -> None:
    declared = task(outputs=["quotient", "remainder"])(echo)

    with pytest.raises(OutputError) as caught:
        flowlite.run(Registry([declared]), {"returned": returned})

    assert caught.value.task == "echo"
    assert caught.value.value is returned
    assert description in str(caught.value)


def test_run_stores_nothing_of_wrong_result() -> None:
    declared = task(outputs=["quotient", "remainder"])(echo)

    with pytest.raises(RunFailed) as caught:
        flowlite.run(Registry([declared]), {"returned": {"quotient": 3}}, keep_going=True)

    assert "quotient" not in caught.value.state
    assert isinstance(caught.value.failures["echo"], OutputError)


# What a task keeps of its function


_MULTIPLIER = Multiplier(3)

# Each callable given to `task`, and the object whose name, docstring and
# module the task must report: the function itself, the function that a
# partial or bound method calls, or the class of a callable instance.
NAMED_CALLABLES = [
    pytest.param(subtract, subtract, id="function"),
    pytest.param(functools.partial(subtract, 10), subtract, id="partial"),
    pytest.param(functools.partial(functools.partial(subtract, 10), 3), subtract, id="nested-partial"),
    pytest.param(
        functools.update_wrapper(functools.partial(subtract, 10), subtract),
        subtract,
        id="partial-update-wrapper",
    ),
    pytest.param(_MULTIPLIER.multiply, Multiplier.multiply, id="bound-method"),
    pytest.param(_MULTIPLIER, Multiplier, id="callable-instance"),
    pytest.param(greet, greet, id="wraps-decorated"),
    pytest.param(operator.add, operator.add, id="c-function"),
]


@pytest.mark.parametrize("attribute", ["__name__", "__doc__", "__module__", "__qualname__"])
@pytest.mark.parametrize(("function", "source"), NAMED_CALLABLES)
def test_task_keeps_function_attribute(function: Callable[..., Any], source: object, attribute: str) -> None:
    assert getattr(task(function), attribute) == getattr(source, attribute)


@pytest.mark.parametrize(
    ("attribute", "expected"),
    [
        ("__name__", "add_one"),
        ("__qualname__", "add_one"),
        ("__module__", "_tasks_for_pickling"),
        ("__doc__", "Return `number` plus one."),
    ],
)
def test_decorated_task_keeps_function_attribute(attribute: str, expected: str) -> None:
    assert getattr(shipped.add_one, attribute) == expected


def test_decorated_task_wraps_original_function() -> None:
    wrapped = shipped.add_one.__wrapped__

    assert inspect.isfunction(wrapped)
    assert wrapped(1) == 2


def test_wraps_decorated_task_keeps_docstring() -> None:
    assert task(greet).__doc__ == "Greet `name`."


def test_bound_method_task_keeps_docstring() -> None:
    assert task(Multiplier(3).multiply).__doc__ == "Multiply `value` by the factor."


# Callables whose task must report the same signature and `__wrapped__`.
SIGNED_CALLABLES = [
    pytest.param(subtract, id="function"),
    pytest.param(functools.partial(subtract, 10), id="partial"),
    pytest.param(
        functools.update_wrapper(functools.partial(subtract, 10), subtract), id="partial-update-wrapper"
    ),
    pytest.param(Multiplier(3).multiply, id="bound-method"),
    pytest.param(Multiplier(3), id="callable-instance"),
    pytest.param(greet, id="wraps-decorated"),
    pytest.param(str.strip, id="method-descriptor"),
    pytest.param(operator.add, id="c-function"),
    pytest.param(with_unit, id="keyword-only"),
    pytest.param(difference, id="positional-only"),
    pytest.param(join_parts, id="var-positional"),
    pytest.param(describe, id="var-keyword"),
]


@pytest.mark.parametrize("function", SIGNED_CALLABLES)
def test_task_keeps_signature(function: Callable[..., Any]) -> None:
    assert inspect.signature(task(function)) == inspect.signature(function)


@pytest.mark.parametrize("function", SIGNED_CALLABLES)
def test_task_wraps_given_callable(function: Callable[..., Any]) -> None:
    assert task(function).__wrapped__ is function


@pytest.mark.parametrize("function", SIGNED_CALLABLES)
def test_task_func_is_given_callable(function: Callable[..., Any]) -> None:
    assert task(function).func is function


def test_builtin_task_has_no_signature_either() -> None:
    declared = task(inputs=["width", "height"])(math.hypot)

    with pytest.raises(ValueError, match="no signature found"):
        inspect.signature(declared)


def test_direct_call_accepts_keywords() -> None:
    declared = task(subtract)

    assert declared(subtrahend=2, minuend=7) == 5


def test_direct_call_rejects_wrong_arguments() -> None:
    declared = task(subtract)

    with pytest.raises(TypeError, match="subtrahend"):
        declared(7)


def test_direct_call_raises_function_exception_unchanged() -> None:
    failure = LookupError("no such record")

    @task
    def look_up(record_id: int) -> str:
        raise failure

    with pytest.raises(LookupError) as caught:
        look_up(3)

    assert caught.value is failure


# Pickling and copying

MODULE_LEVEL_TASKS = [
    pytest.param(shipped.add_one, id="bare-decorator"),
    pytest.param(shipped.divide, id="called-decorator"),
    pytest.param(shipped.Namespace.negate, id="class-attribute"),
]


@pytest.mark.parametrize("protocol", range(2, pickle.HIGHEST_PROTOCOL + 1))
@pytest.mark.parametrize("declared", MODULE_LEVEL_TASKS)
def test_module_level_task_pickles_by_reference(declared: Task[..., Any], protocol: int) -> None:
    assert pickle.loads(pickle.dumps(declared, protocol=protocol)) is declared


def _by_value_tasks() -> list[Any]:
    # Tasks that no module-level name refers to, so they pickle their
    # callable and declaration; each with a state and the expected output.
    return [
        pytest.param(
            task(inputs=["total", "cost"], outputs="profit")(shipped.subtract),
            {"total": 10, "cost": 4},
            6,
            id="existing-function",
        ),
        pytest.param(
            task(inputs={"subtrahend": "cost"}, outputs="remaining")(
                functools.partial(shipped.subtract, 100)
            ),
            {"cost": 4},
            96,
            id="partial",
        ),
        pytest.param(
            task(functools.update_wrapper(functools.partial(shipped.subtract, 100), shipped.subtract)),
            {"subtrahend": 4},
            96,
            id="partial-update-wrapper",
        ),
        pytest.param(
            task(inputs=["amount"], outputs="scaled")(shipped.Scaler(3).scale),
            {"amount": 5},
            15,
            id="bound-method",
        ),
        pytest.param(task(outputs="tripled")(shipped.Scaler(3)), {"value": 5}, 15, id="callable-instance"),
    ]


@pytest.mark.parametrize(("declared", "state", "expected"), _by_value_tasks())
def test_by_value_task_keeps_declaration(
    declared: Task[..., Any], state: dict[str, Any], expected: object
) -> None:
    restored = pickle.loads(pickle.dumps(declared))

    assert restored.name == declared.name
    assert restored.inputs == declared.inputs
    assert restored.outputs == declared.outputs
    assert restored.parameters == declared.parameters


@pytest.mark.parametrize(("declared", "state", "expected"), _by_value_tasks())
def test_by_value_task_runs_after_unpickling(
    declared: Task[..., Any], state: dict[str, Any], expected: object
) -> None:
    restored = pickle.loads(pickle.dumps(declared))

    result = flowlite.run(Registry([restored]), state)

    assert result[restored.outputs[0]] == expected


@pytest.mark.parametrize(("declared", "state", "expected"), _by_value_tasks())
def test_by_value_task_called_after_unpickling(
    declared: Task[..., Any], state: dict[str, Any], expected: object
) -> None:
    restored = pickle.loads(pickle.dumps(declared))
    args, kwargs = restored._arguments(state)

    assert restored(*args, **kwargs) == expected


@pytest.mark.parametrize("copier", [copy.copy, copy.deepcopy], ids=["copy", "deepcopy"])
@pytest.mark.parametrize(
    "declared", [*MODULE_LEVEL_TASKS, pytest.param(task(functools.partial(subtract, 1)), id="partial")]
)
def test_copy_returns_task_itself(declared: Task[..., Any], copier: Callable[[Any], Any]) -> None:
    assert copier(declared) is declared


def test_deepcopy_of_container_shares_task() -> None:
    assert copy.deepcopy({"tasks": [divide]})["tasks"][0] is divide


@pytest.fixture
def process_pool() -> Iterator[ProcessPoolExecutor]:
    # "spawn" starts fresh interpreters, so each worker imports the task's
    # module by name instead of inheriting the parent's memory.
    with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")) as pool:
        yield pool


def test_module_level_task_runs_in_process_pool(process_pool: ProcessPoolExecutor) -> None:
    registry = Registry([shipped.add_one, shipped.report_pid])

    state = flowlite.run(registry, {"number": 41}, executor=process_pool)

    assert state["add_one"] == 42
    assert state["worker_pid"] != os.getpid()


def test_several_outputs_split_in_process_pool(process_pool: ProcessPoolExecutor) -> None:
    state = flowlite.run(Registry([shipped.divide]), {"dividend": 7, "divisor": 2}, executor=process_pool)

    assert state["quotient"] == 3
    assert state["remainder"] == 1


def test_by_value_tasks_run_in_process_pool(process_pool: ProcessPoolExecutor) -> None:
    registry = Registry(
        [
            task(inputs=["total", "cost"], outputs="profit")(shipped.subtract),
            task(inputs={"subtrahend": "cost"}, outputs="remaining", name="remaining")(
                functools.partial(shipped.subtract, 100)
            ),
            task(inputs=["amount"], outputs="scaled")(shipped.Scaler(3).scale),
        ]
    )

    state = flowlite.run(registry, {"total": 10, "cost": 4, "amount": 5}, executor=process_pool)

    assert state["profit"] == 6
    assert state["remaining"] == 96
    assert state["scaled"] == 15


def test_output_error_crosses_process_pool(process_pool: ProcessPoolExecutor) -> None:
    registry = Registry([shipped.divide_into_list])

    with pytest.raises(OutputError) as caught:
        flowlite.run(registry, {"dividend": 7, "divisor": 2}, executor=process_pool)

    assert caught.value.task == "divide_into_list"
    assert caught.value.value == [3, 1]


# Declaration mistakes: each raises TaskDefinitionError naming the function,
# the parameter and the key (None where the mistake involves none).


def pair(first: int, second: int) -> tuple[int, int]:
    return (first, second)


def keyword_pair(first: int, *, second: int) -> tuple[int, int]:
    return (first, second)


def only_keywords(*, first: int) -> int:
    return first


def ranged(low: int, high: int, /, step: int = 1) -> range:
    return range(low, high, step)


def three_positional(a: int, b: int, c: int, /) -> int:
    return a + b + c


def collect(*items: int, **options: int) -> tuple[tuple[int, ...], dict[str, int]]:
    return (items, options)


async def fetch(url: str) -> str:
    return url


async def stream_lines(path: str) -> Any:
    yield path


class AsyncFetcher:
    async def fetch(self, url: str) -> str:
        return url

    async def __call__(self, url: str) -> str:
        return url


@dataclass(frozen=True)
class Mistake:
    """A declaration that the decorator must reject, and what the error must name."""

    id: str
    build: Callable[[], object]
    function: str
    parameter: str | None
    key: str | None
    # Further words that the message must contain to explain the mistake.
    mentions: tuple[str, ...] = ()


MISTAKES = [
    # Keys that are not str
    Mistake(
        id="non-str-key-input-sequence-int",
        build=lambda: task(inputs=[1, "second"])(pair),
        function="pair",
        parameter="first",
        key="1",
        mentions=("(int)",),
    ),
    Mistake(
        id="non-str-key-input-sequence-bytes",
        build=lambda: task(inputs=["first", b"second"])(pair),
        function="pair",
        parameter="second",
        key="b'second'",
        mentions=("(bytes)",),
    ),
    Mistake(
        id="non-str-key-input-mapping-value",
        build=lambda: task(inputs={"first": None, "second": "b"})(pair),
        function="pair",
        parameter="first",
        key="None",
        mentions=("(NoneType)",),
    ),
    Mistake(
        id="non-str-key-input-builtin",
        build=lambda: task(inputs=[3], outputs="length")(math.hypot),
        function="hypot",
        parameter="args[0]",
        key="3",
        mentions=("(int)",),
    ),
    Mistake(
        id="non-str-key-mapping-parameter-name",
        build=lambda: task(inputs={1: "value"})(pair),
        function="pair",
        parameter="1",
        key="value",
        mentions=("(int)",),
    ),
    Mistake(
        id="non-str-key-output-sequence",
        build=lambda: task(outputs=["total", 2])(pair),
        function="pair",
        parameter=None,
        key="2",
        mentions=("(int)",),
    ),
    Mistake(
        id="non-str-key-output-tuple-none",
        build=lambda: task(outputs=(None,))(pair),
        function="pair",
        parameter=None,
        key="None",
        mentions=("(NoneType)",),
    ),
    # Empty keys
    Mistake(
        id="empty-key-bare-str-input",
        build=lambda: task(inputs="")(shout),
        function="shout",
        parameter="message",
        key="",
        mentions=("''",),
    ),
    Mistake(
        id="empty-key-input-sequence",
        build=lambda: task(inputs=["first", ""])(pair),
        function="pair",
        parameter="second",
        key="",
        mentions=("''",),
    ),
    Mistake(
        id="empty-key-input-mapping-value",
        build=lambda: task(inputs={"first": "a", "second": ""})(pair),
        function="pair",
        parameter="second",
        key="",
        mentions=("''",),
    ),
    Mistake(
        id="empty-key-mapping-parameter-name",
        build=lambda: task(inputs={"": "value"})(pair),
        function="pair",
        parameter="",
        key="value",
        mentions=("''",),
    ),
    Mistake(
        id="empty-key-bare-str-output",
        build=lambda: task(outputs="")(pair),
        function="pair",
        parameter=None,
        key="",
        mentions=("''",),
    ),
    Mistake(
        id="empty-key-output-sequence",
        build=lambda: task(outputs=["total", ""])(pair),
        function="pair",
        parameter=None,
        key="",
        mentions=("''",),
    ),
    # Duplicate output keys
    Mistake(
        id="duplicate-output-adjacent",
        build=lambda: task(outputs=["total", "total"])(pair),
        function="pair",
        parameter=None,
        key="total",
        mentions=("twice",),
    ),
    Mistake(
        id="duplicate-output-apart",
        build=lambda: task(outputs=["total", "count", "total"])(pair),
        function="pair",
        parameter=None,
        key="total",
        mentions=("twice",),
    ),
    Mistake(
        id="duplicate-output-tuple",
        build=lambda: task(outputs=("low", "high", "high"))(pair),
        function="pair",
        parameter=None,
        key="high",
        mentions=("twice",),
    ),
    # An input that names no parameter
    Mistake(
        id="unknown-parameter-extra-name",
        build=lambda: task(inputs={"first": "a", "second": "b", "third": "c"})(pair),
        function="pair",
        parameter="third",
        key="c",
        mentions=("no such named parameter",),
    ),
    Mistake(
        id="unknown-parameter-misspelled-keyword-only",
        build=lambda: task(inputs={"first": "a", "secnd": "b"})(keyword_pair),
        function="keyword_pair",
        parameter="secnd",
        key="b",
        mentions=("no such named parameter",),
    ),
    Mistake(
        id="unknown-parameter-self-of-bound-method",
        build=lambda: task(inputs={"self": "owner", "value": "amount"})(Multiplier(2).multiply),
        function="multiply",
        parameter="self",
        key="owner",
        mentions=("no such named parameter",),
    ),
    Mistake(
        id="unknown-parameter-filled-by-partial",
        build=lambda: task(inputs={"minuend": "total", "subtrahend": "cost"})(
            functools.partial(subtract, 10)
        ),
        function="subtract",
        parameter="minuend",
        key="total",
        mentions=("no such named parameter",),
    ),
    # A required parameter that no input covers
    Mistake(
        id="uncovered-sequence-too-short",
        build=lambda: task(inputs=["a"])(pair),
        function="pair",
        parameter="second",
        key=None,
        mentions=("required parameter",),
    ),
    Mistake(
        id="uncovered-sequence-empty",
        build=lambda: task(inputs=[])(pair),
        function="pair",
        parameter="first",
        key=None,
        mentions=("required parameter",),
    ),
    Mistake(
        id="uncovered-mapping-missing-name",
        build=lambda: task(inputs={"first": "a"})(pair),
        function="pair",
        parameter="second",
        key=None,
        mentions=("required parameter",),
    ),
    Mistake(
        id="uncovered-mapping-empty",
        build=lambda: task(inputs={})(pair),
        function="pair",
        parameter="first",
        key=None,
        mentions=("required parameter",),
    ),
    Mistake(
        id="uncovered-keyword-only-sequence",
        build=lambda: task(inputs=["a"])(keyword_pair),
        function="keyword_pair",
        parameter="second",
        key=None,
        mentions=("required parameter",),
    ),
    Mistake(
        id="uncovered-keyword-only-mapping",
        build=lambda: task(inputs={"first": "a"})(keyword_pair),
        function="keyword_pair",
        parameter="second",
        key=None,
        mentions=("required parameter",),
    ),
    Mistake(
        id="uncovered-positional-only-sequence",
        build=lambda: task(inputs=["a"])(ranged),
        function="ranged",
        parameter="high",
        key=None,
        mentions=("required parameter",),
    ),
    # More positional inputs than positional parameters
    Mistake(
        id="too-many-inputs-function",
        build=lambda: task(inputs=["a", "b", "c"])(pair),
        function="pair",
        parameter=None,
        key="c",
        mentions=("at most 2",),
    ),
    Mistake(
        id="too-many-inputs-keyword-only-function",
        build=lambda: task(inputs=["a"])(only_keywords),
        function="only_keywords",
        parameter=None,
        key="a",
        mentions=("at most 0",),
    ),
    Mistake(
        id="too-many-inputs-positional-only",
        build=lambda: task(inputs=["a", "b", "c", "d"])(ranged),
        function="ranged",
        parameter=None,
        key="d",
        mentions=("at most 3",),
    ),
    Mistake(
        id="too-many-inputs-bound-method",
        build=lambda: task(inputs=["a", "b"])(Multiplier(2).multiply),
        function="multiply",
        parameter=None,
        key="b",
        mentions=("at most 1",),
    ),
    Mistake(
        id="too-many-inputs-callable-instance",
        build=lambda: task(inputs=["a", "b"])(Multiplier(2)),
        function="Multiplier",
        parameter=None,
        key="b",
        mentions=("at most 1",),
    ),
    # A key that names a different parameter: probably a swap
    Mistake(
        id="swap-both-keys",
        build=lambda: task(inputs=["second", "first"])(pair),
        function="pair",
        parameter="first",
        key="second",
        mentions=("wrong order",),
    ),
    Mistake(
        id="swap-second-key",
        build=lambda: task(inputs=["a", "first"])(pair),
        function="pair",
        parameter="second",
        key="first",
        mentions=("wrong order",),
    ),
    Mistake(
        id="swap-keyword-only-name",
        build=lambda: task(inputs=["second"])(keyword_pair),
        function="keyword_pair",
        parameter="first",
        key="second",
        mentions=("wrong order",),
    ),
    Mistake(
        id="swap-positional-only",
        build=lambda: task(inputs=["high", "low"])(ranged),
        function="ranged",
        parameter="low",
        key="high",
        mentions=("wrong order",),
    ),
    Mistake(
        id="swap-defaulted-parameter-name",
        build=lambda: task(inputs=["factor"])(scale),
        function="scale",
        parameter="value",
        key="factor",
        mentions=("wrong order",),
    ),
    Mistake(
        id="swap-into-var-positional",
        build=lambda: task(inputs=["glue", "separator"])(join_parts),
        function="join_parts",
        parameter="*parts[0]",
        key="separator",
        mentions=("wrong order",),
    ),
    # Not a callable
    Mistake(
        id="not-callable-int",
        build=lambda: task(42),
        function="42",
        parameter=None,
        key=None,
        mentions=("needs a callable", "(int)"),
    ),
    Mistake(
        id="not-callable-str",
        build=lambda: task("strip"),
        function="'strip'",
        parameter=None,
        key=None,
        mentions=("needs a callable", "(str)"),
    ),
    Mistake(
        id="not-callable-list",
        build=lambda: task(outputs="x")(["a"]),
        function="['a']",
        parameter=None,
        key=None,
        mentions=("needs a callable", "(list)"),
    ),
    Mistake(
        id="not-callable-none",
        build=lambda: task(outputs="x")(None),
        function="None",
        parameter=None,
        key=None,
        mentions=("needs a callable", "(NoneType)"),
    ),
    # Outputs that are not a key or an ordered sequence of keys
    Mistake(
        id="unordered-outputs-set",
        build=lambda: task(outputs={"total", "count"})(pair),
        function="pair",
        parameter=None,
        key=None,
        mentions=("(set)",),
    ),
    Mistake(
        id="unordered-outputs-frozenset",
        build=lambda: task(outputs=frozenset({"total"}))(pair),
        function="pair",
        parameter=None,
        key=None,
        mentions=("(frozenset)",),
    ),
    Mistake(
        id="unordered-outputs-dict-keys",
        build=lambda: task(outputs={"total": 1}.keys())(pair),
        function="pair",
        parameter=None,
        key=None,
        mentions=("(dict_keys)",),
    ),
    Mistake(
        id="unordered-outputs-dict",
        build=lambda: task(outputs={"total": "count"})(pair),
        function="pair",
        parameter=None,
        key=None,
        mentions=("(dict)",),
    ),
    # Callables without a signature and no inputs
    Mistake(
        id="no-signature-bare",
        build=lambda: task(math.hypot),
        function="hypot",
        parameter=None,
        key=None,
        mentions=("no signature", "inputs=[...]"),
    ),
    Mistake(
        id="no-signature-outputs-only",
        build=lambda: task(outputs="largest")(max),
        function="max",
        parameter=None,
        key=None,
        mentions=("no signature", "inputs=[...]"),
    ),
    Mistake(
        id="no-signature-partial",
        build=lambda: task(functools.partial(math.hypot, 3)),
        function="hypot",
        parameter=None,
        key=None,
        mentions=("no signature", "inputs=[...]"),
    ),
    Mistake(
        id="no-signature-renamed-task",
        build=lambda: task(name="diagonal")(math.hypot),
        function="hypot",
        parameter=None,
        key=None,
        mentions=("no signature", "inputs=[...]"),
    ),
    # async generator functions: a task returns one value
    Mistake(
        id="async-generator-function",
        build=lambda: task(stream_lines),
        function="stream_lines",
        parameter=None,
        key=None,
        mentions=("async",),
    ),
    # A key mapped onto *args or **kwargs
    Mistake(
        id="mapped-onto-var-positional",
        build=lambda: task(inputs={"separator": "glue", "parts": "pieces"})(join_parts),
        function="join_parts",
        parameter="parts",
        key="pieces",
    ),
    Mistake(
        id="mapped-onto-var-positional-only-parameter",
        build=lambda: task(inputs={"items": "values"})(collect),
        function="collect",
        parameter="items",
        key="values",
    ),
    Mistake(
        id="mapped-onto-var-keyword",
        build=lambda: task(inputs={"name": "user", "details": "extra"})(describe),
        function="describe",
        parameter="details",
        key="extra",
        mentions=("**details",),
    ),
    Mistake(
        id="mapped-onto-var-keyword-with-var-positional",
        build=lambda: task(inputs={"options": "settings"})(collect),
        function="collect",
        parameter="options",
        key="settings",
        mentions=("**options",),
    ),
    # A positional-only parameter bound by name while an earlier one is not
    Mistake(
        id="positional-only-gap-first",
        build=lambda: task(inputs={"high": "top"})(ranged),
        function="ranged",
        parameter="high",
        key="top",
        mentions=("'low'",),
    ),
    Mistake(
        id="positional-only-gap-with-later-keyword",
        build=lambda: task(inputs={"high": "top", "step": "stride"})(ranged),
        function="ranged",
        parameter="high",
        key="top",
        mentions=("'low'",),
    ),
    Mistake(
        id="positional-only-gap-middle",
        build=lambda: task(inputs={"a": "x", "c": "z"})(three_positional),
        function="three_positional",
        parameter="c",
        key="z",
        mentions=("'b'",),
    ),
    # Invalid task names and inputs declarations
    Mistake(
        id="invalid-name-empty",
        build=lambda: task(name="")(pair),
        function="pair",
        parameter=None,
        key=None,
        mentions=("name must be a non-empty str",),
    ),
    Mistake(
        id="invalid-name-int",
        build=lambda: task(name=7)(pair),
        function="pair",
        parameter=None,
        key=None,
        mentions=("name must be a non-empty str",),
    ),
    Mistake(
        id="invalid-inputs-set",
        build=lambda: task(inputs={"first", "second"})(pair),
        function="pair",
        parameter=None,
        key=None,
        mentions=("(set)",),
    ),
    Mistake(
        id="invalid-inputs-int",
        build=lambda: task(inputs=3)(pair),
        function="pair",
        parameter=None,
        key=None,
        mentions=("(int)",),
    ),
    Mistake(
        id="invalid-inputs-bytes",
        build=lambda: task(inputs=b"first")(pair),
        function="pair",
        parameter=None,
        key=None,
        mentions=("(bytes)",),
    ),
]


def _mistakes(has: str | None = None) -> list[Any]:
    # The table as pytest params, keeping the rows whose `has` field is a
    # non-empty str. Every message contains an empty str, so for those rows
    # the `mentions` field checks the quoted '' instead.
    rows = [row for row in MISTAKES if has is None or getattr(row, has)]
    return [pytest.param(row, id=row.id) for row in rows]


def _definition_error(mistake: Mistake) -> TaskDefinitionError:
    with pytest.raises(TaskDefinitionError) as caught:
        mistake.build()
    return caught.value


@pytest.mark.parametrize("mistake", _mistakes())
def test_mistake_raises_type_error(mistake: Mistake) -> None:
    with pytest.raises(TypeError) as caught:
        mistake.build()

    assert isinstance(caught.value, TaskDefinitionError)


@pytest.mark.parametrize("mistake", _mistakes())
def test_mistake_sets_function_attribute(mistake: Mistake) -> None:
    assert _definition_error(mistake).function == mistake.function


@pytest.mark.parametrize("mistake", _mistakes())
def test_mistake_sets_parameter_attribute(mistake: Mistake) -> None:
    assert _definition_error(mistake).parameter == mistake.parameter


@pytest.mark.parametrize("mistake", _mistakes())
def test_mistake_sets_key_attribute(mistake: Mistake) -> None:
    assert _definition_error(mistake).key == mistake.key


@pytest.mark.parametrize("mistake", _mistakes())
def test_mistake_message_names_function(mistake: Mistake) -> None:
    assert mistake.function in str(_definition_error(mistake))


@pytest.mark.parametrize("mistake", _mistakes(has="parameter"))
def test_mistake_message_names_parameter(mistake: Mistake) -> None:
    assert mistake.parameter in str(_definition_error(mistake))


@pytest.mark.parametrize("mistake", _mistakes(has="key"))
def test_mistake_message_names_key(mistake: Mistake) -> None:
    assert mistake.key in str(_definition_error(mistake))


@pytest.mark.parametrize("mistake", [row for row in _mistakes() if row.values[0].mentions])
def test_mistake_message_explains_mistake(mistake: Mistake) -> None:
    message = str(_definition_error(mistake))

    for words in mistake.mentions:
        assert words in message
