"""POST /api/v1/query: a cited answer from the caller's documents."""

from __future__ import annotations

from fastapi import APIRouter

from citeline.answers.schemas import QueryRequest, QueryResponse
from citeline.services import ServicesDep

router = APIRouter(tags=["answers"])


@router.post("/query", response_model=QueryResponse)
def query(body: QueryRequest, services: ServicesDep) -> QueryResponse:
    """Answer with sentences from the sources, each cited as [n]; answerable=false if they don't say."""
    with services.db.read() as session:
        scope = services.scope(session, body.collection, body.filters)
        return services.answers.answer(session, body.question, body.top_k, scope, body.diversity)
