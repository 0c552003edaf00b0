"""Shared pieces of the fake provider servers (tests only): scripted replies and a loopback uvicorn."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from fastapi import FastAPI


@dataclass
class Reply:
    text: str = ""
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0  # before answering
    word_delay_s: float = 0.0  # between streamed words


@dataclass
class ScriptedServer:
    """A fake provider's state: the replies still to give, and the requests received."""

    base_url: str
    replies: list[Reply] = field(default_factory=list)
    requests: list[dict[str, Any]] = field(default_factory=list)
    streams: list[str] = field(default_factory=list)  # per streamed reply: "finished" or "cut" (client left)

    def script(self, *replies: Reply) -> None:
        self.replies[:] = list(replies)
        self.requests.clear()
        self.streams.clear()

    async def words(self, reply: Reply) -> AsyncIterator[str]:
        """The reply's words (each after the first with its leading space), paced by word_delay_s;
        records whether the client read them all or went away."""
        finished = False
        try:
            for index, word in enumerate(reply.text.split(" ")):
                if reply.word_delay_s:
                    await asyncio.sleep(reply.word_delay_s)
                yield word if index == 0 else " " + word
            finished = True
        finally:
            self.streams.append("finished" if finished else "cut")


@contextmanager
def serve(app: FastAPI) -> Iterator[str]:
    """Run ``app`` with uvicorn on a free loopback port; yields its root URL."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("fake server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
