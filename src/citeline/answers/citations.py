"""Citation markers: `[n]` in answers refers to source n; markers copied from documents are removed."""

from __future__ import annotations

import re

CITATION_RE = re.compile(r"\[(\d{1,3})\]")
# Bibliography-style markers inside document text: [12], [3, 4], [5-7], [1,2; 9], with en dashes too.
_DOCUMENT_MARKER_RE = re.compile(r"\s?\[\d{1,4}(?:\s*[-\u2013,;]\s*\d{1,4})*\]")


def strip_document_markers(text: str) -> str:
    """Remove a document's own numeric reference markers so they cannot be mistaken for citations."""
    return _DOCUMENT_MARKER_RE.sub("", text)


def cited_numbers(answer: str) -> list[int]:
    """The source numbers an answer cites, in order of first appearance."""
    seen: dict[int, None] = {}
    for match in CITATION_RE.finditer(answer):
        seen.setdefault(int(match.group(1)), None)
    return list(seen)


def drop_unknown_citations(answer: str, valid: set[int]) -> str:
    """Remove `[n]` markers that refer to no returned source (a generator must not invent sources)."""
    return CITATION_RE.sub(lambda m: m.group(0) if int(m.group(1)) in valid else "", answer)


class CitationStream:
    """Applies `drop_unknown_citations` to text that arrives in pieces.

    A piece that ends inside a possible marker ("... [1") is held back until the marker closes or
    cannot be one, so an invented `[9]` is never sent, even split across deltas.
    """

    _OPEN = re.compile(r"\[\d{0,3}$")

    def __init__(self, valid: set[int]) -> None:
        self.valid = valid
        self._pending = ""

    def feed(self, piece: str) -> str:
        text = self._pending + piece
        held = self._OPEN.search(text)
        self._pending = text[held.start() :] if held else ""
        ready = text[: held.start()] if held else text
        return drop_unknown_citations(ready, self.valid)

    def flush(self) -> str:
        text, self._pending = self._pending, ""
        return drop_unknown_citations(text, self.valid)
