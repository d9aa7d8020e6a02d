"""Tasks defined in a class body bind like methods: no `self` at the call site.

mypy and pyright check this file, and the tests never import it. A trailing "E:" comment
gives mypy's expected error, "R:" the type that mypy reveals and "P:" the
type that pyright reveals.
"""

from typing import reveal_type

from flowlite import task


class Scaler:
    def __init__(self, factor: int) -> None:
        self.factor = factor

    @task(inputs=["value"], outputs="scaled")
    def scale(self, value: int) -> int:
        return value * self.factor

    @task
    def describe(self, value: int, *, unit: str = "") -> str:
        return f"{value * self.factor}{unit}"


scaler = Scaler(2)
scaled: int = scaler.scale(3)
described: str = scaler.describe(3, unit="m")
unbound: int = Scaler.scale(scaler, 3)

reveal_type(scaler.scale)  # R: flowlite.task.Task[[value: int], int] # P: Task[(value: int), int]
reveal_type(Scaler.scale)  # R: flowlite.task.Task[[self: tests.typing.methods.Scaler, value: int], int] # P: Task[(self: Scaler, value: int), int]

scaler.scale("3")  # E: Argument 1 to "__call__" of "Task" has incompatible type "str"; expected "int"
scaler.scale(3, 4)  # E: Too many arguments for "__call__" of "Task"
scaler.describe(3, units="m")  # E: Unexpected keyword argument "units" for "__call__" of "Task"; did you mean "unit"?
