"""flowlite: in-process workflow orchestration over an immutable state."""

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
    RunFailed,
    TaskDefinitionError,
    UnknownKeyError,
    UnknownTaskError,
)
from flowlite.plan import Plan, plan
from flowlite.registry import Registry
from flowlite.run import default_max_workers, run, stream
from flowlite.state import State
from flowlite.task import Task, task

__all__ = [
    "CycleError",
    "DuplicateOutputError",
    "DuplicateTaskError",
    "FlowliteError",
    "InvalidArgumentError",
    "InvalidKeyError",
    "MissingInputError",
    "OutputError",
    "OverwriteError",
    "Plan",
    "Registry",
    "RunFailed",
    "State",
    "Task",
    "TaskDefinitionError",
    "UnknownKeyError",
    "UnknownTaskError",
    "default_max_workers",
    "plan",
    "run",
    "stream",
    "task",
]
