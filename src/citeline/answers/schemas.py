"""Request and response bodies for questions."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from citeline.retrieval.schemas import ScopedRequest, SearchResult


class Turn(BaseModel):
    """One earlier message of a conversation."""

    role: Literal["user", "assistant"]
    content: str = Field(max_length=20_000)


class QueryRequest(ScopedRequest):
    question: str = Field(min_length=1, max_length=2000)
    top_k: int | None = Field(
        default=None,
        ge=1,
        le=50,
        description="Most sources to retrieve (default 10); they must also fit the token budget.",
    )
    history: list[Turn] = Field(
        default_factory=list,
        max_length=100,
        description="Earlier turns, oldest first. With an LLM configured, a follow-up question is "
        "rewritten into a standalone search query, and the model sees the recent turns.",
    )


class Source(SearchResult):
    n: int = Field(description="The number the answer cites this source by: [n].")


class QueryResponse(BaseModel):
    answer: str
    answerable: bool = Field(description="False when the documents do not contain an answer.")
    sources: list[Source]
    model: str
    search_query: str = Field(
        description="What retrieval searched for: the question, or its standalone rewrite when history "
        "was given and an LLM is configured."
    )
    timings_ms: dict[str, float]


class SeedQueryRequest(BaseModel):
    question: str = Field(min_length=1, max_length=2000)
