"""Run flowlite's benchmark suite against its peers and write the results table and plot.

Usage: python benchmarks/run.py [--quick] [--output DIR] [--samples K]

Each library runs in a worker process of its own, started once and
driven round-robin from this process: every sample of a case runs each
library once, in a rotating order, so machine noise reaches all of them
alike. A request that exceeds its time limit ends the worker, which is
reported as a time-out and started again for the next case. See
benchmarks/README.md for the cases and the limits of each figure.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import multiprocessing
import os
import platform
import subprocess
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib import metadata
from multiprocessing.connection import Connection
from multiprocessing.context import SpawnProcess
from pathlib import Path
from typing import Any

import graphs
import import_time
import report
import worker
from adapters import ADAPTERS, DISTRIBUTIONS, IMPORT_STATEMENTS

BENCHMARKS = Path(__file__).resolve().parent
REPOSITORY = BENCHMARKS.parent
DEFAULT_OUTPUT = BENCHMARKS / "results"
DEFAULT_CORPUS = REPOSITORY / ".." / "shared" / "corpus"
SAMPLE_DOCUMENTS = REPOSITORY / "examples" / "document_intelligence" / "sample_documents"
CONCURRENCY_LEVELS = [1, 2, 4]
SLEEP_DAG_WORKERS = 8
# Above this planning time a case with plan samples keeps its first plan
# time as the only sample, so that one slow planner cannot take most of
# the suite's time.
PLAN_SAMPLE_CEILING_SECONDS = 2.0
# Planning 100,000 tasks takes seconds, and the linearity check needs all
# its samples.
LARGE_PLAN_SAMPLE_CEILING_SECONDS = 30.0
# tracemalloc slows every allocation, so a traced run gets a longer limit.
TRACED_RUN_FACTOR = 4
MISC = "misc"
QUICK_LABELS = ("floor", "handmade", "handmade-stages", "flowlite", "flowlite max_workers=1")


@dataclass(frozen=True)
class Limits:
    """Time limits in seconds for one request to a worker."""

    start: float
    """Starting a worker, which imports its library."""
    setup: float
    """Preparing and planning one graph."""
    run: float
    """One run of a planned graph."""
    documents: float
    """The whole document-intelligence measurement."""


FULL_LIMITS = Limits(start=120, setup=60, run=30, documents=600)
QUICK_LIMITS = Limits(start=60, setup=5, run=2, documents=60)


@dataclass(frozen=True)
class GraphCase:
    """One graph measured for several adapters."""

    name: str
    family: str
    kind: str
    size: int
    labels: tuple[str, ...]
    workers: int | None = None
    measure_plan: bool = False
    measure_run: bool = True
    measure_memory: bool = False
    plan_sample_ceiling: float = PLAN_SAMPLE_CEILING_SECONDS
    """Above this first plan time the first plan is the only plan sample."""


@dataclass
class Outcome:
    """The result of one adapter on one case: its samples, or why it has none."""

    label: str
    status: str = "ok"
    """ok, error, time-out, crashed, missing or not run."""
    detail: str = ""
    prepare: float | None = None
    first_plan: float | None = None
    first_run: float | None = None
    plans: list[float] = field(default_factory=list)
    runs: list[float] = field(default_factory=list)
    peak_bytes: int | None = None

    def fail(self, status: str, detail: str) -> None:
        self.status = status
        self.detail = detail


@dataclass
class CaseResult:
    case: GraphCase
    tasks: int
    critical_path: float
    outcomes: dict[str, Outcome]


def all_labels() -> tuple[str, ...]:
    return tuple(ADAPTERS)


def graph_cases(quick: bool) -> list[GraphCase]:
    """Return the graph cases of the full suite, or of the quick one.

    The quick suite runs every library on 100-task graphs only, and the
    floor, the handmade runners and flowlite on the larger ones too.
    """
    everyone = all_labels()
    if quick:
        return [
            GraphCase("chain_100", "chain", "chain", 100, everyone),
            GraphCase("chain_1000", "chain", "chain", 1_000, QUICK_LABELS, measure_memory=True),
            GraphCase("fan_100", "fan", "fan", 100, everyone),
            GraphCase("fan_1000", "fan", "fan", 1_000, QUICK_LABELS),
            GraphCase("random_dag_1000", "random_dag", "random_dag", 1_000, QUICK_LABELS, measure_plan=True),
            GraphCase(
                "sleep_dag",
                "sleep_dag",
                "sleep_dag",
                len(graphs.sleep_dag()),
                # The libraries that run one task at a time take 840 ms per sample.
                tuple(label for label in QUICK_LABELS if label not in ("floor", "flowlite max_workers=1")),
                workers=SLEEP_DAG_WORKERS,
            ),
        ]

    cases = [
        GraphCase(f"chain_{size}", "chain", "chain", size, everyone, measure_memory=size == 10_000)
        for size in (100, 1_000, 10_000, 100_000)
    ]
    cases += [GraphCase(f"fan_{size}", "fan", "fan", size, everyone) for size in (100, 1_000, 10_000)]
    cases += [
        GraphCase(f"random_dag_{size}", "random_dag", "random_dag", size, everyone, measure_plan=True)
        for size in (1_000, 10_000)
    ]
    # Planning only, to check that it grows linearly; graphlib alone is the
    # handmade adapter's plan.
    cases.append(
        GraphCase(
            "random_dag_100000",
            "random_dag",
            "random_dag",
            100_000,
            ("handmade", "flowlite"),
            measure_plan=True,
            measure_run=False,
            plan_sample_ceiling=LARGE_PLAN_SAMPLE_CEILING_SECONDS,
        )
    )
    for kind in ("sleep_dag", "sleep_dag_branch_first"):
        size = len(graphs.build(kind, 0))
        cases.append(GraphCase(kind, kind, kind, size, everyone, workers=SLEEP_DAG_WORKERS))
    return cases


class WorkerHandle:
    """One worker process, started on demand and ended on a time-out."""

    def __init__(self, key: str, labels: tuple[str, ...], limits: Limits) -> None:
        self.key = key
        self.labels = labels
        self.limits = limits
        self.process: SpawnProcess | None = None
        self.connection: Connection | None = None
        self.missing: str | None = None
        self.planned_case: str | None = None
        self._starting = False

    def start(self) -> None:
        """Start the process without waiting for it to import its library."""
        if self.process is not None or self.missing is not None:
            return
        context = multiprocessing.get_context("spawn")
        parent, child = context.Pipe()
        self.process = context.Process(target=worker.serve, args=(child, self.labels), daemon=True)
        self.process.start()
        child.close()
        self.connection = parent
        self._starting = True
        self.planned_case = None

    def _wait_ready(self) -> tuple[str, str] | None:
        self.start()
        if self.missing is not None:
            return ("missing", self.missing)
        if not self._starting:
            return None
        self._starting = False
        reply = self._receive(self.limits.start)
        if reply[0] == "ready":
            return None
        if reply[0] == "missing":
            self.missing = reply[1]
            self.stop()
        return (reply[0], str(reply[1]))

    def request(self, message: tuple[Any, ...], limit: float) -> tuple[str, Any]:
        """Send one request and return the reply, or ("time-out" | "crashed" | "missing", detail)."""
        failure = self._wait_ready()
        if failure is not None:
            return failure
        assert self.connection is not None
        self.connection.send(message)
        return self._receive(limit)

    def _receive(self, limit: float) -> tuple[str, Any]:
        assert self.connection is not None
        assert self.process is not None
        if not self.connection.poll(limit):
            self.kill()
            return ("time-out", f"more than {limit:g} s")
        try:
            reply: tuple[str, Any] = self.connection.recv()
        except EOFError:
            self.process.join(5)
            code = self.process.exitcode
            self.kill()
            return ("crashed", f"the worker process ended with exit code {code}")
        return reply

    def kill(self) -> None:
        """End the process at once; the next request starts a new one."""
        if self.process is not None:
            self.process.kill()
            self.process.join()
        self._forget()

    def stop(self) -> None:
        """Ask the process to end and wait for it."""
        if self.process is not None and self.connection is not None and self.process.is_alive():
            with contextlib.suppress(OSError):
                self.connection.send(("stop",))
            self.process.join(10)
            if self.process.is_alive():
                self.process.kill()
                self.process.join()
        self._forget()

    def _forget(self) -> None:
        if self.connection is not None:
            self.connection.close()
        self.process = None
        self.connection = None
        self._starting = False
        self.planned_case = None


class WorkerPool:
    """A worker per adapter module, and one for the other measurements."""

    def __init__(self, limits: Limits) -> None:
        modules: dict[str, list[str]] = {}
        for label, entry in ADAPTERS.items():
            modules.setdefault(entry.module, []).append(label)
        self.handles = {
            module: WorkerHandle(module, tuple(labels), limits) for module, labels in modules.items()
        }
        self.handles[MISC] = WorkerHandle(MISC, (), limits)

    def for_label(self, label: str) -> WorkerHandle:
        return self.handles[ADAPTERS[label].module]

    def start_all(self) -> None:
        for handle in self.handles.values():
            handle.start()

    def stop_all(self) -> None:
        for handle in self.handles.values():
            handle.stop()


class History:
    """Earlier outcomes per adapter and graph family, to skip sizes that cannot finish in time."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.outcomes: dict[tuple[str, str], list[tuple[int, Outcome]]] = {}

    def record(self, case: GraphCase, outcomes: Iterable[Outcome]) -> None:
        for outcome in outcomes:
            self.outcomes.setdefault((outcome.label, case.family), []).append((case.size, outcome))

    def skip_reason(self, label: str, case: GraphCase) -> str | None:
        """Return why `label` should not run `case`, or None.

        A failure at a smaller size of the same family skips the larger
        ones. So does a set-up or run time that, scaled linearly by the
        size ratio, exceeds its limit: an estimate, since no library here
        grows slower than linearly with the number of tasks.
        """
        earlier = self.outcomes.get((label, case.family))
        if not earlier:
            return None
        size, outcome = earlier[-1]
        if outcome.status != "ok":
            return f"{outcome.status} at {size:,} tasks"
        factor = case.size / size
        setup = (outcome.prepare or 0.0) + (outcome.first_plan or 0.0)
        if setup * factor > self.limits.setup:
            return (
                f"set-up took {setup:.1f} s at {size:,} tasks, so {case.size:,} tasks would take "
                f"an estimated {setup * factor:.0f} s, over the {self.limits.setup:g} s limit"
            )
        if (
            case.measure_run
            and outcome.first_run is not None
            and outcome.first_run * factor > self.limits.run
        ):
            return (
                f"one run took {outcome.first_run:.1f} s at {size:,} tasks, so {case.size:,} tasks would "
                f"take an estimated {outcome.first_run * factor:.0f} s, over the {self.limits.run:g} s limit"
            )
        return None


def progress(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def run_graph_case(
    case: GraphCase, pool: WorkerPool, history: History, samples: int, limits: Limits
) -> CaseResult:
    """Measure one case for each of its adapters; see the module docstring for the order."""
    started = time.perf_counter()
    graph = graphs.build(case.kind, case.size)
    outcomes = {label: Outcome(label) for label in case.labels}
    for label, outcome in outcomes.items():
        reason = history.skip_reason(label, case)
        if reason is not None:
            outcome.fail("not run", reason)

    # Plan once per worker, then one warm-up run per adapter.
    active: list[str] = []
    for handle in _handles_of(pool, [label for label, o in outcomes.items() if o.status == "ok"]):
        labels = [label for label in case.labels if label in handle.labels and outcomes[label].status == "ok"]
        status, value = handle.request(("plan", case.kind, case.size, case.workers), limits.setup)
        if status != "ok":
            for label in labels:
                outcomes[label].fail(status, value)
            continue
        handle.planned_case = case.name
        for label in labels:
            outcomes[label].prepare = value["prepare"]
            outcomes[label].first_plan = value["plan"]
            if case.measure_run:
                status, seconds = _request_planned(handle, case, ("run", label), limits.run, limits)
                if status != "ok":
                    outcomes[label].fail(status, seconds)
                    continue
                outcomes[label].first_run = seconds
            active.append(label)

    for sample in range(samples):
        shift = sample % len(active) if active else 0
        for label in active[shift:] + active[:shift]:
            outcome = outcomes[label]
            if outcome.status != "ok":
                continue
            handle = pool.for_label(label)
            if case.measure_plan and (outcome.first_plan or 0.0) <= case.plan_sample_ceiling:
                status, seconds = _request_planned(handle, case, ("replan",), limits.setup, limits)
                if status != "ok":
                    outcome.fail(status, seconds)
                    continue
                outcome.plans.append(seconds)
            if case.measure_run:
                status, seconds = _request_planned(handle, case, ("run", label), limits.run, limits)
                if status != "ok":
                    outcome.fail(status, seconds)
                    continue
                outcome.runs.append(seconds)

    for label, outcome in outcomes.items():
        if case.measure_plan and not outcome.plans and outcome.first_plan is not None:
            outcome.plans.append(outcome.first_plan)
        if case.measure_memory and outcome.status == "ok":
            handle = pool.for_label(label)
            limit = limits.run * TRACED_RUN_FACTOR
            status, value = _request_planned(handle, case, ("memory", label), limit, limits)
            if status == "ok":
                outcome.peak_bytes = value
            else:
                outcome.detail = f"memory: {status}: {value}"

    for handle in _handles_of(pool, case.labels):
        if handle.process is not None:
            handle.request(("release",), limits.setup)
            handle.planned_case = None

    history.record(case, outcomes.values())
    result = CaseResult(case, len(graph), graph.critical_path_seconds(), outcomes)
    progress(f"{report.progress_line(result)} [{time.perf_counter() - started:.0f} s]")
    return result


def _handles_of(pool: WorkerPool, labels: Iterable[str]) -> list[WorkerHandle]:
    handles: list[WorkerHandle] = []
    for label in labels:
        handle = pool.for_label(label)
        if handle not in handles:
            handles.append(handle)
    return handles


def _request_planned(
    handle: WorkerHandle, case: GraphCase, message: tuple[Any, ...], limit: float, limits: Limits
) -> tuple[str, Any]:
    # A worker started again after a time-out of another adapter of its
    # module has lost the plan; plan again, untimed, before the request.
    if handle.planned_case != case.name:
        status, value = handle.request(("plan", case.kind, case.size, case.workers), limits.setup)
        if status != "ok":
            return status, value
        handle.planned_case = case.name
    return handle.request(message, limit)


def machine_description() -> dict[str, str]:
    """Return the CPU model, core count, operating system and Python of this machine."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return {
        "CPU": cpu,
        "logical CPUs": str(os.cpu_count()),
        "operating system": platform.platform(),
        "Python": f"{platform.python_implementation()} {platform.python_version()}",
    }


def repository_state() -> str:
    """Return the checked-out commit and whether flowlite/ has uncommitted changes."""
    try:
        commit = subprocess.run(
            ["git", "-C", str(REPOSITORY), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
            timeout=30,
        ).stdout.strip()
        changes = subprocess.run(
            ["git", "-C", str(REPOSITORY), "status", "--porcelain", "--", "flowlite"],
            capture_output=True,
            text=True,
            check=True,
            timeout=30,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown (not a git checkout)"
    return f"{commit}, with uncommitted changes in flowlite/" if changes else commit


def library_versions() -> dict[str, str]:
    """Return the installed version of each measured distribution, or "not installed"."""
    versions: dict[str, str] = {}
    for name in (*DISTRIBUTIONS.values(), "matplotlib", "pypdf", "langdetect"):
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def measure_documents(pool: WorkerPool, args: argparse.Namespace, limits: Limits) -> dict[str, Any]:
    """Return the document-intelligence throughput, or {"skipped": reason}."""
    if args.quick:
        folder, passwords = SAMPLE_DOCUMENTS, SAMPLE_DOCUMENTS / "passwords.json"
    else:
        corpus = Path(args.corpus)
        folder, passwords = corpus / "documents", corpus / "passwords.json"
    if not folder.is_dir():
        return {"skipped": f"no corpus folder at {folder}; pass --corpus DIR to measure it"}
    kwargs = {
        "documents": str(folder),
        "passwords": str(passwords) if passwords.is_file() else None,
        "concurrency": CONCURRENCY_LEVELS,
        "samples": args.samples,
    }
    status, value = pool.handles[MISC].request(
        ("call", "document_throughput:measure", kwargs), limits.documents
    )
    if status != "ok":
        return {"failed": f"{status}: {value}"}
    value["folder"] = "the example's sample_documents" if args.quick else "the --corpus folder"
    return dict(value)


def parse_arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick",
        action="store_true",
        help="small graphs, short time limits and flowlite's import only; takes under 30 seconds",
    )
    parser.add_argument(
        "--output",
        type=Path,
        help=(
            "folder for results.md and overhead.png (default: benchmarks/results for the full suite; "
            "the quick suite writes no files unless given)"
        ),
    )
    parser.add_argument("--samples", type=int, default=5, help="timed samples per measurement (default 5)")
    parser.add_argument(
        "--corpus",
        default=str(DEFAULT_CORPUS),
        help=(
            "folder with documents/ and passwords.json for the document benchmark "
            "(default: ../shared/corpus beside the repository)"
        ),
    )
    args = parser.parse_args(argv)
    if args.samples < 1:
        parser.error(f"--samples must be at least 1, got {args.samples}")
    if args.output is None and not args.quick:
        args.output = DEFAULT_OUTPUT
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_arguments(argv)
    limits = QUICK_LIMITS if args.quick else FULL_LIMITS
    # Kedro's telemetry plugin reads these; nothing here may contact a server.
    os.environ["DO_NOT_TRACK"] = "1"
    os.environ["KEDRO_DISABLE_TELEMETRY"] = "1"

    started = time.perf_counter()
    load_at_start = os.getloadavg()[0]
    suite = report.Suite(
        quick=args.quick,
        samples=args.samples,
        limits={"setup": limits.setup, "run": limits.run},
        machine={**machine_description(), "flowlite commit": repository_state()},
        versions=library_versions(),
        date=datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d"),
    )
    pool = WorkerPool(limits)
    pool.start_all()
    try:
        history = History(limits)
        for case in graph_cases(args.quick):
            suite.cases.append(run_graph_case(case, pool, history, args.samples, limits))
        for key, handle in pool.handles.items():
            if handle.missing is not None:
                suite.missing[key] = handle.missing
            if key != MISC:
                handle.stop()

        size = 1_000 if args.quick else 10_000
        status, value = pool.handles[MISC].request(
            ("call", "flowlite_memory:measure", {"size": size}), limits.setup * 2
        )
        suite.memory = {"size": size, **value} if status == "ok" else {"failed": f"{status}: {value}"}
        progress("memory: done")

        if args.quick:
            statements = {"flowlite": IMPORT_STATEMENTS["flowlite"]}
            suite.imports = import_time.measure(sys.executable, statements, runs=10, warmup=2)
        else:
            suite.imports = import_time.measure(sys.executable, IMPORT_STATEMENTS, runs=20, warmup=3)
        progress("import time: done")

        suite.documents = measure_documents(pool, args, limits)
        progress("documents: done")
    finally:
        pool.stop_all()

    suite.seconds = time.perf_counter() - started
    suite.machine["load average at start, end"] = f"{load_at_start:.2f}, {os.getloadavg()[0]:.2f}"
    markdown = report.markdown(suite)
    print(markdown)
    if args.output is not None:
        args.output.mkdir(parents=True, exist_ok=True)
        (args.output / "results.md").write_text(markdown, encoding="utf-8")
        report.plot(suite, args.output / "overhead.png")
        progress(f"wrote {args.output / 'results.md'} and {args.output / 'overhead.png'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
