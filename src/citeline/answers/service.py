"""Answer a question: retrieve inside the caller's scope, generate, check citations."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Sequence
from contextlib import closing
from dataclasses import asdict, dataclass

from sqlalchemy.orm import Session

from citeline.answers.citations import CitationStream, drop_unknown_citations
from citeline.answers.generators.base import GeneratedAnswer, Generator
from citeline.answers.schemas import QueryResponse, Source, Turn
from citeline.answers.sources import merge_overlapping
from citeline.core.errors import CiteLineError, IndexEmptyError, UpstreamError, UpstreamTimeoutError
from citeline.documents.repository import indexed_chunk_count
from citeline.retrieval.scope import SearchScope
from citeline.retrieval.service import SearchHit, SearchOutcome, SearchService

INDEX_EMPTY = "Document not ingested yet. Please call /ingest first."
log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Question:
    """What was asked, in its conversation, and what retrieval should search for."""

    text: str
    history: tuple[Turn, ...] = ()
    search_query: str = ""  # empty: search for the text itself
    rewrite_ms: float | None = None

    @property
    def query(self) -> str:
        return self.search_query or self.text


class AnswerService:
    def __init__(
        self, search: SearchService, generator: Generator, default_top_k: int, *, context_tokens: int = 2000
    ) -> None:
        self.search = search
        self.generator = generator
        self.default_top_k = default_top_k
        self.context_tokens = context_tokens

    def understand(self, text: str, history: Sequence[Turn] = ()) -> Question:
        """A question with its conversation; a follow-up gets a standalone search query from the model.

        Call it outside any database transaction: it may wait seconds for the model. If the model fails
        here, the question is searched as asked (answering will report the failure with the sources).
        """
        if not history:
            return Question(text)
        mark = time.perf_counter()
        try:
            query = self.generator.standalone_query(text, history)
        except (UpstreamError, UpstreamTimeoutError) as exc:
            log.warning("query rewrite failed, searching the question as asked: %s", exc.detail)
            query = text
        return Question(text, tuple(history), query, round((time.perf_counter() - mark) * 1000, 2))

    def retrieve(
        self,
        session: Session,
        question: str | Question,
        top_k: int | None,
        scope: SearchScope,
        diversity: float | None = None,
    ) -> Retrieved:
        """The numbered sources for a question (400 while nothing is indexed)."""
        if indexed_chunk_count(session, scope.visibility_clauses()) == 0:  # nothing the caller may read
            raise IndexEmptyError(INDEX_EMPTY)
        asked = question if isinstance(question, Question) else Question(question)
        wanted = top_k or self.default_top_k
        # Ask for more than wanted: overlapping chunks of one document merge into a single source.
        outcome = self.search.search(session, asked.query, 2 * wanted, scope, diversity=diversity)
        return Retrieved(asked, self.pack(merge_overlapping(outcome.hits)[:wanted]), outcome)

    def pack(self, hits: list[SearchHit]) -> list[SearchHit]:
        """The best-ranked sources whose text fits the token budget, in rank order (at least one)."""
        counts = self.search.embedder.count_tokens([hit.text for hit in hits])
        used = 0
        for index, count in enumerate(counts):
            used += count
            if used > self.context_tokens and index > 0:
                return hits[:index]
        return hits

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
        """The whole answer for retrieved sources, its citations checked. If the model fails, the error
        carries the sources, so the client still gets what was found."""
        mark = time.perf_counter()
        asked = retrieved.question
        try:
            generated = self.generator.generate(
                asked.text, retrieved.hits, retrieved.outcome.query_vector, asked.history
            )
        except CiteLineError as exc:
            exc.extra = {
                **(exc.extra or {}),
                "sources": [s.model_dump(mode="json") for s in self.sources(retrieved)],
            }
            raise
        text = drop_unknown_citations(generated.text, retrieved.numbers)
        return self._response(retrieved, text, generated.answerable, mark)

    def stream(self, retrieved: Retrieved) -> Iterator[str | QueryResponse]:
        """Checked text deltas as the generator produces them, then the whole response."""
        mark = time.perf_counter()
        checker = CitationStream(retrieved.numbers)
        parts: list[str] = []
        asked = retrieved.question
        events = self.generator.stream(
            asked.text, retrieved.hits, retrieved.outcome.query_vector, asked.history
        )
        with closing(events):  # closed early (the client left), it closes the model's stream at once
            for event in events:
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
        rewrite = retrieved.question.rewrite_ms
        if rewrite is not None:
            timings["rewrite"] = rewrite
        timings["total"] = round(timings.get("total", 0.0) + timings["generate"] + (rewrite or 0.0), 2)
        return QueryResponse(
            answer=text,
            answerable=answerable,
            sources=self.sources(retrieved),
            model=self.generator.name,
            search_query=retrieved.question.query,
            timings_ms=timings,
        )


@dataclass(frozen=True, slots=True)
class Retrieved:
    question: Question
    hits: list[SearchHit]
    outcome: SearchOutcome

    @property
    def numbers(self) -> set[int]:
        """The citation numbers an answer may use."""
        return set(range(1, len(self.hits) + 1))
