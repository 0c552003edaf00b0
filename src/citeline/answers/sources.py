"""Turn retrieved chunks into the numbered sources of an answer: overlapping passages become one."""

from __future__ import annotations

from dataclasses import replace

from citeline.retrieval.service import SearchHit


def merge_overlapping(hits: list[SearchHit]) -> list[SearchHit]:
    """Merge hits of one document whose character spans overlap, keeping the best rank and score.

    Chunks overlap by design (so a sentence cut at a boundary is whole in one of them); shown as two
    sources they would repeat the same text under two numbers. Each chunk's text is the exact slice
    ``document_text[start:end]``, so the union's text is the two texts stitched at the overlap.
    """
    merged: list[SearchHit] = []
    for hit in hits:
        merged.append(hit)
        changed = len(merged) - 1
        while (partner := _overlapping(merged, changed)) is not None:
            keep, drop = min(changed, partner), max(changed, partner)  # the better rank survives
            merged[keep] = _union(merged[keep], merged.pop(drop))
            changed = keep  # the wider span may now reach another kept one
    return merged


def _overlapping(hits: list[SearchHit], index: int) -> int | None:
    target = hits[index]
    for other_index, other in enumerate(hits):
        if other_index != index and other.document_id == target.document_id and _overlap(other, target):
            return other_index
    return None


def _overlap(a: SearchHit, b: SearchHit) -> bool:
    return a.start < b.end and b.start < a.end


def _union(better: SearchHit, other: SearchHit) -> SearchHit:
    """One hit spanning both; identity, rank and score from ``better``."""
    first, second = (better, other) if better.start <= other.start else (other, better)
    tail = second.text[first.end - second.start :] if second.end > first.end else ""
    page = better.page if better.page == other.page else first.page
    return replace(
        better,
        text=first.text + tail,
        start=first.start,
        end=max(first.end, second.end),
        page=page,
        score=max(better.score, other.score),
    )
