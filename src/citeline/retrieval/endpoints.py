"""POST /api/v1/search: hybrid retrieval without generation."""

from __future__ import annotations

from dataclasses import asdict

from fastapi import APIRouter

from citeline.auth.dependencies import QueryReader
from citeline.retrieval.schemas import SearchRequest, SearchResponse, SearchResult
from citeline.services import ServicesDep

router = APIRouter(tags=["search"])


@router.post("/search", response_model=SearchResponse)
def search(body: SearchRequest, services: ServicesDep, principal: QueryReader) -> SearchResponse:
    """The top passages for a query, best first, each with offsets into its document."""
    with services.db.read() as session:
        scope = services.scope(session, body.collection, body.filters, principal)
        outcome = services.search.search(session, body.query, body.top_k, scope, body.mode, body.diversity)
    return SearchResponse(
        results=[SearchResult(**asdict(hit)) for hit in outcome.hits], timings_ms=outcome.timings_ms
    )
