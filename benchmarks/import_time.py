"""Time `python -c STATEMENT` in fresh processes, with hyperfine where installed.

The import time of a library is the median wall time of a fresh
interpreter running its import statement, minus the median of a fresh
interpreter running `pass`. The interpreter runs with -I, so the
environment, the user's site-packages and the current folder do not
change what it imports.
"""

from __future__ import annotations

import json
import shlex
import shutil
import statistics
import subprocess
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

BASELINE = "bare interpreter"
# One fresh interpreter start takes tens of milliseconds; a command that
# runs this long is stuck.
COMMAND_TIMEOUT_SECONDS = 120


def measure(python: str, statements: Mapping[str, str], *, runs: int, warmup: int) -> dict[str, Any]:
    """Return, per label and for BASELINE, the sample seconds of `python -I -c STATEMENT`.

    The result maps each label to {"samples": [...]} or, when the command
    failed, to {"error": message}, and "tool" to the tool that timed it.
    """
    commands = {BASELINE: [python, "-I", "-c", "pass"]}
    commands.update({label: [python, "-I", "-c", code] for label, code in statements.items()})

    results: dict[str, Any] = {}
    runnable: dict[str, list[str]] = {}
    for label, command in commands.items():
        # hyperfine stops at the first failing command, so check each first.
        check = subprocess.run(command, capture_output=True, text=True, timeout=COMMAND_TIMEOUT_SECONDS)
        if check.returncode != 0:
            last_line = (check.stderr.strip().splitlines() or ["no output"])[-1]
            results[label] = {"error": f"exit code {check.returncode}: {last_line}"}
        else:
            runnable[label] = command

    hyperfine = shutil.which("hyperfine")
    if hyperfine is not None:
        results.update(_with_hyperfine(hyperfine, runnable, runs=runs, warmup=warmup))
        results["tool"] = _hyperfine_version(hyperfine)
    else:
        results.update(_with_loop(runnable, runs=runs, warmup=warmup))
        results["tool"] = "subprocess loop (hyperfine not installed)"
    return results


def _with_hyperfine(
    hyperfine: str, commands: Mapping[str, list[str]], *, runs: int, warmup: int
) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as folder:
        export = Path(folder) / "times.json"
        arguments = [
            hyperfine,
            "--shell=none",
            "--style=none",
            f"--warmup={warmup}",
            f"--runs={runs}",
            f"--export-json={export}",
        ]
        for label, command in commands.items():
            arguments += ["--command-name", label, _quote(command)]
        subprocess.run(
            arguments, check=True, capture_output=True, timeout=COMMAND_TIMEOUT_SECONDS * len(commands)
        )
        report = json.loads(export.read_text(encoding="utf-8"))
    return {entry["command"]: {"samples": entry["times"]} for entry in report["results"]}


def _quote(command: list[str]) -> str:
    # hyperfine splits a command given with --shell=none by shell-style quoting.
    return shlex.join(command)


def _hyperfine_version(hyperfine: str) -> str:
    output = subprocess.run([hyperfine, "--version"], capture_output=True, text=True, check=False).stdout
    return output.strip() or "hyperfine"


def _with_loop(commands: Mapping[str, list[str]], *, runs: int, warmup: int) -> dict[str, Any]:
    samples: dict[str, list[float]] = {label: [] for label in commands}
    for round_number in range(warmup + runs):
        # Round-robin, so that machine noise reaches every command alike.
        for label, command in commands.items():
            started = time.perf_counter()
            subprocess.run(command, check=True, capture_output=True, timeout=COMMAND_TIMEOUT_SECONDS)
            elapsed = time.perf_counter() - started
            if round_number >= warmup:
                samples[label].append(elapsed)
    return {label: {"samples": values} for label, values in samples.items()}


def summarize(results: Mapping[str, Any]) -> dict[str, dict[str, float]]:
    """Return median, min and max seconds per label, and the median minus BASELINE's median."""
    baseline = statistics.median(results[BASELINE]["samples"])
    summary: dict[str, dict[str, float]] = {}
    for label, entry in results.items():
        if label == "tool" or "samples" not in entry:
            continue
        values = entry["samples"]
        median = statistics.median(values)
        summary[label] = {
            "median": median,
            "min": min(values),
            "max": max(values),
            "over_baseline": median - baseline,
        }
    return summary
