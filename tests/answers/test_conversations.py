"""Conversations: `history` in /api/v1/query, follow-ups rewritten into standalone queries by the model,
the chat endpoint's earlier messages used the same way, and provider failures that keep the sources."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from citeline.answers.prompts import REWRITE_SYSTEM, conversation, standalone
from citeline.answers.schemas import Turn
from tests.conftest import MakeClient
from tests.fakes.server import Reply, ScriptedServer
from tests.helpers import handbook_files, read_sse

HISTORY = [
    {"role": "user", "content": "Which flights may be booked in business class?"},
    {"role": "assistant", "content": "Flights longer than six hours [1]."},
]
FOLLOW_UP = "Who signs off on them?"  # searched as asked, this finds the leave policy
REWRITTEN = "who approves business class flights"  # this finds the travel policy


@pytest.fixture
def gpt(make_client: MakeClient, openai_fake: ScriptedServer) -> TestClient:
    client = make_client(
        generator="openai",
        llm_base_url=openai_fake.base_url,
        llm_model="m",
        llm_timeout_s=5,
        llm_max_retries=1,
    )
    assert client.post("/api/v1/documents?wait=true", files=handbook_files()).status_code == 200
    return client


def _top_source(client: TestClient, query: str) -> str:
    hits = client.post("/api/v1/search", json={"query": query, "top_k": 1}).json()["results"]
    return str(hits[0]["chunk_id"])


def test_a_follow_up_is_rewritten_for_retrieval_and_the_model_sees_the_turns(
    gpt: TestClient, openai_fake: ScriptedServer
) -> None:
    openai_fake.script(Reply(f'"{REWRITTEN}"'), Reply("A vice president signs off [1]."))
    result = gpt.post("/api/v1/query", json={"question": FOLLOW_UP, "history": HISTORY}).json()

    rewrite, answer = openai_fake.requests
    assert rewrite["messages"][0]["content"] == REWRITE_SYSTEM and not rewrite.get("stream")
    assert f"User: {HISTORY[0]['content']}" in rewrite["messages"][1]["content"]
    assert rewrite["messages"][1]["content"].endswith(f"Last question: {FOLLOW_UP}")
    # The answer request: system, the earlier turns in order, then the sources with the question as asked.
    roles = [message["role"] for message in answer["messages"]]
    assert roles == ["system", "user", "assistant", "user"]
    assert answer["messages"][2]["content"] == HISTORY[1]["content"]
    assert answer["messages"][3]["content"].endswith(f"Question: {FOLLOW_UP}")

    assert result["search_query"] == REWRITTEN  # quotes stripped
    assert _top_source(gpt, REWRITTEN) != _top_source(gpt, FOLLOW_UP)
    assert str(result["sources"][0]["chunk_id"]) == _top_source(gpt, REWRITTEN)
    assert result["timings_ms"]["rewrite"] > 0
    assert result["answer"] == "A vice president signs off [1]."


def test_streams_and_the_socket_rewrite_follow_ups_too(gpt: TestClient, openai_fake: ScriptedServer) -> None:
    body = {"question": FOLLOW_UP, "history": HISTORY}
    openai_fake.script(Reply(REWRITTEN), Reply("Capped [1]."))
    events = read_sse(gpt, "POST", "/api/v1/query/stream", json=body)
    assert events[-1][0] == "done" and events[-1][1]["search_query"] == REWRITTEN
    openai_fake.script(Reply(REWRITTEN), Reply("Capped [1]."))
    with gpt.websocket_connect("/api/v1/ws/query") as socket:
        socket.send_json(body)
        messages = [socket.receive_json()]
        while messages[-1]["type"] not in ("done", "error"):
            messages.append(socket.receive_json())
    assert messages[-1]["type"] == "done" and messages[-1]["search_query"] == REWRITTEN
    assert len(openai_fake.requests) == 2


def test_without_history_there_is_no_rewrite_call(gpt: TestClient, openai_fake: ScriptedServer) -> None:
    openai_fake.script(Reply("A vice president [1]."))
    result = gpt.post("/api/v1/query", json={"question": HISTORY[0]["content"]}).json()
    assert len(openai_fake.requests) == 1 and result["search_query"] == HISTORY[0]["content"]
    assert "rewrite" not in result["timings_ms"]


def test_a_failed_rewrite_searches_the_question_as_asked(
    gpt: TestClient, openai_fake: ScriptedServer
) -> None:
    openai_fake.script(Reply(status=500), Reply(status=500), Reply("Capped [1]."))  # 1 try + 1 retry
    result = gpt.post("/api/v1/query", json={"question": FOLLOW_UP, "history": HISTORY})
    assert result.status_code == 200
    assert result.json()["search_query"] == FOLLOW_UP and result.json()["answer"] == "Capped [1]."


def test_a_provider_failure_still_returns_the_sources(gpt: TestClient, openai_fake: ScriptedServer) -> None:
    openai_fake.script(Reply(status=503), Reply(status=503))
    failed = gpt.post("/api/v1/query", json={"question": HISTORY[0]["content"], "top_k": 3})
    body = failed.json()
    assert (failed.status_code, body["code"]) == (502, "llm_unavailable")
    plain = gpt.post("/api/v1/search", json={"query": HISTORY[0]["content"], "top_k": 3}).json()["results"]
    assert [s["n"] for s in body["sources"]] == list(range(1, len(body["sources"]) + 1))
    assert body["sources"][0]["chunk_id"] == plain[0]["chunk_id"]


def test_the_chat_endpoint_passes_earlier_messages_as_history(
    gpt: TestClient, openai_fake: ScriptedServer
) -> None:
    openai_fake.script(Reply(REWRITTEN), Reply("Capped per night [1]."))
    messages: list[dict[str, Any]] = [
        {"role": "system", "content": "You are a helpful assistant."},
        *HISTORY,
        {"role": "user", "content": FOLLOW_UP},
    ]
    reply = gpt.post("/v1/chat/completions", json={"model": "citeline", "messages": messages}).json()
    assert reply["choices"][0]["message"]["content"] == "Capped per night [1]."
    rewrite, answer = openai_fake.requests
    assert f"Assistant: {HISTORY[1]['content']}" in rewrite["messages"][1]["content"]
    # The client's own system message is not passed on: Citeline's grounding rules are the only ones.
    assert [m["role"] for m in answer["messages"]] == ["system", "user", "assistant", "user"]
    assert "helpful assistant" not in str(answer["messages"])


def test_claude_rewrites_and_sees_the_turns(make_client: MakeClient, anthropic_fake: ScriptedServer) -> None:
    claude = make_client(
        generator="anthropic",
        anthropic_api_key="sk-ant-test",
        anthropic_base_url=anthropic_fake.base_url,
        anthropic_model="claude-test",
        llm_timeout_s=5,
    )
    assert claude.post("/api/v1/documents?wait=true", files=handbook_files()).status_code == 200
    anthropic_fake.script(Reply(REWRITTEN), Reply("Capped [1]."))
    result = claude.post("/api/v1/query", json={"question": FOLLOW_UP, "history": HISTORY}).json()
    rewrite, answer = anthropic_fake.requests
    assert rewrite["system"] == REWRITE_SYSTEM and FOLLOW_UP in rewrite["messages"][0]["content"]
    assert [m["role"] for m in answer["messages"]] == ["user", "assistant", "user"]
    assert result["search_query"] == REWRITTEN and result["answer"] == "Capped [1]."


def test_the_offline_default_takes_history_and_searches_the_question(handbook_client: TestClient) -> None:
    result = handbook_client.post("/api/v1/query", json={"question": FOLLOW_UP, "history": HISTORY})
    assert result.status_code == 200
    assert result.json()["search_query"] == FOLLOW_UP and result.json()["model"] == "extractive"


def test_bad_history_is_a_422(handbook_client: TestClient) -> None:
    for history in ([{"role": "system", "content": "x"}], [{"role": "user"}], "not a list"):
        response = handbook_client.post("/api/v1/query", json={"question": "q", "history": history})
        assert (response.status_code, response.json()["code"]) == (422, "validation_error")


def test_conversation_messages_start_with_the_user_and_alternate() -> None:
    turns = [
        Turn(role="assistant", content="Hello! Ask me anything."),
        Turn(role="user", content="First"),
        Turn(role="user", content="Second"),
        Turn(role="assistant", content="  "),
        Turn(role="assistant", content="Answer"),
        Turn(role="user", content="Dangling"),
    ]
    assert conversation(turns) == [
        {"role": "user", "content": "First\n\nSecond"},
        {"role": "assistant", "content": "Answer"},
        {"role": "user", "content": "Dangling"},
        {"role": "assistant", "content": "(no answer)"},  # the question is the next user message
    ]
    assert conversation([Turn(role="assistant", content="Hi")]) == []
    many = [Turn(role=("user", "assistant")[i % 2], content=str(i)) for i in range(30)]
    assert conversation(many)[0]["content"] == "22"  # only the 8 most recent turns


def test_standalone_cleans_the_models_reply_and_falls_back_to_the_question() -> None:
    assert standalone('Query: "hotel cap"\nBecause ...', "q") == "hotel cap"
    assert standalone("", "the question") == "the question"
    assert standalone("The documents don't say.", "the question") == "the question"
