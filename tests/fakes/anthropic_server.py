"""A local server speaking Anthropic's Messages API (JSON and its SSE event stream), for tests only."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse

from tests.fakes.server import Reply, ScriptedServer, serve


def _event(name: str, data: dict[str, Any]) -> str:
    return f"event: {name}\ndata: {json.dumps(data)}\n\n"


def build_app(state: ScriptedServer) -> FastAPI:
    app = FastAPI()

    @app.post("/v1/messages")
    async def messages(request: Request) -> Response:
        body = await request.json()
        bearer = request.headers.get("authorization", "").removeprefix("Bearer ")
        state.requests.append({**body, "_api_key": request.headers.get("x-api-key") or bearer})
        reply = state.replies.pop(0) if state.replies else Reply("(no scripted reply)")
        if reply.delay_s:
            await asyncio.sleep(reply.delay_s)
        if reply.status != 200:
            error = {"type": "error", "error": {"type": "api_error", "message": f"scripted {reply.status}"}}
            return JSONResponse(error, status_code=reply.status, headers=reply.headers)
        message = {
            "id": "msg_fake",
            "type": "message",
            "role": "assistant",
            "model": body["model"],
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": {"input_tokens": 10, "output_tokens": 1},
        }
        if not body.get("stream"):
            done = {**message, "content": [{"type": "text", "text": reply.text}], "stop_reason": "end_turn"}
            return JSONResponse(done)

        async def events() -> AsyncIterator[str]:
            yield _event("message_start", {"type": "message_start", "message": message})
            block = {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}
            yield _event("content_block_start", block)
            async for word in state.words(reply):
                delta = {"type": "text_delta", "text": word}
                yield _event(
                    "content_block_delta", {"type": "content_block_delta", "index": 0, "delta": delta}
                )
            yield _event("content_block_stop", {"type": "content_block_stop", "index": 0})
            end = {"stop_reason": "end_turn", "stop_sequence": None}
            yield _event(
                "message_delta", {"type": "message_delta", "delta": end, "usage": {"output_tokens": 5}}
            )
            yield _event("message_stop", {"type": "message_stop"})

        return StreamingResponse(events(), media_type="text/event-stream")

    return app


@contextmanager
def fake_anthropic() -> Iterator[ScriptedServer]:
    state = ScriptedServer(base_url="")
    with serve(build_app(state)) as root:
        state.base_url = root  # the SDK appends /v1/messages
        yield state
