"""Open, decrypt and read PDF files with pypdf, and turn its errors into plain messages."""

import io
from collections.abc import Mapping
from pathlib import Path

from pypdf import PasswordType, PdfReader
from pypdf.errors import DependencyError, PyPdfError

# The PDF specification lets a header follow up to 1024 bytes of other data.
_HEADER_SEARCH_BYTES = 1024
# A complete file ends with %%EOF, possibly followed by a few bytes of padding.
_TRAILER_SEARCH_BYTES = 1024


class DocumentError(Exception):
    """A file that cannot be opened, decrypted or parsed.

    The message is a plain sentence for the report, such as
    "the file is empty (0 bytes)".
    """


def open_pdf(path: Path, passwords: Mapping[str, str]) -> tuple[PdfReader, bool]:
    """Open the PDF at `path` and decrypt it if needed.

    Returns the reader and whether the file is encrypted. The empty password is
    tried first, then the entry for the file name in `passwords`, which maps a
    file name to its user password (an owner password opens the file as well).
    Raises DocumentError when the file is missing, empty, not a PDF, cannot be
    decrypted, or its page tree is damaged.
    """
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise DocumentError(f"cannot be read: {exc.strerror or exc}") from exc
    if not data:
        raise DocumentError("the file is empty (0 bytes)")
    if b"%PDF-" not in data[:_HEADER_SEARCH_BYTES]:
        raise DocumentError(f"not a PDF: no %PDF- header in the first {_HEADER_SEARCH_BYTES} bytes")

    try:
        reader = PdfReader(io.BytesIO(data))
    except PyPdfError as exc:
        raise DocumentError(describe_parse_error(data, exc)) from exc
    encrypted = reader.is_encrypted
    if encrypted:
        _decrypt(reader, passwords.get(path.name))

    # The page tree is read here, while the raw bytes are at hand, so that the
    # error can distinguish a truncated file from a damaged one.
    try:
        len(reader.pages)
    except PyPdfError as exc:
        raise DocumentError(describe_parse_error(data, exc)) from exc
    return reader, encrypted


def _decrypt(reader: PdfReader, password: str | None) -> None:
    """Decrypt `reader` with the empty password or else with `password`."""
    candidates = [""] if password is None else ["", password]
    try:
        for candidate in candidates:
            if reader.decrypt(candidate) != PasswordType.NOT_DECRYPTED:
                return
    except DependencyError as exc:
        raise DocumentError(
            f"cannot be decrypted: pypdf needs its crypto extra (pip install 'pypdf[crypto]'): {exc}"
        ) from exc
    except NotImplementedError as exc:
        raise DocumentError(f"cannot be decrypted: unsupported encryption: {exc}") from exc
    except PyPdfError as exc:
        raise DocumentError(f"cannot be decrypted: damaged encryption dictionary: {exc}") from exc

    if password is None:
        raise DocumentError(
            "cannot be decrypted: the empty password does not open it and "
            "the passwords file has no entry for this file name"
        )
    raise DocumentError(
        "cannot be decrypted: neither the empty password nor the password in the passwords file opens it"
    )


def extract_pages(reader: PdfReader) -> list[str]:
    """Return the text of each page in order.

    Raises DocumentError when the content of a page cannot be parsed.
    """
    texts: list[str] = []
    for number, page in enumerate(reader.pages, start=1):
        try:
            texts.append(page.extract_text())
        except PyPdfError as exc:
            raise DocumentError(f"cannot be parsed: page {number}: {exc}") from exc
    return texts


def describe_parse_error(data: bytes, error: Exception) -> str:
    """Return the report message for a file that pypdf cannot parse."""
    if b"%%EOF" not in data[-_TRAILER_SEARCH_BYTES:]:
        return f"cannot be parsed: the file is truncated (no %%EOF marker at its end): {error}"
    return f"cannot be parsed: the file is damaged: {error}"
