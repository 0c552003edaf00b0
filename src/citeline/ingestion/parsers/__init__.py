"""Turn uploaded bytes into a ParsedDocument: detect the format, then run that format's parser.

Detection trusts the bytes first (magic numbers), then the file extension, then the declared
content type. Unsupported types raise ``UnsupportedMediaTypeError`` (415); files of a supported
type that cannot be read raise ``DocumentParseError`` (400), never a library's own exception.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import PurePath

from citeline.core.errors import CiteLineError, DocumentParseError, UnsupportedMediaTypeError
from citeline.ingestion.model import ParsedDocument
from citeline.ingestion.parsers.assembly import bom_encoding, utf16_without_bom
from citeline.ingestion.parsers.docx import parse_docx
from citeline.ingestion.parsers.email import parse_eml
from citeline.ingestion.parsers.html import parse_html
from citeline.ingestion.parsers.markdown import parse_markdown
from citeline.ingestion.parsers.packages import parse_epub, parse_odt
from citeline.ingestion.parsers.pdf import parse_pdf
from citeline.ingestion.parsers.pptx import parse_pptx
from citeline.ingestion.parsers.rtf import parse_rtf
from citeline.ingestion.parsers.tabular import parse_csv, parse_xlsx
from citeline.ingestion.parsers.text import parse_text

__all__ = ["ARCHIVE", "FORMATS", "SUPPORTED_TYPES", "detect_format", "parse_document"]

log = logging.getLogger(__name__)

FORMATS: dict[str, Callable[[str, bytes], ParsedDocument]] = {
    "text": parse_text,
    "markdown": parse_markdown,
    "html": parse_html,
    "pdf": parse_pdf,
    "docx": parse_docx,
    "pptx": parse_pptx,
    "xlsx": parse_xlsx,
    "csv": parse_csv,
    "eml": parse_eml,
    "rtf": parse_rtf,
    "epub": parse_epub,
    "odt": parse_odt,
}
ARCHIVE = "zip"  # not parsed: expanded into its members when uploaded (documents/archives.py)
SUPPORTED_TYPES = (
    "PDF (.pdf), Word (.docx), PowerPoint (.pptx), Excel (.xlsx), CSV (.csv, .tsv), HTML (.html, .htm), "
    "Markdown (.md), plain text (.txt), e-mail (.eml), RTF (.rtf), EPUB (.epub), OpenDocument text (.odt), "
    "and ZIP archives of these"
)
_EXTENSIONS = {
    ".txt": "text",
    ".text": "text",
    ".md": "markdown",
    ".markdown": "markdown",
    ".html": "html",
    ".htm": "html",
    ".pdf": "pdf",
    ".docx": "docx",
    ".pptx": "pptx",
    ".xlsx": "xlsx",
    ".xlsm": "xlsx",
    ".csv": "csv",
    ".tsv": "csv",
    ".eml": "eml",
    ".rtf": "rtf",
    ".epub": "epub",
    ".odt": "odt",
    ".zip": ARCHIVE,
}
_CONTENT_TYPES = {
    "text/plain": "text",
    "text/markdown": "markdown",
    "text/x-markdown": "markdown",
    "text/html": "html",
    "application/xhtml+xml": "html",
    "application/pdf": "pdf",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "docx",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": "pptx",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "xlsx",
    "text/csv": "csv",
    "text/tab-separated-values": "csv",
    "message/rfc822": "eml",
    "application/rtf": "rtf",
    "text/rtf": "rtf",
    "application/epub+zip": "epub",
    "application/vnd.oasis.opendocument.text": "odt",
    "application/zip": ARCHIVE,
}
_CFB = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # OLE compound file: legacy Office, or encrypted OOXML
_OOXML = ("docx", "pptx", "xlsx")
_ENCRYPTED_PACKAGE = "EncryptedPackage".encode("utf-16-le")
# Signatures of formats we recognise but do not read, so they are refused rather than read as text.
_UNSUPPORTED_MAGIC = {
    b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1": "a legacy Microsoft Office file (.doc, .xls, .ppt, .msg)",
    b"\x89PNG": "a PNG image",
    b"\xff\xd8\xff": "a JPEG image",
    b"GIF8": "a GIF image",
    b"RIFF": "a RIFF media file",
    b"\x1f\x8b": "a gzip archive",
    b"7z\xbc\xaf": "a 7-Zip archive",
}
_ZIP_MEMBERS = {"word/": "docx", "ppt/": "pptx", "xl/": "xlsx"}
_ZIP_MIMETYPES = {b"application/epub+zip": "epub", b"application/vnd.oasis.opendocument.text": "odt"}


def _unsupported(filename: str, what: str | None = None) -> UnsupportedMediaTypeError:
    kind = f" is {what}, which" if what else ""
    return UnsupportedMediaTypeError(
        f"{filename!r}{kind} is not a supported file type; supported types: {SUPPORTED_TYPES}"
    )


def _zip_format(filename: str, head: bytes, hinted: str | None) -> str:
    """The package format inside a ZIP (docx, pptx, xlsx, epub, odt), else ``zip`` for a plain archive.

    ``head`` is only the start of the file, so the member names visible in its local headers (and the
    uncompressed ``mimetype`` member of EPUB/OpenDocument) decide; a damaged package named as a known
    format goes to that format's parser, which reports the damage.
    """
    for mimetype, kind in _ZIP_MIMETYPES.items():
        if b"mimetype" + mimetype in head[:200]:
            return kind
    if head[:200].find(b"mimetypeapplication/vnd.oasis.opendocument") != -1:
        raise _unsupported(filename, "an OpenDocument file other than text (.odt)")
    for prefix, kind in _ZIP_MEMBERS.items():
        if prefix.encode() in head:
            return kind
    if hinted in ("docx", "pptx", "xlsx", "epub", "odt"):
        return hinted
    return ARCHIVE


def _sniff_html(head: bytes) -> bool:
    if found := bom_encoding(head):
        encoding, skip = found
        sample = head[skip : skip + 2048].decode(encoding, errors="ignore")
    else:
        sample = head[:2048].decode("latin-1")
    sample = sample.lstrip().lower()
    return sample.startswith(("<!doctype html", "<html")) or (
        sample.startswith("<?xml") and "<html" in sample
    )


def _looks_like_text(head: bytes) -> bool:
    """UTF-8 without NUL bytes, or UTF-16/32; a character cut at the end of ``head`` is fine."""
    if bom_encoding(head) or utf16_without_bom(head):
        return True
    if b"\x00" in head:
        return False
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        return exc.start >= len(head) - 3 and exc.reason == "unexpected end of data"
    return True


def detect_format(filename: str, content_type: str | None, head: bytes) -> str:
    """A key of FORMATS, or ``zip`` for a plain archive; raises UnsupportedMediaTypeError."""
    extension = _EXTENSIONS.get(PurePath(filename).suffix.lower())
    declared = _CONTENT_TYPES.get((content_type or "").split(";", 1)[0].strip().lower())
    hinted = extension or declared
    if head[:1024].lstrip().startswith(b"%PDF-") or (hinted == "pdf" and b"%PDF-" in head[:1024]):
        return "pdf"
    if head.startswith(b"{\\rtf"):
        return "rtf"
    if head.startswith(b"PK\x03\x04"):
        return _zip_format(filename, head, hinted)
    if head.startswith(_CFB) and hinted in _OOXML:
        return hinted  # a password-protected .docx/.xlsx/.pptx is a CFB container: its parser says so
    for magic, what in _UNSUPPORTED_MAGIC.items():
        if head.startswith(magic):
            raise _unsupported(filename, what)
    if _sniff_html(head):
        return "html"
    if hinted:
        return hinted
    if _looks_like_text(head):
        return "text"
    raise _unsupported(filename)


def parse_document(filename: str, data: bytes, content_type: str | None = None) -> ParsedDocument:
    """Detect the format of ``data`` and parse it into text blocks with offsets."""
    kind = detect_format(filename, content_type, data)
    if kind == ARCHIVE:
        raise UnsupportedMediaTypeError(
            f"{filename!r} is a ZIP archive: upload it to have its files unpacked and indexed one by one"
        )
    if not data:
        raise DocumentParseError(filename, "the file is empty")
    if data.startswith(_CFB):
        encrypted = _ENCRYPTED_PACKAGE in data[:1048576]
        reason = (
            "the file is password-protected" if encrypted else "the file is a legacy Office file in disguise"
        )
        raise DocumentParseError(filename, reason)
    try:
        return FORMATS[kind](filename, data)
    except CiteLineError:
        raise
    except RecursionError as exc:
        raise DocumentParseError(filename, "the document is nested too deeply to read") from exc
    except Exception as exc:  # a library failing on a malformed file is the file's problem, not a 500
        log.warning("parsing %s as %s failed", filename, kind, exc_info=True)
        reason = f"the file could not be read as {kind} ({type(exc).__name__})"
        raise DocumentParseError(filename, reason) from exc
