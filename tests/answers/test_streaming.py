"""SSE and WebSocket answers deliver the same final answer and sources as POST /api/v1/query."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from citeline.answers.citations import CitationStream
from tests.helpers import read_sse

QUESTIONS = [
    {"question": "Who approves business class flights?"},
    {"question": "When is a doctor's note required?", "top_k": 3},
    {"question": "What is the airspeed velocity of an unladen swallow?"},  # not in the handbook
]


def sse(client: TestClient, body: dict[str, Any]) -> list[tuple[str, Any]]:
    return read_sse(client, "POST", "/api/v1/query/stream", json=body)


def without_timings(response: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in response.items() if key not in ("timings_ms", "type")}


@pytest.mark.parametrize("body", QUESTIONS)
def test_sse_stream_matches_the_plain_answer(handbook_client: TestClient, body: dict[str, Any]) -> None:
    plain = handbook_client.post("/api/v1/query", json=body).json()
    events = sse(handbook_client, body)
    names = [name for name, _ in events]
    assert names[0] == "sources" and names[-1] == "done"
    assert set(names[1:-1]) <= {"delta"}
    assert events[0][1] == plain["sources"]
    done = events[-1][1]
    assert without_timings(done) == without_timings(plain)
    assert "".join(data["text"] for name, data in events if name == "delta") == plain["answer"]


def test_websocket_answers_several_questions_like_the_plain_endpoint(handbook_client: TestClient) -> None:
    with handbook_client.websocket_connect("/api/v1/ws/query") as socket:
        for body in QUESTIONS:
            plain = handbook_client.post("/api/v1/query", json=body).json()
            socket.send_json(body)
            first = socket.receive_json()
            assert first == {"type": "sources", "sources": plain["sources"]}
            deltas = []
            while (message := socket.receive_json())["type"] == "delta":
                deltas.append(message["text"])
            assert message["type"] == "done"
            assert without_timings(message) == without_timings(plain)
            assert "".join(deltas) == plain["answer"]
        socket.send_json({"question": ""})
        error = socket.receive_json()
        assert (error["type"], error["code"]) == ("error", "validation_error")
        socket.send_text("not json")
        assert socket.receive_json()["code"] == "validation_error"
        socket.send_json({"question": "x", "collection": "missing"})
        assert socket.receive_json()["code"] == "collection_not_found"


def test_streams_on_an_empty_index_fail_before_streaming(client: TestClient) -> None:
    response = client.post("/api/v1/query/stream", json={"question": "anything"})
    assert (response.status_code, response.json()["code"]) == (400, "index_empty")
    with client.websocket_connect("/api/v1/ws/query") as socket:
        socket.send_json({"question": "anything"})
        assert socket.receive_json()["code"] == "index_empty"


def test_citation_stream_drops_invented_markers_split_across_deltas() -> None:
    stream = CitationStream({1, 2})
    pieces = ["Rain is wet [", "1]. Snow is cold [", "9", "]. Ice [2", "] is hard [3]", "."]
    out = "".join(stream.feed(piece) for piece in pieces) + stream.flush()
    assert out == "Rain is wet [1]. Snow is cold . Ice [2] is hard ."
    held = CitationStream({1})
    assert held.feed("array[") == "array"
    assert held.flush() == "["  # an unclosed bracket at the very end is just text
