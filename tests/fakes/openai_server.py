"""A local server speaking the OpenAI chat-completions wire protocol (JSON and SSE), for tests only.

Each request takes the next scripted reply: text (streamed word by word when asked to stream), an HTTP
error with headers, or a delay. Requests are recorded so tests can check what the provider sent.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse

from tests.fakes.server import Reply, ScriptedServer, serve


def _chunk(model: str, delta: dict[str, str], finish: str | None = None) -> str:
    body = {
        "id": "chatcmpl-fake",
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }
    return f"data: {json.dumps(body)}\n\n"


def build_app(state: ScriptedServer) -> FastAPI:
    app = FastAPI()

    @app.post("/v1/chat/completions")
    async def completions(request: Request) -> Response:
        body = await request.json()
        state.requests.append(body)
        reply = state.replies.pop(0) if state.replies else Reply("(no scripted reply)")
        if reply.delay_s:
            await asyncio.sleep(reply.delay_s)
        if reply.status != 200:
            error = {"error": {"message": f"scripted {reply.status}", "type": "fake", "code": None}}
            return JSONResponse(error, status_code=reply.status, headers=reply.headers)
        model = body.get("model", "fake")
        if not body.get("stream"):
            return JSONResponse(
                {
                    "id": "chatcmpl-fake",
                    "object": "chat.completion",
                    "created": int(time.time()),
                    "model": model,
                    "choices": [
                        {
                            "index": 0,
                            "message": {"role": "assistant", "content": reply.text},
                            "finish_reason": "stop",
                        }
                    ],
                    "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15},
                }
            )

        async def events() -> AsyncIterator[str]:
            yield _chunk(model, {"role": "assistant", "content": ""})
            async for word in state.words(reply):
                yield _chunk(model, {"content": word})
            yield _chunk(model, {}, "stop")
            yield "data: [DONE]\n\n"

        return StreamingResponse(events(), media_type="text/event-stream")

    return app


@contextmanager
def fake_openai() -> Iterator[ScriptedServer]:
    state = ScriptedServer(base_url="")
    with serve(build_app(state)) as root:
        state.base_url = f"{root}/v1"
        yield state
