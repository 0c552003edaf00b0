"""DOCX: body paragraphs and tables in document order; heading styles build the heading path."""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterator
from pathlib import PurePath
from typing import Any

import docx
from docx.opc.exceptions import PackageNotFoundError
from docx.oxml.ns import qn
from docx.text.paragraph import Paragraph

from citeline.core.errors import DocumentParseError
from citeline.ingestion.model import ParsedDocument
from citeline.ingestion.parsers.assembly import BlockAssembler, collapse_whitespace, short_title

MIME = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
_HEADING_STYLE = re.compile(r"^heading\s*(\d)$", re.IGNORECASE)
_P, _TBL, _SDT, _SDT_CONTENT = qn("w:p"), qn("w:tbl"), qn("w:sdt"), qn("w:sdtContent")
_TR, _TC = qn("w:tr"), qn("w:tc")


def _load(filename: str, data: bytes) -> Any:
    """Open the package; damaged XML lands here too (lxml's XMLSyntaxError is a SyntaxError)."""
    try:
        return docx.Document(io.BytesIO(data))
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError, SyntaxError) as exc:
        raise DocumentParseError(filename, "the file is not a valid .docx document or is damaged") from exc
    except ValueError as exc:  # e.g. a .pptx or .xlsx package renamed to .docx
        raise DocumentParseError(filename, f"the file is not a Word document ({exc})") from exc


def _body_elements(parent: Any) -> Iterator[Any]:
    """Paragraph and table elements in document order, looking inside content controls."""
    for child in parent.iterchildren():
        if child.tag in (_P, _TBL):
            yield child
        elif child.tag == _SDT:
            for content in child.iterchildren(_SDT_CONTENT):
                yield from _body_elements(content)


def _style_name(paragraph: Paragraph) -> str:
    try:
        style = paragraph.style
    except (KeyError, ValueError, AttributeError):
        return ""
    return str(style.name or "") if style is not None else ""


def _heading_level(style: str) -> int | None:
    """0 for the Title style, N for "Heading N", None for anything else."""
    if style.lower() == "title":
        return 0
    match = _HEADING_STYLE.match(style)
    return int(match.group(1)) if match else None


def _is_list_item(element: Any, style: str) -> bool:
    """A "List ..." style or numbering properties (bullets and numbered lists)."""
    properties = element.pPr
    return style.lower().startswith("list") or (properties is not None and properties.numPr is not None)


def _table_text(table: Any, document: Any) -> str:
    """One line per row, non-empty cells joined with " | " (read from the XML: robust to odd grids)."""
    rows = []
    for row in table.iterchildren(_TR):
        cells = (
            collapse_whitespace(" ".join(Paragraph(p, document).text for p in cell.iter(_P)))
            for cell in row.iterchildren(_TC)
        )
        line = " | ".join(cell for cell in cells if cell)
        if line:
            rows.append(line)
    return "\n".join(rows)


def parse_docx(filename: str, data: bytes) -> ParsedDocument:
    """Blocks for headings, paragraphs, list runs (consecutive items joined) and tables."""
    document = _load(filename, data)
    blocks = BlockAssembler()
    headings: list[tuple[int, str]] = []
    list_items: list[str] = []
    first_heading: str | None = None

    def path() -> tuple[str, ...]:
        return tuple(text for _, text in headings)

    def flush_list() -> None:
        if list_items:
            blocks.add("\n".join(list_items), "list", heading_path=path())
            list_items.clear()

    for element in _body_elements(document.element.body):
        if element.tag == _TBL:
            flush_list()
            blocks.add(_table_text(element, document), "table", heading_path=path())
            continue
        paragraph = Paragraph(element, document)
        text = paragraph.text.strip()
        if not text:
            continue
        style = _style_name(paragraph)
        level = _heading_level(style)
        if level is not None:
            flush_list()
            text = collapse_whitespace(text)
            while headings and headings[-1][0] >= level:
                headings.pop()
            headings.append((level, text))
            if first_heading is None and level <= 1:
                first_heading = text
            blocks.add(text, "heading", heading_path=path())
        elif _is_list_item(element, style):
            list_items.append(text)
        else:
            flush_list()
            blocks.add(text, heading_path=path())
    flush_list()
    try:
        core_title = document.core_properties.title
    except (KeyError, ValueError, SyntaxError):
        core_title = None
    title = short_title(core_title, 200) or short_title(first_heading, 200) or PurePath(filename).stem
    return blocks.build(filename, title=title, mime=MIME)
