"""Overlapping chunks of one document become one source; diversity keeps near-duplicates out."""

from __future__ import annotations

import itertools
from dataclasses import replace

from fastapi.testclient import TestClient

from citeline.answers.sources import merge_overlapping
from citeline.retrieval.service import SearchHit
from tests.conftest import MakeClient

TEXT = "0123456789abcdefghijklmnopqrstuvwxyz"


def hit(document_id: str, start: int, end: int, score: float) -> SearchHit:
    return SearchHit(
        chunk_id=start,
        document_id=document_id,
        external_id=document_id,
        title=document_id,
        text=TEXT[start:end],
        score=score,
        start=start,
        end=end,
        page=None,
        heading_path=[],
        metadata={},
    )


def test_overlapping_spans_merge_into_the_better_ranked_source() -> None:
    hits = [hit("a", 10, 20, 0.9), hit("b", 0, 5, 0.8), hit("a", 15, 25, 0.7), hit("a", 30, 36, 0.6)]
    merged = merge_overlapping(hits)
    assert [(h.document_id, h.start, h.end) for h in merged] == [("a", 10, 25), ("b", 0, 5), ("a", 30, 36)]
    assert merged[0].text == TEXT[10:25]
    assert merged[0].chunk_id == 10 and merged[0].score == 0.9


def test_a_span_that_bridges_two_sources_merges_all_three() -> None:
    hits = [hit("a", 0, 10, 0.9), hit("a", 20, 30, 0.8), hit("b", 0, 4, 0.75), hit("a", 8, 22, 0.7)]
    merged = merge_overlapping(hits)
    assert [(h.document_id, h.start, h.end) for h in merged] == [("a", 0, 30), ("b", 0, 4)]
    assert merged[0].text == TEXT[0:30]


def test_contained_and_adjacent_spans() -> None:
    inner = merge_overlapping([hit("a", 0, 20, 0.9), hit("a", 5, 10, 0.8)])
    assert [(h.start, h.end, h.text) for h in inner] == [(0, 20, TEXT[0:20])]
    adjacent = merge_overlapping([hit("a", 0, 10, 0.9), hit("a", 10, 20, 0.8)])
    assert len(adjacent) == 2  # touching is not overlapping: two passages
    same_span_other_doc = merge_overlapping(
        [hit("a", 0, 10, 0.9), replace(hit("a", 0, 10, 0.8), document_id="c")]
    )
    assert len(same_span_other_doc) == 2


def test_query_sources_never_overlap_and_match_the_document_text(make_client: MakeClient) -> None:
    client = make_client(chunk_max_tokens=60, chunk_overlap_tokens=20)  # ~3 sentences, 1 shared
    sentences = [
        f"Section {i}: the reimbursement policy covers item {i} when a receipt is attached."
        for i in range(30)
    ]
    body = {"documents": [{"external_id": "policy", "text": " ".join(sentences)}]}
    assert client.post("/api/v1/documents/batch?wait=true", json=body).status_code == 200
    doc_id = client.get("/api/v1/documents").json()["items"][0]["id"]
    text = client.get(f"/api/v1/documents/{doc_id}", params={"include_text": "true"}).json()["text"]
    chunks = client.get(f"/api/v1/documents/{doc_id}/chunks").json()
    assert any(a["end"] > b["start"] for a, b in itertools.pairwise(chunks)), "chunks should overlap"

    result = client.post(
        "/api/v1/query", json={"question": "reimbursement policy receipt", "top_k": 5}
    ).json()
    spans = sorted((s["start"], s["end"]) for s in result["sources"])
    assert all(a_end <= b_start for (_, a_end), (b_start, _) in itertools.pairwise(spans))
    for source in result["sources"]:
        assert source["text"] == text[source["start"] : source["end"]]
    assert [s["n"] for s in result["sources"]] == list(range(1, len(result["sources"]) + 1))


def test_diversity_keeps_near_duplicates_from_crowding_out_the_rest(client: TestClient) -> None:
    near_duplicates = [
        "Solar panels turn sunlight into electricity for the office.",
        "Solar panels on the roof turn sunlight into electricity.",
        "The office roof has solar panels that turn sunlight into electricity.",
        "Sunlight is turned into electricity by the solar panels on the office roof.",
        "Our office solar panels turn sunlight into electricity.",
    ]
    documents = [{"external_id": f"solar{i}", "text": t} for i, t in enumerate(near_duplicates)]
    others = [
        "A wind turbine on the hill also makes electricity.",
        "The cafeteria opens at 07:30.",
        "Visitors sign in at reception.",
        "Expense reports are due monthly.",
    ]
    documents += [{"external_id": f"other{i}", "text": t} for i, t in enumerate(others)]
    assert client.post("/api/v1/documents/batch?wait=true", json={"documents": documents}).status_code == 200

    def top(diversity: float, mode: str) -> list[str]:
        body = {"query": "solar panels electricity", "top_k": 3, "diversity": diversity, "mode": mode}
        return [h["external_id"] for h in client.post("/api/v1/search", json=body).json()["results"]]

    # Hybrid relevance spreads wider (BM25 finds only the solar texts), so it takes a stronger setting.
    for mode, diversity in (("vector", 0.5), ("hybrid", 0.7)):
        plain, diverse = top(0.0, mode), top(diversity, mode)
        assert all(doc.startswith("solar") for doc in plain), (mode, plain)
        assert diverse[0] == plain[0], mode  # the best match stays first
        assert any(doc.startswith("other") for doc in diverse), (mode, diverse)
    assert client.post("/api/v1/search", json={"query": "x", "diversity": 1.5}).status_code == 422
