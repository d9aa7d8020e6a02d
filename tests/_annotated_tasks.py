"""Tasks whose annotations are strings, for the plan-time type checks.

`from __future__ import annotations` keeps every annotation as a string,
which flowlite evaluates one at a time. `Decimal` is imported only for type
checkers, so the annotations that name it cannot be resolved at run time.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple, TypedDict

from flowlite import task

if TYPE_CHECKING:
    from decimal import Decimal


class Summary(TypedDict):
    word_count: int
    title: str


class Span(NamedTuple):
    start: int
    end: int


@task(outputs="words")
def split_words(text: str) -> list[str]:
    return text.split()


@task(outputs="lengths")
def measure(words: list[str]) -> list[int]:
    return [len(word) for word in words]


@task(outputs="joined")
def join_words(words: list[str]) -> str:
    return " ".join(words)


@task(outputs="amount")
def parse_amount(text: str) -> Decimal:
    from decimal import Decimal

    return Decimal(len(text))


@task(outputs="report")
def report(amount: Decimal, lengths: list[int]) -> str:
    return f"{amount}: {lengths}"


@task(outputs="report")
def report_with_words(amount: Decimal, lengths: list[str]) -> str:
    return f"{amount}: {lengths}"


@task(outputs=["word_count", "title"])
def summarize(text: str) -> Summary:
    return {"word_count": len(text.split()), "title": text[:10]}


@task(outputs=["start", "end"])
def locate(text: str) -> Span:
    return Span(0, len(text))


@task(outputs="width")
def width(start: int, end: int) -> int:
    return end - start


@task(outputs="shout")
def shout(title: bytes) -> bytes:
    return title.upper()
