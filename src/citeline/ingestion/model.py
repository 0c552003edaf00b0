"""What parsers produce and what the chunker consumes."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Block:
    """A structural unit of extracted text: a paragraph, list item, table, code block or heading.

    ``start``/``end`` are character offsets into ``ParsedDocument.text``; ``text[start:end]`` is the
    block's text. ``heading_path`` lists the enclosing headings, outermost first.
    """

    start: int
    end: int
    kind: str = "paragraph"  # paragraph | heading | list | table | code
    page: int | None = None  # 1-based page number for paged formats (PDF)
    heading_path: tuple[str, ...] = ()


@dataclass(slots=True)
class ParsedDocument:
    """A document's extracted text plus the structure the chunker needs."""

    text: str
    blocks: list[Block]
    title: str | None = None
    mime: str = "text/plain"
    metadata: dict[str, object] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ChunkDraft:
    """A chunk before it is stored: offsets into the document text, page and heading path."""

    ordinal: int
    text: str
    start: int
    end: int
    page: int | None
    heading_path: tuple[str, ...]
    token_count: int
