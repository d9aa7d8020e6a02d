"""Documents per second of the document-intelligence example at several concurrency levels.

Calls the example's batch function, `process_documents`, with one shared
plan, as its command line does, on every PDF of a folder. Levels are
measured round-robin after one warm-up batch each.
"""

from __future__ import annotations

import logging
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

REPOSITORY = Path(__file__).resolve().parents[1]


def measure(documents: str, passwords: str | None, concurrency: list[int], samples: int) -> dict[str, Any]:
    """Return documents per second for each concurrency level, and the row count per status."""
    if str(REPOSITORY) not in sys.path:
        sys.path.insert(0, str(REPOSITORY))
    from examples.document_intelligence import pipeline

    # A corpus may contain damaged and locked files on purpose. Their rows
    # carry the reason, so the example's warnings about them are not needed.
    logging.getLogger("pypdf").setLevel(logging.ERROR)
    logging.getLogger("examples.document_intelligence").setLevel(logging.CRITICAL)

    paths = pipeline.find_pdfs(Path(documents))
    if not paths:
        raise FileNotFoundError(f"no *.pdf files in {documents}")
    secrets = pipeline.load_passwords(Path(passwords)) if passwords else {}
    plan = pipeline.build_document_plan()

    def batch(workers: int) -> tuple[float, list[Any]]:
        started = time.perf_counter()
        rows = pipeline.process_documents(paths, secrets, workers=workers, document_plan=plan)
        return time.perf_counter() - started, rows

    rates: dict[int, list[float]] = {workers: [] for workers in concurrency}
    statuses: Counter[str] = Counter()
    for workers in concurrency:
        _, rows = batch(workers)
        statuses = Counter(row.status for row in rows)
    for sample in range(samples):
        order = concurrency[sample % len(concurrency) :] + concurrency[: sample % len(concurrency)]
        for workers in order:
            elapsed, _ = batch(workers)
            rates[workers].append(len(paths) / elapsed)
    return {"documents": len(paths), "statuses": dict(statuses), "rates": rates}
