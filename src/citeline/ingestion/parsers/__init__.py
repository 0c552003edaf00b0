"""Turn uploaded bytes into a ParsedDocument: detect the format, then run that format's parser.

Detection trusts the bytes first (magic numbers), then the file extension, then the declared
content type. Unsupported types raise ``UnsupportedMediaTypeError`` (415); files of a supported
type that cannot be read raise ``DocumentParseError`` (400), never a library's own exception.
"""

from __future__ import annotations

import io
import logging
import zipfile
from collections.abc import Callable
from pathlib import PurePath

from citeline.core.errors import CiteLineError, DocumentParseError, UnsupportedMediaTypeError
from citeline.ingestion.model import ParsedDocument
from citeline.ingestion.parsers.assembly import bom_encoding, utf16_without_bom
from citeline.ingestion.parsers.docx import parse_docx
from citeline.ingestion.parsers.html import parse_html
from citeline.ingestion.parsers.markdown import parse_markdown
from citeline.ingestion.parsers.pdf import parse_pdf
from citeline.ingestion.parsers.text import parse_text

__all__ = ["FORMATS", "SUPPORTED_TYPES", "detect_format", "parse_document"]

log = logging.getLogger(__name__)

FORMATS: dict[str, Callable[[str, bytes], ParsedDocument]] = {
    "text": parse_text,
    "markdown": parse_markdown,
    "html": parse_html,
    "pdf": parse_pdf,
    "docx": parse_docx,
}
SUPPORTED_TYPES = "PDF (.pdf), Word (.docx), HTML (.html, .htm), Markdown (.md, .markdown), plain text (.txt)"
_EXTENSIONS = {
    ".txt": "text",
    ".text": "text",
    ".md": "markdown",
    ".markdown": "markdown",
    ".html": "html",
    ".htm": "html",
    ".pdf": "pdf",
    ".docx": "docx",
}
_CONTENT_TYPES = {
    "text/plain": "text",
    "text/markdown": "markdown",
    "text/x-markdown": "markdown",
    "text/html": "html",
    "application/xhtml+xml": "html",
    "application/pdf": "pdf",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "docx",
}
# Signatures of formats we recognise but do not read, so they are refused rather than read as text.
_UNSUPPORTED_MAGIC = {
    b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1": "a legacy Microsoft Office file (.doc, .xls, .ppt, .msg)",
    b"{\\rtf": "an RTF document",
    b"\x89PNG": "a PNG image",
    b"\xff\xd8\xff": "a JPEG image",
    b"GIF8": "a GIF image",
    b"RIFF": "a RIFF media file",
    b"\x1f\x8b": "a gzip archive",
    b"7z\xbc\xaf": "a 7-Zip archive",
}
_ZIP_KINDS = {
    "xl/": "an Excel workbook",
    "ppt/": "a PowerPoint presentation",
    "META-INF/": "an EPUB or OpenDocument file",
}


def _unsupported(filename: str, what: str | None = None) -> UnsupportedMediaTypeError:
    kind = f" is {what}, which" if what else ""
    return UnsupportedMediaTypeError(
        f"{filename!r}{kind} is not a supported file type; supported types: {SUPPORTED_TYPES}"
    )


def _zip_format(filename: str, head: bytes, hinted: str | None) -> str:
    """``docx`` for a Word package, or one named as such that is no other known package.

    A damaged ``.docx`` is detected as docx so that its parser reports the damage; a head too short
    to open as a ZIP falls back to the member names visible in it.
    """
    try:
        with zipfile.ZipFile(io.BytesIO(head)) as package:
            names = package.namelist()
    except (zipfile.BadZipFile, ValueError, OSError):
        names = [part.decode() for part in (b"word/", *(p.encode() for p in _ZIP_KINDS)) if part in head]
    if any(name.startswith("word/") for name in names):
        return "docx"
    kinds = [kind for prefix, kind in _ZIP_KINDS.items() if any(n.startswith(prefix) for n in names)]
    if not kinds and hinted == "docx":
        return "docx"
    raise _unsupported(filename, kinds[0] if kinds else "a ZIP archive")


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
    """One of ``text``, ``markdown``, ``html``, ``pdf``, ``docx``; raises UnsupportedMediaTypeError."""
    extension = _EXTENSIONS.get(PurePath(filename).suffix.lower())
    declared = _CONTENT_TYPES.get((content_type or "").split(";", 1)[0].strip().lower())
    hinted = extension or declared
    if head[:1024].lstrip().startswith(b"%PDF-") or (hinted == "pdf" and b"%PDF-" in head[:1024]):
        return "pdf"
    if head.startswith(b"PK\x03\x04"):
        return _zip_format(filename, head, hinted)
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
    if not data:
        raise DocumentParseError(filename, "the file is empty")
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
