"""Claude through the official anthropic SDK, against a local server speaking the Messages API."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from citeline.answers.prompts import REFUSAL
from citeline.config import Settings
from tests.conftest import MakeClient
from tests.fakes.server import Reply, ScriptedServer
from tests.helpers import handbook_files, read_sse

QUESTION = {"question": "Who approves business class flights?"}


@pytest.fixture
def claude(make_client: MakeClient, anthropic_fake: ScriptedServer) -> TestClient:
    client = make_client(
        generator="anthropic",
        anthropic_api_key="sk-ant-test",
        anthropic_base_url=anthropic_fake.base_url,
        anthropic_model="claude-test",
        llm_timeout_s=5,
        llm_max_retries=2,
    )
    assert client.post("/api/v1/documents?wait=true", files=handbook_files()).status_code == 200
    return client


def test_claude_answer_with_checked_citations(claude: TestClient, anthropic_fake: ScriptedServer) -> None:
    anthropic_fake.script(Reply("A vice president approves it [1][12]."))
    result = claude.post("/api/v1/query", json=QUESTION).json()
    assert len(result["sources"]) < 12
    assert result["answer"] == "A vice president approves it [1]."
    assert result["model"] == "anthropic:claude-test"
    sent = anthropic_fake.requests[0]
    assert sent["_api_key"] == "sk-ant-test" and sent["model"] == "claude-test"
    assert REFUSAL in sent["system"] and "Question: Who approves" in sent["messages"][0]["content"]


def test_claude_stream_equals_plain_and_refusal_is_unanswerable(
    claude: TestClient, anthropic_fake: ScriptedServer
) -> None:
    text = "Business class is allowed on flights over six hours [1]. A vice president approves [2]."
    anthropic_fake.script(Reply(text), Reply(text), Reply(REFUSAL))
    plain = claude.post("/api/v1/query", json=QUESTION).json()
    events = read_sse(claude, "POST", "/api/v1/query/stream", json=QUESTION)
    deltas = [data["text"] for name, data in events if name == "delta"]
    done = events[-1][1] if events[-1][0] == "done" else None
    assert len(deltas) > 5 and done is not None
    assert done["answer"] == plain["answer"] == "".join(deltas)
    refused = claude.post("/api/v1/query", json={"question": "What is the CEO's shoe size?"}).json()
    assert refused["answerable"] is False


def test_claude_429_is_retried_and_overload_is_502(
    claude: TestClient, anthropic_fake: ScriptedServer
) -> None:
    anthropic_fake.script(Reply(status=429, headers={"retry-after": "0"}), Reply("Approved [1]."))
    assert claude.post("/api/v1/query", json=QUESTION).json()["answer"] == "Approved [1]."
    assert len(anthropic_fake.requests) == 2
    anthropic_fake.script(*[Reply(status=529)] * 3)
    failed = claude.post("/api/v1/query", json=QUESTION)
    assert (failed.status_code, failed.json()["code"]) == (502, "llm_unavailable")


def test_claude_timeout_is_504(make_client: MakeClient, anthropic_fake: ScriptedServer) -> None:
    client = make_client(
        generator="anthropic", anthropic_api_key="k", anthropic_base_url=anthropic_fake.base_url,
        llm_timeout_s=0.5, llm_max_retries=0,
    )  # fmt: skip
    assert client.post("/api/v1/documents?wait=true", files=handbook_files()).status_code == 200
    anthropic_fake.script(Reply("late", delay_s=2))
    slow = client.post("/api/v1/query", json=QUESTION)
    assert (slow.status_code, slow.json()["code"]) == (504, "llm_timeout")


def test_auto_generator_follows_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    monkeypatch.delenv("CITELINE_LLM_BASE_URL", raising=False)
    assert Settings().resolved_generator == "extractive"
    monkeypatch.setenv("CITELINE_LLM_BASE_URL", "http://localhost:11434/v1")
    assert Settings().resolved_generator == "openai"
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-x")
    settings = Settings()
    assert settings.resolved_generator == "anthropic"
    assert settings.anthropic_api_key is not None and "sk-ant-x" not in repr(settings)
    assert Settings(generator="extractive").resolved_generator == "extractive"
