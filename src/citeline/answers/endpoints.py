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
from citeline.auth import audit
from citeline.auth.dependencies import QueryReader, Reader
from citeline.auth.principal import LOCAL, Principal
from citeline.core.errors import CiteLineError
from citeline.services import Services, ServicesDep

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


def retrieve(services: Services, body: QueryRequest, principal: Principal = LOCAL) -> Retrieved:
    """Sources for a question inside what ``principal`` may read; with auth on, the question is
    audited (its text only with CITELINE_AUDIT_QUESTIONS)."""
    retrieved: Retrieved | None = None
    with services.db.read() as session:  # checks the collection before any model call
        scope = services.scope(session, body.collection, body.filters, principal)
        if not body.history:  # nothing for the model to rewrite: retrieve in the same read
            retrieved = services.answers.retrieve(session, body.question, body.top_k, scope, body.diversity)
    if retrieved is None:
        question = services.answers.understand(body.question, body.history)  # outside any transaction
        with services.db.read() as session:
            retrieved = services.answers.retrieve(session, question, body.top_k, scope, body.diversity)
    if services.auth is not None:
        detail = {"question": body.question} if services.settings.audit_questions else {}
        with services.db.transaction() as session:
            audit.record(session, principal, "query", body.collection, sources=len(retrieved.hits), **detail)
    return retrieved


def retrieved_sources(body: QueryRequest, services: ServicesDep, principal: QueryReader) -> Retrieved:
    """Retrieval as a dependency: it runs before a stream starts, so its errors are plain 4xx replies."""
    return retrieve(services, body, principal)


@router.post("/query", response_model=QueryResponse)
def query(body: QueryRequest, services: ServicesDep, principal: QueryReader) -> QueryResponse:
    """Answer with sentences from the sources, each cited as [n]; answerable=false if they don't say."""
    return services.answers.complete(retrieve(services, body, principal))


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
async def query_socket(websocket: WebSocket, services: ServicesDep, principal: Reader) -> None:
    """Send `{"question", ...}` (the POST /query body) as often as you like; each gets `sources`,
    `delta` messages and a `done` message, or one `error` message (`code`, `detail`).
    With auth on, send the credential as a header or as `?api_key=` / `?access_token=`; without a valid
    one with the read scope the handshake itself is refused (HTTP 401 or 403)."""
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
                await services.limiter.ahit("query", principal)
                retrieved = await run_in_threadpool(retrieve, services, body, principal)
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
