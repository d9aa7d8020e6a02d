"""Decorated generic functions, async functions and existing functions keep their types.

mypy and pyright check this file, and the tests never import it. A
trailing "E:" comment gives mypy's expected error, "R:" the type that mypy
reveals and "P:" the type that pyright reveals.
"""

from collections.abc import Sequence
from typing import TypeVar, reveal_type

from flowlite import Task, task

T = TypeVar("T")


@task(outputs="first")
def first(items: Sequence[T]) -> T:
    return items[0]


@task(outputs="page")
async def fetch(url: str, timeout: float = 10.0) -> bytes:
    return url.encode()


def shout(message: str, /, suffix: str = "!") -> str:
    return message.upper() + suffix


loud = task(inputs=["message"], outputs="loud")(shout)

number: int = first([1, 2])
word: str = first(["a", "b"])
awaited: Task[[str, float], bytes] = fetch  # E: Incompatible types in assignment (expression has type "Task[[str, float], Coroutine[Any, Any, bytes]]", variable has type "Task[[str, float], bytes]")

reveal_type(first([1, 2]))  # R: int # P: int
reveal_type(fetch)  # R: flowlite.task.Task[[url: str, timeout: float =], typing.Coroutine[Any, Any, bytes]] # P: Task[(url: str, timeout: float = 10), CoroutineType[Any, Any, bytes]]
reveal_type(loud)  # R: flowlite.task.Task[[str, suffix: str =], str] # P: Task[(message: str, /, suffix: str = "!"), str]

wrong: str = first([1, 2])  # E: Incompatible types in assignment (expression has type "int", variable has type "str")
pending = fetch(3)  # E: Argument 1 to "__call__" of "Task" has incompatible type "int"; expected "str"
loud(message="x")  # E: Unexpected keyword argument "message" for "__call__" of "Task"
