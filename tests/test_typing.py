"""Type checking with real mypy and pyright runs: the package is strict-clean and tasks keep their signatures.

Each file in tests/typing/ marks its expectations with trailing comments:
"E:" a mypy error, "R:" the type that mypy reveals, "P:" the type that
pyright reveals. pyright must report an error on exactly the lines marked
"E:", in its own words.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
TYPING_CASES = sorted((ROOT / "tests" / "typing").glob("*.py"))
MARKER = re.compile(r"#\s*(?P<kind>[ERP]):\s*(?P<text>.+?)(?=\s+#\s*[ERP]:|$)")
MYPY_LINE = re.compile(
    r"(?P<path>[^:]+):(?P<line>\d+): (?P<severity>error|note): (?P<text>.+?)(?:  \[[\w-]+\])?$"
)
REVEALED = re.compile(r'Revealed type is "(?P<type>.+)"$')
PYRIGHT_REVEALED = re.compile(r'Type of ".+" is "(?P<type>.+)"$')


def expectations(case: Path) -> dict[str, dict[int, list[str]]]:
    """Return the expected texts of each marker kind, by line number."""
    found: dict[str, dict[int, list[str]]] = {"E": {}, "R": {}, "P": {}}
    for number, line in enumerate(case.read_text().splitlines(), start=1):
        for match in MARKER.finditer(line):
            found[match.group("kind")].setdefault(number, []).append(match.group("text").strip())
    return found


@pytest.fixture(scope="module")
def mypy_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh mypy cache that this module's runs share, so that mypy reads the standard library once."""
    return tmp_path_factory.mktemp("mypy-cache")


def run_mypy(cache: Path, *arguments: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "mypy", "--cache-dir", str(cache), "--strict", *arguments]
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600, check=False)


def mypy_messages(output: str, case: Path) -> dict[str, dict[int, list[str]]]:
    """Return mypy's errors and revealed types in `case`, by line number."""
    found: dict[str, dict[int, list[str]]] = {"E": {}, "R": {}}
    relative = str(case.relative_to(ROOT))
    for line in output.splitlines():
        match = MYPY_LINE.match(line)
        if match is None or match.group("path") != relative:
            continue
        number = int(match.group("line"))
        if match.group("severity") == "error":
            found["E"].setdefault(number, []).append(match.group("text"))
        elif revealed := REVEALED.search(match.group("text")):
            found["R"].setdefault(number, []).append(revealed.group("type"))
    return found


def test_package_passes_mypy_strict(mypy_cache: Path) -> None:
    result = run_mypy(mypy_cache, "flowlite")
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("case", TYPING_CASES, ids=lambda path: path.name)
def test_typing_case_matches_mypy(case: Path, mypy_cache: Path) -> None:
    expected = expectations(case)
    result = run_mypy(
        mypy_cache, "--show-error-codes", "--hide-error-context", "--no-error-summary", str(case)
    )

    reported = mypy_messages(result.stdout, case)

    assert reported["E"] == expected["E"], result.stdout
    assert reported["R"] == expected["R"], result.stdout


@pytest.fixture(scope="module")
def pyright_diagnostics() -> list[dict[str, Any]]:
    """Run pyright once over every typing case and return its diagnostics."""
    if shutil.which("node") is None:
        pytest.skip("pyright needs Node.js, and `node` is not on PATH")
    pytest.importorskip("pyright", reason="pyright is in the test extra: pip install -e '.[test]'")
    command = [
        sys.executable,
        "-m",
        "pyright",
        "--outputjson",
        "--pythonpath",
        sys.executable,
        *map(str, TYPING_CASES),
    ]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600, check=False)
    try:
        report = json.loads(result.stdout)
    except json.JSONDecodeError:
        pytest.fail(f"pyright printed no JSON report:\n{result.stdout}\n{result.stderr}")
    diagnostics: list[dict[str, Any]] = report["generalDiagnostics"]
    return diagnostics


def pyright_messages(diagnostics: list[dict[str, Any]], case: Path) -> dict[str, dict[int, list[str]]]:
    """Return the lines of pyright's errors and its revealed types in `case`, by line number."""
    found: dict[str, dict[int, list[str]]] = {"E": {}, "P": {}}
    for diagnostic in diagnostics:
        if Path(diagnostic["file"]) != case:
            continue
        number = diagnostic["range"]["start"]["line"] + 1
        message = diagnostic["message"]
        if diagnostic["severity"] == "error":
            found["E"].setdefault(number, []).append(message)
        elif revealed := PYRIGHT_REVEALED.search(message):
            found["P"].setdefault(number, []).append(revealed.group("type"))
    return found


@pytest.mark.parametrize("case", TYPING_CASES, ids=lambda path: path.name)
def test_typing_case_matches_pyright(case: Path, pyright_diagnostics: list[dict[str, Any]]) -> None:
    expected = expectations(case)

    reported = pyright_messages(pyright_diagnostics, case)

    assert sorted(reported["E"]) == sorted(expected["E"]), reported["E"]
    assert reported["P"] == expected["P"]
