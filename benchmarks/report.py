"""The suite's results as Markdown tables, flowlite's targets, and the overhead plot."""

from __future__ import annotations

import dataclasses
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import import_time

if TYPE_CHECKING:
    from run import CaseResult, Outcome

FLOOR = "floor"
HANDMADE = "handmade"
FLOWLITE = "flowlite"
MIB = 2**20


@dataclass
class Suite:
    """Everything one run of the suite measured."""

    quick: bool
    samples: int
    limits: dict[str, float]
    machine: dict[str, str]
    versions: dict[str, str]
    date: str
    cases: list[CaseResult] = field(default_factory=list)
    missing: dict[str, str] = field(default_factory=dict)
    memory: dict[str, Any] = field(default_factory=dict)
    imports: dict[str, Any] = field(default_factory=dict)
    documents: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0

    def case(self, name: str) -> CaseResult | None:
        return next((result for result in self.cases if result.case.name == name), None)


# Numbers


def median(values: Sequence[float]) -> float | None:
    return statistics.median(values) if values else None


def run_median(result: CaseResult | None, label: str) -> float | None:
    if result is None or label not in result.outcomes:
        return None
    outcome = result.outcomes[label]
    return median(outcome.runs) if outcome.status == "ok" else None


def overhead_per_task(result: CaseResult, label: str) -> float | None:
    """Return (median run - floor's median run) / tasks, in seconds."""
    value, floor = run_median(result, label), run_median(result, FLOOR)
    if value is None or floor is None:
        return None
    return (value - floor) / result.tasks


def plan_median(result: CaseResult | None, label: str) -> float | None:
    if result is None or label not in result.outcomes:
        return None
    outcome = result.outcomes[label]
    return median(outcome.plans) if outcome.status == "ok" else None


# Formatting


def milliseconds(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    value = seconds * 1e3
    if value >= 100:
        return f"{value:,.0f}"
    if value >= 10:
        return f"{value:.1f}"
    if value >= 1:
        return f"{value:.2f}"
    return f"{value:.3f}"


def microseconds(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    value = seconds * 1e6
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.1f}" if abs(value) >= 10 else f"{value:.2f}"


def spread(values: Sequence[float]) -> str:
    if not values:
        return "-"
    return f"{milliseconds(min(values))}-{milliseconds(max(values))}"


def ratio(value: float | None, reference: float | None) -> str:
    if value is None or reference is None or reference <= 0:
        return "-"
    return f"{value / reference:.2f}"


def status_cell(outcome: Outcome) -> str:
    """Return the short cell text of an outcome without samples."""
    if outcome.status == "error":
        return outcome.detail.split(":", 1)[0]
    if outcome.status == "time-out":
        return f"time-out ({outcome.detail.replace('more than', '>')})"
    return outcome.status


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(" --- " for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


def notes(outcomes: Sequence[Outcome]) -> list[str]:
    """Return one bullet per outcome that failed or was not run, with its reason."""
    lines = [f"- {o.label}: {o.status}: {o.detail}" for o in outcomes if o.status != "ok" and o.detail]
    lines += [f"- {o.label}: {o.detail}" for o in outcomes if o.status == "ok" and o.detail]
    return [*lines, ""] if lines else []


def all_labels(results: Sequence[CaseResult]) -> list[str]:
    """Return every label of the results, in the order of their first appearance."""
    labels: dict[str, None] = {}
    for result in results:
        labels.update(dict.fromkeys(result.outcomes))
    return list(labels)


def progress_line(result: CaseResult) -> str:
    """Return one line that sums up a case, for the terminal."""
    parts = []
    for label, outcome in result.outcomes.items():
        if outcome.status != "ok":
            parts.append(f"{label} {status_cell(outcome)}")
        elif outcome.runs:
            parts.append(f"{label} {milliseconds(median(outcome.runs))} ms")
        elif outcome.plans:
            parts.append(f"{label} plan {milliseconds(median(outcome.plans))} ms")
    return f"{result.case.name}: " + ", ".join(parts)


# Sections


def markdown(suite: Suite) -> str:
    """Return the whole results page."""
    lines = [
        "# flowlite benchmark results",
        "",
        f"Measured on {suite.date} by `python benchmarks/run.py{' --quick' if suite.quick else ''}` "
        f"in {suite.seconds / 60:.1f} minutes. Each figure is the median of {suite.samples} samples "
        "after one warm-up, with the range (min-max) of the samples. Libraries run round-robin, one "
        "worker process each. Per-task overhead is (median - floor's median) / tasks; "
        '"x handmade" is the median divided by the handmade runner\'s median. '
        f"Time limits: {suite.limits['setup']:g} s to prepare and plan a graph, "
        f"{suite.limits['run']:g} s for one run.",
        "",
    ]
    lines += machine_section(suite)
    lines += targets_section(suite)
    lines += overhead_summary(suite)
    for family in ("chain", "fan"):
        for result in suite.cases:
            if result.case.family == family:
                lines += run_table(result)
    lines += random_dag_section(suite)
    lines += sleep_section(suite)
    lines += memory_section(suite)
    lines += import_section(suite)
    lines += documents_section(suite)
    return "\n".join(lines).rstrip() + "\n"


def machine_section(suite: Suite) -> list[str]:
    rows = [[name, value] for name, value in suite.machine.items()]
    rows += [[name, version] for name, version in suite.versions.items()]
    rows.append(["import timer", str(suite.imports.get("tool", "-"))])
    lines = ["## Machine and versions", "", *table(["", ""], rows), ""]
    for key, reason in suite.missing.items():
        lines.append(f"- adapters in `{key}` skipped: {reason}")
    return [*lines, ""] if suite.missing else lines


def overhead_summary(suite: Suite) -> list[str]:
    results = [r for r in suite.cases if r.case.family in ("chain", "fan")]
    if not results:
        return []
    header = ["library", *(f"{r.case.family} {r.case.size:,}" for r in results)]
    rows = []
    for label in all_labels(results):
        if label == FLOOR:
            continue
        row = [label]
        for result in results:
            outcome = result.outcomes.get(label)
            if outcome is None:
                row.append("-")
            elif outcome.status == "ok":
                row.append(microseconds(overhead_per_task(result, label)))
            else:
                row.append(status_cell(outcome))
        rows.append(row)
    floor_row = ["floor (time per task)"] + [
        microseconds(None if run_median(r, FLOOR) is None else run_median(r, FLOOR) / r.tasks)  # type: ignore[operator]
        for r in results
    ]
    return [
        "## Per-task overhead (microseconds)",
        "",
        "Run time over plain sequential calls, per task, for a chain of N tasks (each reads the "
        "previous output) and a fan (one source, N tasks that read it, one sink that reads them all). "
        "The last row is the floor's own time per task.",
        "",
        *table(header, [*rows, floor_row]),
        "",
    ]


def run_table(result: CaseResult) -> list[str]:
    handmade = run_median(result, HANDMADE)
    rows = []
    for label, outcome in result.outcomes.items():
        if outcome.status != "ok":
            rows.append([label, status_cell(outcome), "-", "-", "-"])
            continue
        value = median(outcome.runs)
        rows.append(
            [
                label,
                milliseconds(value),
                spread(outcome.runs),
                microseconds(overhead_per_task(result, label)),
                ratio(value, handmade),
            ]
        )
    header = ["library", "median ms", "min-max ms", "overhead µs/task", "x handmade"]
    title = f"## {result.case.name} ({result.tasks:,} tasks)"
    return [title, "", *table(header, rows), "", *notes(list(result.outcomes.values()))]


def random_dag_section(suite: Suite) -> list[str]:
    results = [r for r in suite.cases if r.case.family == "random_dag"]
    if not results:
        return []
    lines = [
        "## Random DAG: planning and running",
        "",
        "Tasks read 2 to 4 (3 on average) distinct earlier outputs drawn with a fixed seed, plus one "
        "sink of every unread output. Planning builds the library's runnable graph from tasks that "
        "already exist (flowlite: `plan()` of a registry; handmade: graphlib alone, a "
        "TopologicalSorter and its static order). A plan that took more than 2 s (30 s with "
        "100,000 tasks) has its first time as its only sample. Runs reuse the first plan; "
        '"first run" is the warm-up run.',
        "",
    ]
    for result in results:
        graphlib_plan = plan_median(result, HANDMADE)
        handmade_run = run_median(result, HANDMADE)
        rows = []
        for label, outcome in result.outcomes.items():
            if outcome.status != "ok":
                rows.append([label, status_cell(outcome), *["-"] * 7])
                continue
            plan = median(outcome.plans)
            if label == FLOOR:
                # Plain calls in listed order need no plan.
                plan = None
                outcome = dataclasses.replace(outcome, plans=[])
            rows.append(
                [
                    label,
                    milliseconds(plan),
                    spread(outcome.plans) if len(outcome.plans) != 1 else "1 sample",
                    microseconds(None if plan is None else plan / result.tasks),
                    ratio(plan, graphlib_plan),
                    milliseconds(outcome.first_run),
                    milliseconds(median(outcome.runs)),
                    spread(outcome.runs),
                    ratio(median(outcome.runs), handmade_run),
                ]
            )
        header = [
            "library",
            "plan ms",
            "min-max ms",
            "plan µs/task",
            "x graphlib",
            "first run ms",
            "run ms",
            "min-max ms",
            "run x handmade",
        ]
        lines += [f"### {result.case.name} ({result.tasks:,} tasks)", "", *table(header, rows), ""]
        lines += notes(list(result.outcomes.values()))
    return lines


def sleep_section(suite: Suite) -> list[str]:
    results = [r for r in suite.cases if r.case.family.startswith("sleep_dag")]
    if not results:
        return []
    lines = [
        "## sleep_dag: makespan over the critical path",
        "",
        "Four layers of eight 20 ms tasks (each reads the whole layer before), a 200 ms branch that "
        "only the sink reads, and the sink: 34 tasks, with the branch as the critical path (200 ms). "
        f"Every library that runs tasks in parallel gets {results[0].case.workers} threads. In "
        "`sleep_dag` the branch is listed after the layers, in `sleep_dag_branch_first` before them. "
        "The floor, `flowlite max_workers=1` and `pipefunc` (Pipeline.run) run tasks one at a time.",
        "",
    ]
    for result in results:
        rows = []
        for label, outcome in result.outcomes.items():
            if outcome.status != "ok":
                rows.append([label, status_cell(outcome), "-", "-"])
                continue
            value = median(outcome.runs)
            rows.append(
                [label, milliseconds(value), spread(outcome.runs), ratio(value, result.critical_path)]
            )
        header = ["library", "makespan ms", "min-max ms", "makespan / critical path"]
        lines += [f"### {result.case.name}", "", *table(header, rows), ""]
        lines += notes(list(result.outcomes.values()))
    return lines


def memory_section(suite: Suite) -> list[str]:
    memory = suite.memory
    if "failed" in memory:
        return ["## Peak memory", "", f"The flowlite measurement failed: {memory['failed']}", ""]
    if not memory:
        return []
    size = memory["size"]
    values = memory["chain"]["values"]
    lines = [
        "## Peak memory",
        "",
        f"tracemalloc's peak during one run of a {size:,}-task chain, after the plan exists, against "
        "the size of the final state's values (sys.getsizeof summed over them; the state's dict and "
        "keys are not included). The int chain stores one int per task "
        f"({values / MIB:.2f} MiB of values); the block chain stores a new 1,024-byte bytes object per "
        f"task ({memory['chain_blocks']['values'] / MIB:.2f} MiB). `stream()` is consumed keeping only "
        "the newest state, and once keeping every state.",
        "",
    ]

    rows = []
    for kind, title in (("chain", "int chain"), ("chain_blocks", "block chain")):
        figures = memory[kind]
        for name, text in (
            ("run", "run()"),
            ("stream", "stream()"),
            ("stream_kept", "stream(), all states kept"),
        ):
            rows.append(
                [
                    f"flowlite {text}, {title}",
                    f"{figures[name] / MIB:.2f}",
                    ratio(figures[name], figures["values"]),
                ]
            )

    # The same int chain for every adapter, measured inside its worker.
    memory_case = next((r for r in suite.cases if r.case.measure_memory), None)
    if memory_case is not None:
        for label, outcome in memory_case.outcomes.items():
            if outcome.peak_bytes is not None:
                rows.append(
                    [
                        f"{label}, int chain",
                        f"{outcome.peak_bytes / MIB:.2f}",
                        ratio(outcome.peak_bytes, values),
                    ]
                )
            else:
                rows.append(
                    [f"{label}, int chain", status_cell(outcome) if outcome.status != "ok" else "failed", "-"]
                )
    lines += table(["run", "peak MiB", "x values"], rows)
    return [*lines, ""]


def import_section(suite: Suite) -> list[str]:
    if not suite.imports:
        return []
    summary = import_time.summarize(suite.imports)
    rows = []
    for label, entry in suite.imports.items():
        if label == "tool":
            continue
        if "error" in entry:
            rows.append([label, "failed", "-", entry["error"]])
            continue
        figures = summary[label]
        over = "-" if label == import_time.BASELINE else milliseconds(figures["over_baseline"])
        rows.append(
            [
                label,
                milliseconds(figures["median"]),
                f"{milliseconds(figures['min'])}-{milliseconds(figures['max'])}",
                over,
            ]
        )
    runs = len(next(e for e in suite.imports.values() if isinstance(e, dict) and "samples" in e)["samples"])
    return [
        "## Import time",
        "",
        f"Wall time of `python -I -c STATEMENT` in a fresh process ({runs} runs, timed by "
        f"{suite.imports.get('tool')}); the last column subtracts the bare interpreter's median.",
        "",
        *table(["library", "median ms", "min-max ms", "over bare interpreter ms"], rows),
        "",
    ]


def documents_section(suite: Suite) -> list[str]:
    documents = suite.documents
    if not documents:
        return []
    lines = ["## Document-intelligence example", ""]
    if "skipped" in documents or "failed" in documents:
        return [*lines, f"Not measured: {documents.get('skipped') or documents.get('failed')}", ""]
    statuses = ", ".join(f"{count} {status}" for status, count in sorted(documents["statuses"].items()))
    lines += [
        f"Documents per second of `process_documents` over {documents['folder']} "
        f"({documents['documents']} PDF files: {statuses}), one shared plan, with 1, 2 and 4 "
        "documents processed at the same time.",
        "",
    ]
    rows = []
    for workers, rates in documents["rates"].items():
        rows.append([str(workers), f"{statistics.median(rates):.2f}", f"{min(rates):.2f}-{max(rates):.2f}"])
    return [*lines, *table(["concurrent documents", "documents/s (median)", "min-max"], rows), ""]


# Targets


@dataclass
class Target:
    name: str
    figure: str
    met: bool | None


def targets(suite: Suite) -> list[Target]:
    """Evaluate flowlite's performance targets on the measured figures."""
    found: list[Target] = []
    for name in ("chain_1000", "chain_100000"):
        result = suite.case(name)
        if result is None:
            continue
        outcome = result.outcomes[FLOWLITE]
        value = overhead_per_task(result, FLOWLITE)
        if value is None:
            found.append(
                Target(f"{name}: at most 1 µs overhead per task, no recursion", status_cell(outcome), False)
            )
        else:
            found.append(
                Target(
                    f"{name}: at most 1 µs overhead per task, no recursion",
                    f"{microseconds(value)} µs",
                    value <= 1e-6,
                )
            )

    fan = suite.case("fan_1000")
    if fan is not None:
        own = overhead_per_task(fan, FLOWLITE)
        handmade = overhead_per_task(fan, HANDMADE)
        peers = {
            label: overhead_per_task(fan, label)
            for label in ("pipefunc", "pipefunc map", "hamilton")
            if label in fan.outcomes
        }
        figures = [f"flowlite {microseconds(own)} µs", f"handmade {microseconds(handmade)} µs"]
        for label, value in peers.items():
            shown = f"{microseconds(value)} µs" if value is not None else status_cell(fan.outcomes[label])
            figures.append(f"{label} {shown}")
        text = ", ".join(figures) if peers else ", ".join(figures) + ", peers not measured"
        met = None
        if own is not None and handmade is not None:
            below_peers = all(value is None or own < value for value in peers.values())
            met = below_peers and own <= handmade / 2
        found.append(Target("fan_1000: below pipefunc and Hamilton, at most half of handmade", text, met))

    for name in ("sleep_dag", "sleep_dag_branch_first"):
        result = suite.case(name)
        if result is None:
            continue
        value = run_median(result, FLOWLITE)
        met = None if value is None else value / result.critical_path <= 1.03
        figure = "-" if value is None else f"{value / result.critical_path:.3f} x critical path"
        found.append(Target(f"{name}: makespan at most 1.03 x critical path", figure, met))

    dag = suite.case("random_dag_10000")
    if dag is not None:
        own, graphlib_alone = plan_median(dag, FLOWLITE), plan_median(dag, HANDMADE)
        met = None if own is None or graphlib_alone is None else own <= 2 * graphlib_alone
        found.append(
            Target(
                "random_dag_10000: planning at most 2 x graphlib alone",
                f"flowlite {milliseconds(own)} ms, graphlib {milliseconds(graphlib_alone)} ms "
                f"({ratio(own, graphlib_alone)} x)",
                met,
            )
        )
    small, large = suite.case("random_dag_1000"), suite.case("random_dag_100000")
    if small is not None and large is not None:
        growth = {
            label: _growth(plan_median(small, label), small.tasks, plan_median(large, label), large.tasks)
            for label in (FLOWLITE, HANDMADE)
        }
        own = growth[FLOWLITE]
        figure = (
            f"per-task plan time x{own:.2f} from 1,000 to 100,000 tasks "
            f"(graphlib alone x{growth[HANDMADE]:.2f})"
            if own is not None and growth[HANDMADE] is not None
            else "-"
        )
        found.append(
            Target(
                "planning linear from 1,000 to 100,000 tasks (per-task time grows at most 1.5 x)",
                figure,
                None if own is None else own <= 1.5,
            )
        )

    if suite.imports and FLOWLITE in suite.imports and "samples" in suite.imports[FLOWLITE]:
        over = import_time.summarize(suite.imports)[FLOWLITE]["over_baseline"]
        found.append(
            Target(
                "`import flowlite`: at most 20 ms over the bare interpreter",
                f"{milliseconds(over)} ms",
                over <= 0.020,
            )
        )

    if "chain" in suite.memory:
        for kind, title in (("chain", "int"), ("chain_blocks", "1 KiB block")):
            figures = suite.memory[kind]
            for name in ("run", "stream"):
                value = figures[name] / figures["values"]
                found.append(
                    Target(
                        f"{suite.memory['size']:,}-stage {title} chain, {name}(): "
                        "peak at most 2 x the values",
                        f"{value:.2f} x ({figures[name] / MIB:.2f} MiB / {figures['values'] / MIB:.2f} MiB)",
                        value <= 2,
                    )
                )
    return found


def _growth(small: float | None, small_tasks: int, large: float | None, large_tasks: int) -> float | None:
    # How much the time per task grows from the small graph to the large one.
    if small is None or large is None or small <= 0:
        return None
    return (large / large_tasks) / (small / small_tasks)


def targets_section(suite: Suite) -> list[str]:
    rows = []
    for target in targets(suite):
        result = "-" if target.met is None else ("met" if target.met else "missed")
        rows.append([target.name, target.figure, result])
    return ["## flowlite's targets", "", *table(["target", "measured", "result"], rows), ""]


# Plot


def plot(suite: Suite, path: Path) -> None:
    """Draw per-task overhead against tasks on log-log axes, one panel for chains and one for fans."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    families = [family for family in ("chain", "fan") if any(r.case.family == family for r in suite.cases)]
    figure, axes = plt.subplots(1, len(families), figsize=(6.2 * len(families), 5.2), squeeze=False)
    labels = [label for label in all_labels(suite.cases) if label != FLOOR]
    markers = "osD^v<>ph*"
    colors: Callable[[int], Any] = plt.get_cmap("tab10")
    for axis, family in zip(axes[0], families, strict=True):
        results = [r for r in suite.cases if r.case.family == family]
        failed_y = _failure_row(results, labels)
        for index, label in enumerate(labels):
            style = {"color": colors(index), "marker": markers[index % len(markers)]}
            measured = [r for r in results if label in r.outcomes]
            points = [(r.tasks, overhead_per_task(r, label)) for r in measured]
            good = [(x, y * 1e6) for x, y in points if y is not None and y > 0]
            bad = [r.tasks for r in measured if r.outcomes[label].status != "ok"]
            if good:
                axis.plot(*zip(*good, strict=True), label=label, linewidth=1.6, markersize=5, **style)
            if bad:
                # Spread the markers of different libraries apart, so that
                # failures at the same size do not hide each other.
                shift = 1.09 ** (index - (len(labels) - 1) / 2)
                axis.scatter(
                    [x * shift for x in bad], [failed_y] * len(bad), color=style["color"], marker="x", s=45
                )
        axis.set_xscale("log")
        axis.set_yscale("log")
        axis.set_xlabel("tasks")
        axis.set_ylabel("overhead per task (µs), log scale")
        axis.set_title(f"{family}: run time over plain calls, per task")
        axis.grid(True, which="major", linewidth=0.5, alpha=0.6)
        axis.axhline(failed_y / 1.6, color="grey", linewidth=0.5, linestyle=":")
        axis.text(
            0.01,
            0.01,
            "x at the top: time-out, error or not run",
            transform=axis.transAxes,
            fontsize=8,
            color="dimgrey",
        )
    handles, names = axes[0][0].get_legend_handles_labels()
    if handles:
        figure.legend(handles, names, loc="lower center", ncol=min(5, len(names)), frameon=False)
    figure.suptitle(
        f"flowlite and peers, {suite.machine.get('CPU', '')}, {suite.machine.get('logical CPUs', '?')} CPUs",
        fontsize=10,
    )
    figure.tight_layout(rect=(0, 0.1, 1, 0.96))
    figure.savefig(path, dpi=110)
    plt.close(figure)


def _failure_row(results: Sequence[CaseResult], labels: Sequence[str]) -> float:
    # Failed points are drawn above the highest measured one.
    values = [
        value * 1e6
        for result in results
        for label in labels
        if label in result.outcomes and (value := overhead_per_task(result, label)) is not None and value > 0
    ]
    return max(values, default=1.0) * 4
