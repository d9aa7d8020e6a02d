"""`RunReport`: task records, the text table, the Chrome trace export, and the run_report example."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import _tasks_for_faults
import pytest

import flowlite
from flowlite import CancelToken, RunCancelled, RunReport, TaskRecord

REPO_ROOT = Path(__file__).resolve().parents[1]
EXAMPLE_DIR = REPO_ROOT / "examples" / "run_report"

# Timeout for barriers; passing tests never reach it.
WAIT_SECONDS = 5.0


@pytest.fixture(scope="module")
def process_pool() -> Iterator[ProcessPoolExecutor]:
    pool = _tasks_for_faults.start_process_pool()
    try:
        yield pool
    finally:
        pool.shutdown(wait=True)


def reported_pipeline() -> list[flowlite.Task[..., Any]]:
    """Return load -> (left, right) -> merge with a flaky left (one retry) and a sleep in right."""
    both_running = threading.Barrier(2, timeout=WAIT_SECONDS)
    left_attempts: list[int] = []

    @flowlite.task(inputs=["raw"], outputs="load")
    def load(raw: str) -> str:
        return raw.upper()

    @flowlite.task(inputs=["load"], outputs="left", retries=flowlite.Retry(2, delay=0.01))
    def left(load: str) -> str:
        left_attempts.append(1)
        if len(left_attempts) == 1:
            both_running.wait()
            raise ConnectionError("reset")
        return load + "-left"

    @flowlite.task(inputs=["load"], outputs="right")
    def right(load: str) -> str:
        both_running.wait()
        time.sleep(0.05)
        return load + "-right"

    @flowlite.task(inputs=["left", "right"], outputs="merge")
    def merge(left: str, right: str) -> str:
        return f"{left}+{right}"

    return [load, left, right, merge]


def record_of(report: RunReport, task: str) -> TaskRecord:
    (record,) = [record for record in report.records if record.task == task]
    return record


# --- records --------------------------------------------------------------------


def test_report_records_every_task() -> None:
    report = RunReport()

    flowlite.run(reported_pipeline(), {"raw": "x"}, hooks=[report])

    assert sorted(record.task for record in report.records) == ["left", "load", "merge", "right"]
    assert all(record.status == "ok" for record in report.records)


def test_report_records_ordered_by_start() -> None:
    report = RunReport()

    flowlite.run(reported_pipeline(), {"raw": "x"}, hooks=[report])

    starts = [record.start for record in report.records]
    assert starts == sorted(starts)  # type: ignore[type-var]
    assert report.records[0].task == "load"
    assert report.records[-1].task == "merge"


def test_report_record_times_and_duration() -> None:
    report = RunReport()
    before = time.time()

    flowlite.run(reported_pipeline(), {"raw": "x"}, hooks=[report])

    right = record_of(report, "right")
    assert right.start is not None
    assert right.end is not None
    assert before <= right.start <= right.end <= time.time()
    assert right.duration == right.end - right.start
    assert right.duration >= 0.05


def test_report_record_counts_attempts() -> None:
    report = RunReport()

    flowlite.run(reported_pipeline(), {"raw": "x"}, hooks=[report])

    left = record_of(report, "left")
    assert left.attempts == 2
    assert len(left.retries) == 1
    assert left.retries[0][:3] == (1, "ConnectionError('reset')", 0.01)
    assert record_of(report, "right").attempts == 1


def test_report_record_names_worker() -> None:
    report = RunReport()

    flowlite.run(reported_pipeline(), {"raw": "x"}, hooks=[report])

    workers = {record_of(report, "left").worker, record_of(report, "right").worker}
    assert workers == {"MainThread", "flowlite-worker-1"}


def test_report_failed_and_skipped_tasks() -> None:
    report = RunReport()

    @flowlite.task(inputs=["raw"], outputs="parsed")
    def parse(raw: str) -> str:
        raise ValueError("malformed record")

    @flowlite.task(inputs=["parsed"], outputs="stored")
    def store(parsed: str) -> str:
        return parsed

    with pytest.raises(ValueError, match="malformed record"):
        flowlite.run([parse, store], {"raw": "x"}, hooks=[report])

    parse_record = record_of(report, "parse")
    store_record = record_of(report, "store")
    assert parse_record.status == "failed"
    assert parse_record.error == "ValueError('malformed record')"
    assert parse_record.end is not None
    assert store_record.status == "skipped"
    assert store_record.start is None
    assert store_record.duration is None
    assert store_record.error == "the run stopped"
    assert report.records[-1] is store_record


def test_report_cancelled_run_skips_rest() -> None:
    report = RunReport()
    token = CancelToken()
    token.cancel()

    @flowlite.task(inputs=["raw"], outputs="parsed")
    def parse(raw: str) -> str:
        return raw

    with pytest.raises(RunCancelled):
        flowlite.run([parse], {"raw": "x"}, hooks=[report], cancel=token)

    assert [record.status for record in report.records] == ["skipped"]


def test_report_interrupt_keeps_running_record() -> None:
    report = RunReport()
    slow_started = threading.Event()
    release = threading.Event()

    @flowlite.task(inputs=["raw"], outputs="parsed")
    def interrupt(raw: str) -> str:
        slow_started.wait(WAIT_SECONDS)
        raise KeyboardInterrupt

    @flowlite.task(inputs=["raw"], outputs="slow")
    def slow(raw: str) -> str:
        slow_started.set()
        release.wait(WAIT_SECONDS)
        return raw

    try:
        with pytest.raises(KeyboardInterrupt):
            flowlite.run([interrupt, slow], {"raw": "x"}, hooks=[report])
        slow_record = record_of(report, "slow")
        assert slow_record.status == "running"
        assert slow_record.start is not None
    finally:
        release.set()


def test_report_observes_several_runs() -> None:
    report = RunReport()
    tasks = reported_pipeline()

    flowlite.run(tasks[:1], {"raw": "x"}, hooks=[report])
    flowlite.run(tasks[:1], {"raw": "y"}, hooks=[report])

    assert len(report.run_ids) == 2
    assert [record.task for record in report.records] == ["load", "load"]


def test_report_process_pool_worker_names_process(process_pool: ProcessPoolExecutor, tmp_path: Path) -> None:
    report = RunReport()

    flowlite.run(
        [_tasks_for_faults.flaky_fetch], {"workdir": str(tmp_path)}, executor=process_pool, hooks=[report]
    )

    (record,) = report.records
    assert record.attempts == 3
    assert record.worker.startswith("SpawnProcess-")
    assert record.status == "ok"


# --- table ---------------------------------------------------------------------------


def test_report_table_has_header_and_rows() -> None:
    report = RunReport()

    flowlite.run(reported_pipeline(), {"raw": "x"}, hooks=[report])

    lines = str(report).splitlines()
    assert lines[0].split() == ["task", "status", "start", "s", "duration", "s", "attempts", "worker"]
    assert set(lines[1]) == {"-", " "}
    assert len(lines) == 2 + 4


def test_report_table_row_shows_record() -> None:
    report = RunReport()

    flowlite.run(reported_pipeline(), {"raw": "x"}, hooks=[report])

    rows = {line.split()[0]: line.split() for line in str(report).splitlines()[2:]}
    left = record_of(report, "left")
    assert rows["left"][1] == "ok"
    assert rows["left"][4] == "2"
    assert rows["left"][5] == left.worker
    assert rows["load"][2] == "0.000"
    assert float(rows["right"][3]) >= 0.05


def test_report_table_columns_aligned() -> None:
    report = RunReport()

    flowlite.run(reported_pipeline(), {"raw": "x"}, hooks=[report])

    lines = str(report).splitlines()
    header = lines[0]
    status_column = header.index("status")
    assert all(line[status_column : status_column + 2] == "ok" for line in lines[2:])


def test_report_empty_table() -> None:
    assert str(RunReport()).splitlines()[0].split()[0] == "task"


# --- Chrome trace ----------------------------------------------------------------------


def trace_of_pipeline() -> tuple[RunReport, dict[str, Any]]:
    report = RunReport()
    flowlite.run(reported_pipeline(), {"raw": "x"}, hooks=[report])
    return report, report.to_chrome_trace()


def events_with_phase(trace: dict[str, Any], phase: str) -> list[dict[str, Any]]:
    return [event for event in trace["traceEvents"] if event["ph"] == phase]


def test_trace_is_json_object() -> None:
    _, trace = trace_of_pipeline()

    assert json.loads(json.dumps(trace)) == trace
    assert isinstance(trace["traceEvents"], list)
    assert trace["displayTimeUnit"] == "ms"


def test_trace_complete_event_per_task() -> None:
    _, trace = trace_of_pipeline()

    complete = events_with_phase(trace, "X")
    assert sorted(event["name"] for event in complete) == ["left", "load", "merge", "right"]
    for event in complete:
        assert isinstance(event["ts"], (int, float))
        assert isinstance(event["dur"], (int, float))
        assert event["dur"] >= 0
        assert event["pid"] == os.getpid()
        assert isinstance(event["tid"], int)


def test_trace_times_in_microseconds() -> None:
    report, trace = trace_of_pipeline()

    right = record_of(report, "right")
    (event,) = [event for event in events_with_phase(trace, "X") if event["name"] == "right"]
    origin = min(record.start for record in report.records if record.start is not None)
    assert right.duration is not None
    assert right.start is not None
    assert event["dur"] == pytest.approx(right.duration * 1e6, abs=1)
    assert event["ts"] == pytest.approx((right.start - origin) * 1e6, abs=1)
    assert min(event["ts"] for event in events_with_phase(trace, "X")) == 0


def test_trace_task_args_carry_status() -> None:
    _, trace = trace_of_pipeline()

    (left,) = [event for event in events_with_phase(trace, "X") if event["name"] == "left"]
    assert left["args"] == {"status": "ok", "attempts": 2, "error": None}
    assert left["cat"] == "ok"


def test_trace_names_each_thread_track() -> None:
    report, trace = trace_of_pipeline()

    metadata = events_with_phase(trace, "M")
    assert all(event["name"] == "thread_name" for event in metadata)
    names = {event["tid"]: event["args"]["name"] for event in metadata}
    assert sorted(names.values()) == ["MainThread", "flowlite-worker-1"]
    for event in events_with_phase(trace, "X"):
        assert names[event["tid"]] == record_of(report, event["name"]).worker


def test_trace_retry_instant_event() -> None:
    _, trace = trace_of_pipeline()

    (retry,) = events_with_phase(trace, "i")
    (left,) = [event for event in events_with_phase(trace, "X") if event["name"] == "left"]
    assert retry["name"] == "retry after attempt 1"
    assert retry["s"] == "t"
    assert retry["tid"] == left["tid"]
    assert left["ts"] <= retry["ts"] <= left["ts"] + left["dur"]
    assert retry["args"] == {"error": "ConnectionError('reset')", "delay_s": 0.01}


def test_trace_leaves_out_skipped_tasks() -> None:
    report = RunReport()

    @flowlite.task(inputs=["raw"], outputs="parsed")
    def parse(raw: str) -> str:
        raise ValueError("malformed record")

    @flowlite.task(inputs=["parsed"], outputs="stored")
    def store(parsed: str) -> str:
        return parsed

    with pytest.raises(ValueError, match="malformed record"):
        flowlite.run([parse, store], {"raw": "x"}, hooks=[report])

    complete = events_with_phase(report.to_chrome_trace(), "X")
    assert [(event["name"], event["cat"]) for event in complete] == [("parse", "failed")]


def test_write_chrome_trace_writes_json(tmp_path: Path) -> None:
    report, trace = trace_of_pipeline()
    path = tmp_path / "trace.json"

    report.write_chrome_trace(path)

    assert json.loads(path.read_text(encoding="utf-8")) == trace


# --- the example ------------------------------------------------------------------------


def test_run_report_example_prints_table(tmp_path: Path) -> None:
    trace_path = tmp_path / "trace.json"

    completed = subprocess.run(
        [sys.executable, str(EXAMPLE_DIR / "pipeline.py"), "--trace", str(trace_path)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert completed.returncode == 0, completed.stderr
    rows = {line.split()[0]: line.split() for line in completed.stdout.splitlines() if line.split()}
    assert rows["fetch_exchange_rates"][1:2] == ["ok"]
    assert rows["fetch_exchange_rates"][4] == "3"
    assert rows["lookup_customers"][4] == "2"
    assert rows["summarise"][1] == "ok"
    assert "attempt 1 timed out after 0.3 s" in completed.stderr
    assert completed.stderr.count("retrying in") == 3

    trace = json.loads(trace_path.read_text(encoding="utf-8"))
    complete = [event for event in trace["traceEvents"] if event["ph"] == "X"]
    retries = [event for event in trace["traceEvents"] if event["ph"] == "i"]
    assert len(complete) == 6
    assert len(retries) == 3


def test_run_report_example_default_trace_path(tmp_path: Path) -> None:
    completed = subprocess.run(
        [sys.executable, str(EXAMPLE_DIR / "pipeline.py")],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert completed.returncode == 0, completed.stderr
    assert (tmp_path / "trace.json").is_file()


def test_plot_timeline_writes_png(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    report, _ = trace_of_pipeline()
    trace_path = tmp_path / "trace.json"
    report.write_chrome_trace(trace_path)
    image_path = tmp_path / "timeline.png"

    completed = subprocess.run(
        [sys.executable, str(EXAMPLE_DIR / "plot_timeline.py"), str(trace_path), "--output", str(image_path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert completed.returncode == 0, completed.stderr
    assert image_path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
