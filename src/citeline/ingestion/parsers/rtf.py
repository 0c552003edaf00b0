"""RTF: control words stripped by striprtf, then paragraphs as in plain text."""

from __future__ import annotations

from pathlib import PurePath

from citeline.ingestion.model import ParsedDocument
from citeline.ingestion.parsers.assembly import (
    BlockAssembler,
    collapse_whitespace,
    decode_text,
    normalise_text,
)

MIME = "application/rtf"


def parse_rtf(filename: str, data: bytes) -> ParsedDocument:
    from striprtf.striprtf import rtf_to_text  # imported here: only RTF needs it

    text = normalise_text(str(rtf_to_text(decode_text(data), errors="ignore")))  # type: ignore[no-untyped-call]
    blocks = BlockAssembler()
    for paragraph in text.split("\n"):
        blocks.add(collapse_whitespace(paragraph))
    return blocks.build(filename, title=PurePath(filename).stem, mime=MIME)
