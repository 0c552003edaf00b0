"""PowerPoint: one page per slide (so citations name the slide), its title as heading, then its text."""

from __future__ import annotations

import io
import zipfile
from pathlib import PurePath
from typing import Any

from citeline.core.errors import DocumentParseError
from citeline.ingestion.model import ParsedDocument
from citeline.ingestion.parsers.assembly import BlockAssembler, collapse_whitespace, short_title

MIME = "application/vnd.openxmlformats-officedocument.presentationml.presentation"


def _shape_blocks(shape: Any) -> list[tuple[str, str]]:
    """(kind, text) for a shape: its paragraphs, a table row by row, or the shapes inside a group."""
    if shape.shape_type is not None and getattr(shape, "shapes", None) is not None:  # a group
        return [block for inner in shape.shapes for block in _shape_blocks(inner)]
    if getattr(shape, "has_table", False) and shape.has_table:
        rows = []
        for row in shape.table.rows:
            cells = [collapse_whitespace(cell.text) for cell in row.cells]
            if any(cells):
                rows.append(" | ".join(cell for cell in cells if cell))
        return [("table", "\n".join(rows))] if rows else []
    if getattr(shape, "has_text_frame", False) and shape.has_text_frame:
        lines = [collapse_whitespace(p.text) for p in shape.text_frame.paragraphs]
        text = "\n".join(line for line in lines if line)
        return [("paragraph", text)] if text else []
    return []


def parse_pptx(filename: str, data: bytes) -> ParsedDocument:
    from pptx import Presentation  # imported here: only presentations need it
    from pptx.exc import PackageNotFoundError

    try:
        presentation = Presentation(io.BytesIO(data))
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError, SyntaxError) as exc:
        raise DocumentParseError(
            filename, "the file is not a valid .pptx presentation or is damaged"
        ) from exc
    blocks = BlockAssembler()
    first_title: str | None = None
    for number, slide in enumerate(presentation.slides, start=1):
        title_shape = slide.shapes.title
        title = collapse_whitespace(title_shape.text) if title_shape is not None and title_shape.text else ""
        heading = f"Slide {number}: {title}" if title else f"Slide {number}"
        first_title = first_title or title or None
        path = (heading,)
        blocks.add(heading, "heading", page=number, heading_path=path)
        for shape in slide.shapes:
            if title_shape is not None and shape.shape_id == title_shape.shape_id:
                continue
            for kind, text in _shape_blocks(shape):
                blocks.add(text, kind, page=number, heading_path=path)
        if slide.has_notes_slide and slide.notes_slide.notes_text_frame is not None:
            notes = slide.notes_slide.notes_text_frame.text.strip()
            if notes:
                blocks.add(f"Speaker notes: {notes}", page=number, heading_path=path)
    core_title = presentation.core_properties.title
    name = short_title(core_title, 200) or short_title(first_title, 200) or PurePath(filename).stem
    return blocks.build(filename, title=name, mime=MIME, empty_reason="the presentation contains no text")
