"""Draw a Chrome trace written by `RunReport.write_chrome_trace()` as a Gantt chart.

One row per worker thread, one bar per task (coloured by status), and a
marker for each retry. It needs matplotlib (`pip install -e '.[report]'`).

    python examples/run_report/plot_timeline.py trace.json [--output timeline.png]
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # Write files only; no display is needed.

import matplotlib.pyplot as plt
from matplotlib.artist import Artist
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

DEFAULT_OUTPUT = Path("timeline.png")
STATUS_COLOURS = {"ok": "#4c9a5f", "failed": "#c44e52", "running": "#8c8c8c", "skipped": "#cccccc"}
BAR_HEIGHT = 0.6


def load_trace(path: Path) -> list[Mapping[str, Any]]:
    """Return the trace events of a Chrome trace file, in the JSON object or bare array form."""
    document = json.loads(path.read_text(encoding="utf-8"))
    events = document["traceEvents"] if isinstance(document, Mapping) else document
    if not isinstance(events, list):
        msg = f"{path}: expected a list of trace events, got {type(events).__name__}"
        raise ValueError(msg)
    return events


def thread_names(events: Sequence[Mapping[str, Any]]) -> dict[tuple[int, int], str]:
    """Return the name of each (pid, tid) track from the `thread_name` metadata events."""
    return {
        (event["pid"], event["tid"]): event["args"]["name"]
        for event in events
        if event.get("ph") == "M" and event.get("name") == "thread_name"
    }


def draw_timeline(events: Sequence[Mapping[str, Any]], title: str) -> Figure:
    """Return a figure with one row per track, a bar per complete event and a marker per instant event."""
    names = thread_names(events)
    complete = [event for event in events if event.get("ph") == "X"]
    instants = [event for event in events if event.get("ph") in ("i", "I")]
    # Rows in the order the tracks first ran a task, which puts the thread
    # that started the run at the top.
    tracks: list[tuple[int, int]] = []
    for event in sorted(complete, key=lambda event: event["ts"]):
        track = (event["pid"], event["tid"])
        if track not in tracks:
            tracks.append(track)
    rows = {track: index for index, track in enumerate(tracks)}
    end_ms = max((event["ts"] + event["dur"]) / 1000 for event in complete) if complete else 1.0

    figure, axes = plt.subplots(figsize=(10, 1.6 + 0.7 * len(tracks)))
    for event in complete:
        row = rows[(event["pid"], event["tid"])]
        start_ms = event["ts"] / 1000
        width_ms = max(event["dur"] / 1000, 0.5)
        status = event.get("args", {}).get("status", "ok")
        axes.barh(
            row,
            width_ms,
            left=start_ms,
            height=BAR_HEIGHT,
            color=STATUS_COLOURS.get(status, "#4c72b0"),
            edgecolor="black",
            linewidth=0.5,
        )
        attempts = event.get("args", {}).get("attempts", 1)
        label = event["name"] if attempts == 1 else f"{event['name']} ({attempts} attempts)"
        axes.text(start_ms + 2, row, label, va="center", ha="left", fontsize=8)

    for event in instants:
        row = rows[(event["pid"], event["tid"])]
        axes.plot(event["ts"] / 1000, row - BAR_HEIGHT / 2, marker="v", color="black", markersize=7)

    axes.set_yticks(range(len(tracks)))
    axes.set_yticklabels([names.get(track, f"thread {track[1]}") for track in tracks])
    axes.invert_yaxis()
    axes.set_xlabel("milliseconds since the first task started")
    axes.set_title(title)
    axes.set_xlim(0, end_ms * 1.15)
    axes.grid(axis="x", linestyle=":", linewidth=0.5)
    legend: list[Artist] = [Patch(color=colour, label=status) for status, colour in STATUS_COLOURS.items()]
    legend.append(Line2D([], [], marker="v", color="black", linestyle="", label="retry"))
    axes.legend(handles=legend, loc="upper center", bbox_to_anchor=(0.5, -0.25), ncol=len(legend), fontsize=8)
    figure.tight_layout()
    return figure


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("trace", type=Path, help="Chrome trace JSON file written by RunReport")
    parser.add_argument(
        "--output",
        type=Path,
        default=DEFAULT_OUTPUT,
        help=f"path of the PNG file to write (default: {DEFAULT_OUTPUT})",
    )
    parser.add_argument("--title", default="flowlite run", help="title above the chart")
    arguments = parser.parse_args(argv)

    figure = draw_timeline(load_trace(arguments.trace), arguments.title)
    figure.savefig(arguments.output, dpi=110)
    print(f"wrote {arguments.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
