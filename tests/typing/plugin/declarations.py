"""Task declarations for the mypy plugin, checked by mypy and also run by the tests.

A trailing "E:" comment gives the plugin's expected error and "N:" its
note. Each `case_*` function declares one task: those with a mistake must
raise TaskDefinitionError with the same message when they run, and the
`silent_*` functions hold declarations the plugin leaves alone, because
they are not literals or not calls of `task`.
"""

from typing import NamedTuple, NotRequired, TypedDict

import flowlite
from flowlite import Registry, task


class Counts(TypedDict):
    words: int
    lines: int


class Partial(TypedDict):
    words: int
    note: NotRequired[str]


class Bounds(NamedTuple):
    low: int
    high: int


def pair(first: int, second: int) -> int:
    return first + second


def positional(a: int, b: int, /) -> int:
    return a - b


def case_unknown_parameter() -> None:
    @task(inputs={"txt": "text"}, outputs="length")  # E: task 'count': inputs bind key 'text' to parameter 'txt', but the function has no such named parameter # N: Its parameters are ['text']
    def count(text: str) -> int:
        return len(text)


def case_too_many_inputs() -> None:
    task(inputs=["a", "b", "c"], outputs="total")(pair)  # E: task 'pair': 3 inputs ['a', 'b', 'c'] were declared but the function takes at most 2 positional arguments ['first', 'second'] # N: Remove the extra keys or bind by name with inputs={parameter: key}


def case_likely_swap() -> None:
    @task(inputs=["factor", "value"], outputs="scaled")  # E: task 'scale': input key 'factor' is bound to parameter 'value', but the function also has a parameter named 'factor'; the keys are probably in the wrong order # N: Use inputs={parameter: key} to bind by name
    def scale(value: int, factor: int) -> int:
        return value * factor


def case_required_parameter_uncovered() -> None:
    task(inputs=["a"], outputs="total")(pair)  # E: task 'pair': required parameter 'second' gets no input from inputs=['a'] # N: Add a key for it or give the parameter a default


def case_required_keyword_uncovered() -> None:
    @task(inputs={"text": "raw"})  # E: task 'tag': required parameter 'label' gets no input # N: Add {'label': key} to inputs or give the parameter a default
    def tag(text: str, *, label: str) -> str:
        return label + text


def case_positional_only_gap() -> None:
    task(inputs={"b": "y"}, outputs="difference")(positional)  # E: task 'positional': positional-only parameter 'b' is bound to key 'y' but the earlier positional-only parameter 'a' is not bound # N: Bind 'a' too, or use inputs=[...] in parameter order


def case_tuple_length() -> None:
    @task(outputs=["low", "high", "mean"])  # E: task 'bounds' declares 3 outputs ['low', 'high', 'mean'] but its return annotation is a tuple of 2 values # N: Declare 2 output keys, one per tuple item, or change the return annotation
    def bounds(values: list[int]) -> tuple[int, int]:
        return min(values), max(values)


def case_named_tuple_length() -> None:
    @task(outputs=["low"])  # E: task 'named_bounds' declares 1 output ['low'] but its return annotation is a tuple of 2 values # N: Declare 2 output keys, one per tuple item, or change the return annotation
    def named_bounds(values: list[int]) -> Bounds:
        return Bounds(min(values), max(values))


def case_typed_dict_keys() -> None:
    @task(outputs=["words", "chars"])  # E: task 'counts' declares outputs ['words', 'chars'] but its return annotation is the TypedDict 'Counts' with the keys ['words', 'lines']: the declaration lacks ['lines'] and has ['chars'], which the TypedDict does not # N: Declare outputs=['words', 'lines'] to match the TypedDict
    def counts(text: str) -> Counts:
        return {"words": len(text.split()), "lines": text.count("\n")}


def case_typed_dict_not_required() -> None:
    @task(outputs=["words", "note"])  # E: task 'partial' declares outputs ['words', 'note'] but its return annotation, the TypedDict 'Partial', does not require ['note'], and a returned mapping must have every output key # N: Make every key of 'Partial' required, or store the mapping whole with one output key
    def partial(text: str) -> Partial:
        return {"words": 1}


def case_duplicate_output() -> None:
    @task(outputs=["low", "low"])  # E: task 'twice': output key 'low' is declared twice # N: Each output needs its own key
    def twice(value: int) -> tuple[int]:
        return (value,)


def case_duplicate_output_key() -> None:
    task(outputs=("low", "high", "low"))(pair)  # E: task 'pair': output key 'low' is declared twice # N: Each output needs its own key


def case_none_return() -> None:
    @task(outputs=["path", "size"])  # E: task 'save' declares outputs ['path', 'size'] but its return annotation is None, and None cannot be split into several outputs # N: Declare outputs=() for a sink, or annotate the tuple or TypedDict that the function returns
    def save(text: str) -> None:
        print(text)


def case_empty_key() -> None:
    task(inputs=["a", ""], outputs="total")(pair)  # E: task 'pair': input keys must be non-empty strings, got '' for parameter 'second' # N: Name the value with a string such as 'text'


def case_method_without_self() -> None:
    class Scaler:
        @task(inputs=["value", "factor"], outputs="scaled")  # E: task 'scale': 2 inputs ['value', 'factor'] were declared but the function takes at most 1 positional argument ['value'] # N: Remove the extra keys or bind by name with inputs={parameter: key}
        def scale(self, value: int) -> int:
            return value


def case_async_tuple_length() -> None:
    @task(outputs=["status", "body", "headers"])  # E: task 'fetch' declares 3 outputs ['status', 'body', 'headers'] but its return annotation is a tuple of 2 values # N: Declare 2 output keys, one per tuple item, or change the return annotation
    async def fetch(url: str) -> tuple[int, bytes]:
        return 200, url.encode()


def case_registry_decorator() -> None:
    registry = Registry()
    registry.task(inputs=["a", "b", "c"], outputs="total")(pair)  # E: task 'pair': 3 inputs ['a', 'b', 'c'] were declared but the function takes at most 2 positional arguments ['first', 'second'] # N: Remove the extra keys or bind by name with inputs={parameter: key}


def case_module_attribute() -> None:
    @flowlite.task(inputs=["b", "a"], outputs="total")  # E: task 'add': input key 'b' is bound to parameter 'a', but the function also has a parameter named 'b'; the keys are probably in the wrong order # N: Use inputs={parameter: key} to bind by name
    def add(a: int, b: int) -> int:
        return a + b


def silent_method_binds_after_self() -> None:
    class Scaler:
        @task(inputs=["value"], outputs="scaled")
        def scale(self, value: int) -> int:
            return value

    Scaler().scale(2)


def silent_correct_declarations() -> None:
    task(inputs=["a", "b"], outputs="total")(pair)
    task(inputs={"first": "a", "second": "b"}, outputs=["sum"])(lambda first, second: (first + second,))

    @task(outputs=["words", "lines"])
    def counts(text: str) -> Counts:
        return {"words": 1, "lines": 1}

    @task(outputs=["low", "high"])
    def bounds(values: list[int]) -> Bounds:
        return Bounds(min(values), max(values))

    @task(outputs="marker")
    def mark() -> None:
        return None


def runtime_only_keys_in_a_variable() -> None:
    keys = ["a", "b", "c"]
    task(inputs=keys, outputs="total")(pair)


def runtime_only_unpacked_arguments() -> None:
    declaration: dict[str, list[str]] = {"inputs": ["a", "b", "c"]}
    task(**declaration)(pair)  # type: ignore[call-overload]

