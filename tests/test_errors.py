"""Tests of the exception hierarchy: each error's bases, attributes, text and
pickling, `RunFailed` under `except*`, and the package's `__all__`."""

from __future__ import annotations

import copy
import graphlib
import pickle
from collections.abc import Callable
from typing import Any

import pytest

import flowlite
from flowlite import (
    CycleError,
    DuplicateOutputError,
    DuplicateTaskError,
    FlowliteError,
    InvalidArgumentError,
    InvalidKeyError,
    MissingInputError,
    OutputError,
    OverwriteError,
    PicklingCheckError,
    Registry,
    RunCancelled,
    RunFailed,
    State,
    TaskDefinitionError,
    TaskTimeoutError,
    TypeCheckError,
    TypeMismatchError,
    UnknownKeyError,
    UnknownTaskError,
    errors,
    task,
)

# Every public error class and the builtin exception it also derives from.
BUILTIN_BASES = [
    (TaskDefinitionError, TypeError),
    (InvalidKeyError, TypeError),
    (CycleError, graphlib.CycleError),
    (MissingInputError, KeyError),
    (UnknownTaskError, KeyError),
    (UnknownKeyError, KeyError),
    (OutputError, ValueError),
    (OverwriteError, ValueError),
    (DuplicateTaskError, ValueError),
    (DuplicateOutputError, ValueError),
    (InvalidArgumentError, ValueError),
    (RunFailed, ExceptionGroup),
    (TaskTimeoutError, TimeoutError),
    (TypeMismatchError, TypeError),
    (TypeCheckError, TypeError),
    (PicklingCheckError, TypeError),
    # Cancellation has no builtin of its own: asyncio's CancelledError is a
    # BaseException, which `except Exception` would miss.
    (RunCancelled, Exception),
]

PUBLIC_ERROR_NAMES = sorted(
    name
    for name, value in vars(errors).items()
    if isinstance(value, type)
    and issubclass(value, BaseException)
    and value.__module__ == errors.__name__
    and not name.startswith("_")
)


def _ids(cases: list[tuple[type[BaseException], type[BaseException]]]) -> list[str]:
    return [error.__name__ for error, _ in cases]


@pytest.mark.parametrize(("error_class", "builtin"), BUILTIN_BASES, ids=_ids(BUILTIN_BASES))
def test_error_derives_from_flowlite_error(
    error_class: type[BaseException], builtin: type[BaseException]
) -> None:
    assert issubclass(error_class, FlowliteError)


@pytest.mark.parametrize(("error_class", "builtin"), BUILTIN_BASES, ids=_ids(BUILTIN_BASES))
def test_error_derives_from_builtin(error_class: type[BaseException], builtin: type[BaseException]) -> None:
    assert issubclass(error_class, builtin)


def test_base_table_covers_every_error() -> None:
    covered = {error_class.__name__ for error_class, _ in BUILTIN_BASES}

    assert covered == set(PUBLIC_ERROR_NAMES) - {"FlowliteError"}


def test_flowlite_error_is_exception() -> None:
    assert issubclass(FlowliteError, Exception)


def test_graphlib_cycle_error_is_value_error() -> None:
    # So CycleError is caught as ValueError too, without listing it.
    assert issubclass(CycleError, ValueError)


# One instance of each error, with the attributes it must carry.
STATE = State(text="raw", words=["raw"])
TASK_FAILURE = ValueError("bad row")


def _run_failed() -> RunFailed:
    return RunFailed(
        "1 task(s) failed",
        [TASK_FAILURE],
        state=STATE,
        failures={"parse": TASK_FAILURE},
        skipped=["count"],
    )


INSTANCES: list[Any] = [
    pytest.param(
        lambda: TaskDefinitionError("task 'parse': bad key", function="parse", parameter="text", key="raw"),
        {"function": "parse", "parameter": "text", "key": "raw"},
        id="TaskDefinitionError",
    ),
    pytest.param(
        lambda: TaskDefinitionError("task 'parse': not callable", function="parse"),
        {"function": "parse", "parameter": None, "key": None},
        id="TaskDefinitionError-defaults",
    ),
    pytest.param(lambda: InvalidArgumentError("max_workers must be positive"), {}, id="InvalidArgumentError"),
    pytest.param(lambda: InvalidKeyError("keys must be str", key=3), {"key": 3}, id="InvalidKeyError"),
    pytest.param(
        lambda: DuplicateTaskError("two tasks named 'parse'", name="parse"),
        {"name": "parse"},
        id="DuplicateTaskError",
    ),
    pytest.param(
        lambda: DuplicateOutputError("two producers of 'words'", key="words", tasks=("parse", "split")),
        {"key": "words", "tasks": ("parse", "split")},
        id="DuplicateOutputError",
    ),
    pytest.param(
        lambda: UnknownTaskError("no task named 'prase'", name="prase", suggestions=["parse"]),
        {"name": "prase", "suggestions": ("parse",)},
        id="UnknownTaskError",
    ),
    pytest.param(
        lambda: UnknownKeyError("no key 'wrds'", key="wrds", suggestions=["words"]),
        {"key": "wrds", "suggestions": ("words",)},
        id="UnknownKeyError",
    ),
    pytest.param(
        lambda: MissingInputError(
            "task 'count' needs 'wrds'", task="count", key="wrds", suggestions=["words"]
        ),
        {"task": "count", "key": "wrds", "suggestions": ("words",)},
        id="MissingInputError",
    ),
    pytest.param(
        lambda: CycleError("a cycle", cycle=[("parse", "words", "count"), ("count", "total", "parse")]),
        {"cycle": [("parse", "words", "count"), ("count", "total", "parse")]},
        id="CycleError",
    ),
    pytest.param(
        lambda: TaskTimeoutError("task 'fetch' timed out", task="fetch", timeout=2.5, attempt=2),
        {"task": "fetch", "timeout": 2.5, "attempt": 2},
        id="TaskTimeoutError",
    ),
    pytest.param(
        lambda: TypeMismatchError(
            "task 'count' expects list[str]",
            producer="parse",
            consumer="count",
            key="words",
            parameter="words",
            produced="list[int]",
            expected="list[str]",
        ),
        {
            "producer": "parse",
            "consumer": "count",
            "key": "words",
            "parameter": "words",
            "produced": "list[int]",
            "expected": "list[str]",
        },
        id="TypeMismatchError",
    ),
    pytest.param(
        lambda: TypeCheckError(
            "task 'parse' returned int", task="parse", key="words", expected="list[str]", received="int"
        ),
        {"task": "parse", "key": "words", "expected": "list[str]", "received": "int"},
        id="TypeCheckError",
    ),
    pytest.param(
        lambda: RunCancelled("cancelled", state=State({"a": 1}), not_run=["count"]),
        {"state": State({"a": 1}), "not_run": ("count",)},
        id="RunCancelled",
    ),
    pytest.param(
        lambda: PicklingCheckError("task 'parse' cannot be sent", task="parse"),
        {"task": "parse", "key": None},
        id="PicklingCheckError-task",
    ),
    pytest.param(
        lambda: PicklingCheckError("initial value 'lock' cannot be sent", key="lock"),
        {"task": None, "key": "lock"},
        id="PicklingCheckError-key",
    ),
    pytest.param(
        lambda: OverwriteError("would overwrite 'words'", task="parse", keys=["words"]),
        {"task": "parse", "keys": ("words",)},
        id="OverwriteError",
    ),
    pytest.param(
        lambda: OutputError(
            "task 'parse' returned a list", task="parse", outputs=["head", "tail"], value=[1, 2]
        ),
        {"task": "parse", "outputs": ("head", "tail"), "value": [1, 2]},
        id="OutputError",
    ),
    pytest.param(
        _run_failed,
        {"state": STATE, "failures": {"parse": TASK_FAILURE}, "skipped": ("count",)},
        id="RunFailed",
    ),
]


def _comparable(value: object) -> object:
    # Exceptions compare by identity; a pickled or deep-copied one is equal
    # here when its type and arguments are.
    if isinstance(value, BaseException):
        return (type(value), value.args)
    if isinstance(value, dict):
        return {key: _comparable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_comparable(item) for item in value)
    return value


@pytest.mark.parametrize(("make", "attributes"), INSTANCES)
def test_error_carries_attributes(make: Callable[[], FlowliteError], attributes: dict[str, Any]) -> None:
    error = make()

    for name, value in attributes.items():
        assert getattr(error, name) == value, name


@pytest.mark.parametrize(("make", "attributes"), INSTANCES)
def test_error_caught_as_flowlite_error(
    make: Callable[[], FlowliteError], attributes: dict[str, Any]
) -> None:
    error = make()

    with pytest.raises(FlowliteError) as caught:
        raise error

    assert caught.value is error


@pytest.mark.parametrize(("make", "attributes"), INSTANCES)
def test_error_survives_pickling(make: Callable[[], FlowliteError], attributes: dict[str, Any]) -> None:
    error = make()
    error.add_note("flowlite: raised by task 'parse'")

    restored = pickle.loads(pickle.dumps(error))

    assert type(restored) is type(error)
    assert str(restored) == str(error)
    assert restored.__notes__ == ["flowlite: raised by task 'parse'"]
    for name, value in attributes.items():
        assert _comparable(getattr(restored, name)) == _comparable(value), name


@pytest.mark.parametrize("copier", [copy.copy, copy.deepcopy], ids=["copy", "deepcopy"])
@pytest.mark.parametrize(("make", "attributes"), INSTANCES)
def test_error_survives_copying(
    make: Callable[[], FlowliteError], attributes: dict[str, Any], copier: Callable[[Any], Any]
) -> None:
    error = make()

    duplicate = copier(error)

    assert type(duplicate) is type(error)
    assert str(duplicate) == str(error)
    for name, value in attributes.items():
        assert _comparable(getattr(duplicate, name)) == _comparable(value), name


# Errors raised by the library, caught by the builtin they mean


def test_task_definition_error_caught_as_type_error() -> None:
    def parse(text: str) -> str:
        return text

    with pytest.raises(TypeError) as caught:
        task(inputs=["text", "extra"])(parse)

    assert isinstance(caught.value, TaskDefinitionError)


def test_unknown_task_error_caught_as_key_error() -> None:
    with pytest.raises(KeyError) as caught:
        Registry()["parse"]

    assert isinstance(caught.value, UnknownTaskError)


def test_duplicate_task_error_caught_as_value_error() -> None:
    def parse(text: str) -> str:
        return text

    with pytest.raises(ValueError, match="two different tasks are named 'parse'") as caught:
        Registry([task(outputs="first")(parse), task(outputs="second")(parse)])

    assert isinstance(caught.value, DuplicateTaskError)


def test_duplicate_output_error_caught_as_value_error() -> None:
    def parse(text: str) -> str:
        return text

    def split(text: str) -> str:
        return text

    with pytest.raises(ValueError, match="key 'words' is produced by two tasks") as caught:
        Registry([task(outputs="words")(parse), task(outputs="words")(split)])

    assert isinstance(caught.value, DuplicateOutputError)


def test_cycle_error_caught_as_graphlib_cycle_error() -> None:
    @task(outputs="question")
    def ask(answer: str) -> str:
        return answer

    @task(outputs="answer")
    def reply(question: str) -> str:
        return question

    with pytest.raises(graphlib.CycleError) as caught:
        flowlite.plan(Registry([ask, reply]))

    assert isinstance(caught.value, CycleError)


def test_missing_input_error_caught_as_key_error() -> None:
    @task
    def count(words: list[str]) -> int:
        return len(words)

    with pytest.raises(KeyError) as caught:
        flowlite.run(Registry([count]), {"wrds": []})

    assert isinstance(caught.value, MissingInputError)


def test_output_error_caught_as_value_error() -> None:
    @task(outputs=["head", "tail"])
    def split(text: str) -> list[str]:
        return text.split(maxsplit=1)

    with pytest.raises(ValueError, match="task 'split'") as caught:
        flowlite.run(Registry([split]), {"text": "first second"})

    assert isinstance(caught.value, OutputError)


# KeyError subclasses print their message, not its repr

KEY_ERRORS: list[Any] = [
    pytest.param(lambda message: UnknownTaskError(message, name="prase"), id="UnknownTaskError"),
    pytest.param(lambda message: UnknownKeyError(message, key="wrds"), id="UnknownKeyError"),
    pytest.param(
        lambda message: MissingInputError(message, task="count", key="wrds"), id="MissingInputError"
    ),
]


@pytest.mark.parametrize("make", KEY_ERRORS)
def test_key_error_str_is_message(make: Callable[[str], KeyError]) -> None:
    message = "no task named 'prase'; did you mean 'parse'?"

    assert str(make(message)) == message


@pytest.mark.parametrize("make", KEY_ERRORS)
def test_key_error_str_keeps_line_breaks(make: Callable[[str], KeyError]) -> None:
    message = "task 'count' needs key 'wrds'.\nAdd it to the initial state."

    assert str(make(message)) == message


def test_unknown_task_from_registry_str_is_readable() -> None:
    with pytest.raises(UnknownTaskError) as caught:
        Registry()["parse"]

    assert str(caught.value) == "no task named 'parse' in this registry"


# RunFailed


def test_run_failed_is_exception_group() -> None:
    assert isinstance(_run_failed(), ExceptionGroup)


def test_run_failed_is_flowlite_error() -> None:
    assert isinstance(_run_failed(), FlowliteError)


def test_run_failed_holds_task_exceptions() -> None:
    assert _run_failed().exceptions == (TASK_FAILURE,)


def _group_with_two_failures() -> tuple[RunFailed, ValueError, LookupError]:
    value_error = ValueError("bad row")
    lookup_error = LookupError("no such id")
    group = RunFailed(
        "2 task(s) failed",
        [value_error, lookup_error],
        state=STATE,
        failures={"parse": value_error, "lookup": lookup_error},
        skipped=["count"],
    )
    return group, value_error, lookup_error


def _split_with_except_star(group: RunFailed) -> dict[str, BaseExceptionGroup[Any]]:
    parts: dict[str, BaseExceptionGroup[Any]] = {}
    try:
        try:
            raise group
        except* ValueError as matched:
            parts["value"] = matched
    except* LookupError as rest:
        parts["lookup"] = rest
    return parts


@pytest.mark.parametrize("part", ["value", "lookup"])
def test_except_star_part_is_run_failed(part: str) -> None:
    group, _, _ = _group_with_two_failures()

    assert isinstance(_split_with_except_star(group)[part], RunFailed)


@pytest.mark.parametrize("part", ["value", "lookup"])
def test_except_star_part_keeps_state(part: str) -> None:
    group, _, _ = _group_with_two_failures()

    split_part = _split_with_except_star(group)[part]

    assert isinstance(split_part, RunFailed)
    assert split_part.state is STATE


@pytest.mark.parametrize("part", ["value", "lookup"])
def test_except_star_part_keeps_failures(part: str) -> None:
    group, value_error, lookup_error = _group_with_two_failures()

    split_part = _split_with_except_star(group)[part]

    assert isinstance(split_part, RunFailed)
    assert split_part.failures == {"parse": value_error, "lookup": lookup_error}


@pytest.mark.parametrize("part", ["value", "lookup"])
def test_except_star_part_keeps_skipped(part: str) -> None:
    group, _, _ = _group_with_two_failures()

    split_part = _split_with_except_star(group)[part]

    assert isinstance(split_part, RunFailed)
    assert split_part.skipped == ("count",)


def test_except_star_parts_split_exceptions() -> None:
    group, value_error, lookup_error = _group_with_two_failures()

    parts = _split_with_except_star(group)

    assert parts["value"].exceptions == (value_error,)
    assert parts["lookup"].exceptions == (lookup_error,)


def test_except_star_part_keeps_message_and_notes() -> None:
    group, _, _ = _group_with_two_failures()
    group.add_note("run of the nightly pipeline")

    split_part = _split_with_except_star(group)["value"]

    assert split_part.message == "2 task(s) failed"
    assert split_part.__notes__ == ["run of the nightly pipeline"]


def test_split_parts_keep_run_data() -> None:
    group, _, lookup_error = _group_with_two_failures()

    matched, rest = group.split(ValueError)

    assert isinstance(matched, RunFailed)
    assert isinstance(rest, RunFailed)
    assert matched.state is STATE
    assert rest.skipped == ("count",)
    assert rest.exceptions == (lookup_error,)


def test_run_failed_pickle_keeps_identity() -> None:
    restored = pickle.loads(pickle.dumps(_run_failed()))

    assert restored.failures["parse"] is restored.exceptions[0]


def test_run_with_keep_going_raises_run_failed() -> None:
    failure = ValueError("bad row")

    @task
    def parse(text: str) -> list[str]:
        raise failure

    @task
    def count(parse: list[str]) -> int:
        return len(parse)

    @task
    def shout(text: str) -> str:
        return text.upper()

    with pytest.raises(RunFailed) as caught:
        flowlite.run(Registry([parse, count, shout]), {"text": "a b"}, keep_going=True)

    assert caught.value.failures == {"parse": failure}
    assert caught.value.skipped == ("count",)
    assert caught.value.state["shout"] == "A B"
    assert caught.value.exceptions == (failure,)


def test_run_failed_from_run_splits_with_except_star() -> None:
    @task
    def parse(text: str) -> list[str]:
        raise ValueError(text)

    @task
    def shout(text: str) -> str:
        return text.upper()

    matched: list[BaseExceptionGroup[Any]] = []
    try:
        flowlite.run(Registry([parse, shout]), {"text": "a b"}, keep_going=True)
    except* ValueError as group:
        matched.append(group)

    assert isinstance(matched[0], RunFailed)
    assert matched[0].state["shout"] == "A B"


# The package's public names


@pytest.mark.parametrize("name", flowlite.__all__)
def test_all_name_is_exported(name: str) -> None:
    assert hasattr(flowlite, name)


def test_all_is_sorted() -> None:
    assert flowlite.__all__ == sorted(flowlite.__all__)


def test_all_has_no_duplicates() -> None:
    assert len(flowlite.__all__) == len(set(flowlite.__all__))


@pytest.mark.parametrize("name", PUBLIC_ERROR_NAMES)
def test_public_error_in_all(name: str) -> None:
    assert name in flowlite.__all__


@pytest.mark.parametrize("name", PUBLIC_ERROR_NAMES)
def test_public_error_exported_from_package(name: str) -> None:
    assert getattr(flowlite, name) is getattr(errors, name)


def test_errors_module_all_lists_every_error() -> None:
    assert sorted(errors.__all__) == PUBLIC_ERROR_NAMES
