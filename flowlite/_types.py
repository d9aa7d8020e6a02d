"""Static compatibility of two type annotations, returned as compatible, incompatible or unknown.

`plan()` asks whether a value of a producer's output type may be passed to
a consumer's parameter. The answer follows the static rules that mypy and
pyright apply to a direct call, with three outcomes: `COMPATIBLE`,
`INCOMPATIBLE` (a definite mismatch, such as `list[int]` into `list[str]`)
and `UNKNOWN` (an unresolved name, a protocol that cannot be checked, a
construct this module does not model). Only `INCOMPATIBLE` fails a plan.

`typing.get_type_hints` and beartype's `is_subhint` are not used: the first
fails a whole function on one unresolvable name, and the second treats
`int` as incompatible with `float` and gets type variables wrong.
"""

from __future__ import annotations

import collections
import collections.abc as abc
import enum
import types
import typing
from collections.abc import Iterable
from typing import Any, Final

__all__ = ["UNRESOLVED", "Compatibility", "compatibility", "format_type", "normalize"]


class Compatibility(enum.Enum):
    """Whether a value of one type may be passed where another is expected."""

    COMPATIBLE = "compatible"
    INCOMPATIBLE = "incompatible"
    UNKNOWN = "unknown"


COMPATIBLE: Final = Compatibility.COMPATIBLE
INCOMPATIBLE: Final = Compatibility.INCOMPATIBLE
UNKNOWN: Final = Compatibility.UNKNOWN


class _Unresolved:
    """The marker for an annotation whose names could not be resolved."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "<unresolved annotation>"

    def __reduce__(self) -> str:
        return "UNRESOLVED"


UNRESOLVED: Final = _Unresolved()

# Recursion deeper than this (a recursive alias, say) returns UNKNOWN.
_MAX_DEPTH = 16
# Results are cached by (source, target), and the cache is cleared when full.
_CACHE_SIZE = 4096
_cache: dict[tuple[object, object], Compatibility] = {}

_NONE_TYPE = type(None)
_WRAPPERS = frozenset(
    form
    for form in (typing.Required, typing.NotRequired, getattr(typing, "ReadOnly", None))
    if form is not None
)
_NEVER = frozenset(form for form in (typing.NoReturn, getattr(typing, "Never", None)) if form is not None)


def compatibility(source: object, target: object) -> Compatibility:
    """Return whether a value annotated `source` may be passed to a parameter annotated `target`."""
    if source is target:
        return UNKNOWN if source is UNRESOLVED else COMPATIBLE
    try:
        return _cache[source, target]
    except KeyError:
        pass
    except TypeError:
        # An annotation with unhashable parts, such as Annotated metadata.
        try:
            return _compare(source, target, 0)
        except TypeError:
            return UNKNOWN
    try:
        answer = _compare(source, target, 0)
    except TypeError:
        # An exotic annotation that a typing helper or issubclass() rejects.
        answer = UNKNOWN
    if len(_cache) >= _CACHE_SIZE:
        _cache.clear()
    _cache[source, target] = answer
    return answer


def normalize(annotation: object) -> object:
    """Strip the wrappers that do not change a type: `Annotated`, `Required`, aliases, `None`."""
    while True:
        if annotation is None:
            return _NONE_TYPE
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated or origin in _WRAPPERS:
            annotation = typing.get_args(annotation)[0]
            continue
        alias_value = getattr(annotation, "__value__", None)
        if alias_value is not None and type(annotation).__name__ == "TypeAliasType":
            annotation = alias_value
            continue
        if annotation is typing.LiteralString:
            return str
        return annotation


# Combining the answers of several parts.


def _all(answers: Iterable[Compatibility]) -> Compatibility:
    # Every part must fit: one mismatch decides, one unknown leaves it open.
    result = COMPATIBLE
    for answer in answers:
        if answer is INCOMPATIBLE:
            return INCOMPATIBLE
        if answer is UNKNOWN:
            result = UNKNOWN
    return result


def _any(answers: Iterable[Compatibility]) -> Compatibility:
    # One part must fit: one match decides, and only all mismatches fail.
    result = INCOMPATIBLE
    for answer in answers:
        if answer is COMPATIBLE:
            return COMPATIBLE
        if answer is UNKNOWN:
            result = UNKNOWN
    return result


def _invariant(source: object, target: object, depth: int) -> Compatibility:
    forward = _compare(source, target, depth)
    if forward is INCOMPATIBLE:
        return INCOMPATIBLE
    backward = _compare(target, source, depth)
    if backward is INCOMPATIBLE:
        return INCOMPATIBLE
    return COMPATIBLE if forward is COMPATIBLE and backward is COMPATIBLE else UNKNOWN


# The comparison, one kind of annotation after another.


def _compare(source: object, target: object, depth: int) -> Compatibility:
    if depth > _MAX_DEPTH or source is UNRESOLVED or target is UNRESOLVED:
        return UNKNOWN
    depth += 1
    source = normalize(source)
    target = normalize(target)
    if source is target or target is Any or target is object or source is Any or source in _NEVER:
        return COMPATIBLE
    if _is_unmodelled(source) or _is_unmodelled(target):
        return UNKNOWN

    source_origin = typing.get_origin(source)
    target_origin = typing.get_origin(target)
    if _is_union(source_origin):
        return _all(_compare(member, target, depth) for member in typing.get_args(source))
    if _is_union(target_origin):
        return _any(_compare(source, member, depth) for member in typing.get_args(target))

    if isinstance(target, typing.TypeVar):
        return _into_type_variable(source, target, depth)
    if isinstance(source, typing.TypeVar):
        return _from_type_variable(source, target, depth)
    if source_origin is typing.Literal:
        return _all(_literal_into(value, target, depth) for value in typing.get_args(source))
    if target_origin is typing.Literal:
        return _into_literal(source, typing.get_args(target))
    if _is_new_type(source) or _is_new_type(target):
        return _new_types(source, target, depth)
    if target_origin is abc.Callable or target is abc.Callable:
        return _into_callable(source, target, depth)
    if source_origin is abc.Callable or source is abc.Callable:
        return _from_callable(target)
    if source_origin is type or target_origin is type:
        return _type_objects(source, target, depth)
    if typing.is_typeddict(source) or typing.is_typeddict(target):
        return _typed_dicts(source, target, depth)
    return _classes(source, target, depth)


def _is_union(origin: object) -> bool:
    return origin is typing.Union or origin is types.UnionType


def _is_unmodelled(annotation: object) -> bool:
    # ParamSpec, TypeVarTuple, Unpack, Self, ForwardRef and strings left over
    # in an annotation: the checker cannot decide anything about them.
    return (
        isinstance(annotation, (str, typing.ForwardRef, typing.ParamSpec, typing.TypeVarTuple))
        or typing.get_origin(annotation) is typing.Unpack
        or annotation is typing.Self
    )


def _is_new_type(annotation: object) -> bool:
    return isinstance(annotation, typing.NewType)


def _into_type_variable(source: object, target: typing.TypeVar, depth: int) -> Compatibility:
    # A consumer's own type variable takes any type within its bound.
    if target.__constraints__:
        return _any(_compare(source, constraint, depth) for constraint in target.__constraints__)
    if target.__bound__ is not None:
        return _compare(source, target.__bound__, depth)
    return COMPATIBLE


def _from_type_variable(source: typing.TypeVar, target: object, depth: int) -> Compatibility:
    # A producer's type variable stands for some type within its bound,
    # chosen by the producer's inputs, which the plan does not track.
    if source.__constraints__:
        answers = {_compare(constraint, target, depth) for constraint in source.__constraints__}
        return answers.pop() if len(answers) == 1 else UNKNOWN
    bound = object if source.__bound__ is None else source.__bound__
    answer = _compare(bound, target, depth)
    return COMPATIBLE if answer is COMPATIBLE else UNKNOWN


def _literal_into(value: object, target: object, depth: int) -> Compatibility:
    if typing.get_origin(target) is typing.Literal:
        allowed = typing.get_args(target)
        found = any(type(value) is type(other) and value == other for other in allowed)
        return COMPATIBLE if found else INCOMPATIBLE
    return _compare(type(value), target, depth)


def _into_literal(source: object, allowed: tuple[object, ...]) -> Compatibility:
    # A wider type than the literal values is a mismatch, as in mypy, except
    # where the values cover the whole type: bool and enumerations.
    if not isinstance(source, type) or _is_protocol(source):
        return UNKNOWN
    if source is bool and {True, False} <= {value for value in allowed if type(value) is bool}:
        return COMPATIBLE
    if issubclass(source, enum.Enum) and all(member in allowed for member in source):
        return COMPATIBLE
    return INCOMPATIBLE


def _new_types(source: object, target: object, depth: int) -> Compatibility:
    # A NewType is a subtype of its supertype, and no other type is a subtype of it.
    if _is_new_type(target):
        chain = source
        while _is_new_type(chain):
            if chain is target:
                return COMPATIBLE
            chain = getattr(chain, "__supertype__", None)
        answer = _compare(source, getattr(target, "__supertype__", object), depth)
        return UNKNOWN if answer is UNKNOWN else INCOMPATIBLE
    return _compare(getattr(source, "__supertype__", object), target, depth)


def _into_callable(source: object, target: object, depth: int) -> Compatibility:
    source_origin = typing.get_origin(source)
    if source_origin is abc.Callable or source is abc.Callable:
        return _callables(source, target, depth)
    if isinstance(source, type) and not _is_protocol(source):
        # Instances of a class are callable when the class defines __call__.
        defines_call = any("__call__" in vars(klass) for klass in source.__mro__)
        return UNKNOWN if defines_call else INCOMPATIBLE
    return UNKNOWN


def _callables(source: object, target: object, depth: int) -> Compatibility:
    source_args = typing.get_args(source)
    target_args = typing.get_args(target)
    if not source_args or not target_args:
        return COMPATIBLE
    source_parameters, source_return = source_args[0], source_args[-1]
    target_parameters, target_return = target_args[0], target_args[-1]
    returns = _compare(source_return, target_return, depth)
    if not isinstance(source_parameters, list) or not isinstance(target_parameters, list):
        # `...` or a ParamSpec: the parameters accept anything or are unknown.
        both_open = source_parameters is Ellipsis and target_parameters is Ellipsis
        return returns if both_open or source_parameters is Ellipsis else _all((returns, UNKNOWN))
    if len(source_parameters) != len(target_parameters):
        return INCOMPATIBLE
    # Parameters are contravariant: the target's arguments must fit the source's parameters.
    parameters = (
        _compare(expected, accepted, depth)
        for accepted, expected in zip(source_parameters, target_parameters, strict=True)
    )
    return _all((returns, *parameters))


def _from_callable(target: object) -> Compatibility:
    # A callable object may be an instance of almost any class, but not of
    # the plain builtin value types.
    target_class = typing.get_origin(target) or target
    if target_class in _BUILTIN_VALUE_TYPES:
        return INCOMPATIBLE
    return UNKNOWN


_BUILTIN_VALUE_TYPES = frozenset(
    {int, float, complex, bool, str, bytes, bytearray, list, tuple, dict, set, frozenset, _NONE_TYPE}
)


def _type_objects(source: object, target: object, depth: int) -> Compatibility:
    source_origin = typing.get_origin(source)
    target_origin = typing.get_origin(target)
    if source_origin is type and target_origin is type:
        return _compare(typing.get_args(source)[0], typing.get_args(target)[0], depth)
    if source_origin is type:
        # type[X] into a plain class: the class object is an instance of type.
        return _compare(type, target, depth)
    if source is type:
        return COMPATIBLE
    if isinstance(source, type) and not issubclass(source, type):
        return INCOMPATIBLE
    return UNKNOWN


def _typed_dicts(source: object, target: object, depth: int) -> Compatibility:
    if typing.is_typeddict(source) and typing.is_typeddict(target):
        return _typed_dict_into_typed_dict(source, target, depth)
    if typing.is_typeddict(target):
        # Only another TypedDict can have the keys a TypedDict requires.
        return UNKNOWN if isinstance(source, type) and _is_protocol(source) else INCOMPATIBLE
    target_origin = typing.get_origin(target) or target
    if target_origin is abc.Mapping:
        arguments = typing.get_args(target)
        if not arguments:
            return COMPATIBLE
        keys = _compare(str, arguments[0], depth)
        values = _compare(object, arguments[1], depth)
        return _all((keys, values)) if values is COMPATIBLE else _all((keys, UNKNOWN))
    if isinstance(target_origin, type) and issubclass(dict, target_origin) and target_origin is not dict:
        # Abstract bases of dict, such as Collection or Iterable of the keys.
        return UNKNOWN
    return INCOMPATIBLE


def _typed_dict_into_typed_dict(source: Any, target: Any, depth: int) -> Compatibility:
    from flowlite._annotations import class_field_types, required_keys

    source_fields = class_field_types(source)
    target_fields = class_field_types(target)
    source_required = required_keys(source)
    target_required = required_keys(target)
    answers = []
    for key, expected in target_fields.items():
        if key not in source_fields:
            return INCOMPATIBLE if key in target_required else UNKNOWN
        if (key in source_required) != (key in target_required):
            return INCOMPATIBLE
        answers.append(_invariant(source_fields[key], expected, depth))
    return _all(answers)


def _is_protocol(cls: type) -> bool:
    return bool(getattr(cls, "_is_protocol", False)) and cls is not typing.Protocol


# Classes and generic classes.


def _classes(source: object, target: object, depth: int) -> Compatibility:
    source_class = typing.get_origin(source) or source
    target_class = typing.get_origin(target) or target
    if not isinstance(source_class, type) or not isinstance(target_class, type):
        return UNKNOWN

    if _is_protocol(target_class) and not _is_nominal_subclass(source_class, target_class):
        if not getattr(target_class, "_is_runtime_protocol", False) or _is_protocol(source_class):
            return UNKNOWN
        try:
            matches = issubclass(source_class, target_class)
        except TypeError:
            # A protocol with data members cannot be checked against a class.
            return UNKNOWN
        # A structural match does not show whether the protocol's type arguments fit.
        if not matches:
            return INCOMPATIBLE
        return COMPATIBLE if not typing.get_args(target) else UNKNOWN
    if _is_protocol(source_class):
        return COMPATIBLE if _is_nominal_subclass(source_class, target_class) else UNKNOWN

    if _promotes(source_class, target_class):
        return COMPATIBLE
    try:
        related = issubclass(source_class, target_class)
    except TypeError:
        return UNKNOWN
    if not related:
        return INCOMPATIBLE

    target_arguments = typing.get_args(target)
    if not target_arguments:
        return COMPATIBLE
    if target_class is tuple:
        return _tuples(source, target, depth)
    source_arguments = _arguments_as(typing.get_args(source), source_class, target_class)
    if source_arguments == ():
        # A bare generic class, such as `list`, has Any for its arguments.
        return COMPATIBLE
    if source_arguments is None or len(source_arguments) != len(target_arguments):
        return UNKNOWN
    variances = _variances(target_class, len(target_arguments))
    return _all(
        _compare_argument(argument, expected, variance, depth)
        for argument, expected, variance in zip(source_arguments, target_arguments, variances, strict=True)
    )


def _is_nominal_subclass(source: type, target: type) -> bool:
    return target in getattr(source, "__mro__", ())


def _promotes(source: type, target: type) -> bool:
    # The numeric tower of PEP 484: an int is accepted as a float, and an
    # int or a float as a complex.
    if target is float:
        return issubclass(source, int)
    if target is complex:
        return issubclass(source, (int, float))
    return False


def _compare_argument(argument: object, expected: object, variance: str, depth: int) -> Compatibility:
    if variance == "covariant":
        return _compare(argument, expected, depth)
    if variance == "contravariant":
        return _compare(expected, argument, depth)
    if variance == "inferred":
        # PEP 695 classes infer their variance, which is not recorded at run
        # time: only an answer that holds in both directions is definite.
        forward = _compare(argument, expected, depth)
        backward = _compare(expected, argument, depth)
        return forward if forward is backward else UNKNOWN
    return _invariant(argument, expected, depth)


def _tuples(source: object, target: object, depth: int) -> Compatibility:
    source_items = _tuple_items(source)
    target_items = _tuple_items(target)
    if source_items is None or target_items is None:
        return UNKNOWN
    source_fixed, source_types = source_items
    target_fixed, target_types = target_items
    if not target_fixed:
        # tuple[X, ...] takes a tuple of any length whose items are all X.
        return _all(_compare(item, target_types[0], depth) for item in source_types)
    if not source_fixed:
        # A tuple of unknown length may or may not have the expected length.
        return _all((_compare(source_types[0], target_types[0], depth), UNKNOWN)) if target_types else UNKNOWN
    if len(source_types) != len(target_types):
        return INCOMPATIBLE
    return _all(
        _compare(item, expected, depth) for item, expected in zip(source_types, target_types, strict=True)
    )


def _tuple_items(annotation: object) -> tuple[bool, tuple[object, ...]] | None:
    # (True, item types) for a tuple of fixed length, (False, (item type,))
    # for tuple[X, ...], None where the items are not known.
    origin = typing.get_origin(annotation)
    if origin is tuple:
        arguments = typing.get_args(annotation)
        if len(arguments) == 2 and arguments[1] is Ellipsis:
            return False, (arguments[0],)
        if any(typing.get_origin(item) is typing.Unpack for item in arguments):
            return None
        return True, arguments
    if annotation is tuple:
        return False, (Any,)
    if isinstance(annotation, type) and issubclass(annotation, tuple) and hasattr(annotation, "_fields"):
        from flowlite._annotations import class_field_types

        fields = class_field_types(annotation)
        if len(fields) == len(annotation._fields):
            return True, tuple(fields.values())
    return None


# The classes whose type arguments are known without reading their bases.
# The item classes take one argument (the item type), and the mapping
# classes take a key type and a value type.
_ITEM_BASES = frozenset(
    {
        abc.Iterable,
        abc.Iterator,
        abc.Reversible,
        abc.Collection,
        abc.Container,
        abc.Sequence,
        abc.MutableSequence,
        abc.Set,
        abc.MutableSet,
        abc.KeysView,
        abc.ValuesView,
        abc.Generator,
        list,
        set,
        frozenset,
        collections.deque,
    }
)
_MAPPING_BASES = frozenset(
    {abc.Mapping, abc.MutableMapping, dict, collections.defaultdict, collections.OrderedDict}
)
_SINGLE_ITEM_CLASSES = frozenset(_ITEM_BASES - {abc.Generator})
_COVARIANT_CLASSES = frozenset(
    {
        abc.Iterable,
        abc.Iterator,
        abc.Reversible,
        abc.Collection,
        abc.Container,
        abc.Sequence,
        abc.Set,
        abc.KeysView,
        abc.ValuesView,
        abc.AsyncIterable,
        abc.AsyncIterator,
        abc.Awaitable,
        frozenset,
        type,
    }
)


def _arguments_as(
    arguments: tuple[object, ...], source_class: type, target_class: type
) -> tuple[object, ...] | None:
    """Return the type arguments that `source_class[arguments]` gives to its base `target_class`.

    None means that they are not known.
    """
    if source_class is target_class:
        return arguments
    item_arguments = _item_arguments(source_class, arguments)
    if item_arguments is not None:
        if target_class in _SINGLE_ITEM_CLASSES:
            return item_arguments[:1]
        if target_class in _MAPPING_BASES and len(item_arguments) == 2:
            return item_arguments
        return None
    return _arguments_from_bases(source_class, arguments, target_class)


def _item_arguments(source_class: type, arguments: tuple[object, ...]) -> tuple[object, ...] | None:
    # (item type,) for the collections of items, (key type, value type)
    # for the mappings, None for any other class.
    if source_class is str:
        return (str,)
    if source_class in (bytes, bytearray, range):
        return (int,)
    if source_class is tuple:
        items = _tuple_items(tuple[arguments] if arguments else tuple)  # type: ignore[valid-type]
        if items is None:
            return None
        members = items[1]
        if not members:
            return (typing.NoReturn,)
        # The members are a runtime tuple, which only Union[...] accepts.
        return (typing.Union[members] if len(members) > 1 else members[0],)  # noqa: UP007
    if source_class in _MAPPING_BASES or source_class is collections.ChainMap:
        return arguments if len(arguments) == 2 else (Any, Any)
    if source_class is collections.Counter:
        return (arguments[0] if arguments else Any, int)
    if source_class in _ITEM_BASES:
        return arguments[:1] if arguments else (Any,)
    return None


def _arguments_from_bases(
    source_class: type, arguments: tuple[object, ...], target_class: type
) -> tuple[object, ...] | None:
    # Walk a user-defined generic class's declared bases, such as
    # `class Rows(list[Row])`, substituting its own type arguments.
    parameters = _parameters_of(source_class) or ()
    substitution = dict(zip(parameters, arguments or (Any,) * len(parameters), strict=False))
    for base in getattr(source_class, "__orig_bases__", ()):
        base_class = typing.get_origin(base) or base
        if not isinstance(base_class, type) or not issubclass(base_class, target_class):
            continue
        base_arguments = tuple(substitution.get(argument, argument) for argument in typing.get_args(base))
        found = _arguments_as(base_arguments, base_class, target_class)
        if found is not None:
            return found
    return None


def _parameters_of(cls: type) -> tuple[object, ...] | None:
    parameters = getattr(cls, "__parameters__", None)
    return parameters if isinstance(parameters, tuple) else None


def _variances(cls: type, count: int) -> list[str]:
    if cls in _COVARIANT_CLASSES:
        return ["covariant"] * count
    if cls is abc.Mapping:
        return ["invariant", "covariant"][:count]
    if cls is abc.Generator:
        return ["covariant", "contravariant", "covariant"][:count]
    parameters = _parameters_of(cls)
    if parameters is None or len(parameters) != count:
        # The builtin mutable containers are invariant.
        return ["invariant"] * count
    return [_variance_of(parameter) for parameter in parameters]


def _variance_of(parameter: object) -> str:
    if getattr(parameter, "__infer_variance__", False):
        return "inferred"
    if getattr(parameter, "__covariant__", False):
        return "covariant"
    if getattr(parameter, "__contravariant__", False):
        return "contravariant"
    return "invariant"


# Formatting annotations for messages.


def format_type(annotation: object) -> str:
    """Return an annotation as it is written in source code, such as `list[str] | None`."""
    if annotation is UNRESOLVED:
        return "?"
    if annotation is None or annotation is _NONE_TYPE:
        return "None"
    if annotation is Any:
        return "Any"
    if annotation is Ellipsis:
        return "..."
    if isinstance(annotation, str):
        return annotation
    if isinstance(annotation, typing.ForwardRef):
        return annotation.__forward_arg__
    if isinstance(annotation, list):
        return "[" + ", ".join(format_type(item) for item in annotation) + "]"
    origin = typing.get_origin(annotation)
    arguments = typing.get_args(annotation)
    if _is_union(origin):
        return " | ".join(format_type(member) for member in arguments)
    if origin is typing.Literal:
        return f"Literal[{', '.join(repr(value) for value in arguments)}]"
    if origin is typing.Annotated:
        return format_type(arguments[0])
    if origin is not None:
        name = _name_of(origin)
        if origin is tuple and not arguments:
            return "tuple[()]"
        return f"{name}[{', '.join(format_type(argument) for argument in arguments)}]"
    return _name_of(annotation)


def _name_of(annotation: object) -> str:
    name = getattr(annotation, "__qualname__", None) or getattr(annotation, "__name__", None)
    if isinstance(name, str):
        return name
    return repr(annotation).removeprefix("typing.")
