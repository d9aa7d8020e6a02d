"""`State`: the immutable mapping from keys to values that a run reads and extends."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, final

from flowlite.errors import InvalidKeyError

__all__ = ["State"]


def _check_key(key: object) -> None:
    if not isinstance(key, str) or not key:
        msg = (
            f"state keys must be non-empty str, got {key!r} ({type(key).__name__}); "
            "name each value with a string"
        )
        raise InvalidKeyError(msg, key=key)


@final
class _Log:
    """An append-only dict shared by a line of states.

    Each state sees the first `size` entries. A state whose `size` equals
    the log's length is the tip, and extending the tip with new keys appends
    to the log instead of copying it. `positions` maps each key to its
    place in the log; it is built when the log is first extended; until
    then the log has one state, which sees every entry.
    """

    __slots__ = ("entries", "lock", "positions")

    def __init__(self, entries: dict[str, Any]) -> None:
        self.entries = entries
        self.lock = threading.Lock()
        self.positions: dict[str, int] | None = None


@final
class State(Mapping[str, Any]):
    """An immutable `Mapping[str, object]`.

    Item assignment and deletion raise `TypeError`; `with_values()` and `|`
    return a new state. Adding new keys to the newest state of a line costs
    time proportional to the new keys, because the states share one
    append-only log. Overwriting a key, or extending an older state after a
    newer one was made from it, copies the entries.
    """

    __slots__ = ("_log", "_size")

    _log: _Log
    _size: int

    def __init__(self, mapping: Mapping[str, Any] | Iterable[tuple[str, Any]] = (), /, **values: Any) -> None:
        entries = dict(mapping)
        entries.update(values)
        for key in entries:
            _check_key(key)
        self._attach(_Log(entries), len(entries))

    def _attach(self, log: _Log, size: int) -> None:
        object.__setattr__(self, "_log", log)
        object.__setattr__(self, "_size", size)

    @classmethod
    def _from_owned(cls, entries: dict[str, Any]) -> State:
        # Wrap a dict that no other object references, without copying or checking keys.
        state = cls.__new__(cls)
        state._attach(_Log(entries), len(entries))
        return state

    # Mapping protocol

    def __getitem__(self, key: str) -> Any:
        log = self._log
        if log.positions is None:
            value = log.entries[key]
            # Extending the log publishes `positions` before it appends, so
            # a log still without them held only this state's entries.
            if log.positions is None:
                return value
        position = log.positions.get(key)
        if position is None or position >= self._size:
            raise KeyError(key)
        return log.entries[key]

    def __contains__(self, key: object) -> bool:
        if not isinstance(key, str):
            return False
        try:
            self[key]
        except KeyError:
            return False
        return True

    def __iter__(self) -> Iterator[str]:
        # A newer state may append to the shared log during this iteration.
        # A dict cannot be iterated while it grows, so the keys are copied
        # under the lock that appends take.
        log = self._log
        with log.lock:
            keys = list(itertools.islice(log.entries, self._size))
        return iter(keys)

    def __len__(self) -> int:
        return self._size

    def __repr__(self) -> str:
        items = ", ".join(f"{key!r}: {self[key]!r}" for key in self)
        return f"State({{{items}}})"

    # Immutability

    def __setitem__(self, key: str, value: Any) -> None:
        msg = (
            f"State is immutable; state.with_values({key}=...) or state | {{{key!r}: ...}} "
            "returns a new state"
        )
        raise TypeError(msg)

    def __delitem__(self, key: str) -> None:
        msg = f"State is immutable and cannot delete {key!r}; build a new State without it"
        raise TypeError(msg)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"State is immutable; cannot set attribute {name!r}")

    def __reduce__(self) -> tuple[Any, ...]:
        return (State, (dict(self),))

    def __copy__(self) -> State:
        return self

    # New states

    def with_values(
        self, mapping: Mapping[str, Any] | Iterable[tuple[str, Any]] = (), /, **values: Any
    ) -> State:
        """Return a new state with the given keys added or replaced."""
        updates = dict(mapping)
        updates.update(values)
        return self._extend(updates)

    def __or__(self, other: Mapping[str, Any]) -> State:
        if not isinstance(other, Mapping):
            return NotImplemented
        return self._extend(dict(other))

    def __ror__(self, other: Mapping[str, Any]) -> State:
        if not isinstance(other, Mapping):
            return NotImplemented
        return State(other)._extend(dict(self))

    def _extend(self, updates: dict[str, Any]) -> State:
        for key in updates:
            _check_key(key)
        if not updates:
            return self

        log = self._log
        with log.lock:
            entries = log.entries
            if len(entries) == self._size and not any(key in entries for key in updates):
                positions = log.positions
                if positions is None:
                    positions = dict(zip(entries, itertools.count()))
                    log.positions = positions
                for key, value in updates.items():
                    positions[key] = len(entries)
                    entries[key] = value
                state = State.__new__(State)
                state._attach(log, len(entries))
                return state

        copied = dict(self)
        copied.update(updates)
        return State._from_owned(copied)
