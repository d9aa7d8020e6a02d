"""Tests of `Registry`: building, lookup, order, duplicate names and keys,
`from_module`, the absence of a global registry, and adds from many threads."""

from __future__ import annotations

import functools
import gc
import sys
import threading
import types
import weakref
from collections.abc import Callable, Iterator
from typing import Any

import _registry_module
import _tasks_for_pickling
import pytest

from flowlite import (
    DuplicateOutputError,
    DuplicateTaskError,
    Registry,
    Task,
    TaskDefinitionError,
    UnknownTaskError,
    task,
)


def _qualified(declared: Task[..., Any]) -> str:
    return f"{declared.__module__}.{declared.__qualname__}"


@task
def load(path: str) -> str:
    return path


@task
def parse(load: str) -> list[str]:
    return load.split()


@task(outputs="word_count")
def count(parse: list[str]) -> int:
    return len(parse)


# Building a registry


def test_registry_from_list_keeps_order() -> None:
    registry = Registry([count, load, parse])

    assert list(registry) == [count, load, parse]


def test_registry_iterates_in_registration_order() -> None:
    registry = Registry()
    registry.add(parse)
    registry.add(count)
    registry.add(load)

    assert [item.name for item in registry] == ["parse", "count", "load"]


def test_registry_from_generator() -> None:
    registry = Registry(item for item in (load, parse))

    assert list(registry) == [load, parse]


def test_empty_registry_has_no_tasks() -> None:
    registry = Registry()

    assert len(registry) == 0
    assert list(registry) == []


def test_registry_len_counts_tasks() -> None:
    assert len(Registry([load, parse, count])) == 3


def test_add_returns_task() -> None:
    registry = Registry()

    assert registry.add(load) is load


def test_add_same_task_twice_is_noop() -> None:
    registry = Registry([load, parse])

    assert registry.add(load) is load
    assert len(registry) == 2
    assert list(registry) == [load, parse]


def test_registry_with_repeated_task_keeps_one() -> None:
    registry = Registry([load, parse, load])

    assert list(registry) == [load, parse]


def test_iteration_snapshot_survives_add() -> None:
    registry = Registry([load])
    seen = []

    for item in registry:
        seen.append(item)
        registry.add(parse)

    assert seen == [load]
    assert list(registry) == [load, parse]


def test_registry_repr_lists_names() -> None:
    assert repr(Registry([load, count])) == "Registry([load, count])"


# The registry's decorator


def test_registry_task_bare_registers() -> None:
    registry = Registry()

    @registry.task
    def clean(text: str) -> str:
        return text.strip()

    assert isinstance(clean, Task)
    assert list(registry) == [clean]
    assert clean.outputs == ("clean",)


def test_registry_task_called_registers() -> None:
    registry = Registry()

    @registry.task(inputs=["raw"], outputs="cleaned", name="clean_text")
    def clean(text: str) -> str:
        return text.strip()

    assert registry["clean_text"] is clean
    assert clean.parameters == {"text": "raw"}
    assert clean.outputs == ("cleaned",)


def test_registry_task_called_without_declarations() -> None:
    registry = Registry()

    @registry.task()
    def clean(text: str) -> str:
        return text.strip()

    assert registry["clean"] is clean


def test_registry_task_on_existing_function() -> None:
    registry = Registry()

    stripped = registry.task(inputs=["raw"], outputs="stripped")(str.strip)

    assert registry["strip"] is stripped


def test_registry_task_rejects_bad_declaration() -> None:
    registry = Registry()

    def clean(text: str) -> str:
        return text.strip()

    with pytest.raises(TaskDefinitionError):
        registry.task(inputs=["raw", "extra"])(clean)

    assert len(registry) == 0


def test_registry_task_duplicate_name_raises() -> None:
    registry = Registry([load])

    def other_load(path: str) -> str:
        return path

    with pytest.raises(DuplicateTaskError):
        registry.task(name="load", outputs="other")(other_load)

    assert registry["load"] is load


# Lookup


def test_getitem_returns_task() -> None:
    registry = Registry([load, parse])

    assert registry["parse"] is parse


def test_getitem_uses_task_name() -> None:
    renamed = task(name="load_file", outputs="file")(_tasks_for_pickling.subtract)
    registry = Registry([renamed])

    assert registry["load_file"] is renamed
    assert "subtract" not in registry


def test_getitem_unknown_name_raises_key_error() -> None:
    registry = Registry([load])

    with pytest.raises(KeyError) as caught:
        registry["lod"]

    assert isinstance(caught.value, UnknownTaskError)


def test_unknown_task_error_carries_name() -> None:
    registry = Registry([load])

    with pytest.raises(UnknownTaskError) as caught:
        registry["lod"]

    assert caught.value.name == "lod"


@pytest.mark.parametrize(
    ("requested", "suggested"),
    [("lod", "load"), ("prase", "parse"), ("counts", "count"), ("Load", "load")],
)
def test_unknown_task_suggests_close_name(requested: str, suggested: str) -> None:
    registry = Registry([load, parse, count])

    with pytest.raises(UnknownTaskError) as caught:
        registry[requested]

    assert suggested in caught.value.suggestions
    assert repr(suggested) in str(caught.value)


def test_unknown_task_no_close_match() -> None:
    registry = Registry([load, parse])

    with pytest.raises(UnknownTaskError) as caught:
        registry["tokenizer_for_german"]

    assert caught.value.suggestions == ()
    assert "did you mean" not in str(caught.value)


def test_unknown_task_message_is_not_quoted() -> None:
    registry = Registry([load])

    with pytest.raises(UnknownTaskError) as caught:
        registry["lod"]

    assert str(caught.value) == "no task named 'lod' in this registry; did you mean 'load'?"


def test_contains_registered_name() -> None:
    assert "load" in Registry([load])


def test_contains_registered_task() -> None:
    assert load in Registry([load])


def test_contains_rejects_unknown_name() -> None:
    assert "parse" not in Registry([load])


def test_contains_rejects_unregistered_task() -> None:
    assert parse not in Registry([load])


def test_contains_rejects_same_name_task() -> None:
    impostor = task(name="load")(_tasks_for_pickling.subtract)

    assert impostor not in Registry([load])


def test_contains_rejects_function_of_task() -> None:
    assert load.func not in Registry([load])


# Duplicate names and duplicate output keys


def _other_load() -> Task[..., Any]:
    def load(path: str) -> str:
        return path.upper()

    return task(outputs="loaded_again")(load)


DUPLICATE_NAMES: list[Any] = [
    pytest.param(lambda: task(outputs="second_output")(load.func), id="same-function-decorated-twice"),
    pytest.param(_other_load, id="other-function-same-name"),
    pytest.param(
        lambda: task(name="load", outputs="subtracted")(_tasks_for_pickling.subtract), id="name-argument"
    ),
]


@pytest.mark.parametrize("make_duplicate", DUPLICATE_NAMES)
def test_duplicate_name_raises(make_duplicate: Callable[[], Task[..., Any]]) -> None:
    registry = Registry([load])
    duplicate = make_duplicate()

    with pytest.raises(DuplicateTaskError) as caught:
        registry.add(duplicate)

    assert caught.value.name == "load"


@pytest.mark.parametrize("make_duplicate", DUPLICATE_NAMES)
def test_duplicate_name_message_names_both_tasks(make_duplicate: Callable[[], Task[..., Any]]) -> None:
    registry = Registry([load])
    duplicate = make_duplicate()

    with pytest.raises(DuplicateTaskError) as caught:
        registry.add(duplicate)

    assert _qualified(load) in str(caught.value)
    assert _qualified(duplicate) in str(caught.value)


@pytest.mark.parametrize("make_duplicate", DUPLICATE_NAMES)
def test_duplicate_name_leaves_registry_unchanged(make_duplicate: Callable[[], Task[..., Any]]) -> None:
    registry = Registry([load])

    with pytest.raises(DuplicateTaskError):
        registry.add(make_duplicate())

    assert registry["load"] is load
    assert len(registry) == 1


def test_duplicate_name_in_constructor_raises() -> None:
    with pytest.raises(DuplicateTaskError):
        Registry([load, _other_load()])


def test_duplicate_name_labels_partial_module() -> None:
    first = task(outputs="first")(_tasks_for_pickling.subtract)
    second = task(outputs="second")(functools.partial(_tasks_for_pickling.subtract, 10))
    registry = Registry([first])

    with pytest.raises(DuplicateTaskError) as caught:
        registry.add(second)

    assert "functools." not in str(caught.value)
    assert str(caught.value).count("_tasks_for_pickling.subtract") == 2


# Each row: the outputs of a registered task, the outputs of a second task,
# and the key that the error reports (the first of the second task's outputs
# that the first task produces).
SHARED_OUTPUTS = [
    pytest.param("text", "text", "text", id="single-outputs"),
    pytest.param(["head", "text"], "text", "text", id="second-key-of-first"),
    pytest.param("text", ["summary", "text"], "text", id="second-key-of-second"),
    pytest.param(["head", "tail"], ["tail", "head"], "tail", id="both-keys-shared"),
]


def _producers(first_outputs: object, second_outputs: object) -> tuple[Task[..., Any], Task[..., Any]]:
    def read(path: str) -> Any:
        return path

    def summarize(path: str) -> Any:
        return path

    return task(outputs=first_outputs)(read), task(outputs=second_outputs)(summarize)


@pytest.mark.parametrize(("first_outputs", "second_outputs", "key"), SHARED_OUTPUTS)
def test_duplicate_output_raises(first_outputs: object, second_outputs: object, key: str) -> None:
    first, second = _producers(first_outputs, second_outputs)
    registry = Registry([first])

    with pytest.raises(DuplicateOutputError) as caught:
        registry.add(second)

    assert caught.value.key == key


@pytest.mark.parametrize(("first_outputs", "second_outputs", "key"), SHARED_OUTPUTS)
def test_duplicate_output_carries_both_tasks(first_outputs: object, second_outputs: object, key: str) -> None:
    first, second = _producers(first_outputs, second_outputs)
    registry = Registry([first])

    with pytest.raises(DuplicateOutputError) as caught:
        registry.add(second)

    assert caught.value.tasks == ("read", "summarize")


@pytest.mark.parametrize(("first_outputs", "second_outputs", "key"), SHARED_OUTPUTS)
def test_duplicate_output_message_names_both(first_outputs: object, second_outputs: object, key: str) -> None:
    first, second = _producers(first_outputs, second_outputs)
    registry = Registry([first])

    with pytest.raises(DuplicateOutputError) as caught:
        registry.add(second)

    message = str(caught.value)
    assert repr(key) in message
    assert _qualified(first) in message
    assert _qualified(second) in message


@pytest.mark.parametrize(("first_outputs", "second_outputs", "key"), SHARED_OUTPUTS)
def test_duplicate_output_leaves_registry_unchanged(
    first_outputs: object, second_outputs: object, key: str
) -> None:
    first, second = _producers(first_outputs, second_outputs)
    registry = Registry([first])

    with pytest.raises(DuplicateOutputError):
        registry.add(second)

    assert list(registry) == [first]


def test_duplicate_output_names_renamed_tasks() -> None:
    first = task(outputs="text", name="reader")(_tasks_for_pickling.subtract)
    second = task(outputs="text", name="writer")(_tasks_for_pickling.subtract)

    with pytest.raises(DuplicateOutputError) as caught:
        Registry([first, second])

    assert caught.value.tasks == ("reader", "writer")
    assert "'reader'" in str(caught.value)
    assert "'writer'" in str(caught.value)


def test_sinks_share_no_output() -> None:
    first = task(outputs=(), name="write_report")(_tasks_for_pickling.subtract)
    second = task(outputs=(), name="send_report")(_tasks_for_pickling.subtract)

    assert len(Registry([first, second])) == 2


def test_failed_add_leaves_later_adds_working() -> None:
    first, second = _producers("text", "text")
    registry = Registry([first])
    with pytest.raises(DuplicateOutputError):
        registry.add(second)

    registry.add(load)

    assert list(registry) == [first, load]


# Things that are not tasks

NOT_TASKS = [
    pytest.param(_tasks_for_pickling.subtract, id="function"),
    pytest.param(lambda text: text, id="lambda"),
    pytest.param(str.strip, id="method-descriptor"),
    pytest.param(None, id="none"),
    pytest.param("load", id="task-name"),
]


@pytest.mark.parametrize("item", NOT_TASKS)
def test_add_rejects_non_task(item: Any) -> None:
    registry = Registry()

    with pytest.raises(TaskDefinitionError) as caught:
        registry.add(item)

    assert "@task" in str(caught.value)
    assert len(registry) == 0


@pytest.mark.parametrize("item", NOT_TASKS)
def test_constructor_rejects_non_task(item: Any) -> None:
    with pytest.raises(TaskDefinitionError):
        Registry([load, item])


# from_module


@pytest.mark.parametrize(
    "module",
    [_registry_module, "_registry_module"],
    ids=["module-object", "module-name"],
)
def test_from_module_keeps_binding_order(module: types.ModuleType | str) -> None:
    registry = Registry.from_module(module)

    assert [item.name for item in registry] == ["add_one", "tokenize", "count"]


def test_from_module_includes_imported_task() -> None:
    registry = Registry.from_module(_registry_module)

    assert registry["add_one"] is _tasks_for_pickling.add_one


def test_from_module_adds_aliased_task_once() -> None:
    registry = Registry.from_module(_registry_module)

    assert list(registry).count(_registry_module.tokenize) == 1


def test_from_module_skips_plain_functions() -> None:
    registry = Registry.from_module(_registry_module)

    assert "strip_text" not in registry


def test_from_module_imports_module_by_name(monkeypatch: pytest.MonkeyPatch) -> None:
    # Without the module in sys.modules, from_module must import it.
    monkeypatch.delitem(sys.modules, "_registry_module")

    registry = Registry.from_module("_registry_module")

    assert [item.name for item in registry] == ["add_one", "tokenize", "count"]
    assert sys.modules["_registry_module"] is not _registry_module


def test_from_module_dotted_name_imports_module() -> None:
    registry = Registry.from_module("flowlite.task")

    assert len(registry) == 0


def test_from_module_unknown_name_raises() -> None:
    with pytest.raises(ModuleNotFoundError):
        Registry.from_module("_no_module_with_this_name")


def test_from_module_returns_new_registry_each_time() -> None:
    first = Registry.from_module(_registry_module)
    second = Registry.from_module(_registry_module)

    first.add(load)

    assert "load" not in second


def test_from_module_built_module() -> None:
    module = types.ModuleType("built_for_test")
    module.second = parse
    module.first = load
    module.not_a_task = 3

    registry = Registry.from_module(module)

    assert list(registry) == [parse, load]


def test_from_module_with_duplicate_output_raises() -> None:
    first, second = _producers("text", "text")
    module = types.ModuleType("built_for_test")
    module.first = first
    module.second = second

    with pytest.raises(DuplicateOutputError):
        Registry.from_module(module)


# No global registry


def test_decorating_registers_nowhere() -> None:
    def make() -> weakref.ref[Task[..., Any]]:
        @task
        def transient(text: str) -> str:
            return text

        return weakref.ref(transient)

    reference = make()
    gc.collect()

    assert reference() is None


def test_new_registry_starts_empty() -> None:
    @task
    def declared_before(text: str) -> str:
        return text

    assert len(Registry()) == 0


def test_registries_are_independent() -> None:
    first = Registry([load])
    second = Registry()

    second.add(parse)

    assert list(first) == [load]
    assert list(second) == [parse]


def test_same_task_in_two_registries() -> None:
    first = Registry([load])
    second = Registry([load])

    assert first["load"] is second["load"]


# Adds from many threads

THREADS = 16
# Each racing task declares this many outputs, so that add() spends long
# enough checking them for other threads to run in between. On a Registry
# without its lock, the race showed in 1 of 20 rounds with 300 outputs and
# in 19 of 20 with 10,000 (CPython 3.11, measured once on a shared machine).
OUTPUTS_PER_RIVAL = 10_000
ROUNDS = 3


def identity(value: object) -> object:
    return value


@pytest.fixture
def fast_thread_switching() -> Iterator[None]:
    # Switch threads every microsecond instead of every 5 ms, so that the
    # threads interleave inside add().
    previous = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        yield
    finally:
        sys.setswitchinterval(previous)


def _run_in_threads(actions: list[Callable[[], object]]) -> list[BaseException | None]:
    # Start every action at once behind a barrier and return each error or None.
    barrier = threading.Barrier(len(actions))
    outcomes: list[BaseException | None] = [None] * len(actions)

    def work(index: int, action: Callable[[], object]) -> None:
        barrier.wait()
        try:
            action()
        except BaseException as error:
            outcomes[index] = error

    threads = [threading.Thread(target=work, args=(index, action)) for index, action in enumerate(actions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


def _rival(name: str, outputs: list[str]) -> Task[..., Any]:
    return task(inputs=["value"], outputs=outputs, name=name)(identity)


@pytest.mark.usefixtures("fast_thread_switching")
def test_concurrent_adds_keep_every_task() -> None:
    registry = Registry()
    tasks = [_rival(f"step_{index}", [f"result_{index}"]) for index in range(THREADS * 8)]
    chunks = [tasks[start::THREADS] for start in range(THREADS)]

    def add_chunk(chunk: list[Task[..., Any]]) -> None:
        for item in chunk:
            registry.add(item)

    outcomes = _run_in_threads([lambda chunk=chunk: add_chunk(chunk) for chunk in chunks])

    assert outcomes == [None] * THREADS
    assert len(registry) == len(tasks)
    assert sorted(item.name for item in registry) == sorted(item.name for item in tasks)


@pytest.mark.usefixtures("fast_thread_switching")
def test_concurrent_adds_of_same_task_keep_one() -> None:
    registry = Registry()

    outcomes = _run_in_threads([lambda: registry.add(load)] * THREADS)

    assert outcomes == [None] * THREADS
    assert list(registry) == [load]


@pytest.mark.usefixtures("fast_thread_switching")
@pytest.mark.parametrize("round_number", range(ROUNDS))
def test_concurrent_adds_detect_duplicate_name(round_number: int) -> None:
    registry = Registry()
    rivals = [
        _rival("step", [f"result_{index}_{number}" for number in range(OUTPUTS_PER_RIVAL)])
        for index in range(THREADS)
    ]

    outcomes = _run_in_threads([lambda rival=rival: registry.add(rival) for rival in rivals])

    winners = [rival for rival, outcome in zip(rivals, outcomes, strict=True) if outcome is None]
    assert len(winners) == 1
    assert sum(isinstance(outcome, DuplicateTaskError) for outcome in outcomes) == THREADS - 1
    assert list(registry) == winners


@pytest.mark.usefixtures("fast_thread_switching")
@pytest.mark.parametrize("round_number", range(ROUNDS))
def test_concurrent_adds_detect_duplicate_output(round_number: int) -> None:
    registry = Registry()
    # Each rival's own keys come first and the key they all produce last.
    rivals = [
        _rival(
            f"step_{index}", [*(f"result_{index}_{number}" for number in range(OUTPUTS_PER_RIVAL)), "shared"]
        )
        for index in range(THREADS)
    ]

    outcomes = _run_in_threads([lambda rival=rival: registry.add(rival) for rival in rivals])

    winners = [rival for rival, outcome in zip(rivals, outcomes, strict=True) if outcome is None]
    assert len(winners) == 1
    assert sum(isinstance(outcome, DuplicateOutputError) for outcome in outcomes) == THREADS - 1
    assert list(registry) == winners
