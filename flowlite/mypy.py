"""A mypy plugin that reports task declarations that cannot bind, when mypy runs.

Enable it in the mypy configuration::

    [tool.mypy]
    plugins = ["flowlite.mypy"]

It checks `@task(inputs=..., outputs=...)` and `task(...)(function)` whose
`inputs` and `outputs` are literals: a string, a list or tuple of strings,
or a dict of strings. The checks are the declaration rules that the
decorator applies when it runs, so both report the same mistakes in the
same words. Each
mistake is an error with the code `flowlite-task` at the declaration,
followed by a note with the fix. A declaration that is not a literal, a
callable the plugin cannot read, and `registry.task(...)` are left to the
check at decoration time.

The plugin reads mypy's internal node and type classes. It is tested with
mypy 1.10 and the newest release.
"""

from __future__ import annotations

from collections.abc import Callable

from mypy.errorcodes import ErrorCode
from mypy.nodes import (
    ARG_NAMED,
    ARG_NAMED_OPT,
    ARG_OPT,
    ARG_POS,
    ARG_STAR,
    ARG_STAR2,
    CallExpr,
    Context,
    Decorator,
    DictExpr,
    Expression,
    FakeInfo,
    FuncDef,
    ListExpr,
    MemberExpr,
    NameExpr,
    RefExpr,
    StrExpr,
    TupleExpr,
)
from mypy.plugin import MethodContext, Plugin
from mypy.types import (
    CallableType,
    Instance,
    NoneType,
    TupleType,
    Type,
    TypedDictType,
    UnpackType,
    get_proper_type,
)

from flowlite import _rules

__all__ = ["FLOWLITE_TASK", "FlowlitePlugin", "plugin"]

FLOWLITE_TASK = ErrorCode("flowlite-task", "Check flowlite task declarations", "flowlite")
"""The error code of every error that the plugin reports."""

_DECORATOR_CALL = "flowlite.task.TaskDecorator.__call__"
_TASK_FUNCTION = "flowlite.task.task"
_DECLARATIONS = ("inputs", "outputs")
# The value of a declaration argument that is not written as a literal.
_NOT_LITERAL = object()


class FlowlitePlugin(Plugin):
    """Checks the declaration of each task when `task(...)` is applied to a function."""

    def get_method_hook(self, fullname: str) -> Callable[[MethodContext], Type] | None:
        """Return the declaration check for `TaskDecorator.__call__`, and None for other methods."""
        # The decorator that `task(...)` returns is a named class, so mypy
        # calls this hook where it applies the decorator, with the function's
        # type and the node of the `task(...)` call in reach.
        if fullname == _DECORATOR_CALL:
            return check_declaration
        return None


def plugin(version: str) -> type[Plugin]:
    """Return the plugin class; mypy calls this with its own version."""
    return FlowlitePlugin


def check_declaration(ctx: MethodContext) -> Type:
    """Report the first rule that a literal task declaration breaks, at the offending node."""
    found = _find_declaration(ctx)
    if found is None:
        return ctx.default_return_type
    call, function_type, name, method, definition = found

    arguments = _declaration_arguments(call)
    if arguments is None:
        return ctx.default_return_type
    signature = _describe(function_type, method, definition)
    if signature is None:
        return ctx.default_return_type

    inputs, outputs = (arguments[key][0] for key in _DECLARATIONS)
    try:
        if inputs is not _NOT_LITERAL:
            _rules.bind_inputs(inputs, signature, function=name)
        if outputs is not _NOT_LITERAL:
            keys, single = _rules.bind_outputs(outputs, function=name, default=name)
            _rules.check_return(outputs, keys, single, signature.returns, function=name)
    except _rules.Violation as violation:
        node = _locate(violation, arguments, call)
        ctx.api.fail(violation.problem, node, code=FLOWLITE_TASK)
        if violation.fix:
            fix = violation.fix[0].upper() + violation.fix[1:]
            ctx.api.msg.note(fix, node, code=FLOWLITE_TASK)
    return ctx.default_return_type


# Finding the `task(...)` call and the function it declares.


def _find_declaration(
    ctx: MethodContext,
) -> tuple[CallExpr, CallableType, str, bool, FuncDef | None] | None:
    # The `task(...)` call, the declared function's type, name and
    # definition, and whether it is a method definition.
    if not ctx.arg_types or len(ctx.arg_types[0]) != 1:
        return None
    function_type = get_proper_type(ctx.arg_types[0][0])
    if not isinstance(function_type, CallableType):
        return None

    context = ctx.context
    if isinstance(context, Decorator):
        # `@task(...)` above a def: the decorator list contains the call.
        calls = [
            decorator
            for decorator in context.original_decorators
            if isinstance(decorator, CallExpr) and _is_task_call(decorator)
        ]
        if len(calls) != 1:
            return None
        function = context.func
        method = _is_method_definition(function, function_type)
        return calls[0], function_type, function.name, method, function

    if isinstance(context, CallExpr) and _is_task_call(context.callee) and len(context.args) == 1:
        # `task(...)(function)`.
        assert isinstance(context.callee, CallExpr)
        argument = context.args[0]
        name = _expression_name(argument, function_type)
        found = function_type.definition
        definition = found if isinstance(found, FuncDef) else None
        method = definition is not None and _is_method_definition(definition, function_type)
        return context.callee, function_type, name, method, definition
    return None


def _is_task_call(expression: Expression) -> bool:
    # `task(...)` or `flowlite.task(...)`, or `registry.task(...)`: the hook
    # fires only on TaskDecorator.__call__, and Registry.task is the one
    # method named `task` that returns a TaskDecorator.
    if not isinstance(expression, CallExpr):
        return False
    callee = expression.callee
    if isinstance(callee, MemberExpr) and callee.name == "task" and callee.fullname != _TASK_FUNCTION:
        return True
    return isinstance(callee, RefExpr) and callee.fullname == _TASK_FUNCTION


def _expression_name(expression: Expression, function_type: CallableType) -> str:
    # The decorator names a task after the callable's __name__.
    if isinstance(expression, (NameExpr, MemberExpr)):
        return expression.name
    definition = function_type.definition
    if isinstance(definition, FuncDef):
        return definition.name
    return "<lambda>"


def _is_method_definition(definition: FuncDef, function_type: CallableType) -> bool:
    # The rule of the decorator: a function defined in a class body whose
    # first parameter is `self` binds the parameters after `self`. A bound
    # method's type has no `self` any more.
    in_class = not isinstance(definition.info, FakeInfo)
    names = function_type.arg_names
    return in_class and not definition.is_static and bool(names) and names[0] == "self"


# Reading the literal arguments of the call.


def _declaration_arguments(call: CallExpr) -> dict[str, tuple[object, Expression | None]] | None:
    # The value and node of `inputs` and `outputs`: None when omitted, the
    # Python value of a literal, or _NOT_LITERAL. None for the whole call
    # when it unpacks arguments, which could hold either.
    arguments: dict[str, tuple[object, Expression | None]] = dict.fromkeys(_DECLARATIONS, (None, None))
    for kind, name, expression in zip(call.arg_kinds, call.arg_names, call.args, strict=True):
        if kind in (ARG_STAR, ARG_STAR2):
            return None
        if name in _DECLARATIONS:
            arguments[name] = (_literal(expression), expression)
    return arguments


def _literal(expression: Expression) -> object:
    if isinstance(expression, StrExpr):
        return expression.value
    if isinstance(expression, NameExpr) and expression.fullname == "builtins.None":
        return None
    if isinstance(expression, (ListExpr, TupleExpr)):
        items = [_literal(item) for item in expression.items]
        if any(not isinstance(item, str) for item in items):
            return _NOT_LITERAL
        return items if isinstance(expression, ListExpr) else tuple(items)
    if isinstance(expression, DictExpr):
        pairs = [(key, _literal(value)) for key, value in expression.items]
        if any(not isinstance(key, StrExpr) or not isinstance(value, str) for key, value in pairs):
            return _NOT_LITERAL
        return {key.value: value for key, value in pairs if isinstance(key, StrExpr)}
    return _NOT_LITERAL


def _locate(
    violation: _rules.Violation, arguments: dict[str, tuple[object, Expression | None]], call: CallExpr
) -> Context:
    # The entry of the list or dict at fault, else the whole argument, else the call.
    if violation.argument is None:
        return call
    expression = arguments[violation.argument][1]
    if expression is None:
        return call
    if violation.item is not None:
        if isinstance(expression, (ListExpr, TupleExpr)) and violation.item < len(expression.items):
            return expression.items[violation.item]
        if isinstance(expression, DictExpr) and violation.item < len(expression.items):
            key, value = expression.items[violation.item]
            return key if key is not None else value
    return expression


# Converting mypy's view of the function into the rules' neutral one.


def _describe(
    function_type: CallableType, method: bool, definition: FuncDef | None
) -> _rules.Signature | None:
    if function_type.param_spec() is not None or function_type.is_ellipsis_args:
        return None
    names = _parameter_names(function_type, definition)
    parameters: list[_rules.Parameter] = []
    for index, kind in enumerate(function_type.arg_kinds):
        name = names[index]
        if kind in (ARG_POS, ARG_OPT):
            positional_only = function_type.arg_names[index] is None
            parameter_kind = (
                _rules.Kind.POSITIONAL_ONLY if positional_only else _rules.Kind.POSITIONAL_OR_KEYWORD
            )
        elif kind is ARG_STAR:
            parameter_kind = _rules.Kind.VAR_POSITIONAL
        elif kind in (ARG_NAMED, ARG_NAMED_OPT):
            parameter_kind = _rules.Kind.KEYWORD_ONLY
        else:
            parameter_kind = _rules.Kind.VAR_KEYWORD
        parameters.append(_rules.Parameter(name, parameter_kind, kind in (ARG_OPT, ARG_NAMED_OPT)))
    if method:
        parameters = parameters[1:]
    return _rules.Signature(tuple(parameters), _return_shape(function_type, definition))


def _parameter_names(function_type: CallableType, definition: FuncDef | None) -> list[str]:
    # mypy drops the names of positional-only parameters from the type;
    # the definition still has them.
    names = [name or f"__arg{index}" for index, name in enumerate(function_type.arg_names)]
    if definition is not None:
        declared = [argument.variable.name for argument in definition.arguments]
        offset = len(declared) - len(names)
        if offset >= 0:
            names = [declared[offset + index] for index in range(len(names))]
    return names


def _return_shape(function_type: CallableType, definition: FuncDef | None) -> _rules.ReturnShape:
    returned = get_proper_type(function_type.ret_type)
    if (
        definition is not None
        and definition.is_coroutine
        and isinstance(returned, Instance)
        and returned.type.fullname == "typing.Coroutine"
        and len(returned.args) == 3
    ):
        # The runner stores what an async def function's coroutine returns.
        returned = get_proper_type(returned.args[2])
    if isinstance(returned, NoneType):
        return _rules.ReturnShape("none")
    if isinstance(returned, TupleType):
        if any(isinstance(get_proper_type(item), UnpackType) for item in returned.items):
            return _rules.UNKNOWN_RETURN
        return _rules.ReturnShape("tuple", length=len(returned.items))
    if isinstance(returned, TypedDictType):
        return _rules.ReturnShape(
            "typeddict",
            name=returned.fallback.type.name,
            keys=tuple(returned.items),
            required=frozenset(returned.required_keys),
        )
    return _rules.UNKNOWN_RETURN
