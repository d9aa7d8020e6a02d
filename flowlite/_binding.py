"""Declaration rules: how a task's `inputs` and `outputs` bind to its function.

The decorator calls these functions once per task; every violation raises
`TaskDefinitionError` naming the function, the parameter and the key.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from flowlite.errors import TaskDefinitionError

_POSITIONAL_KINDS = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
_VARIADIC_KINDS = (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)


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


def check_key(key: object, *, function: str, role: str, parameter: str | None = None) -> str:
    """Return `key` when it is a non-empty `str`, else raise `TaskDefinitionError`.

    The error names `parameter`, the parameter that the key is bound to, when given.
    """
    bound_to = "" if parameter is None else f" for parameter {parameter!r}"
    if not isinstance(key, str):
        msg = (
            f"task {function!r}: every {role} key must be a str, got {key!r} "
            f"({type(key).__name__}){bound_to}; name the value with a string such as 'text'"
        )
        raise TaskDefinitionError(msg, function=function, parameter=parameter, key=repr(key))
    if not key:
        msg = f"task {function!r}: {role} keys must be non-empty strings, got ''{bound_to}"
        raise TaskDefinitionError(msg, function=function, parameter=parameter, key=key)
    return key


def _check_parameter_name(name: object, *, function: str, key: object) -> str:
    if isinstance(name, str) and name:
        return name
    msg = (
        f"task {function!r}: inputs bind key {key!r} to {name!r} ({type(name).__name__}), but "
        "the parameter names in inputs={parameter: key} must be non-empty strings"
    )
    parameter = name if isinstance(name, str) else repr(name)
    raise TaskDefinitionError(
        msg, function=function, parameter=parameter, key=key if isinstance(key, str) else repr(key)
    )


def bind_outputs(outputs: object, *, function: str, default: str) -> tuple[tuple[str, ...], bool]:
    """Normalise an `outputs` declaration.

    Returns the output keys and whether the return value is stored whole
    under a single key (True) or unpacked from a tuple or mapping (False).
    """
    if outputs is None:
        return (default,), True
    if isinstance(outputs, str):
        return (check_key(outputs, function=function, role="output"),), True
    if not isinstance(outputs, (list, tuple)):
        msg = (
            f"task {function!r}: outputs must be a key, a list or tuple of keys, or () "
            f"for a sink, got {outputs!r} ({type(outputs).__name__})"
            + (
                "; a set has no order, so its keys cannot be matched to a returned tuple"
                if isinstance(outputs, (set, frozenset))
                else ""
            )
        )
        raise TaskDefinitionError(msg, function=function)

    keys = tuple(check_key(key, function=function, role="output") for key in outputs)
    seen: set[str] = set()
    for key in keys:
        if key in seen:
            msg = f"task {function!r}: output key {key!r} is declared twice; each output needs its own key"
            raise TaskDefinitionError(msg, function=function, key=key)
        seen.add(key)
    return keys, False


def bind_inputs(inputs: object, signature: inspect.Signature | None, *, function: str) -> Binding:
    """Bind an `inputs` declaration to the parameters of `signature`.

    `signature` is None for builtins that record no signature; their inputs
    are then passed as declared, without checks.
    """
    if isinstance(inputs, str):
        inputs = [inputs]

    if inputs is None:
        if signature is None:
            msg = (
                f"task {function!r}: Python records no signature for this callable, so its "
                "inputs cannot be inferred; pass inputs=[...] with one key per positional argument"
            )
            raise TaskDefinitionError(msg, function=function)
        return _bind_required(signature)

    if isinstance(inputs, Mapping):
        pairs: list[tuple[str, str]] = []
        for name, key in inputs.items():
            parameter = _check_parameter_name(name, function=function, key=key)
            pairs.append((parameter, check_key(key, function=function, role="input", parameter=parameter)))
        if signature is None:
            return Binding((), tuple(pairs), dict(pairs))
        return _bind_by_name(pairs, signature, function=function)

    if isinstance(inputs, Sequence) and not isinstance(inputs, (bytes, bytearray)):
        keys = [
            check_key(key, function=function, role="input", parameter=_positional_parameter(signature, index))
            for index, key in enumerate(inputs)
        ]
        if signature is None:
            return Binding(tuple(keys), (), {f"args[{i}]": key for i, key in enumerate(keys)})
        return _bind_in_order(keys, signature, function=function)

    msg = (
        f"task {function!r}: inputs must be a key, a list of keys (bound in parameter order) "
        f"or a dict {{parameter: key}}, got {inputs!r} ({type(inputs).__name__})"
    )
    raise TaskDefinitionError(msg, function=function)


def _bind_required(signature: inspect.Signature) -> Binding:
    positional: list[str] = []
    keywords: list[tuple[str, str]] = []
    for parameter in signature.parameters.values():
        if parameter.default is not inspect.Parameter.empty or parameter.kind in _VARIADIC_KINDS:
            continue
        if parameter.kind is inspect.Parameter.POSITIONAL_ONLY:
            positional.append(parameter.name)
        else:
            keywords.append((parameter.name, parameter.name))
    parameters = {name: name for name in positional} | dict(keywords)
    return Binding(tuple(positional), tuple(keywords), parameters)


def _positional_parameter(signature: inspect.Signature | None, index: int) -> str | None:
    """Return the parameter that key number `index` of `inputs=[...]` binds to, or None if none does."""
    if signature is None:
        return f"args[{index}]"
    params = list(signature.parameters.values())
    slots = [p for p in params if p.kind in _POSITIONAL_KINDS]
    if index < len(slots):
        return slots[index].name
    var_positional = next((p for p in params if p.kind is inspect.Parameter.VAR_POSITIONAL), None)
    if var_positional is not None:
        return f"*{var_positional.name}[{index - len(slots)}]"
    return None


def _bind_in_order(keys: list[str], signature: inspect.Signature, *, function: str) -> Binding:
    params = list(signature.parameters.values())
    slots = [p for p in params if p.kind in _POSITIONAL_KINDS]
    names = {p.name for p in params}

    parameters: dict[str, str] = {}
    for index, key in enumerate(keys):
        target = _positional_parameter(signature, index)
        if target is None:
            msg = (
                f"task {function!r}: {len(keys)} inputs {keys!r} were declared but the function "
                f"takes at most {len(slots)} positional argument{'' if len(slots) == 1 else 's'} "
                f"{[p.name for p in slots]!r}; "
                "remove the extra keys or bind by name with inputs={parameter: key}"
            )
            raise TaskDefinitionError(msg, function=function, key=key)

        if key in names and key != target:
            msg = (
                f"task {function!r}: input key {key!r} is bound to parameter {target!r}, but the "
                f"function also has a parameter named {key!r}; the keys are probably in the "
                f"wrong order. Use inputs={{parameter: key}} to bind by name"
            )
            raise TaskDefinitionError(msg, function=function, parameter=target, key=key)
        parameters[target] = key

    covered = slots[: len(keys)]
    for parameter in params:
        if parameter in covered or parameter.kind in _VARIADIC_KINDS:
            continue
        if parameter.default is inspect.Parameter.empty:
            msg = (
                f"task {function!r}: required parameter {parameter.name!r} gets no input from "
                f"inputs={keys!r}; add a key for it"
                + (
                    ", or bind by name with inputs={parameter: key}"
                    if parameter.kind is inspect.Parameter.KEYWORD_ONLY
                    else ""
                )
                + " or give the parameter a default"
            )
            raise TaskDefinitionError(msg, function=function, parameter=parameter.name)

    return Binding(tuple(keys), (), parameters)


def _bind_by_name(pairs: list[tuple[str, str]], signature: inspect.Signature, *, function: str) -> Binding:
    params = signature.parameters
    var_keyword = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())
    bound = dict(pairs)

    for name, key in pairs:
        parameter = params.get(name)
        if parameter is None and var_keyword:
            continue
        if parameter is None or parameter.kind is inspect.Parameter.VAR_POSITIONAL:
            named = [p.name for p in params.values() if p.kind not in _VARIADIC_KINDS]
            msg = (
                f"task {function!r}: inputs bind key {key!r} to parameter {name!r}, but the "
                f"function has no such named parameter; its parameters are {named!r}"
            )
            raise TaskDefinitionError(msg, function=function, parameter=name, key=key)
        if parameter.kind is inspect.Parameter.VAR_KEYWORD:
            msg = (
                f"task {function!r}: inputs bind key {key!r} to **{name}; bind keys to "
                f"the names that {name} should receive instead, such as {{{key!r}: {key!r}}}"
            )
            raise TaskDefinitionError(msg, function=function, parameter=name, key=key)

    # Positional-only parameters are passed positionally, so the bound ones
    # must form a prefix of them.
    positional: list[str] = []
    gap: str | None = None
    for parameter in params.values():
        if parameter.kind is not inspect.Parameter.POSITIONAL_ONLY:
            break
        if parameter.name not in bound:
            gap = parameter.name
        elif gap is not None:
            key = bound[parameter.name]
            msg = (
                f"task {function!r}: positional-only parameter {parameter.name!r} is bound to key "
                f"{key!r} but the earlier positional-only parameter {gap!r} is not bound; bind "
                f"{gap!r} too, or use inputs=[...] in parameter order"
            )
            raise TaskDefinitionError(msg, function=function, parameter=parameter.name, key=key)
        else:
            positional.append(bound[parameter.name])

    for parameter in params.values():
        if parameter.kind in _VARIADIC_KINDS or parameter.name in bound:
            continue
        if parameter.default is inspect.Parameter.empty:
            msg = (
                f"task {function!r}: required parameter {parameter.name!r} gets no input; "
                f"add {{{parameter.name!r}: key}} to inputs or give the parameter a default"
            )
            raise TaskDefinitionError(msg, function=function, parameter=parameter.name)

    keywords = tuple(
        (name, key)
        for name, key in pairs
        if name not in params or (params[name].kind is not inspect.Parameter.POSITIONAL_ONLY)
    )
    return Binding(tuple(positional), keywords, bound)
