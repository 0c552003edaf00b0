"""Questions: POST /api/v1/query (whole answer), /api/v1/query/stream (SSE) and WS /api/v1/ws/query.

All three run the same retrieval, generator and citation check, so they give the same answer.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from typing import Annotated, Any, TypeVar

import anyio
from fastapi import APIRouter, Depends, WebSocket, WebSocketDisconnect
from fastapi.concurrency import iterate_in_threadpool, run_in_threadpool
from fastapi.encoders import jsonable_encoder
from fastapi.sse import EventSourceResponse, format_sse_event
from pydantic import ValidationError

from citeline.answers.schemas import QueryRequest, QueryResponse
from citeline.answers.service import Retrieved
from citeline.core.errors import CiteLineError
from citeline.services import Services, ServicesDep, get_services

router = APIRouter(tags=["answers"])
T = TypeVar("T")


async def relay(events: Iterator[T]) -> AsyncIterator[T]:
    """A blocking generator's items, each produced in a worker thread. However the caller stops (the
    client disconnected and the response was cancelled), the generator is closed, which closes the
    model's HTTP stream so the provider stops generating."""
    try:
        async for event in iterate_in_threadpool(events):
            yield event
    finally:
        # Shielded: this runs when the response was cancelled, where an unshielded await would be
        # cancelled too. A worker thread is never abandoned mid-item, so the generator is not running.
        if close := getattr(events, "close", None):  # a generator
            with anyio.CancelScope(shield=True):
                await run_in_threadpool(close)


def retrieve(services: Services, body: QueryRequest) -> Retrieved:
    question = services.answers.understand(body.question, body.history)  # before the read transaction
    with services.db.read() as session:
        scope = services.scope(session, body.collection, body.filters)
        return services.answers.retrieve(session, question, body.top_k, scope, body.diversity)


def retrieved_sources(body: QueryRequest, services: ServicesDep) -> Retrieved:
    """Retrieval as a dependency: it runs before a stream starts, so its errors are plain 4xx replies."""
    return retrieve(services, body)


@router.post("/query", response_model=QueryResponse)
def query(body: QueryRequest, services: ServicesDep) -> QueryResponse:
    """Answer with sentences from the sources, each cited as [n]; answerable=false if they don't say."""
    return services.answers.complete(retrieve(services, body))


@router.post(
    "/query/stream",
    response_model=None,
    responses={200: {"content": {"text/event-stream": {}}, "description": "Server-sent events."}},
)
async def query_stream(
    services: ServicesDep, retrieved: Annotated[Retrieved, Depends(retrieved_sources)]
) -> EventSourceResponse:
    """Server-sent events: `sources` (the numbered passages), `delta` (answer text), then `done`
    (the same body as POST /query), or `error` (`code`, `detail`) if the model fails mid-answer."""
    # A plain streaming response around our own generator, not FastAPI's `yield` endpoint: that one
    # keeps a blocking generator running after the client hangs up (its producer task is cancelled
    # only when the response finishes), and the model would go on generating for nobody.
    sources = [source.model_dump(mode="json") for source in services.answers.sources(retrieved)]

    async def events() -> AsyncIterator[bytes]:
        yield sse_event("sources", sources)
        try:
            async for event in relay(services.answers.stream(retrieved)):
                if isinstance(event, QueryResponse):
                    yield sse_event("done", event.model_dump(mode="json"))
                else:
                    yield sse_event("delta", {"text": event})
        except CiteLineError as exc:  # the model failed mid-answer: say so in the stream, which has started
            yield sse_event("error", {"code": exc.code, "detail": exc.detail})

    return EventSourceResponse(events())


def sse_event(event: str | None, data: Any) -> bytes:
    return format_sse_event(data_str=json.dumps(data, ensure_ascii=False), event=event)


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
                async for event in relay(services.answers.stream(retrieved)):
                    if isinstance(event, QueryResponse):
                        await websocket.send_json({"type": "done", **event.model_dump(mode="json")})
                    else:
                        await websocket.send_json({"type": "delta", "text": event})
            except CiteLineError as exc:
                await websocket.send_json({"type": "error", "code": exc.code, "detail": exc.detail})
    except WebSocketDisconnect:
        return
