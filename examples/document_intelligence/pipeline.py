"""Extract language, control ids, security keywords and a document type from PDFs.

Each PDF runs through one flowlite plan of tasks. Language, control ids,
keywords and the word count depend only on the page texts, so they run in
parallel inside a document, and the classifier waits for all of them. A batch
builds the plan once and runs it for many documents at the same time from a
thread pool, the way a service consuming a queue would. The result is a CSV
with one row per file.

    python examples/document_intelligence/pipeline.py [DOCS_DIR]
        [--passwords FILE] [--output FILE.csv] [--workers N]
"""

import argparse
import csv
import json
import logging
import sys
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

if __package__ in (None, ""):
    # Run as a script: make the repository root importable, which provides
    # both flowlite and this example's package.
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from pypdf import PdfReader

from examples.document_intelligence import (
    classify,
    controls,
    documents,
    keywords,
    language_detection,
)
from flowlite import Plan, Registry, plan, run, task

logger = logging.getLogger(__name__)

EXAMPLE_DIR = Path(__file__).resolve().parent
SAMPLE_DIR = EXAMPLE_DIR / "sample_documents"
PASSWORDS_FILE_NAME = "passwords.json"
DEFAULT_OUTPUT = Path("document_intelligence.csv")
DEFAULT_WORKERS = 4

# Maximum number of tasks of one document that run at the same time. Four
# tasks (language, control ids, keywords, word count) can run together.
TASK_WORKERS = 4

# Separator of the list columns (control_ids, frameworks, keywords).
LIST_SEPARATOR = ";"

CSV_COLUMNS = (
    "document",
    "status",
    "error",
    "pages",
    "encrypted",
    "language",
    "words",
    "control_ids",
    "frameworks",
    "keywords",
    "doc_type",
)

STATUS_OK = "ok"
STATUS_ERROR = "error"


@dataclass(frozen=True)
class DocumentRow:
    """The CSV row of one input file. Fields that a failed file lacks are None."""

    document: str
    status: str
    error: str = ""
    pages: int | None = None
    encrypted: bool | None = None
    language: str | None = None
    words: int | None = None
    control_ids: tuple[str, ...] = ()
    frameworks: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()
    doc_type: str | None = None

    def to_csv(self) -> dict[str, str]:
        """Return the row as CSV cells keyed by CSV_COLUMNS."""
        encrypted = ""
        if self.encrypted is not None:
            encrypted = "yes" if self.encrypted else "no"
        return {
            "document": self.document,
            "status": self.status,
            "error": self.error,
            "pages": "" if self.pages is None else str(self.pages),
            "encrypted": encrypted,
            "language": self.language or "",
            "words": "" if self.words is None else str(self.words),
            "control_ids": LIST_SEPARATOR.join(self.control_ids),
            "frameworks": LIST_SEPARATOR.join(self.frameworks),
            "keywords": LIST_SEPARATOR.join(self.keywords),
            "doc_type": self.doc_type or "",
        }


# Tasks of one document. Each reads the state keys named in `inputs` and
# writes the keys named in `outputs`. The initial state contains "path" and
# "passwords".


@task(inputs=["path", "passwords"], outputs=("reader", "encrypted"))
def open_document(path: Path, passwords: Mapping[str, str]) -> tuple[PdfReader, bool]:
    """Open and, if needed, decrypt the PDF. Raises documents.DocumentError."""
    return documents.open_pdf(path, passwords)


@task(inputs=["reader"], outputs="pages")
def extract_text(reader: PdfReader) -> tuple[str, ...]:
    """Extract the text of each page. Raises documents.DocumentError."""
    return tuple(documents.extract_pages(reader))


@task(inputs=["pages"], outputs="language")
def detect_language(pages: Sequence[str]) -> str:
    """Detect the language of the whole text as an ISO 639-1 code or "unknown"."""
    return language_detection.detect_language("\n".join(pages))


@task(inputs=["pages"], outputs="control_ids")
def find_control_ids(pages: Sequence[str]) -> dict[str, tuple[str, ...]]:
    """Find the control ids of each framework, page by page, sorted in natural order."""
    found: dict[str, set[str]] = {framework: set() for framework in controls.FRAMEWORKS}
    for page in pages:
        for framework, ids in controls.find_control_ids(page).items():
            found[framework].update(ids)
    return {framework: tuple(controls.sort_ids(ids)) for framework, ids in found.items()}


@task(inputs=["pages"], outputs="page_keywords")
def find_keywords(pages: Sequence[str]) -> tuple[frozenset[str], ...]:
    """Find the security keywords of each page."""
    return tuple(frozenset(keywords.find_keywords(page)) for page in pages)


@task(inputs=["pages"], outputs="word_count")
def count_words(pages: Sequence[str]) -> int:
    """Count the words of all pages."""
    return sum(classify.count_words(page) for page in pages)


@task(inputs=["pages", "language", "control_ids", "page_keywords"], outputs="doc_type")
def classify_document(
    pages: Sequence[str],
    language: str,
    control_ids: Mapping[str, Sequence[str]],
    page_keywords: Sequence[frozenset[str]],
) -> str:
    """Classify the document as one of classify.DOC_TYPES."""
    all_ids = {control for ids in control_ids.values() for control in ids}
    return classify.classify_document("\n".join(pages), language, all_ids, page_keywords)


@task(
    inputs=[
        "path",
        "encrypted",
        "pages",
        "language",
        "word_count",
        "control_ids",
        "page_keywords",
        "doc_type",
    ],
    outputs="row",
)
def make_row(
    path: Path,
    encrypted: bool,
    pages: Sequence[str],
    language: str,
    word_count: int,
    control_ids: Mapping[str, Sequence[str]],
    page_keywords: Sequence[frozenset[str]],
    doc_type: str,
) -> DocumentRow:
    """Collect the results of one document into its CSV row."""
    all_ids = [control for ids in control_ids.values() for control in ids]
    return DocumentRow(
        document=path.name,
        status=STATUS_OK,
        pages=len(pages),
        encrypted=encrypted,
        language=language,
        words=word_count,
        control_ids=tuple(controls.sort_ids(all_ids)),
        frameworks=tuple(sorted(framework for framework, ids in control_ids.items() if ids)),
        keywords=tuple(sorted(set().union(*page_keywords))),
        doc_type=doc_type,
    )


@task(inputs=["rows", "output"], outputs=())
def write_csv(rows: Sequence[DocumentRow], output: Path) -> None:
    """Write one CSV line per row, in the order given, with a header of CSV_COLUMNS."""
    with output.open("w", newline="", encoding="utf-8") as file:
        writer = csv.DictWriter(file, fieldnames=CSV_COLUMNS)
        writer.writeheader()
        for row in rows:
            writer.writerow(row.to_csv())


DOCUMENT_TASKS = Registry(
    [
        open_document,
        extract_text,
        detect_language,
        find_control_ids,
        find_keywords,
        count_words,
        classify_document,
        make_row,
    ]
)
REPORT_TASKS = Registry([write_csv])


def build_document_plan() -> Plan:
    """Build the plan that turns the initial keys "path" and "passwords" into a "row"."""
    return plan(DOCUMENT_TASKS, available={"path", "passwords"}, targets={"row"})


def build_report_plan() -> Plan:
    """Build the plan that writes the initial key "rows" to the CSV file at "output"."""
    return plan(REPORT_TASKS, available={"rows", "output"})


def process_document(document_plan: Plan, path: Path, passwords: Mapping[str, str]) -> DocumentRow:
    """Run `document_plan` on one file and return its row.

    A file that cannot be opened, decrypted or parsed, or that makes a task
    fail, gets a row with status "error" and the reason, so one bad file
    never stops a batch.
    """
    try:
        state = run(document_plan, {"path": path, "passwords": passwords}, max_workers=TASK_WORKERS)
    except documents.DocumentError as exc:
        logger.warning("%s: %s", path.name, exc)
        return DocumentRow(document=path.name, status=STATUS_ERROR, error=str(exc))
    except Exception as exc:
        # pypdf can raise almost anything on a malformed file, and a bug in a
        # task must not stop the batch either. flowlite adds a note that names
        # the failing task.
        notes = "; ".join(getattr(exc, "__notes__", ()))
        logger.exception("%s: unexpected error (%s)", path.name, notes)
        message = f"unexpected error: {type(exc).__name__}: {exc}"
        if notes:
            message += f" ({notes})"
        return DocumentRow(document=path.name, status=STATUS_ERROR, error=message)
    row: DocumentRow = state["row"]
    return row


def process_documents(
    paths: Sequence[Path],
    passwords: Mapping[str, str],
    *,
    workers: int,
    document_plan: Plan | None = None,
) -> list[DocumentRow]:
    """Run one shared plan on every file, `workers` files at a time.

    Returns the rows in the order of `paths`.
    """
    if document_plan is None:
        document_plan = build_document_plan()
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="document") as pool:
        futures = [pool.submit(process_document, document_plan, path, passwords) for path in paths]
        return [future.result() for future in futures]


def find_pdfs(folder: Path) -> list[Path]:
    """Return the *.pdf files directly inside `folder`, sorted by file name."""
    return sorted(
        (path for path in folder.iterdir() if path.suffix.lower() == ".pdf" and path.is_file()),
        key=lambda path: path.name,
    )


def load_passwords(path: Path) -> dict[str, str]:
    """Load a JSON object that maps file names to passwords.

    Raises ValueError with a message that names the file when it cannot be read
    or is not such an object.
    """
    try:
        content = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ValueError(f"cannot read passwords file {path}: {exc.strerror or exc}") from exc
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"passwords file {path} is not valid JSON: {exc}") from exc
    if not isinstance(content, dict) or not all(
        isinstance(name, str) and isinstance(password, str) for name, password in content.items()
    ):
        raise ValueError(
            f"passwords file {path} must contain a JSON object that maps file names to "
            'password strings, such as {"report.pdf": "secret"}'
        )
    return content


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid integer: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    """Return the command-line parser."""
    parser = argparse.ArgumentParser(
        description=(
            "Detect the language, SOC 2 / ISO 27001 / NIST SP 800-53 control ids, security "
            "keywords and document type of every *.pdf file in a folder, and write one CSV "
            "row per file. Exits with 0 when the batch finished, even if some files failed, "
            "and with 2 on invalid arguments."
        ),
    )
    parser.add_argument(
        "docs_dir",
        nargs="?",
        type=Path,
        metavar="DOCS_DIR",
        help="folder of PDF files to process (default: the example's sample_documents folder)",
    )
    parser.add_argument(
        "--passwords",
        type=Path,
        metavar="FILE",
        help=(
            "JSON file that maps PDF file names to their user passwords (default: "
            f"{PASSWORDS_FILE_NAME} in DOCS_DIR if it exists, otherwise only the empty "
            "password is tried)"
        ),
    )
    parser.add_argument(
        "--output",
        type=Path,
        default=DEFAULT_OUTPUT,
        metavar="FILE.csv",
        help=(
            f"CSV file to write, replacing an existing one "
            f"(default: {DEFAULT_OUTPUT} in the current directory)"
        ),
    )
    parser.add_argument(
        "--workers",
        type=_positive_int,
        default=DEFAULT_WORKERS,
        metavar="N",
        help=f"number of documents processed at the same time (default: {DEFAULT_WORKERS})",
    )
    parser.add_argument(
        "--verbose",
        action="store_true",
        help="also log pypdf's warnings about damaged files that it repairs",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line and return the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s: %(message)s")
    if not args.verbose:
        logging.getLogger("pypdf").setLevel(logging.ERROR)

    docs_dir: Path = SAMPLE_DIR if args.docs_dir is None else args.docs_dir
    if not docs_dir.is_dir():
        parser.error(f"DOCS_DIR {docs_dir} is not a folder or does not exist")
    passwords_file: Path | None = args.passwords
    if passwords_file is None and (docs_dir / PASSWORDS_FILE_NAME).is_file():
        passwords_file = docs_dir / PASSWORDS_FILE_NAME
    passwords: dict[str, str] = {}
    if passwords_file is not None:
        try:
            passwords = load_passwords(passwords_file)
        except ValueError as exc:
            parser.error(str(exc))
    output: Path = args.output
    if not output.parent.is_dir():
        parser.error(f"the folder of --output {output} does not exist")

    paths = find_pdfs(docs_dir)
    if not paths:
        logger.warning("no *.pdf files in %s; writing a CSV with only the header", docs_dir)
    started = time.perf_counter()
    rows = process_documents(paths, passwords, workers=args.workers)
    elapsed = time.perf_counter() - started
    try:
        run(build_report_plan(), {"rows": rows, "output": output})
    except OSError as exc:
        parser.error(f"cannot write --output {output}: {exc.strerror or exc}")

    print(summarize(rows, elapsed, args.workers, output))
    return 0


def summarize(rows: Sequence[DocumentRow], seconds: float, workers: int, output: Path) -> str:
    """Return a short report of a batch: counts by status and document type, and the speed."""
    statuses = Counter(row.status for row in rows)
    doc_types = Counter(row.doc_type for row in rows if row.doc_type)
    rate = len(rows) / seconds if seconds > 0 else 0.0
    worker_text = "1 worker" if workers == 1 else f"{workers} workers"
    lines = [
        f"{len(rows)} documents in {seconds:.2f} s ({rate:.1f} documents/s, {worker_text}): "
        f"{statuses[STATUS_OK]} ok, {statuses[STATUS_ERROR]} failed",
        "document types: "
        + (", ".join(f"{name} {count}" for name, count in sorted(doc_types.items())) or "none"),
        f"wrote {output}",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
