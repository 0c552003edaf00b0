"""Questions: POST /api/v1/query (whole answer), /api/v1/query/stream (SSE) and WS /api/v1/ws/query.

All three run the same retrieval, generator and citation check, so they give the same answer.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, WebSocket, WebSocketDisconnect
from fastapi.concurrency import iterate_in_threadpool, run_in_threadpool
from fastapi.encoders import jsonable_encoder
from fastapi.sse import EventSourceResponse, ServerSentEvent
from pydantic import ValidationError

from citeline.answers.schemas import QueryRequest, QueryResponse
from citeline.answers.service import Retrieved
from citeline.core.errors import CiteLineError
from citeline.services import Services, ServicesDep, get_services

router = APIRouter(tags=["answers"])


def retrieve(services: Services, body: QueryRequest) -> Retrieved:
    with services.db.read() as session:
        scope = services.scope(session, body.collection, body.filters)
        return services.answers.retrieve(session, body.question, body.top_k, scope, body.diversity)


def retrieved_sources(body: QueryRequest, services: ServicesDep) -> Retrieved:
    """Retrieval as a dependency: it runs before a stream starts, so its errors are plain 4xx replies."""
    return retrieve(services, body)


@router.post("/query", response_model=QueryResponse)
def query(body: QueryRequest, services: ServicesDep) -> QueryResponse:
    """Answer with sentences from the sources, each cited as [n]; answerable=false if they don't say."""
    return services.answers.complete(retrieve(services, body))


@router.post("/query/stream", response_class=EventSourceResponse)
async def query_stream(
    services: ServicesDep, retrieved: Annotated[Retrieved, Depends(retrieved_sources)]
) -> AsyncIterator[ServerSentEvent]:
    """Server-sent events: `sources` (the numbered passages), `delta` (answer text), then `done`
    (the same body as POST /query)."""
    sources = [source.model_dump(mode="json") for source in services.answers.sources(retrieved)]
    yield ServerSentEvent(data=sources, event="sources")
    try:
        async for event in iterate_in_threadpool(services.answers.stream(retrieved)):
            if isinstance(event, QueryResponse):
                yield ServerSentEvent(data=event.model_dump(mode="json"), event="done")
            else:
                yield ServerSentEvent(data={"text": event}, event="delta")
    except CiteLineError as exc:  # the model failed mid-answer: say so in the stream, which has started
        yield ServerSentEvent(data={"code": exc.code, "detail": exc.detail}, event="error")


@router.websocket("/ws/query")
async def query_socket(websocket: WebSocket) -> None:
    """Send `{"question", ...}` (the POST /query body) as often as you like; each gets `sources`,
    `delta` messages and a `done` message, or one `error` message (`code`, `detail`)."""
    await websocket.accept()
    try:
        while True:
            try:
                body = QueryRequest.model_validate(await websocket.receive_json())
            except (ValueError, ValidationError) as exc:
                detail: Any = exc.errors(include_url=False) if isinstance(exc, ValidationError) else str(exc)
                await websocket.send_json(
                    {"type": "error", "code": "validation_error", "detail": jsonable_encoder(detail)}
                )
                continue
            try:
                services = get_services(websocket)
                retrieved = await run_in_threadpool(retrieve, services, body)
            except CiteLineError as exc:
                await websocket.send_json({"type": "error", "code": exc.code, "detail": exc.detail})
                continue
            sources = [source.model_dump(mode="json") for source in services.answers.sources(retrieved)]
            await websocket.send_json({"type": "sources", "sources": sources})
            try:
                async for event in iterate_in_threadpool(services.answers.stream(retrieved)):
                    if isinstance(event, QueryResponse):
                        await websocket.send_json({"type": "done", **event.model_dump(mode="json")})
                    else:
                        await websocket.send_json({"type": "delta", "text": event})
            except CiteLineError as exc:
                await websocket.send_json({"type": "error", "code": exc.code, "detail": exc.detail})
    except WebSocketDisconnect:
        return
