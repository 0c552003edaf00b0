"""Answer a question: retrieve inside the caller's scope, generate, check citations."""

from __future__ import annotations

import time
from dataclasses import asdict

from sqlalchemy.orm import Session

from citeline.answers.citations import drop_unknown_citations
from citeline.answers.generators.base import Generator
from citeline.answers.schemas import QueryResponse, Source
from citeline.answers.sources import merge_overlapping
from citeline.core.errors import IndexEmptyError
from citeline.documents.repository import indexed_chunk_count
from citeline.retrieval.scope import SearchScope
from citeline.retrieval.service import SearchService

INDEX_EMPTY = "Document not ingested yet. Please call /ingest first."


class AnswerService:
    def __init__(self, search: SearchService, generator: Generator, default_top_k: int) -> None:
        self.search = search
        self.generator = generator
        self.default_top_k = default_top_k

    def answer(
        self,
        session: Session,
        question: str,
        top_k: int | None,
        scope: SearchScope,
        diversity: float | None = None,
    ) -> QueryResponse:
        if indexed_chunk_count(session) == 0:
            raise IndexEmptyError(INDEX_EMPTY)
        wanted = top_k or self.default_top_k
        # Ask for more than wanted: overlapping chunks of one document merge into a single source.
        outcome = self.search.search(session, question, 2 * wanted, scope, diversity=diversity)
        sources = merge_overlapping(outcome.hits)[:wanted]
        mark = time.perf_counter()
        generated = self.generator.generate(question, sources, outcome.query_vector)
        text = drop_unknown_citations(generated.text, set(range(1, len(sources) + 1)))
        timings = {**outcome.timings_ms, "generate": round((time.perf_counter() - mark) * 1000, 2)}
        timings["total"] = round(timings.get("total", 0.0) + timings["generate"], 2)
        return QueryResponse(
            answer=text,
            answerable=generated.answerable,
            sources=[Source(n=n, **asdict(hit)) for n, hit in enumerate(sources, start=1)],
            model=self.generator.name,
            timings_ms=timings,
        )
