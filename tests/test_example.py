"""Tests of the document-intelligence example in examples/document_intelligence.

The corpus tests read real and broken PDFs from CORPUS_DIR, a folder beside
the repository checkout, and skip when it is absent. Their expected values
were checked by opening each file with pypdf and reading its text.
"""

import csv
import io
import json
import subprocess
import sys
import threading
from collections.abc import Mapping
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    # The example is a package of the repository, not of the installed flowlite.
    sys.path.insert(0, str(REPO_ROOT))

from pypdf import PdfReader, PdfWriter  # noqa: E402

from examples.document_intelligence import (  # noqa: E402
    classify,
    controls,
    documents,
    keywords,
    language_detection,
    pipeline,
)
from flowlite import Registry, plan, run, task  # noqa: E402

EXAMPLE_DIR = REPO_ROOT / "examples" / "document_intelligence"
PIPELINE_SCRIPT = EXAMPLE_DIR / "pipeline.py"
SAMPLE_DIR = EXAMPLE_DIR / "sample_documents"
EXPECTED_SAMPLES_CSV = EXAMPLE_DIR / "expected.csv"
CORPUS_DIR = Path(__file__).resolve().parents[2] / "shared" / "corpus"
CORPUS_DOCUMENTS = CORPUS_DIR / "documents"
CORPUS_PASSWORDS = CORPUS_DIR / "passwords.json"

SUBPROCESS_TIMEOUT_SECONDS = 120

needs_corpus = pytest.mark.skipif(
    not CORPUS_DOCUMENTS.is_dir(),
    reason=f"shared corpus not found at {CORPUS_DOCUMENTS} (it sits beside the repository checkout)",
)


def run_cli(*arguments: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run the pipeline script in a fresh interpreter, as a user would."""
    return subprocess.run(
        [sys.executable, str(PIPELINE_SCRIPT), *map(str, arguments)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=SUBPROCESS_TIMEOUT_SECONDS,
        check=False,
    )


def read_csv_rows(path: Path) -> dict[str, dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as file:
        return {row["document"]: row for row in csv.DictReader(file)}


def rows_by_name(rows: list[pipeline.DocumentRow]) -> dict[str, pipeline.DocumentRow]:
    return {row.document: row for row in rows}


# Control id patterns


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Access is reviewed under CC6.1.", {"CC6.1"}),
        ("criteria CC6.1, CC6.2 and CC7.2", {"CC6.1", "CC6.2", "CC7.2"}),
        ("(see CC1.4)", {"CC1.4"}),
        ("processing integrity PI1.3", {"PI1.3"}),
        ("SOC 2 A1.2, C1.1 and P3.1", {"A1.2", "C1.1", "P3.1"}),
        ("Trust Services Criteria C1.2", {"C1.2"}),
    ],
)
def test_soc2_ids_found(text: str, expected: set[str]) -> None:
    assert controls.find_soc2_ids(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "CC6.1.2",  # deeper outline number
        "CC9.9 and CC10.1 and CC0.1",  # no such criteria
        "CC-BY-SA-4.0 Licensed",
        "A1.2 in an outline",  # A1.x needs a SOC 2 reference
        "see P6.1 and C1.1",
        "ACC6.1 and v2.CC6.1",
        "Version 1.2.3 released 2023-05-15 at 10.0.0.1",
        "PI1.6",
    ],
)
def test_soc2_ids_ignore_lookalikes(text: str) -> None:
    assert controls.find_soc2_ids(text) == set()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("A.9.2.1 User registration", {"A.9.2.1"}),
        ("controls A.12.6.1 and A.18.2.3.", {"A.12.6.1", "A.18.2.3"}),
        ("A.5.15 Access control (2022)", {"A.5.15"}),
        ("Annex A 5.15", {"A.5.15"}),
        ("Annex A controls 5.15, 5.16 and 8.24", {"A.5.15", "A.5.16", "A.8.24"}),
        ("Annex A (2022): 5.1, 5.2 and 6.3", {"A.5.1", "A.5.2", "A.6.3"}),
        ("Annex A.8.24", {"A.8.24"}),
        ("ISO/IEC 27001:2022 control 8.24", {"A.8.24"}),
        ("ISO 27001:2013 controls 9.2.1 and 9.4.2", {"A.9.2.1", "A.9.4.2"}),
        ("Annex A\ncontrols 7.4", {"A.7.4"}),
    ],
)
def test_iso27001_ids_found(text: str, expected: set[str]) -> None:
    assert controls.find_iso27001_ids(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "ISO 27001 clause 6.1.2 and clause 5.1",  # management-system clauses, not Annex A
        "version 5.15 of the agent",
        "host 10.5.1.1 and 192.168.5.15",
        "released on 2022.05.15",
        "pi is about 3.14 and TLS 1.2 is required",
        "room 10.1, extension 8.2",
        "A.9.2.7 and A.19.1.1",  # no such 2013 controls
        "A.5.38 and Annex A 8.35",  # no such 2022 controls
        "A.9.2.1.4",
        "Annex A of the contract lists 5 items",
        "section 5.15 of the contract",
        "DATA.5.15",
    ],
)
def test_iso27001_ids_ignore_lookalikes(text: str) -> None:
    assert controls.find_iso27001_ids(text) == set()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("AC-2 Account Management", {"AC-2"}),
        ("IA-2(1) and IA-2(12)", {"IA-2(1)", "IA-2(12)"}),
        ("SC-7 (5) written with a space", {"SC-7(5)"}),
        ("AC-2(a) is a part, not an enhancement", {"AC-2"}),
        ("PM-32 and SC-51.", {"PM-32", "SC-51"}),
        ("AC-02 and IA-13(01) as the OSCAL catalog writes them", {"AC-2", "IA-13(1)"}),
        ("licensed CC-BY-SA-4.0; SA-4 applies", {"SA-4"}),
    ],
)
def test_nist_ids_found(text: str, expected: set[str]) -> None:
    assert controls.find_nist_ids(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "CC-BY-SA-4.0",
        "CC-BY-SA-4 licence",
        "POL-AC-2 and ISMS-SC-7 are internal ids",
        "AES-256 and SHA-1 and UTF-8",
        "COVID-19 and ISO-8601 and RFC-2119",
        "AC-2021 report",  # a year, not a control
        "AC-002 with three digits",
        "AC-26 and SC-52",  # beyond the last control of the family
        "MAC-2 and XY-2",
        "AU-3.1 outline number",
        "NIST SP 800-53 Rev. 5",
        "2024-01-15",
    ],
)
def test_nist_ids_ignore_lookalikes(text: str) -> None:
    assert controls.find_nist_ids(text) == set()


def test_sort_ids_natural_order() -> None:
    ids = ["AC-10", "AC-2(1)", "AC-2", "A.10.1.1", "A.9.2.1", "CC6.1", "AC-2"]
    assert controls.sort_ids(ids) == ["A.9.2.1", "A.10.1.1", "AC-2", "AC-2(1)", "AC-10", "CC6.1"]


# Keywords, language and classification


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Data is encrypted at rest.", {"encryption"}),
        ("Use strong encryp-\ntion everywhere.", {"encryption"}),
        ("Access\ncontrols are reviewed.", {"access control"}),
        ("Multi-factor authentication is required.", {"multi-factor authentication", "authentication"}),
        ("Report every Incident and every vulnerability.", {"incident", "vulnerability"}),
        ("Passwords and passphrases", {"password"}),
    ],
)
def test_keywords_found(text: str, expected: set[str]) -> None:
    assert keywords.find_keywords(text) == expected


@pytest.mark.parametrize(
    "text",
    ["The passage was incidentally narrow.", "a patch of grass", "the backing track", ""],
)
def test_keywords_ignore_partial_words(text: str) -> None:
    assert keywords.find_keywords(text) == set()


GERMAN_TEXT = (
    "Am Abend saßen wir noch lange am Fenster und sahen zu, wie der Regen über die "
    "Felder zog. Niemand sprach, aber jeder wusste, dass der Sommer nun vorbei war."
)
FRENCH_TEXT = (
    "Le matin, le marché s'installe sur la place de l'église. Les marchands crient leurs "
    "prix et les enfants courent entre les étals pendant que leurs parents discutent."
)
CHINESE_TEXT = "今天早上我们在河边散步。天气很好。很多人在公园里跑步和打太极拳。"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (GERMAN_TEXT, "de"),
        (FRENCH_TEXT, "fr"),
        (CHINESE_TEXT, "zh"),  # langdetect returns zh-cn
        ("Secret!", language_detection.UNKNOWN),  # too few letters
        ("", language_detection.UNKNOWN),
        ("12345 678 90.1", language_detection.UNKNOWN),
        (
            "Lorem ipsum dolor sit amet, consetetur sadipscing elitr, sed diam nonumy eirmod "
            "tempor invidunt ut labore et dolore magna aliquyam erat, sed diam voluptua.",
            language_detection.UNKNOWN,  # no langdetect profile is close enough
        ),
    ],
)
def test_detect_language(text: str, expected: str) -> None:
    assert language_detection.detect_language(text) == expected


def test_detect_language_same_in_threads() -> None:
    # Mixed text gives split probabilities, so an unseeded detector would vary.
    text = "Hello world. " + GERMAN_TEXT + " " + FRENCH_TEXT
    results: list[str] = []
    lock = threading.Lock()

    def detect() -> None:
        found = language_detection.detect_language(text)
        with lock:
            results.append(found)

    threads = [threading.Thread(target=detect) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 8
    assert len(set(results)) == 1


ENGLISH_PROSE = " ".join(["The old man walked slowly along the river and watched the boats."] * 6)


def test_classify_ids_make_security_policy() -> None:
    doc_type = classify.classify_document("CC6.1 CC6.2 AC-2", "unknown", {"CC6.1", "CC6.2", "AC-2"}, [set()])
    assert doc_type == classify.SECURITY_POLICY


def test_classify_short_text_is_other() -> None:
    assert classify.classify_document("Hello world", "en", set(), [set()]) == classify.OTHER


def test_classify_english_prose() -> None:
    assert classify.classify_document(ENGLISH_PROSE, "en", set(), [set()]) == classify.PROSE


def test_classify_unknown_language_is_not_prose() -> None:
    assert classify.classify_document(ENGLISH_PROSE, "unknown", set(), [set()]) == classify.OTHER


def test_classify_legal_vocabulary() -> None:
    text = " ".join(
        ["Section 2 of the Act applies pursuant to the statute, and the court has jurisdiction."] * 6
    )
    assert classify.classify_document(text, "en", set(), [set()]) == classify.LEGAL


def test_classify_keywords_without_ids() -> None:
    text = " ".join(
        [
            "Employees must follow this policy. Passwords, encryption, access control, backups, "
            "firewalls, incident reports, vulnerability scans and phishing training are required."
        ]
        * 5
    )
    page_keywords = [keywords.find_keywords(text)] * 2
    assert classify.classify_document(text, "en", set(), page_keywords) == classify.SECURITY_POLICY


# Opening and decrypting files


def write_encrypted_sample(path: Path, password: str) -> None:
    source = SAMPLE_DIR / "harbour-morning.pdf"
    writer = PdfWriter(clone_from=PdfReader(source))
    writer.encrypt(user_password=password, owner_password=password + "-owner", algorithm="AES-256")
    with path.open("wb") as file:
        writer.write(file)


def test_open_pdf_decrypts_with_listed_password(tmp_path: Path) -> None:
    path = tmp_path / "locked.pdf"
    write_encrypted_sample(path, "right")
    reader, encrypted = documents.open_pdf(path, {"locked.pdf": "right"})
    assert encrypted
    assert "fishing boats" in documents.extract_pages(reader)[0]


def test_open_pdf_wrong_password(tmp_path: Path) -> None:
    path = tmp_path / "locked.pdf"
    write_encrypted_sample(path, "right")
    with pytest.raises(documents.DocumentError, match=r"cannot be decrypted: .*password"):
        documents.open_pdf(path, {"locked.pdf": "wrong"})


def test_open_pdf_missing_password(tmp_path: Path) -> None:
    path = tmp_path / "locked.pdf"
    write_encrypted_sample(path, "right")
    with pytest.raises(documents.DocumentError, match=r"cannot be decrypted: .*no entry"):
        documents.open_pdf(path, {"other.pdf": "right"})


def test_open_pdf_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.pdf"
    path.write_bytes(b"")
    with pytest.raises(documents.DocumentError, match="empty"):
        documents.open_pdf(path, {})


def test_open_pdf_not_a_pdf(tmp_path: Path) -> None:
    path = tmp_path / "notes.pdf"
    path.write_text("These are plain-text notes with a .pdf name.\n")
    with pytest.raises(documents.DocumentError, match="not a PDF"):
        documents.open_pdf(path, {})


def test_open_pdf_truncated_file(tmp_path: Path) -> None:
    data = (SAMPLE_DIR / "access-control-policy.pdf").read_bytes()
    path = tmp_path / "cut.pdf"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(documents.DocumentError, match="cannot be parsed: the file is truncated"):
        documents.open_pdf(path, {})


def test_open_pdf_missing_file(tmp_path: Path) -> None:
    with pytest.raises(documents.DocumentError, match="cannot be read"):
        documents.open_pdf(tmp_path / "absent.pdf", {})


# The flowlite plan


def test_document_plan_stages() -> None:
    stages = [{item.name for item in stage} for stage in pipeline.build_document_plan().stages]
    assert stages == [
        {"open_document"},
        {"extract_text"},
        {"detect_language", "find_control_ids", "find_keywords", "count_words"},
        {"classify_document"},
        {"make_row"},
    ]


def test_task_error_reaches_caller_with_note(tmp_path: Path) -> None:
    path = tmp_path / "empty.pdf"
    path.write_bytes(b"")
    with pytest.raises(documents.DocumentError) as caught:
        run(pipeline.build_document_plan(), {"path": path, "passwords": {}})
    assert any("open_document" in note for note in caught.value.__notes__)


def test_unexpected_error_becomes_error_row() -> None:
    # A passwords value without .get() makes the open_document task itself fail.
    not_a_mapping: Mapping[str, str] = None  # type: ignore[assignment]
    path = SAMPLE_DIR / "incident-response-procedure.pdf"
    row = pipeline.process_document(pipeline.build_document_plan(), path, not_a_mapping)
    assert row.status == pipeline.STATUS_ERROR
    assert "AttributeError" in row.error
    assert "open_document" in row.error


def test_documents_run_concurrently_on_one_plan() -> None:
    # Every document's run waits at the barrier, which opens only when two
    # documents are inside the shared plan at the same time.
    barrier = threading.Barrier(2, timeout=30)
    thread_ids: set[int] = set()
    lock = threading.Lock()

    @task(inputs=["pages"], outputs=())
    def wait_for_other_document(pages: object) -> None:
        with lock:
            thread_ids.add(threading.get_ident())
        barrier.wait()

    registry = Registry([*pipeline.DOCUMENT_TASKS, wait_for_other_document])
    shared_plan = plan(registry, available={"path", "passwords"})
    paths = [SAMPLE_DIR / "harbour-morning.pdf", SAMPLE_DIR / "herbstwanderung.pdf"]
    rows = pipeline.process_documents(paths, {}, workers=2, document_plan=shared_plan)

    assert [row.status for row in rows] == ["ok", "ok"]
    assert not barrier.broken
    assert len(thread_ids) == 2


# Sample documents


def test_sample_rows_match_expected_csv(tmp_path: Path) -> None:
    paths = pipeline.find_pdfs(SAMPLE_DIR)
    passwords = pipeline.load_passwords(SAMPLE_DIR / "passwords.json")
    rows = pipeline.process_documents(paths, passwords, workers=2)
    output = tmp_path / "samples.csv"
    run(pipeline.build_report_plan(), {"rows": rows, "output": output})
    assert output.read_text(encoding="utf-8") == EXPECTED_SAMPLES_CSV.read_text(encoding="utf-8")


def test_sample_rows() -> None:
    paths = pipeline.find_pdfs(SAMPLE_DIR)
    passwords = pipeline.load_passwords(SAMPLE_DIR / "passwords.json")
    rows = rows_by_name(pipeline.process_documents(paths, passwords, workers=2))

    policy = rows["access-control-policy.pdf"]
    assert policy.doc_type == classify.SECURITY_POLICY
    assert policy.frameworks == (controls.ISO27001, controls.NIST_800_53, controls.SOC2)
    for control in ("CC6.1", "A.9.2.1", "A.5.15", "A.8.24", "AC-2", "IA-2(1)"):
        assert control in policy.control_ids
    assert "A.4.2" not in policy.control_ids  # "extension 4.2" in the text

    encrypted = rows["incident-response-procedure.pdf"]
    assert encrypted.status == pipeline.STATUS_OK
    assert encrypted.encrypted is True
    assert encrypted.doc_type == classify.SECURITY_POLICY

    german = rows["herbstwanderung.pdf"]
    assert german.language == "de"
    assert german.doc_type == classify.PROSE

    assert rows["harbour-morning.pdf"].doc_type == classify.PROSE
    assert rows["records-retention-regulation.pdf"].doc_type == classify.LEGAL

    locked = rows["locked-memo.pdf"]
    assert locked.status == pipeline.STATUS_ERROR
    assert "password" in locked.error


def test_make_samples_regenerates_same_rows(tmp_path: Path) -> None:
    pytest.importorskip(
        "fpdf", reason="make_samples.py needs fpdf2, which the example extra does not install"
    )
    from examples.document_intelligence import make_samples

    make_samples.write_samples(tmp_path)
    regenerated = sorted(path.name for path in tmp_path.iterdir())
    committed = sorted(path.name for path in SAMPLE_DIR.iterdir())
    assert regenerated == committed

    passwords = pipeline.load_passwords(tmp_path / "passwords.json")
    rows = pipeline.process_documents(pipeline.find_pdfs(tmp_path), passwords, workers=2)
    output = tmp_path / "regenerated.csv"
    run(pipeline.build_report_plan(), {"rows": rows, "output": output})
    assert output.read_text(encoding="utf-8") == EXPECTED_SAMPLES_CSV.read_text(encoding="utf-8")


# Shared corpus of real and broken PDFs


@pytest.fixture(scope="module")
def corpus_rows() -> dict[str, pipeline.DocumentRow]:
    if not CORPUS_DOCUMENTS.is_dir():
        pytest.skip(f"shared corpus not found at {CORPUS_DOCUMENTS}")
    passwords = pipeline.load_passwords(CORPUS_PASSWORDS)
    rows = pipeline.process_documents(pipeline.find_pdfs(CORPUS_DOCUMENTS), passwords, workers=4)
    return rows_by_name(rows)


# document: (status, pages, encrypted, language, doc_type)
CORPUS_EXPECTED: dict[str, tuple[str, int | None, bool | None, str | None, str | None]] = {
    "crazy-ones-encrypted.pdf": ("ok", 1, True, "en", "prose"),
    "crazy-ones.pdf": ("ok", 1, False, "en", "prose"),
    "dmca-summary-1998.pdf": ("ok", 18, True, "en", "legal-regulatory"),
    "dmca-truncated.pdf": ("error", None, None, None, None),
    "empty.pdf": ("error", None, None, None, None),
    "encryption-test-r2-user-password.pdf": ("ok", 1, True, "en", "other"),
    "encryption-test-r6-both-passwords.pdf": ("ok", 1, True, "en", "other"),
    "encryption-test-r6-user-password.pdf": ("ok", 1, True, "en", "other"),
    # English labels ("Arabic:", "Thai:") around six short greetings: langdetect
    # reads English, and 18 words are too few to classify.
    "hello-world-multilingual.pdf": ("ok", 1, False, "en", "other"),
    # Lorem ipsum has no langdetect profile, so no language reaches 0.90.
    "lorem-ipsum-libreoffice-password.pdf": ("ok", 1, True, "unknown", "other"),
    "not-a-pdf.pdf": ("error", None, None, None, None),
    # The whole text is "Secret!".
    "secret-aes256.pdf": ("ok", 1, True, "unknown", "other"),
    "secret-rc4-40.pdf": ("ok", 1, True, "unknown", "other"),
    "siege-of-vicksburg-ocr.pdf": ("ok", 6, False, "en", "prose"),
    "soc2-policy-handbook.pdf": ("ok", 167, False, "en", "security-policy"),
    "unknown-password.pdf": ("error", None, None, None, None),
    # pypdf repairs the damaged cross-reference table.
    "zen-of-python-corrupted.pdf": ("ok", 1, False, "en", "prose"),
}


@needs_corpus
def test_corpus_has_one_row_per_file(corpus_rows: dict[str, pipeline.DocumentRow]) -> None:
    assert sorted(corpus_rows) == sorted(CORPUS_EXPECTED)


@needs_corpus
@pytest.mark.parametrize("document", sorted(CORPUS_EXPECTED))
def test_corpus_row(corpus_rows: dict[str, pipeline.DocumentRow], document: str) -> None:
    status, pages, encrypted, language, doc_type = CORPUS_EXPECTED[document]
    row = corpus_rows[document]
    assert row.status == status, row.error
    assert row.pages == pages
    assert row.encrypted is encrypted
    assert row.language == language
    assert row.doc_type == doc_type
    if status == "ok":
        assert row.error == ""
    else:
        assert row.error != ""


@needs_corpus
@pytest.mark.parametrize(
    ("document", "message"),
    [
        ("unknown-password.pdf", "cannot be decrypted: the empty password does not open it"),
        ("empty.pdf", "the file is empty"),
        ("not-a-pdf.pdf", "not a PDF"),
        ("dmca-truncated.pdf", "cannot be parsed: the file is truncated"),
    ],
)
def test_corpus_error_messages(
    corpus_rows: dict[str, pipeline.DocumentRow], document: str, message: str
) -> None:
    assert message in corpus_rows[document].error


@needs_corpus
def test_corpus_password_error_names_password(corpus_rows: dict[str, pipeline.DocumentRow]) -> None:
    assert "password" in corpus_rows["unknown-password.pdf"].error


@needs_corpus
def test_corpus_soc2_handbook_ids(corpus_rows: dict[str, pipeline.DocumentRow]) -> None:
    row = corpus_rows["soc2-policy-handbook.pdf"]
    assert row.frameworks == (controls.SOC2,)
    for criterion in ("CC1.2", "CC6.1", "CC6.8", "CC7.1", "CC8.1", "CC9.2"):
        assert criterion in row.control_ids
    # The licence line "CC-BY-SA-4.0" must not yield NIST SA-4.
    assert "SA-4" not in row.control_ids
    # The handbook cites "CC9.3", which the Trust Services Criteria do not define.
    assert "CC9.3" not in row.control_ids
    assert {"encryption", "incident response", "password", "vulnerability"} <= set(row.keywords)


@needs_corpus
def test_corpus_prose_has_no_ids(corpus_rows: dict[str, pipeline.DocumentRow]) -> None:
    for document in ("dmca-summary-1998.pdf", "siege-of-vicksburg-ocr.pdf", "crazy-ones.pdf"):
        assert corpus_rows[document].control_ids == ()


@needs_corpus
def test_corpus_encrypted_copy_matches_plain(corpus_rows: dict[str, pipeline.DocumentRow]) -> None:
    plain = corpus_rows["crazy-ones.pdf"]
    encrypted = corpus_rows["crazy-ones-encrypted.pdf"]
    assert encrypted.words == plain.words
    assert encrypted.keywords == plain.keywords


# Command line


def test_cli_samples_default_output(tmp_path: Path) -> None:
    result = run_cli(cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "6 documents" in result.stdout
    assert "5 ok, 1 failed" in result.stdout
    output = tmp_path / "document_intelligence.csv"
    assert output.read_text(encoding="utf-8") == EXPECTED_SAMPLES_CSV.read_text(encoding="utf-8")


def test_cli_writes_requested_output(tmp_path: Path) -> None:
    output = tmp_path / "out.csv"
    result = run_cli(SAMPLE_DIR, "--output", output, "--workers", "2", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    rows = read_csv_rows(output)
    assert list(rows) == sorted(rows)
    assert rows["herbstwanderung.pdf"]["language"] == "de"
    assert rows["locked-memo.pdf"]["status"] == "error"


def test_cli_csv_columns(tmp_path: Path) -> None:
    output = tmp_path / "out.csv"
    run_cli("--output", output, cwd=tmp_path)
    with output.open(newline="", encoding="utf-8") as file:
        header = next(csv.reader(file))
    assert header == list(pipeline.CSV_COLUMNS)


def test_cli_missing_folder(tmp_path: Path) -> None:
    result = run_cli(tmp_path / "absent", cwd=tmp_path)
    assert result.returncode == 2
    assert "is not a folder or does not exist" in result.stderr
    assert not (tmp_path / "document_intelligence.csv").exists()


def test_cli_missing_passwords_file(tmp_path: Path) -> None:
    result = run_cli(SAMPLE_DIR, "--passwords", tmp_path / "absent.json", cwd=tmp_path)
    assert result.returncode == 2
    assert "cannot read passwords file" in result.stderr


def test_cli_invalid_passwords_json(tmp_path: Path) -> None:
    passwords = tmp_path / "passwords.json"
    passwords.write_text("{not json", encoding="utf-8")
    result = run_cli(SAMPLE_DIR, "--passwords", passwords, cwd=tmp_path)
    assert result.returncode == 2
    assert "is not valid JSON" in result.stderr


def test_cli_passwords_not_an_object(tmp_path: Path) -> None:
    passwords = tmp_path / "passwords.json"
    passwords.write_text(json.dumps(["a.pdf", "secret"]), encoding="utf-8")
    result = run_cli(SAMPLE_DIR, "--passwords", passwords, cwd=tmp_path)
    assert result.returncode == 2
    assert "must contain a JSON object" in result.stderr


@pytest.mark.parametrize("workers", ["0", "-1", "many"])
def test_cli_invalid_workers(tmp_path: Path, workers: str) -> None:
    result = run_cli("--workers", workers, cwd=tmp_path)
    assert result.returncode == 2
    assert "--workers" in result.stderr


def test_cli_missing_output_folder(tmp_path: Path) -> None:
    result = run_cli("--output", tmp_path / "absent" / "out.csv", cwd=tmp_path)
    assert result.returncode == 2
    assert "does not exist" in result.stderr


def test_cli_folder_without_pdfs(tmp_path: Path) -> None:
    output = tmp_path / "out.csv"
    result = run_cli(tmp_path, "--output", output, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "no *.pdf files" in result.stderr
    assert output.read_text(encoding="utf-8").splitlines() == [",".join(pipeline.CSV_COLUMNS)]


@needs_corpus
def test_cli_workers_give_same_csv(tmp_path: Path) -> None:
    outputs = {}
    for workers in ("1", "4"):
        output = tmp_path / f"workers-{workers}.csv"
        result = run_cli(
            CORPUS_DOCUMENTS,
            "--passwords",
            CORPUS_PASSWORDS,
            "--output",
            output,
            "--workers",
            workers,
            cwd=tmp_path,
        )
        assert result.returncode == 0, result.stderr
        assert "17 documents" in result.stdout
        outputs[workers] = output.read_text(encoding="utf-8")
    assert outputs["1"] == outputs["4"]
    rows = list(csv.DictReader(io.StringIO(outputs["4"])))
    assert [row["document"] for row in rows] == sorted(CORPUS_EXPECTED)
    assert sum(row["status"] == "error" for row in rows) == 4
