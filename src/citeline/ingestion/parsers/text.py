"""Plain text: paragraphs are separated by blank lines."""

from __future__ import annotations

import re
from pathlib import PurePath

from citeline.ingestion.model import ParsedDocument
from citeline.ingestion.parsers.assembly import BlockAssembler, decode_text, normalise_text, short_title

MIME = "text/plain"
_BLANK_LINES = re.compile(r"\n[ \t]*\n")


def parse_text(filename: str, data: bytes) -> ParsedDocument:
    """Decode ``data`` and make one block per paragraph; the title is a short first line."""
    text = normalise_text(decode_text(data))
    blocks = BlockAssembler()
    for paragraph in _BLANK_LINES.split(text):
        blocks.add(paragraph)
    first_line = next((line for line in text.splitlines() if line.strip()), None)
    title = short_title(first_line) or PurePath(filename).stem
    return blocks.build(filename, title=title, mime=MIME)
