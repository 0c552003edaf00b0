"""Extractive answers over the handbook: cited when the documents say, refused when they don't."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from citeline.answers.citations import cited_numbers, drop_unknown_citations, strip_document_markers
from citeline.embeddings.local import LocalEmbedder
from tests.conftest import MakeClient

CITATION = re.compile(r"\[(\d+)\]")


@pytest.mark.parametrize(
    ("question", "expected", "source"),
    [
        ("How many days of paid annual leave do full-time employees get?", "25 days", "leave-policy.md"),
        ("What is the hotel limit per night in major cities?", "180 euros", "expenses.txt"),
        ("How long must passwords be?", "14 characters", "security.html"),
        ("How many weeks of parental leave do partners get?", "6 weeks", "leave-policy.md"),
    ],
)
def test_answer_quotes_and_cites_the_right_source(
    handbook_client: TestClient, question: str, expected: str, source: str
) -> None:
    result = handbook_client.post("/api/v1/query", json={"question": question}).json()
    assert result["answerable"] is True
    assert result["model"] == "extractive"
    sources = {s["n"]: s for s in result["sources"]}
    cited = [int(n) for n in CITATION.findall(result["answer"])]
    assert cited and all(n in sources for n in cited)
    # The sentence carrying the fact is cited with the document it came from.
    sentence = next(s for s in re.split(r"(?<=[.!?])\s+", result["answer"]) if expected in s)
    assert sources[int(CITATION.findall(sentence)[0])]["source"] == source
    assert set(result["timings_ms"]) >= {"lexical", "embed", "vector", "generate", "total"}


def test_question_the_documents_do_not_answer(handbook_client: TestClient) -> None:
    result = handbook_client.post(
        "/api/v1/query", json={"question": "What is the boiling point of liquid nitrogen?"}
    ).json()
    assert result["answerable"] is False
    assert "don't say" in result["answer"]
    assert CITATION.search(result["answer"]) is None


def test_top_k_limits_sources(handbook_client: TestClient) -> None:
    result = handbook_client.post("/api/v1/query", json={"question": "sick leave", "top_k": 2}).json()
    assert [s["n"] for s in result["sources"]] == [1, 2]
    bad = handbook_client.post("/api/v1/query", json={"question": ""})
    assert (bad.status_code, bad.json()["code"]) == (422, "validation_error")


def test_sources_fill_the_token_budget_in_rank_order(
    make_client: MakeClient, embedder: LocalEmbedder, tmp_path: Path
) -> None:
    line = "Harbour cranes in port {i} lifted {n} containers per hour during the night shift. "
    documents = [
        {"external_id": f"d{i}", "title": f"Report {i}", "text": line.format(i=i, n=100 + i) * 4}
        for i in range(14)
    ]
    question = {"question": "How many containers did the harbour cranes lift per hour?"}
    sources = {}
    for budget in (300, 2000, 64):
        client = make_client(tmp_path / str(budget), answer_context_tokens=budget)
        assert (
            client.post("/api/v1/documents/batch?wait=true", json={"documents": documents}).status_code == 200
        )
        sources[budget] = client.post("/api/v1/query", json=question).json()["sources"]
        wide = client.post("/api/v1/query", json={**question, "top_k": 50}).json()["sources"]
        counts = embedder.count_tokens([source["text"] for source in wide])
        fitting = next((i for i in range(len(counts)) if sum(counts[: i + 1]) > budget), len(counts))
        # As many as fit, in rank order (the same first sources as an unbounded request), at least one.
        assert len(wide) == max(fitting, 1)
        assert [s["chunk_id"] for s in sources[budget]] == [s["chunk_id"] for s in wide][:10]
    assert len(sources[64]) == 1 < len(sources[300]) < len(sources[2000]) == 10  # the default top_k caps it


def test_document_reference_markers_are_not_mistaken_for_citations(client: TestClient) -> None:
    text = "Aspirin reduces the risk of heart attack by a quarter [12]. It was first sold in 1899 [3, 4]."
    client.post("/api/v1/documents/batch?wait=true", json={"documents": [{"external_id": "a", "text": text}]})
    result = client.post(
        "/api/v1/query", json={"question": "How much does aspirin reduce heart attack risk?"}
    ).json()
    assert result["answerable"] is True
    assert cited_numbers(result["answer"]) == [1]


def test_citation_helpers() -> None:
    assert strip_document_markers("Known [12]. Also [3, 4] and [5\u20137].") == "Known. Also and."
    assert cited_numbers("A [2]. B [1]. C [2].") == [2, 1]
    assert drop_unknown_citations("A [1]. B [7].", {1, 2}) == "A [1]. B ."
