"""Declaration rules: how a task's `inputs` and `outputs` bind to its function.

The decorator checks every task with these functions, and the mypy plugin
(`flowlite.mypy`) checks literal declarations with the same functions, so
the two report the same mistakes. The rules see a function only through
`Signature`, a neutral description that both `inspect.Signature` and mypy's
`CallableType` convert to. A broken rule raises `Violation`, which the
decorator turns into `TaskDefinitionError` and the plugin into a mypy error.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

__all__ = [
    "Binding",
    "Kind",
    "Parameter",
    "ReturnShape",
    "Signature",
    "Violation",
    "bind_inputs",
    "bind_outputs",
    "check_key",
    "check_return",
]


class Kind(enum.IntEnum):
    """The kind of a parameter, numbered like `inspect.Parameter.kind`."""

    POSITIONAL_ONLY = 0
    POSITIONAL_OR_KEYWORD = 1
    VAR_POSITIONAL = 2
    KEYWORD_ONLY = 3
    VAR_KEYWORD = 4


_POSITIONAL_KINDS = (Kind.POSITIONAL_ONLY, Kind.POSITIONAL_OR_KEYWORD)
_VARIADIC_KINDS = (Kind.VAR_POSITIONAL, Kind.VAR_KEYWORD)


@dataclass(frozen=True, slots=True)
class Parameter:
    """One parameter: its name, kind and whether it has a default."""

    name: str
    kind: Kind
    has_default: bool = False


@dataclass(frozen=True, slots=True)
class ReturnShape:
    """The layout of a return value, as far as the return annotation states it.

    `kind` is "unknown" (no annotation, or one that fixes no layout), "none"
    (annotated `None`), "tuple" (a tuple of exactly `length` values, named
    tuples included) or "typeddict" (the TypedDict `name` with the keys
    `keys`, of which `required` are required).
    """

    kind: str = "unknown"
    length: int = 0
    name: str = ""
    keys: tuple[str, ...] = ()
    required: frozenset[str] = field(default_factory=frozenset)


UNKNOWN_RETURN = ReturnShape()


@dataclass(frozen=True, slots=True)
class Signature:
    """The parameters of a callable in order, and the shape of its return value."""

    parameters: tuple[Parameter, ...]
    returns: ReturnShape = UNKNOWN_RETURN


class Violation(Exception):
    """A declaration that breaks a rule.

    `problem` says what is wrong and `fix` what to change; `message` joins
    them with `joiner`. `argument` ("inputs" or "outputs") and `item` (the
    position of the offending entry in a list or dict) locate the mistake
    in the declaration, for the mypy plugin's error position.
    """

    def __init__(
        self,
        problem: str,
        fix: str = "",
        *,
        function: str,
        parameter: str | None = None,
        key: str | None = None,
        argument: str | None = None,
        item: int | None = None,
        joiner: str = "; ",
    ) -> None:
        super().__init__(problem + joiner + fix if fix else problem)
        self.problem = problem
        self.fix = fix
        self.function = function
        self.parameter = parameter
        self.key = key
        self.argument = argument
        self.item = item

    @property
    def message(self) -> str:
        """The whole message: the problem and the fix."""
        return str(self.args[0])


@dataclass(frozen=True, slots=True)
class Binding:
    """How the state's values become the arguments of one call.

    `positional` are the keys passed as positional arguments, in order;
    `keywords` the `(parameter, key)` pairs passed by name; `parameters`
    maps each bound parameter name (or `*args[i]`) to its key.
    """

    positional: tuple[str, ...]
    keywords: tuple[tuple[str, str], ...]
    parameters: Mapping[str, str]

    @property
    def keys(self) -> tuple[str, ...]:
        """The distinct input keys, in binding order."""
        return tuple(dict.fromkeys(self.parameters.values()))


def check_key(
    key: object,
    *,
    function: str,
    role: str,
    parameter: str | None = None,
    argument: str | None = None,
    item: int | None = None,
) -> str:
    """Return `key` when it is a non-empty `str`, else raise `Violation`.

    The error names `parameter`, the parameter that the key is bound to, when given.
    """
    bound_to = "" if parameter is None else f" for parameter {parameter!r}"
    if not isinstance(key, str):
        raise Violation(
            f"task {function!r}: every {role} key must be a str, got {key!r} "
            f"({type(key).__name__}){bound_to}",
            "name the value with a string such as 'text'",
            function=function,
            parameter=parameter,
            key=repr(key),
            argument=argument,
            item=item,
        )
    if not key:
        raise Violation(
            f"task {function!r}: {role} keys must be non-empty strings, got ''{bound_to}",
            "name the value with a string such as 'text'",
            function=function,
            parameter=parameter,
            key=key,
            argument=argument,
            item=item,
        )
    return key


def _check_parameter_name(name: object, *, function: str, key: object, item: int) -> str:
    if isinstance(name, str) and name:
        return name
    raise Violation(
        f"task {function!r}: inputs bind key {key!r} to {name!r} ({type(name).__name__}), but "
        "the parameter names in inputs={parameter: key} must be non-empty strings",
        "write the name of a parameter of the function",
        function=function,
        parameter=name if isinstance(name, str) else repr(name),
        key=key if isinstance(key, str) else repr(key),
        argument="inputs",
        item=item,
    )


# Outputs


def bind_outputs(outputs: object, *, function: str, default: str) -> tuple[tuple[str, ...], bool]:
    """Normalise an `outputs` declaration.

    Returns the output keys and whether the return value is stored whole
    under a single key (True) or unpacked from a tuple or mapping (False).
    """
    if outputs is None:
        return (default,), True
    if isinstance(outputs, str):
        return (check_key(outputs, function=function, role="output", argument="outputs"),), True
    if not isinstance(outputs, (list, tuple)):
        unordered = (
            "; a set has no order, so its keys cannot be matched to a returned tuple"
            if isinstance(outputs, (set, frozenset))
            else ""
        )
        raise Violation(
            f"task {function!r}: outputs must be a key, a list or tuple of keys, or () "
            f"for a sink, got {outputs!r} ({type(outputs).__name__}){unordered}",
            function=function,
            argument="outputs",
        )

    keys = tuple(
        check_key(key, function=function, role="output", argument="outputs", item=index)
        for index, key in enumerate(outputs)
    )
    seen: set[str] = set()
    for index, key in enumerate(keys):
        if key in seen:
            raise Violation(
                f"task {function!r}: output key {key!r} is declared twice",
                "each output needs its own key",
                function=function,
                key=key,
                argument="outputs",
                item=index,
            )
        seen.add(key)
    return keys, False


def check_return(
    outputs: object, keys: tuple[str, ...], single: bool, returns: ReturnShape, *, function: str
) -> None:
    """Check the declared output keys against the shape of the return annotation.

    `outputs` is the declaration as written, and `keys` and `single` are
    what `bind_outputs` made of it. Only a list of several keys is checked,
    because omitted outputs and a single key store the return value whole,
    whatever it is.
    """
    if outputs is None or single or not keys:
        # A single key stores the return value whole, even None, which can
        # serve as a marker that orders two tasks.
        return
    if returns.kind == "none":
        raise Violation(
            f"task {function!r} declares outputs {list(keys)!r} but its return annotation is None, "
            "and None cannot be split into several outputs",
            "declare outputs=() for a sink, or annotate the tuple or TypedDict that the function returns",
            function=function,
            argument="outputs",
        )

    if returns.kind == "tuple" and returns.length != len(keys):
        declared = f"{len(keys)} output{'' if len(keys) == 1 else 's'} {list(keys)!r}"
        values = f"{returns.length} value{'' if returns.length == 1 else 's'}"
        needed = f"{returns.length} output key{'' if returns.length == 1 else 's'}"
        raise Violation(
            f"task {function!r} declares {declared} but its return annotation is a tuple of {values}",
            f"declare {needed}, one per tuple item, or change the return annotation",
            function=function,
            argument="outputs",
        )
    if returns.kind == "typeddict":
        _check_typeddict_keys(keys, returns, function=function)


def _check_typeddict_keys(keys: tuple[str, ...], returns: ReturnShape, *, function: str) -> None:
    # The runner takes a returned mapping only when its keys are exactly the
    # output keys, so every key of the TypedDict must be an output and be required.
    missing = [key for key in returns.keys if key not in keys]
    extra = [key for key in keys if key not in returns.keys]
    if missing or extra:
        parts = [f"lacks {missing!r}"] if missing else []
        parts += [f"has {extra!r}, which the TypedDict does not"] if extra else []
        raise Violation(
            f"task {function!r} declares outputs {list(keys)!r} but its return annotation is "
            f"the TypedDict {returns.name!r} with the keys {list(returns.keys)!r}: the declaration "
            + " and ".join(parts),
            f"declare outputs={list(returns.keys)!r} to match the TypedDict",
            function=function,
            key=(extra or missing)[0],
            argument="outputs",
        )
    optional = [key for key in returns.keys if key not in returns.required]
    if optional:
        raise Violation(
            f"task {function!r} declares outputs {list(keys)!r} but its return annotation, the "
            f"TypedDict {returns.name!r}, does not require {optional!r}, and a returned mapping "
            "must have every output key",
            f"make every key of {returns.name!r} required, or store the mapping whole with one output key",
            function=function,
            key=optional[0],
            argument="outputs",
        )


# Inputs


def bind_inputs(inputs: object, signature: Signature | None, *, function: str) -> Binding:
    """Bind an `inputs` declaration to the parameters of `signature`.

    `signature` is None for builtins that record no signature; their inputs
    are then passed as declared, without checks.
    """
    if isinstance(inputs, str):
        inputs = [inputs]

    if inputs is None:
        if signature is None:
            raise Violation(
                f"task {function!r}: Python records no signature for this callable, so its "
                "inputs cannot be inferred",
                "pass inputs=[...] with one key per positional argument",
                function=function,
            )
        return _bind_required(signature)

    if isinstance(inputs, Mapping):
        pairs: list[tuple[str, str]] = []
        for index, (name, key) in enumerate(inputs.items()):
            parameter = _check_parameter_name(name, function=function, key=key, item=index)
            checked = check_key(
                key, function=function, role="input", parameter=parameter, argument="inputs", item=index
            )
            pairs.append((parameter, checked))
        if signature is None:
            return Binding((), tuple(pairs), dict(pairs))
        return _bind_by_name(pairs, signature, function=function)

    if isinstance(inputs, Sequence) and not isinstance(inputs, (bytes, bytearray)):
        keys = [
            check_key(
                key,
                function=function,
                role="input",
                parameter=_positional_parameter(signature, index),
                argument="inputs",
                item=index,
            )
            for index, key in enumerate(inputs)
        ]
        if signature is None:
            return Binding(tuple(keys), (), {f"args[{i}]": key for i, key in enumerate(keys)})
        return _bind_in_order(keys, signature, function=function)

    raise Violation(
        f"task {function!r}: inputs must be a key, a list of keys (bound in parameter order) "
        f"or a dict {{parameter: key}}, got {inputs!r} ({type(inputs).__name__})",
        function=function,
        argument="inputs",
    )


def _bind_required(signature: Signature) -> Binding:
    positional: list[str] = []
    keywords: list[tuple[str, str]] = []
    for parameter in signature.parameters:
        if parameter.has_default or parameter.kind in _VARIADIC_KINDS:
            continue
        if parameter.kind is Kind.POSITIONAL_ONLY:
            positional.append(parameter.name)
        else:
            keywords.append((parameter.name, parameter.name))
    parameters = {name: name for name in positional} | dict(keywords)
    return Binding(tuple(positional), tuple(keywords), parameters)


def _positional_parameter(signature: Signature | None, index: int) -> str | None:
    """Return the parameter that key number `index` of `inputs=[...]` binds to, or None if none does."""
    if signature is None:
        return f"args[{index}]"
    params = signature.parameters
    slots = [p for p in params if p.kind in _POSITIONAL_KINDS]
    if index < len(slots):
        return slots[index].name
    var_positional = next((p for p in params if p.kind is Kind.VAR_POSITIONAL), None)
    if var_positional is not None:
        return f"*{var_positional.name}[{index - len(slots)}]"
    return None


def _bind_in_order(keys: list[str], signature: Signature, *, function: str) -> Binding:
    params = signature.parameters
    slots = [p for p in params if p.kind in _POSITIONAL_KINDS]
    names = {p.name for p in params}

    parameters: dict[str, str] = {}
    for index, key in enumerate(keys):
        target = _positional_parameter(signature, index)
        if target is None:
            raise Violation(
                f"task {function!r}: {len(keys)} inputs {keys!r} were declared but the function "
                f"takes at most {len(slots)} positional argument{'' if len(slots) == 1 else 's'} "
                f"{[p.name for p in slots]!r}",
                "remove the extra keys or bind by name with inputs={parameter: key}",
                function=function,
                key=key,
                argument="inputs",
                item=index,
            )

        if key in names and key != target:
            raise Violation(
                f"task {function!r}: input key {key!r} is bound to parameter {target!r}, but the "
                f"function also has a parameter named {key!r}; the keys are probably in the "
                "wrong order",
                "Use inputs={parameter: key} to bind by name",
                function=function,
                parameter=target,
                key=key,
                argument="inputs",
                item=index,
                joiner=". ",
            )
        parameters[target] = key

    covered = slots[: len(keys)]
    for parameter in params:
        if parameter in covered or parameter.kind in _VARIADIC_KINDS or parameter.has_default:
            continue
        by_name = (
            ", or bind by name with inputs={parameter: key}" if parameter.kind is Kind.KEYWORD_ONLY else ""
        )
        raise Violation(
            f"task {function!r}: required parameter {parameter.name!r} gets no input from inputs={keys!r}",
            f"add a key for it{by_name} or give the parameter a default",
            function=function,
            parameter=parameter.name,
            argument="inputs",
        )

    return Binding(tuple(keys), (), parameters)


def _bind_by_name(pairs: list[tuple[str, str]], signature: Signature, *, function: str) -> Binding:
    params = {p.name: p for p in signature.parameters}
    var_keyword = any(p.kind is Kind.VAR_KEYWORD for p in signature.parameters)
    bound = dict(pairs)

    for index, (name, key) in enumerate(pairs):
        parameter = params.get(name)
        if parameter is None and var_keyword:
            continue
        if parameter is None or parameter.kind is Kind.VAR_POSITIONAL:
            named = [p.name for p in signature.parameters if p.kind not in _VARIADIC_KINDS]
            raise Violation(
                f"task {function!r}: inputs bind key {key!r} to parameter {name!r}, but the "
                "function has no such named parameter",
                f"its parameters are {named!r}",
                function=function,
                parameter=name,
                key=key,
                argument="inputs",
                item=index,
            )
        if parameter.kind is Kind.VAR_KEYWORD:
            raise Violation(
                f"task {function!r}: inputs bind key {key!r} to **{name}",
                f"bind keys to the names that {name} should receive instead, such as {{{key!r}: {key!r}}}",
                function=function,
                parameter=name,
                key=key,
                argument="inputs",
                item=index,
            )

    # Positional-only parameters are passed positionally, so the bound ones
    # must form a prefix of them.
    positional: list[str] = []
    gap: str | None = None
    for parameter in signature.parameters:
        if parameter.kind is not Kind.POSITIONAL_ONLY:
            break
        if parameter.name not in bound:
            gap = parameter.name
        elif gap is not None:
            key = bound[parameter.name]
            raise Violation(
                f"task {function!r}: positional-only parameter {parameter.name!r} is bound to key "
                f"{key!r} but the earlier positional-only parameter {gap!r} is not bound",
                f"bind {gap!r} too, or use inputs=[...] in parameter order",
                function=function,
                parameter=parameter.name,
                key=key,
                argument="inputs",
                item=list(bound).index(parameter.name),
            )
        else:
            positional.append(bound[parameter.name])

    for parameter in signature.parameters:
        if parameter.kind in _VARIADIC_KINDS or parameter.name in bound or parameter.has_default:
            continue
        raise Violation(
            f"task {function!r}: required parameter {parameter.name!r} gets no input",
            f"add {{{parameter.name!r}: key}} to inputs or give the parameter a default",
            function=function,
            parameter=parameter.name,
            argument="inputs",
        )

    keywords = tuple(
        (name, key)
        for name, key in pairs
        if name not in params or params[name].kind is not Kind.POSITIONAL_ONLY
    )
    return Binding(tuple(positional), keywords, bound)
