"""Type checking with real mypy runs: the package is strict-clean and tasks keep their signatures."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TYPING_CASES = sorted((ROOT / "tests" / "typing").glob("*.py"))
EXPECTED_ERROR = re.compile(r"#\s*E:\s*(?P<message>.+)$")


def run_mypy(*arguments: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "mypy", "--no-incremental", "--strict", *arguments]
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600, check=False)


def test_package_passes_mypy_strict() -> None:
    result = run_mypy("flowlite")
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("case", TYPING_CASES, ids=lambda path: path.name)
def test_typing_case_errors_match(case: Path) -> None:
    expected = {
        number: match.group("message").strip()
        for number, line in enumerate(case.read_text().splitlines(), start=1)
        if (match := EXPECTED_ERROR.search(line))
    }
    result = run_mypy("--show-error-codes", "--hide-error-context", "--no-error-summary", str(case))

    reported: dict[int, str] = {}
    path = re.escape(str(case.relative_to(ROOT)))
    error_line = re.compile(rf"{path}:(\d+): error: (.+?)(?:  \[[\w-]+\])?$")
    for line in result.stdout.splitlines():
        match = error_line.match(line)
        if match:
            reported[int(match.group(1))] = match.group(2)

    assert sorted(reported) == sorted(expected), result.stdout
    for number, message in expected.items():
        assert reported[number] == message, f"line {number}: {result.stdout}"
