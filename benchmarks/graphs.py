"""Task graphs described independently of any library, and the functions their tasks call.

A `Graph` lists its nodes in topological order. Every node is one task that
writes one key, named like the task, and reads the keys of its inputs as
positional arguments. The adapters in `adapters/` translate a graph into
each library's own objects.
"""

from __future__ import annotations

import dataclasses
import random
import time
import types
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

START = "start"
"""The key of the initial state's only value, which every graph consumes."""

INITIAL_STATE: Mapping[str, Any] = types.MappingProxyType({START: 0})

RANDOM_DAG_SEED = 20240611

# sleep_dag: LAYERS layers of LAYER_WIDTH tasks of LAYER_TASK_SECONDS each,
# and one BRANCH_SECONDS task that only the final sink consumes.
LAYERS = 4
LAYER_WIDTH = 8
LAYER_TASK_SECONDS = 0.020
BRANCH_SECONDS = 0.200

# chain_blocks: each task returns a new bytes object of this size.
BLOCK_BYTES = 1024


def increment(value: int) -> int:
    return value + 1


def total(*values: int) -> int:
    return sum(values)


def new_block(previous: object) -> bytes:
    return bytes(BLOCK_BYTES)


def combine(*values: int) -> int:
    # The modulus keeps values of a deep random DAG small, so every task
    # costs the same whatever its depth.
    return (sum(values) + 1) % 1_000_003


def sleep_layer_task(*values: int) -> int:
    time.sleep(LAYER_TASK_SECONDS)
    return 1


def sleep_branch_task(*values: int) -> int:
    time.sleep(BRANCH_SECONDS)
    return 1


@dataclass(frozen=True, slots=True)
class Node:
    """One task: it calls `func` with the values of `inputs` and stores the result under `key`."""

    key: str
    func: Callable[..., Any]
    inputs: tuple[str, ...]
    seconds: float = 0.0
    """The time the task sleeps, for the critical path of sleep_dag; 0 for trivial tasks."""


@dataclass(frozen=True)
class Graph:
    """A task graph: nodes in topological order, the key whose value a run returns, and that value."""

    name: str
    nodes: tuple[Node, ...]
    result: str
    expected: Any
    initial: Mapping[str, Any] = field(default_factory=lambda: INITIAL_STATE)

    def __len__(self) -> int:
        return len(self.nodes)

    def evaluate(self) -> Any:
        """Return the value of `result` from plain sequential calls."""
        values = dict(self.initial)
        for node in self.nodes:
            values[node.key] = node.func(*(values[key] for key in node.inputs))
        return values[self.result]

    def critical_path_seconds(self) -> float:
        """Return the longest sum of `Node.seconds` along any path of the graph."""
        finish: dict[str, float] = dict.fromkeys(self.initial, 0.0)
        for node in self.nodes:
            finish[node.key] = node.seconds + max((finish[key] for key in node.inputs), default=0.0)
        return max(finish.values(), default=0.0)


def chain(size: int) -> Graph:
    """Build `size` tasks in a line: task i increments the output of task i - 1."""
    nodes = [Node("k0", increment, (START,))]
    nodes += [Node(f"k{i}", increment, (f"k{i - 1}",)) for i in range(1, size)]
    return Graph(f"chain_{size}", tuple(nodes), result=f"k{size - 1}", expected=size)


def chain_blocks(size: int) -> Graph:
    """Build a chain like `chain` whose tasks each return a new BLOCK_BYTES-byte bytes object."""
    nodes = [Node("k0", new_block, (START,))]
    nodes += [Node(f"k{i}", new_block, (f"k{i - 1}",)) for i in range(1, size)]
    return Graph(f"chain_blocks_{size}", tuple(nodes), result=f"k{size - 1}", expected=bytes(BLOCK_BYTES))


def fan(size: int) -> Graph:
    """Build one source, `size` independent tasks that read it, and one sink that reads them all."""
    nodes = [Node("source", increment, (START,))]
    nodes += [Node(f"k{i}", increment, ("source",)) for i in range(size)]
    nodes.append(Node("sink", total, tuple(f"k{i}" for i in range(size))))
    return Graph(f"fan_{size}", tuple(nodes), result="sink", expected=2 * size)


def random_dag(size: int, seed: int = RANDOM_DAG_SEED) -> Graph:
    """Build `size` tasks that each read 2 to 4 (3 on average) distinct earlier outputs.

    The inputs are drawn uniformly from all earlier tasks with a fixed seed,
    and the first task reads the initial key. One extra sink reads every
    output that no task reads, so every library computes every task.
    """
    rng = random.Random(seed)
    nodes = [Node("k0", combine, (START,))]
    consumed: set[int] = set()
    for i in range(1, size):
        count = min(i, rng.randint(2, 4))
        picks = rng.sample(range(i), count)
        consumed.update(picks)
        nodes.append(Node(f"k{i}", combine, tuple(f"k{p}" for p in sorted(picks))))
    leaves = tuple(f"k{i}" for i in range(size) if i not in consumed)
    nodes.append(Node("sink", combine, leaves))
    graph = Graph(f"random_dag_{size}", tuple(nodes), result="sink", expected=None)
    return dataclasses.replace(graph, expected=graph.evaluate())


def sleep_dag(*, branch_first: bool = False) -> Graph:
    """Build LAYERS layers of LAYER_WIDTH sleeping tasks, a long branch, and a sink of both.

    Each task of a layer reads every task of the layer before. The branch
    reads the initial key and only the sink reads it, so the branch alone is
    the critical path. The branch is listed after the layers unless
    `branch_first`. Nine tasks are ready at the start, so a runner with
    eight workers that starts ready tasks in listed order starts the branch
    one layer task late.
    """
    nodes: list[Node] = []
    previous: tuple[str, ...] = (START,)
    for layer in range(LAYERS):
        keys = tuple(f"layer{layer}_{i}" for i in range(LAYER_WIDTH))
        nodes += [Node(key, sleep_layer_task, previous, LAYER_TASK_SECONDS) for key in keys]
        previous = keys
    branch = Node("branch", sleep_branch_task, (START,), BRANCH_SECONDS)
    if branch_first:
        nodes.insert(0, branch)
    else:
        nodes.append(branch)
    nodes.append(Node("sink", total, (*previous, "branch")))
    name = "sleep_dag_branch_first" if branch_first else "sleep_dag"
    # Every sleeping task returns 1, and the sink adds the last layer and the branch.
    return Graph(name, tuple(nodes), result="sink", expected=LAYER_WIDTH + 1)


def build(kind: str, size: int) -> Graph:
    """Return the graph of `kind`.

    `kind` is chain, chain_blocks, fan, random_dag, sleep_dag or
    sleep_dag_branch_first; sleep graphs ignore `size`.
    """
    if kind == "chain":
        return chain(size)
    if kind == "chain_blocks":
        return chain_blocks(size)
    if kind == "fan":
        return fan(size)
    if kind == "random_dag":
        return random_dag(size)
    if kind == "sleep_dag":
        return sleep_dag()
    if kind == "sleep_dag_branch_first":
        return sleep_dag(branch_first=True)
    raise ValueError(
        f"unknown graph kind {kind!r}; expected chain, chain_blocks, fan, random_dag, sleep_dag "
        "or sleep_dag_branch_first"
    )


_wrapper_factories: dict[int, Callable[[Callable[..., Any]], Callable[..., Any]]] = {}


def named_function(name: str, parameters: tuple[str, ...], body: Callable[..., Any]) -> Callable[..., Any]:
    """Return a function called `name` whose parameters are named `parameters` and that calls `body`.

    Hamilton and pipefunc connect tasks by parameter names, so each node
    needs a function whose parameters are its input keys. The function
    passes its arguments to `body` positionally and is annotated with int
    throughout, since Hamilton checks the types along each edge.
    """
    arity = len(parameters)
    factory = _wrapper_factories.get(arity)
    if factory is None:
        # One template is compiled per arity. Each node's function copies it
        # with the parameter names replaced, which costs far less than
        # compiling source for each of 100,000 nodes.
        names = ", ".join(f"a{i}" for i in range(arity))
        source = "\n".join(
            [
                "def factory(body):",
                f"    def wrapper({names}):",
                f"        return body({names})",
                "    return wrapper",
            ]
        )
        namespace: dict[str, Any] = {}
        exec(source, namespace)
        factory = _wrapper_factories[arity] = namespace["factory"]
    template = factory(body)
    code = template.__code__.replace(co_varnames=parameters, co_name=name, co_qualname=name)
    function = types.FunctionType(code, template.__globals__, name, None, template.__closure__)
    function.__annotations__ = dict.fromkeys(parameters, int) | {"return": int}
    return function
