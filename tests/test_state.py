"""State: an immutable mapping whose new versions share storage with the old ones."""

from __future__ import annotations

import copy
import pickle
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping

import pytest

from flowlite import FlowliteError, InvalidKeyError, State

# --- construction and the Mapping protocol -------------------------------


@pytest.mark.parametrize(
    ("build", "expected"),
    [
        (lambda: State(), {}),
        (lambda: State({"a": 1, "b": 2}), {"a": 1, "b": 2}),
        (lambda: State([("a", 1), ("b", 2)]), {"a": 1, "b": 2}),
        (lambda: State(a=1, b=2), {"a": 1, "b": 2}),
        (lambda: State({"a": 1}, b=2), {"a": 1, "b": 2}),
        (lambda: State({"a": 1}, a=2), {"a": 2}),
    ],
    ids=["empty", "mapping", "pairs", "keywords", "mapping-and-keywords", "keyword-wins"],
)
def test_state_constructor_forms(build: Callable[[], State], expected: dict[str, int]) -> None:
    assert build() == expected


def test_state_is_a_mapping() -> None:
    assert isinstance(State(a=1), Mapping)


def test_state_equals_dict_both_ways() -> None:
    state = State(a=1, b=[2])

    assert state == {"a": 1, "b": [2]}
    assert {"a": 1, "b": [2]} == state  # noqa: SIM300 - dict on the left tests the reflected ==
    assert state == State(b=[2], a=1)


@pytest.mark.parametrize(
    "other",
    [{"a": 1}, {"a": 1, "b": 3}, {"a": 1, "b": 2, "c": 3}, [("a", 1), ("b", 2)]],
    ids=["missing-key", "other-value", "extra-key", "not-a-mapping"],
)
def test_state_unequal_to_different(other: object) -> None:
    assert State(a=1, b=2) != other


def test_state_len_counts_keys() -> None:
    assert len(State(a=1, b=2, c=3)) == 3


def test_state_iterates_in_insertion_order() -> None:
    state = State(z=1, a=2).with_values(m=3) | {"b": 4}

    assert list(state) == ["z", "a", "m", "b"]


def test_state_overwritten_key_keeps_position() -> None:
    state = State(a=1, b=2, c=3).with_values(a=10)

    assert list(state.items()) == [("a", 10), ("b", 2), ("c", 3)]


@pytest.mark.parametrize(
    ("key", "expected"),
    [("a", True), ("b", False), (1, False), (None, False), (("a",), False)],
)
def test_state_contains(key: object, expected: bool) -> None:
    assert (key in State(a=1)) is expected


def test_state_getitem_missing_raises_keyerror() -> None:
    with pytest.raises(KeyError, match="missing"):
        State(a=1)["missing"]


def test_state_get_with_default() -> None:
    state = State(a=1)

    assert state.get("a") == 1
    assert state.get("b") is None
    assert state.get("b", 5) == 5


def test_state_keys_values_items() -> None:
    state = State(a=1, b=2)

    assert list(state.keys()) == ["a", "b"]
    assert list(state.values()) == [1, 2]
    assert list(state.items()) == [("a", 1), ("b", 2)]


def test_state_repr_shows_items() -> None:
    assert repr(State(a=1, b="x")) == "State({'a': 1, 'b': 'x'})"


def test_state_stores_values_by_reference() -> None:
    value = [1, 2]

    assert State(a=value)["a"] is value


# --- immutability ----------------------------------------------------------


def test_state_setitem_raises_typeerror() -> None:
    state = State(a=1)

    with pytest.raises(TypeError, match="immutable"):
        state["a"] = 2  # type: ignore[index]
    assert state == {"a": 1}


def test_state_delitem_raises_typeerror() -> None:
    state = State(a=1)

    with pytest.raises(TypeError, match="immutable"):
        del state["a"]  # type: ignore[attr-defined]
    assert state == {"a": 1}


@pytest.mark.parametrize("name", ["_size", "_log", "_positions", "extra"])
def test_state_attributes_cannot_be_set(name: str) -> None:
    state = State(a=1)

    with pytest.raises(AttributeError):
        setattr(state, name, 0)
    assert state == {"a": 1}


@pytest.mark.parametrize("method", ["update", "pop", "popitem", "clear", "setdefault"])
def test_state_has_no_mutating_methods(method: str) -> None:
    assert not hasattr(State(a=1), method)


def test_state_is_unhashable() -> None:
    with pytest.raises(TypeError):
        hash(State(a=1))


# --- new states ------------------------------------------------------------

NEW_STATE_OPERATIONS: dict[str, Callable[[State], State]] = {
    "with_values-keywords": lambda state: state.with_values(b=2),
    "with_values-mapping": lambda state: state.with_values({"b": 2}),
    "with_values-pairs": lambda state: state.with_values([("b", 2)]),
    "with_values-mapping-and-keywords": lambda state: state.with_values({"b": 0}, b=2),
    "or-dict": lambda state: state | {"b": 2},
    "or-state": lambda state: state | State(b=2),
    "ror-dict": lambda state: {"b": 2} | state,
}


@pytest.mark.parametrize("operation", NEW_STATE_OPERATIONS.values(), ids=NEW_STATE_OPERATIONS.keys())
def test_state_operation_returns_new_state(operation: Callable[[State], State]) -> None:
    old = State(a=1)

    new = operation(old)

    assert isinstance(new, State)
    assert new is not old
    assert new == {"a": 1, "b": 2}
    assert old == {"a": 1}
    assert "b" not in old
    assert len(old) == 1


def test_state_or_right_operand_wins() -> None:
    assert (State(a=1, b=1) | {"b": 2}) == {"a": 1, "b": 2}


def test_state_ror_right_operand_wins() -> None:
    result = {"a": 1, "b": 1} | State(b=2, c=3)

    assert result == {"a": 1, "b": 2, "c": 3}
    assert list(result) == ["a", "b", "c"]
    assert isinstance(result, State)


def test_state_or_non_mapping_raises_typeerror() -> None:
    with pytest.raises(TypeError):
        State(a=1) | [("b", 2)]  # type: ignore[operator]


def test_state_with_values_overwrite_keeps_old() -> None:
    old = State(a=1, b=2)

    new = old.with_values(a=10)

    assert new == {"a": 10, "b": 2}
    assert old == {"a": 1, "b": 2}


def test_state_with_values_empty_keeps_content() -> None:
    old = State(a=1)

    assert old.with_values() == {"a": 1}


def test_state_chain_keeps_every_version() -> None:
    versions = [State()]
    for index in range(50):
        versions.append(versions[-1].with_values({f"k{index}": index}))

    for size, version in enumerate(versions):
        assert version == {f"k{index}": index for index in range(size)}


def test_state_older_extended_after_newer() -> None:
    base = State(a=1)
    newer = base.with_values(b=2)

    branch = base.with_values(c=3)

    assert branch == {"a": 1, "c": 3}
    assert newer == {"a": 1, "b": 2}
    assert base == {"a": 1}


def test_state_branches_share_no_keys() -> None:
    base = State(a=1)
    left = base.with_values(b="left")
    right = base.with_values(b="right")
    left_more = left.with_values(c="left")
    right_more = right.with_values(c="right")

    assert left_more == {"a": 1, "b": "left", "c": "left"}
    assert right_more == {"a": 1, "b": "right", "c": "right"}
    assert left == {"a": 1, "b": "left"}
    assert right == {"a": 1, "b": "right"}
    assert base == {"a": 1}


def test_state_middle_version_branch_hides_tip() -> None:
    first = State(a=1)
    middle = first.with_values(b=2)
    tip = middle.with_values(c=3).with_values(d=4)

    branch = middle.with_values(d="branch")

    assert branch == {"a": 1, "b": 2, "d": "branch"}
    assert "c" not in branch
    assert tip == {"a": 1, "b": 2, "c": 3, "d": 4}
    assert middle == {"a": 1, "b": 2}


def test_state_older_version_lookup_hides_newer_keys() -> None:
    old = State(a=1)
    old.with_values(b=2)

    with pytest.raises(KeyError):
        old["b"]
    assert old.get("b") is None
    assert list(old) == ["a"]


def test_state_iterate_while_extending() -> None:
    state = State(a=1, b=2, c=3)
    extended = []

    for key in state:
        extended.append(state.with_values({f"new_{key}": key}))

    assert [dict(item) for item in extended] == [
        {"a": 1, "b": 2, "c": 3, "new_a": "a"},
        {"a": 1, "b": 2, "c": 3, "new_b": "b"},
        {"a": 1, "b": 2, "c": 3, "new_c": "c"},
    ]


# --- keys ------------------------------------------------------------------

INVALID_KEY_OPERATIONS: dict[str, Callable[[], object]] = {
    "constructor-int": lambda: State({1: "x"}),
    "constructor-empty-str": lambda: State({"": "x"}),
    "constructor-bytes": lambda: State({b"a": "x"}),
    "with_values-int": lambda: State(a=1).with_values({2: "x"}),
    "with_values-empty-str": lambda: State(a=1).with_values({"": "x"}),
    "or-none": lambda: State(a=1) | {None: "x"},
    "ror-int": lambda: {3: "x"} | State(a=1),
}


@pytest.mark.parametrize("operation", INVALID_KEY_OPERATIONS.values(), ids=INVALID_KEY_OPERATIONS.keys())
def test_state_invalid_key_raises(operation: Callable[[], object]) -> None:
    with pytest.raises(InvalidKeyError) as excinfo:
        operation()

    assert isinstance(excinfo.value, FlowliteError)
    assert isinstance(excinfo.value, TypeError)


def test_state_invalid_key_error_names_key() -> None:
    with pytest.raises(InvalidKeyError, match="42") as excinfo:
        State({42: "x"})

    assert excinfo.value.key == 42


def test_state_invalid_key_leaves_state_unchanged() -> None:
    state = State(a=1)

    with pytest.raises(InvalidKeyError):
        state.with_values({"b": 2, 3: 4})

    assert state == {"a": 1}
    assert state.with_values(b=2) == {"a": 1, "b": 2}


# --- copies and pickle -----------------------------------------------------


def test_state_pickle_round_trip() -> None:
    state = State(a=1, b=[2, 3])

    loaded = pickle.loads(pickle.dumps(state))

    assert isinstance(loaded, State)
    assert loaded == state
    assert list(loaded) == ["a", "b"]


def test_state_pickle_older_version_only() -> None:
    old = State(a=1)
    old.with_values(b=2)

    assert pickle.loads(pickle.dumps(old)) == {"a": 1}


def test_state_copy_returns_equal_state() -> None:
    state = State(a=[1])

    shallow = copy.copy(state)
    deep = copy.deepcopy(state)

    assert shallow == state
    assert deep == state
    assert deep["a"] is not state["a"]


# --- threads ---------------------------------------------------------------


@pytest.fixture
def frequent_thread_switches() -> Iterator[None]:
    # Switching threads every microsecond makes races between readers and
    # writers of one state show up in a short test.
    previous = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        yield
    finally:
        sys.setswitchinterval(previous)


@pytest.mark.usefixtures("frequent_thread_switches")
def test_state_concurrent_extension_is_isolated() -> None:
    thread_count = 16
    steps = 100
    base = State({f"base{index}": index for index in range(2_000)})
    expected_base = dict(base)
    start = threading.Barrier(thread_count, timeout=10)
    results: dict[int, State] = {}
    errors: list[BaseException] = []

    def extend(worker: int) -> None:
        try:
            start.wait()
            state = base
            for step in range(steps):
                state = state.with_values({f"w{worker}_{step}": step})
                # Branching from the shared base reads it while the thread
                # that extended it first keeps appending to its storage.
                branch = base.with_values({f"branch{worker}": step})
                assert len(branch) == len(expected_base) + 1
            results[worker] = state
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=extend, args=(worker,)) for worker in range(thread_count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert errors == []
    assert sorted(results) == list(range(thread_count))
    for worker, state in results.items():
        own = {f"w{worker}_{step}": step for step in range(steps)}
        assert state == expected_base | own, f"worker {worker}"
    assert base == expected_base


@pytest.mark.usefixtures("frequent_thread_switches")
def test_state_concurrent_read_during_extension() -> None:
    base = State({f"k{index}": index for index in range(5_000)})
    stop = threading.Event()
    writer_started = threading.Event()
    errors: list[BaseException] = []

    def extend_tip() -> None:
        state = base
        step = 0
        try:
            while not stop.is_set():
                state = state.with_values({f"tip{step}": step})
                writer_started.set()
                step += 1
        except BaseException as error:
            errors.append(error)

    writer = threading.Thread(target=extend_tip)
    writer.start()
    try:
        assert writer_started.wait(timeout=10)
        copies = [dict(base) for _ in range(200)]
    finally:
        stop.set()
        writer.join(timeout=30)

    assert errors == []
    assert all(len(item) == 5_000 for item in copies)


# --- cost of a new state ---------------------------------------------------


def _seconds_to_add_keys(base: State, count: int) -> float:
    # Best of three chains, each adding `count` keys one at a time to the
    # newest state, which is the case that must not copy the state.
    best = float("inf")
    for attempt in range(3):
        state = base
        started = time.perf_counter()
        for index in range(count):
            state = state.with_values({f"added{attempt}_{index}": index})
        best = min(best, time.perf_counter() - started)
        base = State(dict(base))
    return best


def test_state_extension_cost_independent_of_size() -> None:
    small = State({f"k{index}": index for index in range(10)})
    large = State({f"k{index}": index for index in range(100_000)})

    small_seconds = _seconds_to_add_keys(small, 1_000)
    large_seconds = _seconds_to_add_keys(large, 1_000)

    # Copying 100,000 keys per step would make this ratio thousands. The
    # bound is loose so that a busy machine does not fail the test.
    assert large_seconds < 10 * small_seconds + 0.05, (small_seconds, large_seconds)
