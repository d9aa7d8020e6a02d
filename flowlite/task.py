"""`Task` and the `task` decorator: a callable plus its declared input and output keys."""

from __future__ import annotations

import functools
import operator
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Concatenate, Generic, ParamSpec, TypeVar, final, overload

from flowlite.errors import InvalidArgumentError, OutputError, TaskDefinitionError

# The declaration rules and signature readers load with the first task, so
# that `import flowlite` stays cheap.
if TYPE_CHECKING:
    import inspect

    from flowlite import _rules
    from flowlite._retry import Retry

__all__ = ["Inputs", "Outputs", "Task", "task"]

P = ParamSpec("P")
R = TypeVar("R")
T = TypeVar("T")
R_co = TypeVar("R_co", covariant=True)
# The instance, remaining parameters and return type of a task read from an instance.
_Instance = TypeVar("_Instance")
_BoundP = ParamSpec("_BoundP")
_BoundR = TypeVar("_BoundR")

Inputs = str | Sequence[str] | Mapping[str, str] | None
"""An `inputs` declaration: one key, keys in parameter order, or `{parameter: key}`."""

Outputs = str | Sequence[str] | None
"""An `outputs` declaration: one key, several keys, or `()` for a sink."""


@final
class Task(Generic[P, R_co]):
    """A function together with the state keys it reads and writes.

    Calling a task calls the function unchanged. The runner instead passes
    each bound parameter the state value of its key and stores the return
    value under the output keys. Create tasks with `task`.
    """

    def __init__(
        self,
        fn: Callable[P, R_co],
        *,
        inputs: Inputs = None,
        outputs: Outputs = None,
        name: str | None = None,
        retries: int | Retry | None = None,
        timeout: float | None = None,
    ) -> None:
        if isinstance(fn, Task):
            fn = fn.func
        if not callable(fn):
            msg = f"@task needs a callable, got {fn!r} ({type(fn).__name__})"
            raise TaskDefinitionError(msg, function=repr(fn))

        from flowlite._signature import (
            callable_name,
            is_async,
            is_coroutine_function,
            is_method_definition,
            read_signature,
            without_receiver,
        )

        function_name = callable_name(fn)
        if name is None:
            name = function_name
        elif not isinstance(name, str) or not name:
            msg = f"task {function_name!r}: name must be a non-empty str, got {name!r}"
            raise TaskDefinitionError(msg, function=function_name)
        self._is_async = is_coroutine_function(fn)
        if is_async(fn) and not self._is_async:
            msg = (
                f"task {function_name!r}: async generator functions cannot be tasks, because a "
                "task returns one value; collect the items in an async def function that returns them"
            )
            raise TaskDefinitionError(msg, function=function_name)

        functools.update_wrapper(self, fn)
        if isinstance(fn, functools.partial) and "__module__" not in vars(fn):
            # A plain partial reports the module and docstring of the partial
            # class, so take them from the function it calls, like the name.
            functools.update_wrapper(self, _called_function(fn), assigned=_PARTIAL_ASSIGNED, updated=())
        self.__name__ = function_name
        if not isinstance(getattr(fn, "__qualname__", None), str):
            self.__qualname__ = function_name
        # Annotated, so that type checkers see the same type for every callable.
        self.__wrapped__: Callable[..., Any] = fn

        self._func = fn
        self._name = name
        self._declared = (inputs, outputs, retries, timeout)
        self._retry: Retry | None = None
        self._timeout: float | None = None
        if retries is not None or timeout is not None:
            from flowlite._retry import check_timeout, make_retry

            self._retry = _checked_option(make_retry, retries, "retries", function_name)
            self._timeout = _checked_option(check_timeout, timeout, "timeout", function_name)
        signature = read_signature(fn)
        # A function defined in a class body with `self` first becomes a
        # method when read from an instance (see __get__), so its
        # declaration binds the parameters after `self`.
        self._method = is_method_definition(fn, signature)
        if self._method and signature is not None:
            signature = without_receiver(signature)
        self._signature = signature
        self._binding, self._outputs, self._single_output = _declare(
            fn, signature, inputs, outputs, function_name
        )
        self._inputs = self._binding.keys

        # What a plan copies for the runner, prepared once per task.
        positional = self._binding.positional
        self._call = (fn, positional, self._binding.keywords, self._outputs, self._single_output)
        self._getter = operator.itemgetter(*positional) if positional else None
        self._wrapped = bool(self._retry or self._timeout or self._is_async)

    @property
    def name(self) -> str:
        """The task's name, unique within a registry."""
        return self._name

    @property
    def func(self) -> Callable[P, R_co]:
        """The original callable."""
        return self._func

    @property
    def inputs(self) -> tuple[str, ...]:
        """The distinct keys the task reads, in binding order."""
        return self._inputs

    @property
    def is_async(self) -> bool:
        """Whether the function is an `async def` coroutine function."""
        return self._is_async

    @property
    def retry(self) -> Retry | None:
        """The retry policy, or None when a failure is final."""
        return self._retry

    @property
    def timeout(self) -> float | None:
        """The maximum seconds of one attempt, or None."""
        return self._timeout

    @property
    def outputs(self) -> tuple[str, ...]:
        """The keys the task writes; empty for a sink."""
        return self._outputs

    @property
    def parameters(self) -> Mapping[str, str]:
        """Each bound parameter's name (`*args[i]` for extra positionals) and its key."""
        return dict(self._binding.parameters)

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R_co:
        return self._func(*args, **kwargs)

    def __repr__(self) -> str:
        outputs = ", ".join(self._outputs) if self._outputs else "()"
        return f"<Task {self._name}({', '.join(self._inputs)}) -> {outputs}>"

    # The runner's entry points: arguments are gathered in the scheduling
    # thread and the call happens wherever the executor runs it.

    def _arguments(self, values: Mapping[str, Any]) -> tuple[list[Any], dict[str, Any]]:
        binding = self._binding
        args = [values[key] for key in binding.positional]
        kwargs = {parameter: values[key] for parameter, key in binding.keywords}
        return args, kwargs

    def _invoke(self, args: list[Any], kwargs: dict[str, Any]) -> tuple[Any, ...]:
        return self._split_result(self._func(*args, **kwargs))

    def _split_result(self, result: object) -> tuple[Any, ...]:
        # One value per output key, or OutputError before anything is stored.
        if self._single_output:
            return (result,)
        count = len(self._outputs)
        if count == 0:
            return ()
        if isinstance(result, tuple):
            if len(result) == count:
                return result
            problem = f"a tuple of length {len(result)}"
        elif isinstance(result, Mapping):
            if len(result) == count and all(key in result for key in self._outputs):
                return tuple(result[key] for key in self._outputs)
            missing = [key for key in self._outputs if key not in result]
            extra = [key for key in result if key not in self._outputs]
            parts = [f"missing keys {missing!r}"] if missing else []
            parts += [f"extra keys {extra!r}"] if extra else []
            problem = f"a mapping with {' and '.join(parts)}"
        else:
            problem = f"{type(result).__name__} {_short_repr(result)}"
        msg = (
            f"task {self._name!r} declares outputs {list(self._outputs)!r} and must return "
            f"a tuple of length {count} or a mapping with exactly those keys, but returned "
            f"{problem}; nothing it returned was stored"
        )
        raise OutputError(msg, task=self._name, outputs=self._outputs, value=result)

    @overload
    def __get__(self, instance: None, owner: type[Any] | None = None, /) -> Task[P, R_co]: ...

    @overload
    def __get__(
        self: Task[Concatenate[_Instance, _BoundP], _BoundR],
        instance: _Instance,
        owner: type[Any] | None = None,
        /,
    ) -> Task[_BoundP, _BoundR]: ...

    def __get__(self, instance: object, owner: type[Any] | None = None, /) -> Task[Any, Any]:
        """Bind the task to `instance` the way its function binds as a method.

        Read from a class, a task defined in its body is the task itself.
        Read from an instance, it is a new task whose function is the bound
        method, with the same declaration, so `obj.method(x)` calls
        `method(obj, x)` and the runner passes `obj` too. A callable that
        does not bind, such as a partial or a bound method, leaves the task
        unchanged.
        """
        if instance is None:
            return self
        getter = getattr(type(self._func), "__get__", None)
        if getter is None:
            return self
        bound_function = getter(self._func, instance, owner)
        if bound_function is self._func:
            return self
        if not self._method:
            return _rebuild_task(bound_function, self._name, *self._declared)

        # The declaration was already bound without `self`: copy it.
        bound: Task[Any, Any] = object.__new__(Task)
        bound.__dict__.update(self.__dict__)
        bound._func = bound_function
        bound.__wrapped__ = bound_function
        bound._method = False
        bound._call = (bound_function, *self._call[1:])
        return bound

    # Tasks are immutable, so copies can share the original.
    def __copy__(self) -> Task[P, R_co]:
        return self

    def __deepcopy__(self, memo: dict[int, object]) -> Task[P, R_co]:
        return self

    def __reduce__(self) -> str | tuple[Any, ...]:
        # A task bound to a module-level name pickles by that name, the way
        # functions do, so process pools and Dask load it from the worker's
        # import of the module. Other tasks (made from a bound method, a
        # partial or a function still reachable under its own name) pickle
        # their callable and declaration instead.
        if _find_by_qualname(self.__module__, self.__qualname__) is self:
            return self.__qualname__
        return (_rebuild_task, (self._func, self._name, *self._declared))


_PARTIAL_ASSIGNED = ("__module__", "__qualname__", "__doc__")


def _declare(
    fn: Callable[..., Any],
    signature: inspect.Signature | None,
    inputs: Inputs,
    outputs: Outputs,
    function: str,
) -> tuple[_rules.Binding, tuple[str, ...], bool]:
    # Apply the declaration rules, shared with the mypy plugin, and report
    # a broken one as TaskDefinitionError.
    from flowlite import _rules
    from flowlite._annotations import return_shape
    from flowlite._signature import describe

    try:
        described = None if signature is None else describe(signature)
        binding = _rules.bind_inputs(inputs, described, function=function)
        keys, single = _rules.bind_outputs(outputs, function=function, default=function)
        if outputs is not None and keys:
            _rules.check_return(outputs, keys, single, return_shape(fn, signature), function=function)
    except _rules.Violation as violation:
        raise TaskDefinitionError(
            violation.message, function=violation.function, parameter=violation.parameter, key=violation.key
        ) from None
    return binding, keys, single


def _called_function(fn: functools.partial[Any]) -> Callable[..., Any]:
    inner: Callable[..., Any] = fn
    while isinstance(inner, functools.partial):
        inner = inner.func
    return inner


def _checked_option(check: Callable[[Any], T], value: object, option: str, function: str) -> T:
    # Task options are validated by their own module; the error names the task.
    try:
        return check(value)
    except InvalidArgumentError as error:
        msg = f"task {function!r}: invalid {option}: {error}"
        raise TaskDefinitionError(msg, function=function, parameter=option) from None


def _find_by_qualname(module_name: object, qualname: str) -> object:
    module = sys.modules.get(module_name) if isinstance(module_name, str) else None
    target: object = module
    for part in qualname.split("."):
        if target is None or part == "<locals>":
            return None
        target = getattr(target, part, None)
    return target


def _rebuild_task(
    fn: Callable[..., Any],
    name: str,
    inputs: Inputs,
    outputs: Outputs,
    retries: int | Retry | None = None,
    timeout: float | None = None,
) -> Task[..., Any]:
    return Task(fn, inputs=inputs, outputs=outputs, name=name, retries=retries, timeout=timeout)


def _short_repr(value: object, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


@final
class TaskDecorator:
    """The decorator that `task(...)` returns when called with declarations only."""

    __slots__ = ("_inputs", "_name", "_outputs", "_register", "_retries", "_timeout")

    def __init__(
        self,
        *,
        inputs: Inputs,
        outputs: Outputs,
        name: str | None,
        retries: int | Retry | None = None,
        timeout: float | None = None,
        register: Callable[[Task[..., Any]], object] | None = None,
    ) -> None:
        self._inputs = inputs
        self._outputs = outputs
        self._name = name
        self._retries = retries
        self._timeout = timeout
        # Registry.task passes its add() so that the decorated task is registered.
        self._register = register

    def __call__(self, fn: Callable[P, R]) -> Task[P, R]:
        created = Task(
            fn,
            inputs=self._inputs,
            outputs=self._outputs,
            name=self._name,
            retries=self._retries,
            timeout=self._timeout,
        )
        if self._register is not None:
            self._register(created)
        return created


@overload
def task(fn: Callable[P, R], /) -> Task[P, R]: ...


@overload
def task(
    fn: None = None,
    /,
    *,
    inputs: Inputs = None,
    outputs: Outputs = None,
    name: str | None = None,
    retries: int | Retry | None = None,
    timeout: float | None = None,
) -> TaskDecorator: ...


def task(
    fn: Callable[P, R] | None = None,
    /,
    *,
    inputs: Inputs = None,
    outputs: Outputs = None,
    name: str | None = None,
    retries: int | Retry | None = None,
    timeout: float | None = None,
) -> Task[P, R] | TaskDecorator:
    """Declare a function as a task, bare (`@task`) or with declarations.

    `inputs` omitted binds the function's required parameters to keys of the
    same names; a list binds keys to parameters in order; a dict
    `{parameter: key}` binds by name. `outputs` omitted stores the return
    value under the function's name; one key stores it whole; a list of keys
    unpacks a returned tuple or mapping; `()` declares a sink. `name`
    defaults to the function's name.

    `retries` is a number of extra attempts after an exception, or a
    `Retry` with delays and the exceptions to retry. `timeout` is the
    maximum seconds one attempt may take before it fails with
    `TaskTimeoutError`.

    Raises `TaskDefinitionError` for any declaration that cannot bind.
    """
    decorator = TaskDecorator(inputs=inputs, outputs=outputs, name=name, retries=retries, timeout=timeout)
    if fn is None:
        return decorator
    return decorator(fn)
