"""Generate the sample PDFs and passwords.json in sample_documents/.

    python examples/document_intelligence/make_samples.py [--output-dir DIR]

fpdf2 lays out the text with a fixed creation date, so the unencrypted files
come out byte for byte the same on every run with the same fpdf2 version.
pypdf encrypts with a random salt and file id, so the encrypted files differ
in bytes on each run but always decrypt to the same text. All texts were
written for this example.
"""

import argparse
import datetime
import io
import json
from dataclasses import dataclass
from pathlib import Path

from fpdf import FPDF
from pypdf import PdfReader, PdfWriter

SAMPLE_DIR = Path(__file__).resolve().parent / "sample_documents"
CREATION_DATE = datetime.datetime(2024, 1, 15, 9, 0, tzinfo=datetime.UTC)


@dataclass(frozen=True)
class Sample:
    """One sample PDF: its file name, title, pages of paragraphs and optional user password.

    When `listed_password` is False, passwords.json leaves the password out.
    """

    file_name: str
    title: str
    pages: tuple[tuple[str, ...], ...]
    password: str | None = None
    listed_password: bool = True


SECURITY_POLICY = Sample(
    file_name="access-control-policy.pdf",
    title="Access Control and Encryption Policy",
    pages=(
        (
            "Document version 2.3, approved on 2024-01-15 by the Chief Information Security "
            "Officer. This policy is reviewed annually.",
            "1. Purpose. This policy sets the rules for granting, reviewing and removing access "
            "to company systems. It supports SOC 2 criteria CC6.1, CC6.2 and CC6.3, "
            "ISO/IEC 27001:2013 controls A.9.2.1, A.9.2.5 and A.9.4.3, Annex A controls 5.15, "
            "5.17 and 8.24 of ISO/IEC 27001:2022, and NIST SP 800-53 controls AC-2, AC-6 and "
            "IA-2(1).",
            "2. Access control. Every account belongs to one named employee. Access follows the "
            "principle of least privilege, and managers review access rights every 90 days. "
            "Privileged accounts require multi-factor authentication. Shared accounts are not "
            "allowed.",
            "3. Passwords. A password must have at least 14 characters and must not be reused "
            "across systems. Passwords are stored only as salted hashes.",
        ),
        (
            "4. Encryption. Data at rest is protected with AES-256 encryption and data in "
            "transit with TLS 1.2 or later (NIST SP 800-53 SC-8 and SC-28, SOC 2 CC6.7). "
            "Encryption keys are rotated every 12 months under the key management procedure.",
            "5. Logging and incidents. Systems keep audit logs for 365 days (AU-2, AU-6). A "
            "suspected incident is reported to the security team within 1 hour, and the "
            "incident response plan applies (CC7.3, A.16.1.2).",
            "6. Vulnerability management. Servers receive security patches within 14 days. An "
            "external penetration test runs once a year, and every critical vulnerability is "
            "fixed within 7 days (RA-5, SI-2, CC7.1).",
            "7. Compliance. Violations of this policy may lead to disciplinary action. Questions "
            "go to the information security team at extension 4.2, room 10.1.",
        ),
    ),
)

INCIDENT_PROCEDURE = Sample(
    file_name="incident-response-procedure.pdf",
    title="Security Incident Response Procedure",
    pages=(
        (
            "This procedure is confidential. It describes how the security team handles a "
            "security incident from detection to closure, as required by SOC 2 CC7.3, CC7.4 and "
            "CC7.5 and by NIST SP 800-53 IR-4, IR-5 and IR-6.",
            "Detection. Alerts come from the intrusion detection system, the firewall, the "
            "malware scanner and reports from staff, for example about phishing e-mails.",
            "Containment. The on-call engineer isolates affected hosts, disables compromised "
            "accounts and forces a password reset. Backups are checked before any restore.",
            "Follow-up. Each incident ends with a written review within 10 working days. The "
            "review records the root cause, the vulnerability exploited and the changes that "
            "prevent a repeat. A data breach is reported to the data protection officer at once.",
        ),
    ),
    password="sample-incident-2024",
)

GERMAN_PROSE = Sample(
    file_name="herbstwanderung.pdf",
    title="Eine Herbstwanderung",
    pages=(
        (
            "Am frühen Morgen lag noch Nebel über dem Tal, als wir das Dorf verließen. Der Weg "
            "führte zuerst an einem kleinen Bach entlang, dessen Wasser kalt und klar über die "
            "Steine sprang. Die Buchen am Hang hatten sich schon gelb und rot gefärbt, und bei "
            "jedem Windstoß fielen Blätter auf den Pfad.",
            "Gegen Mittag erreichten wir die Hütte auf der Höhe. Der Wirt brachte uns Brot, Käse "
            "und eine Kanne heißen Tee, und wir saßen lange auf der Bank vor dem Haus. Von dort "
            "sah man die Berge im Süden, deren Gipfel bereits den ersten Schnee trugen.",
            "Auf dem Rückweg wurde es rasch dunkel. Wir gingen schweigend nebeneinander her und "
            "hörten nur unsere Schritte und das Rauschen des Waldes. Erst als die Lichter des "
            "Dorfes zwischen den Bäumen auftauchten, begannen wir wieder zu reden und zu lachen.",
        ),
    ),
)

ENGLISH_PROSE = Sample(
    file_name="harbour-morning.pdf",
    title="A Morning at the Harbour",
    pages=(
        (
            "The fishing boats came in a little after six, low in the water and followed by a "
            "noisy cloud of gulls. On the quay the buyers stood with their hands in their "
            "pockets, pretending not to care which crates were unloaded first.",
            "An old man sat on an upturned bucket and mended a net with quick, patient fingers. "
            "He had done the same work for fifty years, he told me, and the sea had never once "
            "been the same colour two mornings in a row.",
            "By eight the market was over. The boats rocked empty at their moorings, the gulls "
            "had moved on to the bakery behind the church, and the harbour belonged again to the "
            "cats and the tide.",
        ),
    ),
)

REGULATION = Sample(
    file_name="records-retention-regulation.pdf",
    title="Records Retention Regulation",
    pages=(
        (
            "Section 1. Scope. This regulation applies to every public authority that keeps "
            "records under the Public Records Act. Nothing in this section limits the duties of "
            "an authority under any other statute.",
            "Section 2. Retention periods. An authority shall keep each record for the period "
            "set out in the schedule to this regulation. Pursuant to section 4 of the Act, the "
            "period may be extended by order where a court or a tribunal has jurisdiction over a "
            "pending matter.",
            "Section 3. Liability. An officer who destroys a record before the end of its "
            "period, contrary to the provisions of this regulation, is liable to the penalties "
            "set out in section 9 of the Act. Subsection (2) does not apply to records destroyed "
            "under a lawful order.",
            "Section 4. Commencement. This regulation comes into force on the first day of the "
            "month following its publication, and the amendments in the schedule take effect "
            "on the same day.",
        ),
    ),
)

LOCKED_MEMO = Sample(
    file_name="locked-memo.pdf",
    title="Locked Memo",
    pages=(("This memo is encrypted, and its password is deliberately missing from passwords.json.",),),
    password="not-in-passwords-json",
    listed_password=False,
)

SAMPLES = (SECURITY_POLICY, INCIDENT_PROCEDURE, GERMAN_PROSE, ENGLISH_PROSE, REGULATION, LOCKED_MEMO)


def render_pdf(sample: Sample) -> bytes:
    """Lay out the title and paragraphs of `sample` with fpdf2's core Helvetica font."""
    pdf = FPDF(format="A4")
    pdf.set_creation_date(CREATION_DATE)
    pdf.set_title(sample.title)
    pdf.set_author("flowlite document_intelligence example")
    pdf.set_margins(20, 20, 20)
    for number, paragraphs in enumerate(sample.pages):
        pdf.add_page()
        if number == 0:
            pdf.set_font("Helvetica", style="B", size=16)
            pdf.multi_cell(0, 9, sample.title)
            pdf.ln(4)
        pdf.set_font("Helvetica", size=11)
        for paragraph in paragraphs:
            pdf.multi_cell(0, 6, paragraph)
            pdf.ln(3)
    return bytes(pdf.output())


def encrypt_pdf(data: bytes, password: str) -> bytes:
    """Encrypt a PDF with AES-256 and `password` as its user password."""
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(data)))
    # The owner password is a different string so that the user password is
    # the only one that passwords.json needs to know.
    writer.encrypt(user_password=password, owner_password=password + "-owner", algorithm="AES-256")
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def write_samples(output_dir: Path) -> list[Path]:
    """Write every sample PDF and passwords.json to `output_dir` and return their paths."""
    output_dir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    passwords: dict[str, str] = {}
    for sample in SAMPLES:
        data = render_pdf(sample)
        if sample.password is not None:
            data = encrypt_pdf(data, sample.password)
            if sample.listed_password:
                passwords[sample.file_name] = sample.password
        path = output_dir / sample.file_name
        path.write_bytes(data)
        written.append(path)

    passwords_path = output_dir / "passwords.json"
    passwords_path.write_text(json.dumps(passwords, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    written.append(passwords_path)
    return written


def main() -> None:
    """Parse the command line and write the samples."""
    parser = argparse.ArgumentParser(description="Generate the sample PDFs of the example.")
    parser.add_argument(
        "--output-dir",
        type=Path,
        default=SAMPLE_DIR,
        help=f"folder to write the PDFs and passwords.json to (default: {SAMPLE_DIR})",
    )
    args = parser.parse_args()
    for path in write_samples(args.output_dir):
        print(f"wrote {path} ({path.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
