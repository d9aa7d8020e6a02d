"""The mypy plugin `flowlite.mypy`, run by real mypy, in normal, incremental and daemon mode.

The cases are in tests/typing/plugin/declarations.py: "E:" marks the
plugin's expected error and "N:" its note. The same declarations also run,
so each error is checked against the decorator's own message.

CI runs this file once more under the oldest mypy that the plugin supports.
"""

from __future__ import annotations

import importlib.util
import inspect
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from flowlite import TaskDefinitionError

ROOT = Path(__file__).resolve().parents[1]
CASES = ROOT / "tests" / "typing" / "plugin" / "declarations.py"
CONFIG = ROOT / "tests" / "typing" / "plugin" / "mypy.ini"
MARKER = re.compile(r"#\s*(?P<kind>[EN]):\s*(?P<text>.+?)(?=\s+#\s*[EN]:|$)")
MYPY_LINE = re.compile(
    r"(?P<path>[^:]+):(?P<line>\d+):(?:(?P<column>\d+):)? (?P<severity>error|note): (?P<text>.+?)"
    r"(?:  \[(?P<code>[\w-]+)\])?$"
)

Messages = dict[int, list[tuple[str, str]]]


def expected_messages() -> Messages:
    """Return the marked errors ("E") and notes ("N") of the cases, by line number."""
    found: Messages = {}
    for number, line in enumerate(CASES.read_text().splitlines(), start=1):
        for match in MARKER.finditer(line):
            found.setdefault(number, []).append((match.group("kind"), match.group("text").strip()))
    return found


def reported_messages(output: str) -> Messages:
    found: Messages = {}
    for line in output.splitlines():
        match = MYPY_LINE.match(line)
        if match is None or Path(match.group("path")).name != CASES.name:
            continue
        kind = "E" if match.group("severity") == "error" else "N"
        found.setdefault(int(match.group("line")), []).append((kind, match.group("text")))
    return found


def mypy_command(*arguments: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "mypy",
        "--config-file",
        str(CONFIG),
        "--show-error-codes",
        "--hide-error-context",
        "--no-error-summary",
        *arguments,
    ]


def run(command: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600, check=False)


@pytest.fixture(scope="module")
def mypy_output(tmp_path_factory: pytest.TempPathFactory) -> str:
    """mypy's output for the cases, from a fresh cache."""
    cache = tmp_path_factory.mktemp("mypy-cache")
    result = run(mypy_command("--cache-dir", str(cache), "--show-column-numbers", str(CASES)))
    assert result.stderr == "", result.stderr
    return result.stdout


def load_cases() -> ModuleType:
    spec = importlib.util.spec_from_file_location("plugin_declarations", CASES)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def case_functions(prefix: str) -> list[Any]:
    module = load_cases()
    return [
        pytest.param(function, id=name.removeprefix(prefix))
        for name, function in vars(module).items()
        if name.startswith(prefix) and callable(function)
    ]


def lines_of(function: Callable[[], None]) -> range:
    source, first = inspect.getsourcelines(function)
    return range(first, first + len(source))


def test_plugin_reports_marked_errors(mypy_output: str) -> None:
    assert reported_messages(mypy_output) == expected_messages(), mypy_output


def test_plugin_errors_use_own_code(mypy_output: str) -> None:
    codes = {match.group("code") for match in map(MYPY_LINE.match, mypy_output.splitlines()) if match}

    assert codes <= {"flowlite-task", None}, mypy_output


@pytest.mark.parametrize(
    ("source", "marker"),
    [
        pytest.param('["a", ""]', '""', id="list-item"),
        pytest.param('{"txt": "text"}', '"txt"', id="dict-entry"),
        pytest.param('["factor", "value"]', '"factor"', id="swapped-key"),
        pytest.param('["low", "low"]', '"low"]', id="duplicate-output"),
    ],
)
def test_plugin_error_points_at_entry(mypy_output: str, source: str, marker: str) -> None:
    # mypy counts columns from 1.
    lines = CASES.read_text().splitlines()
    number = next(index for index, line in enumerate(lines, start=1) if source in line and "E:" in line)
    column = lines[number - 1].index(source) + source.index(marker) + 1
    errors = [
        match
        for match in map(MYPY_LINE.match, mypy_output.splitlines())
        if match and match.group("severity") == "error" and int(match.group("line")) == number
    ]

    assert [int(match.group("column")) for match in errors] == [column], mypy_output


@pytest.mark.parametrize("case", case_functions("case_"))
def test_decorator_raises_plugin_error(case: Callable[[], None], mypy_output: str) -> None:
    reported = reported_messages(mypy_output)
    [(error, note)] = [
        (dict(reported[number])["E"], dict(reported[number])["N"])
        for number in lines_of(case)
        if number in reported
    ]

    with pytest.raises(TaskDefinitionError) as raised:
        case()

    message = str(raised.value)
    assert message.startswith(error)
    assert note[1:] in message[len(error) :]


@pytest.mark.parametrize("case", case_functions("silent_"))
def test_plugin_silent_on_valid_declaration(case: Callable[[], None], mypy_output: str) -> None:
    reported = reported_messages(mypy_output)

    case()

    assert not [number for number in lines_of(case) if number in reported]


@pytest.mark.parametrize("case", case_functions("runtime_only_"))
def test_plugin_leaves_declaration_to_decorator(case: Callable[[], None], mypy_output: str) -> None:
    reported = reported_messages(mypy_output)

    with pytest.raises(TaskDefinitionError):
        case()

    assert not [number for number in lines_of(case) if number in reported]


def test_plugin_reports_again_from_cache(tmp_path: Path) -> None:
    # The second run reads the unchanged modules from the incremental cache.
    command = mypy_command("--cache-dir", str(tmp_path / "cache"), "--incremental", str(CASES))

    first = run(command)
    second = run(command)

    assert reported_messages(second.stdout) == reported_messages(first.stdout)
    assert reported_messages(second.stdout) == expected_messages()


def test_plugin_reports_in_daemon(tmp_path: Path) -> None:
    status = tmp_path / "dmypy.json"
    daemon = [sys.executable, "-m", "mypy.dmypy", "--status-file", str(status)]
    try:
        first = run([*daemon, "run", "--", *mypy_command()[3:], str(CASES)])
        # A second check reuses the daemon's loaded state.
        second = run([*daemon, "check", str(CASES)])
    finally:
        run([*daemon, "stop"])

    assert reported_messages(first.stdout) == expected_messages(), first.stdout + first.stderr
    assert reported_messages(second.stdout) == expected_messages(), second.stdout + second.stderr
