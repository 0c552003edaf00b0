"""Shared pieces of the parsers: byte decoding and assembling blocks into a ParsedDocument."""

from __future__ import annotations

import codecs
import re

from citeline.core.errors import DocumentParseError
from citeline.ingestion.model import Block, ParsedDocument

BLOCK_SEPARATOR = "\n\n"
NO_TEXT = "the file contains no text"

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
# C0/C1 controls other than tab and newline, noncharacters and stray BOMs.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufeff\ufffe\uffff]")


def bom_encoding(data: bytes) -> tuple[str, int] | None:
    """The encoding announced by a byte-order mark, and the mark's length."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return encoding, len(bom)
    return None


def utf16_without_bom(data: bytes) -> str | None:
    """``utf-16-le``/``-be`` for BOM-less UTF-16 text: NULs at odd/even offsets that decode to text."""
    sample = data[:4096]
    half = len(sample) // 2
    if half < 2:
        return None
    if sample[1::2].count(0) > 0.6 * half:
        encoding = "utf-16-le"
    elif sample[0::2].count(0) > 0.6 * half:
        encoding = "utf-16-be"
    else:
        return None
    decoded = sample[: half * 2].decode(encoding, errors="replace")
    readable = sum(ch.isprintable() or ch in "\n\r\t" for ch in decoded)
    return encoding if readable >= 0.95 * len(decoded) else None


def decode_text(data: bytes, declared: str | None = None) -> str:
    """Decode bytes as text: BOM, then UTF-8, then a declared charset, then cp1252, then latin-1."""
    if found := bom_encoding(data):
        encoding, skip = found
        return data[skip:].decode(encoding, errors="replace")
    if utf16 := utf16_without_bom(data):
        return data.decode(utf16, errors="replace")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    for encoding in [declared, "cp1252"] if declared else ["cp1252"]:
        try:
            return data.decode(encoding)
        except (UnicodeDecodeError, LookupError):
            continue
    return data.decode("latin-1")


def normalise_text(text: str) -> str:
    """Unix newlines, no control characters other than tab and newline."""
    return _CONTROL.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))


def collapse_whitespace(text: str) -> str:
    """Runs of whitespace (newlines included) become one space."""
    return " ".join(text.split())


class BlockAssembler:
    """Joins block texts with blank lines, recording each block's offsets into the joined text."""

    def __init__(self) -> None:
        self._parts: list[str] = []
        self._blocks: list[Block] = []
        self._length = 0

    @property
    def blocks(self) -> list[Block]:
        return self._blocks

    def add(
        self,
        text: str,
        kind: str = "paragraph",
        *,
        page: int | None = None,
        heading_path: tuple[str, ...] = (),
    ) -> bool:
        """Append a block; text is stripped and empty text is skipped. Returns whether it was added."""
        text = text.strip()
        if not text:
            return False
        if self._parts:
            self._parts.append(BLOCK_SEPARATOR)
            self._length += len(BLOCK_SEPARATOR)
        start = self._length
        self._parts.append(text)
        self._length += len(text)
        self._blocks.append(Block(start, self._length, kind, page, heading_path))
        return True

    def build(
        self,
        filename: str,
        *,
        title: str | None,
        mime: str,
        metadata: dict[str, object] | None = None,
        empty_reason: str = NO_TEXT,
    ) -> ParsedDocument:
        """The finished document; a document without any block is a parse error."""
        if not self._blocks:
            raise DocumentParseError(filename, empty_reason)
        return ParsedDocument(
            text="".join(self._parts),
            blocks=list(self._blocks),
            title=title,
            mime=mime,
            metadata=dict(metadata or {}),
        )


def short_title(text: str | None, limit: int = 120) -> str | None:
    """``text`` on one line if it is a plausible title: at most ``limit`` chars, with a letter in it."""
    if not text:
        return None
    line = collapse_whitespace(_CONTROL.sub("", text))
    return line if len(line) <= limit and any(ch.isalpha() for ch in line) else None
