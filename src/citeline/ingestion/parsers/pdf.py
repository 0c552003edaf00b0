"""PDF: text per page with pypdfium2, re-flowed into paragraphs; every block knows its page."""

from __future__ import annotations

import logging
import re
from itertools import pairwise
from pathlib import PurePath

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from citeline.core.errors import DocumentParseError
from citeline.ingestion.model import ParsedDocument
from citeline.ingestion.parsers.assembly import BlockAssembler, normalise_text, short_title

MIME = "application/pdf"
NO_TEXT = "the file contains no extractable text (scanned images need OCR, which is not supported)"
log = logging.getLogger(__name__)

# PDFium reports a hyphen it judged soft as U+FFFE (older builds: U+0002), usually with the line break gone.
_SOFT_HYPHEN = re.compile(r"[\ufffe\x02\u00ad](?:\r?\n)?")
_SENTENCE_END = (".", "!", "?", ":", ";", "\u3002", "\uff01", "\uff1f")  # with CJK full stops
_UNTITLED = re.compile(r"^(untitled|microsoft word - .*|.*\.(pdf|docx?|tex|dvi|indd|qxd))$", re.IGNORECASE)


def _open_error(exc: pdfium.PdfiumError) -> str:
    if exc.err_code == pdfium_c.FPDF_ERR_PASSWORD:
        return "the PDF is encrypted and needs a password"
    if exc.err_code == pdfium_c.FPDF_ERR_SECURITY:
        return "the PDF uses an unsupported security handler"
    return "the file is not a valid PDF or is damaged"


def _join_lines(lines: list[str]) -> str:
    """One paragraph from its lines, undoing hyphenation at line ends ("infor-" + "mation")."""
    parts = [lines[0]]
    for previous, line in pairwise(lines):
        last_word = previous.rsplit(" ", 1)[-1]
        if previous.endswith("-") and len(last_word) > 1 and line[0].isalpha():
            if line[0].islower() and last_word[-2].isalpha() and "-" not in last_word[:-1]:
                parts[-1] = parts[-1][:-1]  # a word broken across lines
            parts.append(line)  # otherwise a compound broken after its hyphen: "state-of-the-" + "art"
        else:
            parts.append(" " + line)
    return "".join(parts)


def page_paragraphs(raw: str) -> list[str]:
    """Split a page's text into paragraphs.

    A paragraph ends at a blank line, or at a line clearly shorter than the page's full lines that
    ends a sentence, or at a very short line (a heading, a caption) followed by a capitalised line.
    """
    lines = [line.strip() for line in normalise_text(_SOFT_HYPHEN.sub("", raw)).split("\n")]
    lengths = sorted(len(line) for line in lines if line)
    if not lengths:
        return []
    full = lengths[int(0.9 * (len(lengths) - 1))]
    paragraphs: list[str] = []
    current: list[str] = []
    for index, line in enumerate(lines):
        if line:
            current.append(line)
            following = lines[index + 1] if index + 1 < len(lines) else ""
            ends_sentence = len(line) < 0.7 * full and line.endswith(_SENTENCE_END)
            stands_alone = (
                len(line) < 0.5 * full
                and not line.endswith((",", "-"))
                and (following[:1].isupper() or following[:1].isdigit())
            )
            if not (ends_sentence or stands_alone):
                continue
        if current:
            paragraphs.append(_join_lines(current))
            current = []
    if current:
        paragraphs.append(_join_lines(current))
    return paragraphs


def _metadata_title(pdf: pdfium.PdfDocument) -> str | None:
    try:
        title = short_title(str(pdf.get_metadata_value("Title") or ""), 200)
    except (pdfium.PdfiumError, UnicodeError, ValueError):
        return None
    if title is None or _UNTITLED.match(title) or not any(ch.isalpha() for ch in title):
        return None
    return title


def parse_pdf(filename: str, data: bytes) -> ParsedDocument:
    """Paragraph blocks for each page (``page`` is 1-based); encrypted or broken files are parse errors."""
    try:
        pdf = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        raise DocumentParseError(filename, _open_error(exc)) from exc
    blocks = BlockAssembler()
    first_paragraph: str | None = None
    unreadable: list[int] = []
    try:
        page_count = len(pdf)
        for index in range(page_count):
            try:
                page = pdf[index]
                try:
                    textpage = page.get_textpage()
                    raw = textpage.get_text_range()
                    textpage.close()
                finally:
                    page.close()
            except pdfium.PdfiumError:
                unreadable.append(index + 1)
                continue
            for paragraph in page_paragraphs(raw):
                if blocks.add(paragraph, page=index + 1) and first_paragraph is None:
                    first_paragraph = paragraph
        metadata_title = _metadata_title(pdf)
    finally:
        pdf.close()
    metadata: dict[str, object] = {"pages": page_count}
    if unreadable:
        log.warning("%s: could not read pages %s", filename, unreadable)
        metadata["unreadable_pages"] = unreadable
    title = metadata_title or short_title(first_paragraph) or PurePath(filename).stem
    return blocks.build(filename, title=title, mime=MIME, metadata=metadata, empty_reason=NO_TEXT)
