"""Request and response bodies for search; answers reuse the result shape for their sources."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from citeline.retrieval.filters import Filters
from citeline.retrieval.service import SearchMode


class ScopedRequest(BaseModel):
    collection: str | None = Field(default=None, min_length=1, max_length=200)
    diversity: float | None = Field(
        default=None,
        ge=0,
        le=1,
        description="Maximal marginal relevance trade-off: 0 = by relevance only, higher = fewer "
        "near-duplicate passages (default: the server's CITELINE_SEARCH_DIVERSITY).",
    )
    filters: Filters = Field(
        default_factory=dict,
        description=(
            "Document metadata that must match, applied inside retrieval: {key: value}, "
            '{key: [any, of, these]}, or {key: {"in": [...], "gte": 2020, "lt": "2024-01-01"}}.'
        ),
        examples=[{"team": "finance", "year": {"gte": 2023}}],
    )


class SearchRequest(ScopedRequest):
    query: str = Field(min_length=1, max_length=2000)
    top_k: int = Field(default=10, ge=1, le=100)
    mode: SearchMode = Field(default="hybrid", description="hybrid (default), or one retriever alone.")


class SearchResult(BaseModel):
    chunk_id: int
    document_id: str
    external_id: str | None
    title: str
    text: str
    score: float
    start: int = Field(description="Character offset of the passage in the document's extracted text.")
    end: int
    page: int | None
    heading_path: list[str]
    metadata: dict[str, Any]
    source: str | None


class SearchResponse(BaseModel):
    results: list[SearchResult]
    timings_ms: dict[str, float]
