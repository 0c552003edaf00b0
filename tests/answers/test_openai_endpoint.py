"""The official openai client pointed at Citeline's /v1: cited answers, streaming included."""

from __future__ import annotations

import openai
import pytest
from fastapi.testclient import TestClient


@pytest.fixture
def citeline_openai(handbook_client: TestClient) -> openai.OpenAI:
    # TestClient is an httpx.Client bound to the app, so the SDK talks to the real ASGI app.
    return openai.OpenAI(base_url="http://testserver/v1", api_key="unused", http_client=handbook_client)


QUESTION = "Who approves business class flights?"


def test_chat_completion_is_the_query_answer(
    citeline_openai: openai.OpenAI, handbook_client: TestClient
) -> None:
    plain = handbook_client.post("/api/v1/query", json={"question": QUESTION}).json()
    completion = citeline_openai.chat.completions.create(
        model="citeline",
        messages=[{"role": "system", "content": "Be brief."}, {"role": "user", "content": QUESTION}],
    )
    answer = completion.choices[0].message.content
    assert answer == plain["answer"] and "[1]" in answer
    extension = completion.model_extra["citeline"]  # type: ignore[index]
    assert extension["sources"] == plain["sources"]
    assert extension["answerable"] is True


def test_streamed_chat_completion_matches(
    citeline_openai: openai.OpenAI, handbook_client: TestClient
) -> None:
    plain = handbook_client.post("/api/v1/query", json={"question": QUESTION}).json()
    stream = citeline_openai.chat.completions.create(
        model="default", messages=[{"role": "user", "content": QUESTION}], stream=True
    )
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == plain["answer"]
    assert chunks[-1].choices[0].finish_reason == "stop"
    assert chunks[-1].model_extra["citeline"]["sources"] == plain["sources"]  # type: ignore[index]


def test_models_are_collections_and_errors_are_typed(
    citeline_openai: openai.OpenAI, handbook_client: TestClient
) -> None:
    assert [m.id for m in citeline_openai.models.list()] == ["citeline", "default"]
    with pytest.raises(openai.NotFoundError):
        citeline_openai.chat.completions.create(model="nope", messages=[{"role": "user", "content": "x"}])
    with pytest.raises(openai.BadRequestError):
        citeline_openai.chat.completions.create(
            model="citeline", messages=[{"role": "system", "content": "x"}]
        )
