"""Answer a question: retrieve inside the caller's scope, generate, check citations."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass

from sqlalchemy.orm import Session

from citeline.answers.citations import CitationStream, drop_unknown_citations
from citeline.answers.generators.base import GeneratedAnswer, Generator
from citeline.answers.schemas import QueryResponse, Source
from citeline.answers.sources import merge_overlapping
from citeline.core.errors import IndexEmptyError
from citeline.documents.repository import indexed_chunk_count
from citeline.retrieval.scope import SearchScope
from citeline.retrieval.service import SearchHit, SearchOutcome, SearchService

INDEX_EMPTY = "Document not ingested yet. Please call /ingest first."


class AnswerService:
    def __init__(self, search: SearchService, generator: Generator, default_top_k: int) -> None:
        self.search = search
        self.generator = generator
        self.default_top_k = default_top_k

    def retrieve(
        self,
        session: Session,
        question: str,
        top_k: int | None,
        scope: SearchScope,
        diversity: float | None = None,
    ) -> Retrieved:
        """The numbered sources for a question (400 while nothing is indexed)."""
        if indexed_chunk_count(session) == 0:
            raise IndexEmptyError(INDEX_EMPTY)
        wanted = top_k or self.default_top_k
        # Ask for more than wanted: overlapping chunks of one document merge into a single source.
        outcome = self.search.search(session, question, 2 * wanted, scope, diversity=diversity)
        return Retrieved(question, merge_overlapping(outcome.hits)[:wanted], outcome)

    def answer(
        self,
        session: Session,
        question: str,
        top_k: int | None,
        scope: SearchScope,
        diversity: float | None = None,
    ) -> QueryResponse:
        return self.complete(self.retrieve(session, question, top_k, scope, diversity))

    def complete(self, retrieved: Retrieved) -> QueryResponse:
        """The whole answer for retrieved sources, its citations checked."""
        mark = time.perf_counter()
        generated = self.generator.generate(
            retrieved.question, retrieved.hits, retrieved.outcome.query_vector
        )
        text = drop_unknown_citations(generated.text, retrieved.numbers)
        return self._response(retrieved, text, generated.answerable, mark)

    def stream(self, retrieved: Retrieved) -> Iterator[str | QueryResponse]:
        """Checked text deltas as the generator produces them, then the whole response."""
        mark = time.perf_counter()
        checker = CitationStream(retrieved.numbers)
        parts: list[str] = []
        for event in self.generator.stream(
            retrieved.question, retrieved.hits, retrieved.outcome.query_vector
        ):
            if isinstance(event, GeneratedAnswer):
                if tail := checker.flush():
                    parts.append(tail)
                    yield tail
                yield self._response(retrieved, "".join(parts), event.answerable, mark)
                return
            if piece := checker.feed(event):
                parts.append(piece)
                yield piece

    def sources(self, retrieved: Retrieved) -> list[Source]:
        return [Source(n=n, **asdict(hit)) for n, hit in enumerate(retrieved.hits, start=1)]

    def _response(self, retrieved: Retrieved, text: str, answerable: bool, mark: float) -> QueryResponse:
        timings = {**retrieved.outcome.timings_ms, "generate": round((time.perf_counter() - mark) * 1000, 2)}
        timings["total"] = round(timings.get("total", 0.0) + timings["generate"], 2)
        return QueryResponse(
            answer=text,
            answerable=answerable,
            sources=self.sources(retrieved),
            model=self.generator.name,
            timings_ms=timings,
        )


@dataclass(frozen=True, slots=True)
class Retrieved:
    question: str
    hits: list[SearchHit]
    outcome: SearchOutcome

    @property
    def numbers(self) -> set[int]:
        """The citation numbers an answer may use."""
        return set(range(1, len(self.hits) + 1))
