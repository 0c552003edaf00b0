"""Hybrid search: lexical + vector retrieval inside the caller's scope, fused, hydrated with chunk data."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
from sqlalchemy import select
from sqlalchemy.orm import Session

from citeline.embeddings.base import Embedder
from citeline.retrieval.base import Candidates, LexicalIndex, VectorIndex
from citeline.retrieval.diversity import mmr
from citeline.retrieval.fusion import FusionMethod, fuse_rankings, fuse_scores
from citeline.retrieval.scope import SearchScope
from citeline.storage.models import Chunk, Document

SearchMode = Literal["hybrid", "lexical", "vector"]


@dataclass(slots=True)
class SearchHit:
    """One retrieved chunk with what a citation needs to be shown and checked."""

    chunk_id: int
    document_id: str
    external_id: str | None
    title: str
    text: str
    score: float
    start: int
    end: int
    page: int | None
    heading_path: list[str]
    metadata: dict[str, Any]
    source: str | None = None


@dataclass(slots=True)
class SearchOutcome:
    hits: list[SearchHit]
    query_vector: npt.NDArray[np.float32]
    timings_ms: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class FusionConfig:
    candidates: int = 100  # per-retriever depth before fusion
    method: FusionMethod = "zscore"
    rrf_k: int = 60
    lexical_weight: float = 0.3
    vector_weight: float = 0.7
    diversity: float = 0.0  # default MMR trade-off; 0 = plain relevance order
    diversity_pool: int = 50  # fused candidates MMR chooses from (at least 4 x top_k)


class SearchService:
    """Runs both retrievers and fuses them; blocking, so call it from a worker thread."""

    def __init__(
        self, embedder: Embedder, lexical: LexicalIndex, vectors: VectorIndex, fusion: FusionConfig
    ) -> None:
        self.embedder = embedder
        self.lexical = lexical
        self.vectors = vectors
        self.fusion = fusion

    def search(
        self,
        session: Session,
        query: str,
        top_k: int,
        scope: SearchScope,
        mode: SearchMode = "hybrid",
        diversity: float | None = None,
    ) -> SearchOutcome:
        """``mode`` "lexical" or "vector" runs one retriever alone (for comparison and debugging);
        ``diversity`` > 0 re-orders the fused candidates by maximal marginal relevance."""
        timings: dict[str, float] = {}
        started = time.perf_counter()
        depth = max(self.fusion.candidates, top_k)
        lexical = dense = Candidates([])

        if mode != "vector":
            mark = time.perf_counter()
            lexical = self.lexical.search(session, query, depth, scope)
            timings["lexical"] = _ms_since(mark)

        mark = time.perf_counter()
        query_vector = self.embedder.embed_query(query)  # answers need it even in lexical mode
        timings["embed"] = _ms_since(mark)

        if mode != "lexical":
            mark = time.perf_counter()
            dense = self.vectors.search(session, query_vector, depth, scope)
            timings["vector"] = _ms_since(mark)

        mark = time.perf_counter()
        if mode == "hybrid":
            weights = [self.fusion.lexical_weight, self.fusion.vector_weight]
            if self.fusion.method == "rrf":
                fused = fuse_rankings([lexical.ranked, dense.ranked], weights, k=self.fusion.rrf_k)
            else:
                # Every lexical candidate gets its exact similarity (one dot product each) instead of the
                # dense list's floor; BM25 scores of dense-only candidates stay floored.
                seen = {chunk_id for chunk_id, _ in dense.ranked}
                missing = [chunk_id for chunk_id, _ in lexical.ranked if chunk_id not in seen]
                vectors = dense.ranked + self.vectors.scores_for(missing, query_vector)
                fused = fuse_scores([lexical.ranked, vectors], weights, [lexical.stats, dense.stats])
            timings["fuse"] = _ms_since(mark)
        else:
            fused = lexical.ranked or dense.ranked
        diversity = self.fusion.diversity if diversity is None else diversity
        if diversity > 0:
            mark = time.perf_counter()
            pool = fused[: max(self.fusion.diversity_pool, 4 * top_k)]
            fused = mmr(pool, self.vectors.vectors_for([item for item, _ in pool]), top_k, diversity)
            timings["diversity"] = _ms_since(mark)
        hits = self.hydrate(session, fused[:top_k])
        timings["total"] = _ms_since(started)
        return SearchOutcome(hits=hits, query_vector=query_vector, timings_ms=timings)

    @staticmethod
    def hydrate(session: Session, ranked: list[tuple[int, float]]) -> list[SearchHit]:
        """Load chunk and document fields for ranked chunk ids, keeping the order."""
        if not ranked:
            return []
        rows = session.execute(
            select(Chunk, Document)
            .join(Document, Document.id == Chunk.document_id)
            .where(Chunk.id.in_([chunk_id for chunk_id, _ in ranked]))
        ).all()
        by_id = {chunk.id: (chunk, document) for chunk, document in rows}
        hits: list[SearchHit] = []
        for chunk_id, score in ranked:
            if chunk_id not in by_id:  # deleted between retrieval and hydration
                continue
            chunk, document = by_id[chunk_id]
            hits.append(
                SearchHit(
                    chunk_id=chunk.id,
                    document_id=document.id,
                    external_id=document.external_id,
                    title=document.title,
                    text=chunk.text,
                    score=score,
                    start=chunk.start,
                    end=chunk.end,
                    page=chunk.page,
                    heading_path=list(chunk.heading_path or []),
                    metadata=dict(document.metadata_ or {}),
                    source=document.source,
                )
            )
        return hits


def _ms_since(mark: float) -> float:
    return round((time.perf_counter() - mark) * 1000, 2)
