"""flowlite: in-process workflow orchestration over an immutable state."""

from typing import TYPE_CHECKING, Any

from flowlite._cancel import CancelToken, cancelled
from flowlite.errors import (
    CycleError,
    DuplicateOutputError,
    DuplicateTaskError,
    FlowliteError,
    InvalidArgumentError,
    InvalidKeyError,
    MissingInputError,
    OutputError,
    OverwriteError,
    PicklingCheckError,
    RunCancelled,
    RunFailed,
    TaskDefinitionError,
    TaskTimeoutError,
    TypeCheckError,
    TypeMismatchError,
    UnknownKeyError,
    UnknownTaskError,
)
from flowlite.plan import Plan, plan
from flowlite.registry import Registry
from flowlite.run import RunOptions, arun, default_max_workers, run, stream
from flowlite.state import State
from flowlite.task import Task, task

# Parts that most runs do not use load on first access, which keeps
# `import flowlite` cheap.
_LAZY = {
    "Hooks": "flowlite.hooks",
    "RunInfo": "flowlite.hooks",
    "TaskEvent": "flowlite.hooks",
    "Retry": "flowlite._retry",
    "RunReport": "flowlite.report",
    "TaskRecord": "flowlite.report",
}

if TYPE_CHECKING:
    from flowlite._retry import Retry
    from flowlite.hooks import Hooks, RunInfo, TaskEvent
    from flowlite.report import RunReport, TaskRecord

__all__ = [
    "CancelToken",
    "CycleError",
    "DuplicateOutputError",
    "DuplicateTaskError",
    "FlowliteError",
    "Hooks",
    "InvalidArgumentError",
    "InvalidKeyError",
    "MissingInputError",
    "OutputError",
    "OverwriteError",
    "PicklingCheckError",
    "Plan",
    "Registry",
    "Retry",
    "RunCancelled",
    "RunFailed",
    "RunInfo",
    "RunOptions",
    "RunReport",
    "State",
    "Task",
    "TaskDefinitionError",
    "TaskEvent",
    "TaskRecord",
    "TaskTimeoutError",
    "TypeCheckError",
    "TypeMismatchError",
    "UnknownKeyError",
    "UnknownTaskError",
    "arun",
    "cancelled",
    "default_max_workers",
    "plan",
    "run",
    "stream",
    "task",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'flowlite' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
