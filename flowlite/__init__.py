"""flowlite: in-process workflow orchestration over an immutable state."""

from flowlite._cancel import CancelToken, cancelled
from flowlite._retry import Retry
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
from flowlite.hooks import Hooks, RunInfo, TaskEvent
from flowlite.plan import Plan, plan
from flowlite.registry import Registry
from flowlite.report import RunReport, TaskRecord
from flowlite.run import RunOptions, arun, default_max_workers, run, stream
from flowlite.state import State
from flowlite.task import Task, task

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
