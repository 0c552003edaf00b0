"""Request and response bodies for questions."""

from __future__ import annotations

from pydantic import BaseModel, Field

from citeline.retrieval.schemas import ScopedRequest, SearchResult


class QueryRequest(ScopedRequest):
    question: str = Field(min_length=1, max_length=2000)
    top_k: int | None = Field(default=None, ge=1, le=50, description="Sources to retrieve (default 5).")


class Source(SearchResult):
    n: int = Field(description="The number the answer cites this source by: [n].")


class QueryResponse(BaseModel):
    answer: str
    answerable: bool = Field(description="False when the documents do not contain an answer.")
    sources: list[Source]
    model: str
    timings_ms: dict[str, float]


class SeedQueryRequest(BaseModel):
    question: str = Field(min_length=1, max_length=2000)
