"""An OpenAI-compatible front: POST /v1/chat/completions and GET /v1/models, at the root.

The official `openai` client and chat front ends can talk to Citeline. The `model` names a collection
("citeline" searches all of them); the answer is the same as POST /api/v1/query, with its `[n]` markers,
and the numbered sources ride along in the extension field `citeline` of the response (and of the
stream's last chunk).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from fastapi.sse import EventSourceResponse, format_sse_event
from pydantic import BaseModel, Field
from sqlalchemy import select

from citeline.answers.endpoints import relay, retrieve, sse_event
from citeline.answers.schemas import QueryRequest, QueryResponse, Turn
from citeline.answers.service import Retrieved
from citeline.auth.access import readable_collection_ids
from citeline.auth.dependencies import QueryReader, Reader
from citeline.auth.principal import Principal
from citeline.core.errors import BadRequestError, CiteLineError
from citeline.services import Services, ServicesDep
from citeline.storage.models import Collection

router = APIRouter(prefix="/v1", tags=["openai-compatible"])
ALL_COLLECTIONS = "citeline"


class ChatMessage(BaseModel):
    role: Literal["system", "user", "assistant", "tool", "developer"]
    content: str | list[dict[str, Any]] | None = None

    def text(self) -> str:
        if isinstance(self.content, list):  # content parts: keep the text ones
            return " ".join(str(part.get("text", "")) for part in self.content if part.get("type") == "text")
        return self.content or ""


class ChatRequest(BaseModel):
    model: str = Field(
        default=ALL_COLLECTIONS,
        min_length=1,
        max_length=200,
        description='A collection, or "citeline" for all.',
    )
    messages: list[ChatMessage] = Field(min_length=1)
    stream: bool = False


def _question(body: ChatRequest) -> tuple[str, list[Turn]]:
    """The last user message, and the user and assistant turns before it (system messages are ours)."""
    for index in range(len(body.messages) - 1, -1, -1):
        message = body.messages[index]
        if message.role == "user" and message.text().strip():
            history = [
                Turn(role=earlier.role, content=earlier.text())
                for earlier in body.messages[:index]
                if earlier.role in ("user", "assistant") and earlier.text().strip()
            ]
            return message.text().strip()[:2000], history
    raise BadRequestError("The conversation has no user message to answer.")


def retrieved_for_chat(body: ChatRequest, services: ServicesDep, principal: QueryReader) -> Retrieved:
    collection = None if body.model == ALL_COLLECTIONS else body.model
    question, history = _question(body)
    request = QueryRequest(question=question, collection=collection, history=history)
    return retrieve(services, request, principal)


def _extension(response: QueryResponse) -> dict[str, Any]:
    return {
        "answerable": response.answerable,
        "sources": [source.model_dump(mode="json") for source in response.sources],
        "generator": response.model,
    }


@router.post("/chat/completions", response_model=None)
async def chat_completions(
    body: ChatRequest, services: ServicesDep, retrieved: Annotated[Retrieved, Depends(retrieved_for_chat)]
) -> JSONResponse | EventSourceResponse:
    completion_id = f"chatcmpl-{uuid.uuid4().hex}"
    created = int(time.time())
    if not body.stream:
        final = await run_in_threadpool(services.answers.complete, retrieved)
        message = {"role": "assistant", "content": final.answer}
        return JSONResponse(
            {
                "id": completion_id,
                "object": "chat.completion",
                "created": created,
                "model": body.model,
                "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
                "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0},
                "citeline": _extension(final),
            }
        )

    def chunk(delta: dict[str, Any], finish: str | None = None, **extra: Any) -> bytes:
        choice = {"index": 0, "delta": delta, "finish_reason": finish}
        data = {"id": completion_id, "object": "chat.completion.chunk", "created": created,
                "model": body.model, "choices": [choice], **extra}  # fmt: skip
        return sse_event(None, data)

    async def events() -> AsyncIterator[bytes]:
        yield chunk({"role": "assistant", "content": ""})
        try:
            async for event in relay(services.answers.stream(retrieved)):
                if isinstance(event, QueryResponse):
                    yield chunk({}, "stop", citeline=_extension(event))
                else:
                    yield chunk({"content": event})
        except CiteLineError as exc:
            yield sse_event(None, {"error": {"message": exc.detail, "type": exc.code, "code": exc.code}})
        yield format_sse_event(data_str="[DONE]")

    return EventSourceResponse(events())


@router.get("/models")
def list_models(services: ServicesDep, principal: Reader) -> dict[str, Any]:
    """Each collection the caller may read is a model; "citeline" answers from all of them."""
    names = _collection_names(services, principal)
    return {
        "object": "list",
        "data": [
            {"id": name, "object": "model", "created": 0, "owned_by": "citeline"}
            for name in [ALL_COLLECTIONS, *names]
        ],
    }


def _collection_names(services: Services, principal: Principal) -> list[str]:
    with services.db.read() as session:
        query = select(Collection.name).order_by(Collection.name)
        readable = readable_collection_ids(session, principal)
        if readable is not None:
            query = query.where(Collection.id.in_(sorted(readable)))
        return list(session.execute(query).scalars())
