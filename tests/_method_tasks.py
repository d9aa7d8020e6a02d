"""A class whose methods are tasks, importable by worker processes of a process pool."""

from __future__ import annotations

from flowlite import task


class Converter:
    """Converts numbers with a factor that each instance holds."""

    def __init__(self, factor: int) -> None:
        self.factor = factor

    @task(inputs=["number"], outputs="converted")
    def convert(self, number: int) -> int:
        return number * self.factor

    @task(outputs="described")
    def describe(self, converted: int, *, unit: str = "m") -> str:
        return f"{converted} {unit}"
