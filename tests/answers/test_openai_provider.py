"""The OpenAI-compatible generator through the official SDK, against a local server speaking the protocol."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from citeline.answers.prompts import REFUSAL
from tests.conftest import MakeClient
from tests.fakes.server import Reply, ScriptedServer
from tests.helpers import handbook_files, read_sse

QUESTION = {"question": "Who approves business class flights?"}


@pytest.fixture
def llm_client(make_client: MakeClient, openai_fake: ScriptedServer) -> TestClient:
    client = make_client(
        generator="openai",
        llm_base_url=openai_fake.base_url,
        llm_model="test-model",
        llm_timeout_s=5,
        llm_max_retries=2,
    )
    assert client.post("/api/v1/documents?wait=true", files=handbook_files()).status_code == 200
    return client


def test_answer_cites_sources_and_invented_citations_are_removed(
    llm_client: TestClient, openai_fake: ScriptedServer
) -> None:
    openai_fake.script(Reply("A vice president approves business class [1]. Hotels are capped [9]."))
    result = llm_client.post("/api/v1/query", json=QUESTION).json()
    assert result["answer"] == "A vice president approves business class [1]. Hotels are capped ."
    assert (result["answerable"], result["model"]) == (True, "openai:test-model")
    sent = openai_fake.requests[0]
    assert sent["model"] == "test-model" and sent["temperature"] == 0
    system, user = sent["messages"]
    assert "only the numbered sources" in system["content"] and REFUSAL in system["content"]
    assert "Question: Who approves business class flights?" in user["content"]
    assert f"[1] {result['sources'][0]['title']}" in user["content"]
    assert result["sources"][0]["text"][:40] in user["content"]


def test_refusal_is_not_answerable(llm_client: TestClient, openai_fake: ScriptedServer) -> None:
    openai_fake.script(Reply(REFUSAL))
    result = llm_client.post("/api/v1/query", json={"question": "What is the CEO's shoe size?"}).json()
    assert result["answerable"] is False
    assert result["answer"] == REFUSAL


def test_streamed_answer_equals_the_plain_one(llm_client: TestClient, openai_fake: ScriptedServer) -> None:
    text = "Flights over six hours may be business class [1]. A vice president signs off [2][7]."
    openai_fake.script(Reply(text), Reply(text))
    plain = llm_client.post("/api/v1/query", json=QUESTION).json()
    events = read_sse(llm_client, "POST", "/api/v1/query/stream", json=QUESTION)
    deltas = [data["text"] for name, data in events if name == "delta"]
    done = events[-1][1] if events[-1][0] == "done" else None
    assert openai_fake.requests[1]["stream"] is True
    assert len(deltas) > 5  # really streamed, word by word
    assert done is not None and done["answer"] == plain["answer"] == "".join(deltas)
    valid = len(plain["sources"])
    assert ("[7]" in plain["answer"]) is (valid >= 7)


def test_rate_limit_is_retried_after_retry_after(llm_client: TestClient, openai_fake: ScriptedServer) -> None:
    openai_fake.script(
        Reply(status=429, headers={"retry-after": "0"}), Reply("Approved by a vice president [1].")
    )
    result = llm_client.post("/api/v1/query", json=QUESTION)
    assert result.status_code == 200
    assert result.json()["answer"] == "Approved by a vice president [1]."
    assert len(openai_fake.requests) == 2


def test_provider_errors_are_502_and_timeouts_504(
    make_client: MakeClient, openai_fake: ScriptedServer
) -> None:
    client = make_client(
        generator="openai",
        llm_base_url=openai_fake.base_url,
        llm_model="m",
        llm_timeout_s=0.5,
        llm_max_retries=0,
    )
    assert client.post("/api/v1/documents?wait=true", files=handbook_files()).status_code == 200
    openai_fake.script(Reply(status=500))
    failed = client.post("/api/v1/query", json=QUESTION)
    assert (failed.status_code, failed.json()["code"]) == (502, "llm_unavailable")
    assert "HTTP 500" in failed.json()["detail"]
    openai_fake.script(Reply("too late", delay_s=2))
    slow = client.post("/api/v1/query", json=QUESTION)
    assert (slow.status_code, slow.json()["code"]) == (504, "llm_timeout")


def test_a_provider_failure_mid_stream_ends_with_an_error_event(
    llm_client: TestClient, openai_fake: ScriptedServer
) -> None:
    openai_fake.script(*[Reply(status=503)] * 3)  # the first try and both retries
    with llm_client.stream("POST", "/api/v1/query/stream", json=QUESTION) as response:
        lines = [line for line in response.iter_lines() if line.startswith("event:")]
    assert lines[0] == "event: sources" and lines[-1] == "event: error"
    with llm_client.websocket_connect("/api/v1/ws/query") as socket:
        openai_fake.script(*[Reply(status=503)] * 3)  # the first try and both retries
        socket.send_json(QUESTION)
        assert socket.receive_json()["type"] == "sources"
        error = socket.receive_json()
        assert (error["type"], error["code"]) == ("error", "llm_unavailable")
