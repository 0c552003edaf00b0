"""Structure-aware, token-bounded chunking of a ParsedDocument.

Blocks are packed greedily up to ``max_tokens``. A heading starts a new chunk and travels with the
content after it (the heading of an empty section too); otherwise a chunk never crosses a page or a
top-level section (the first entry of the heading path). A block too big for one chunk
is cut into sentences (a table into rows; then lines, then words) and its consecutive pieces share
about ``overlap_tokens`` of whole sentences, so a table row is never split between chunks. Every
chunk is an exact slice ``doc.text[start:end]``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from citeline.ingestion.model import Block, ChunkDraft, ParsedDocument

TokenCounter = Callable[[list[str]], list[int]]

# A sentence ends at . ! ? (or an ellipsis), optionally followed by closing quotes or brackets, then
# whitespace; CJK full stops need no whitespace after them.
_SENTENCE_END = re.compile(r"[.!?\u2026]+[\"'\u201d\u2019)\]]*\s+|[\u3002\uff01\uff1f]+")
_NOT_SENTENCE_ENDS = frozenset(
    {
        "e.g", "i.e", "al", "fig", "figs", "eq", "eqs", "no", "nos", "vs", "cf", "approx", "dr", "mr",
        "mrs", "ms", "prof", "st", "sec", "ch", "vol", "p", "pp", "ref", "refs", "inc", "ltd", "co",
        "corp", "jr", "sr", "esp", "ca", "resp", "incl", "viz", "ibid", "u.s", "u.k",
    }
)  # fmt: skip
_WORD = re.compile(r"\S+")
_LINE = re.compile(r"[^\n]+")


@dataclass(slots=True)
class _Piece:
    """A span of ``doc.text`` that is never cut: a sentence of a block, or a line or word of one."""

    start: int
    end: int
    tokens: int
    block: int  # index into doc.blocks


def _trimmed(text: str, start: int, end: int) -> tuple[int, int] | None:
    """``start``/``end`` moved inwards past whitespace; None if nothing is left."""
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return (start, end) if start < end else None


def _ends_sentence(text: str, start: int, stop: int) -> bool:
    """Whether the terminator at ``stop`` ends a sentence rather than an abbreviation or an initial."""
    words = text[max(start, stop - 24) : stop].split()
    word = words[-1].lstrip("([\"'\u201c\u2018").rstrip(".").lower() if words else ""
    return word not in _NOT_SENTENCE_ENDS and not (len(word) == 1 and word.isalpha())


def sentence_spans(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Sentences of ``text[start:end]`` as spans; a terminator followed by a lowercase word is no end."""
    spans: list[tuple[int, int]] = []
    begin = start
    for match in _SENTENCE_END.finditer(text, start, end):
        following = text[match.end()] if match.end() < end else ""
        if following.islower() or not _ends_sentence(text, begin, match.start()):
            continue
        if span := _trimmed(text, begin, match.end()):
            spans.append(span)
        begin = match.end()
    if span := _trimmed(text, begin, end):
        spans.append(span)
    return spans


def _refine(
    text: str,
    pieces: list[_Piece],
    limit: int,
    pattern: re.Pattern[str],
    count_tokens: TokenCounter,
) -> list[_Piece]:
    """Replace each piece over ``limit`` tokens by its ``pattern`` matches (lines, words); one count call."""
    parts: list[tuple[int, list[tuple[int, int]]]] = []
    for index, piece in enumerate(pieces):
        if piece.tokens > limit:
            matches = pattern.finditer(text, piece.start, piece.end)
            spans = [span for m in matches if (span := _trimmed(text, m.start(), m.end()))]
            if len(spans) > 1:
                parts.append((index, spans))
    if not parts:
        return pieces
    counts = iter(count_tokens([text[s:e] for _, spans in parts for s, e in spans]))
    replacements = {
        index: [_Piece(s, e, next(counts), pieces[index].block) for s, e in spans] for index, spans in parts
    }
    return [new for index, piece in enumerate(pieces) for new in replacements.get(index, [piece])]


def _line_spans(text: str, start: int, end: int) -> list[tuple[int, int]]:
    return [span for m in _LINE.finditer(text, start, end) if (span := _trimmed(text, m.start(), m.end()))]


def _block_pieces(doc: ParsedDocument, count_tokens: TokenCounter, max_tokens: int) -> list[list[_Piece]]:
    """Each block's sentences (a table's rows); a piece over ``max_tokens`` is cut into lines, then words."""
    text = doc.text
    spans = [
        (start, end, index)
        for index, block in enumerate(doc.blocks)
        for start, end in (
            _line_spans(text, block.start, block.end)
            if block.kind == "table"
            else sentence_spans(text, block.start, block.end)
        )
    ]
    counts = count_tokens([text[start:end] for start, end, _ in spans])
    pieces = [_Piece(start, end, n, index) for (start, end, index), n in zip(spans, counts, strict=True)]
    for pattern in (_LINE, _WORD):
        pieces = _refine(text, pieces, max_tokens, pattern, count_tokens)
    by_block: list[list[_Piece]] = [[] for _ in doc.blocks]
    for piece in pieces:
        by_block[piece.block].append(piece)
    return by_block


class _Packer:
    """Greedy packing of pieces into chunks under the heading, page, section and size rules."""

    def __init__(self, blocks: list[Block], max_tokens: int, overlap_tokens: int) -> None:
        self.blocks = blocks
        self.max_tokens = max_tokens
        self.overlap_tokens = overlap_tokens
        self.chunks: list[list[_Piece]] = []
        self.current: list[_Piece] = []
        self.tokens = 0
        self.content: Block | None = None  # first non-heading block of the current chunk

    def close(self) -> None:
        if self.current:
            self.chunks.append(self.current)
        self.current, self.tokens, self.content = [], 0, None

    def append(self, piece: _Piece) -> None:
        block = self.blocks[piece.block]
        if self.content is None and block.kind != "heading":
            self.content = block
        self.current.append(piece)
        self.tokens += piece.tokens

    def starts_new_chunk(self, block: Block) -> bool:
        """Heading, page and section boundaries; a heading-only chunk waits for its content."""
        if not self.current:
            return False
        if block.page != self.blocks[self.current[0].block].page:
            return True
        if self.content is None:
            return False
        return block.kind == "heading" or block.heading_path[:1] != self.content.heading_path[:1]

    def add_block(self, pieces: list[_Piece]) -> None:
        block = self.blocks[pieces[0].block]
        if self.starts_new_chunk(block):
            self.close()
        whole = sum(piece.tokens for piece in pieces)
        if self.tokens + whole > self.max_tokens and whole <= self.max_tokens and self.content is not None:
            self.close()  # the block fits a chunk of its own: move it rather than cut it
        for piece in pieces:
            if self.current and self.tokens + piece.tokens > self.max_tokens:
                carried = self.overlap(piece)
                self.close()
                for earlier in carried:
                    self.append(earlier)
            self.append(piece)

    def overlap(self, following: _Piece) -> list[_Piece]:
        """Trailing pieces of the closing chunk from ``following``'s block, about ``overlap_tokens``."""
        carried: list[_Piece] = []
        total = 0
        for piece in reversed(self.current):
            if piece.block != following.block:
                break
            total += piece.tokens
            if total > self.overlap_tokens or total + following.tokens > self.max_tokens:
                break
            carried.insert(0, piece)
        return carried


def chunk_document(
    doc: ParsedDocument,
    count_tokens: TokenCounter,
    *,
    max_tokens: int = 200,
    overlap_tokens: int = 40,
) -> list[ChunkDraft]:
    """Cut ``doc`` into chunks of at most ``max_tokens`` (a single over-long word excepted)."""
    if max_tokens < 1 or overlap_tokens < 0:
        raise ValueError("max_tokens must be >= 1 and overlap_tokens >= 0")
    if not doc.blocks:
        return []
    packer = _Packer(doc.blocks, max_tokens, overlap_tokens)
    for pieces in _block_pieces(doc, count_tokens, max_tokens):
        if pieces:
            packer.add_block(pieces)
    packer.close()
    texts = [doc.text[chunk[0].start : chunk[-1].end] for chunk in packer.chunks]
    counts = count_tokens(texts)
    drafts = []
    for ordinal, chunk in enumerate(packer.chunks):
        page, heading_path = _describe(doc.blocks, chunk)
        heading_path += _table_header(doc, chunk)
        start, end = chunk[0].start, chunk[-1].end
        drafts.append(ChunkDraft(ordinal, texts[ordinal], start, end, page, heading_path, counts[ordinal]))
    return drafts


def _table_header(doc: ParsedDocument, chunk: list[_Piece]) -> tuple[str, ...]:
    """A chunk that starts inside a table, after its first row, carries that header row in its path,
    so the rows it holds keep their column names (offsets stay exact: the text is not repeated)."""
    block = doc.blocks[chunk[0].block]
    if block.kind != "table" or chunk[0].start <= block.start:
        return ()
    first_row = doc.text[block.start : block.end].split("\n", 1)[0].strip()
    return (first_row,) if first_row else ()


def _describe(blocks: list[Block], chunk: list[_Piece]) -> tuple[int | None, tuple[str, ...]]:
    """Page of the first block; heading path of the first non-heading block (else the last heading)."""
    members = [blocks[index] for index in dict.fromkeys(piece.block for piece in chunk)]
    content = next((block for block in members if block.kind != "heading"), members[-1])
    return members[0].page, content.heading_path
