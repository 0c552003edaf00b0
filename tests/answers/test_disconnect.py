"""A client that goes away mid-answer stops the model: Citeline on a real uvicorn on loopback, the model a
fake OpenAI server that streams slowly and records whether its stream was read to the end or cut."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import openai
import pytest
from websockets.sync.client import connect

from citeline.app import create_app
from citeline.config import Settings
from citeline.embeddings.local import LocalEmbedder
from tests.fakes.server import Reply, ScriptedServer, serve
from tests.helpers import handbook_files

QUESTION = {"question": "Who approves business class flights?"}
SLOW = Reply(" ".join(["word"] * 200), word_delay_s=0.05)  # 10 s if read to the end


@pytest.fixture
def citeline(tmp_path: Path, embedder: LocalEmbedder, openai_fake: ScriptedServer) -> Iterator[str]:
    settings = Settings(
        data_dir=tmp_path / "data",
        environment="test",
        generator="openai",
        llm_base_url=openai_fake.base_url,
        llm_model="m",
        llm_timeout_s=30,
        llm_max_retries=0,
    )
    with serve(create_app(settings, embedder=embedder)) as url:
        loaded = httpx.post(f"{url}/api/v1/documents?wait=true", files=handbook_files(), timeout=60)
        assert loaded.status_code == 200
        yield url


def _model_stream_ends(openai_fake: ScriptedServer, within_s: float = 5.0) -> tuple[str, float]:
    """How the fake's stream ended ("cut" or "finished"), and how long after this call."""
    started = time.monotonic()
    while not openai_fake.streams and time.monotonic() - started < within_s:
        time.sleep(0.02)
    assert openai_fake.streams, "the model's stream was still running"
    return openai_fake.streams[0], time.monotonic() - started


def test_leaving_the_sse_stream_stops_the_model(citeline: str, openai_fake: ScriptedServer) -> None:
    openai_fake.script(SLOW)
    with httpx.stream("POST", f"{citeline}/api/v1/query/stream", json=QUESTION, timeout=30) as response:
        for line in response.iter_lines():
            if line == "event: delta":  # the answer has started streaming: hang up
                break
    how, after = _model_stream_ends(openai_fake)
    assert how == "cut" and after < 3


def test_leaving_the_websocket_stops_the_model(citeline: str, openai_fake: ScriptedServer) -> None:
    openai_fake.script(SLOW)
    with connect(citeline.replace("http://", "ws://") + "/api/v1/ws/query") as socket:
        socket.send(json.dumps(QUESTION))
        while json.loads(socket.recv(timeout=30))["type"] != "delta":
            pass
    how, after = _model_stream_ends(openai_fake)
    assert how == "cut" and after < 3


def test_the_websocket_works_under_uvicorn(citeline: str, openai_fake: ScriptedServer) -> None:
    openai_fake.script(Reply("A vice president approves it [1]."))
    with connect(citeline.replace("http://", "ws://") + "/api/v1/ws/query") as socket:
        socket.send(json.dumps(QUESTION))
        messages = [json.loads(socket.recv(timeout=30))]
        while messages[-1]["type"] not in ("done", "error"):
            messages.append(json.loads(socket.recv(timeout=30)))
    assert messages[0]["type"] == "sources" and any(m["type"] == "delta" for m in messages)
    assert messages[-1]["answer"] == "A vice president approves it [1]."
    assert openai_fake.streams == ["finished"]


def test_leaving_the_chat_completions_stream_stops_the_model(
    citeline: str, openai_fake: ScriptedServer
) -> None:
    openai_fake.script(SLOW)
    client = openai.OpenAI(base_url=f"{citeline}/v1", api_key="unused", max_retries=0)
    stream = client.chat.completions.create(
        model="citeline", messages=[{"role": "user", "content": QUESTION["question"]}], stream=True
    )
    for chunk in stream:
        if chunk.choices and chunk.choices[0].delta.content:
            break
    stream.close()
    how, after = _model_stream_ends(openai_fake)
    assert how == "cut" and after < 3
