"""BM25 and fusion against reference computations on a small corpus."""

from __future__ import annotations

import math

import numpy as np
import pytest
from fastapi.testclient import TestClient

from citeline.retrieval.diversity import mmr
from citeline.retrieval.fusion import fuse_rankings, fuse_scores

# Words the porter stemmer leaves alone, so the reference can count tokens by splitting on spaces.
CORPUS = {
    "d1": "cat cat dog",
    "d2": "cat fish fish fish bird",
    "d3": "dog bird lamp rock rock",
    "d4": "lamp",
    "d5": "rock bird",
}
TITLE = "doc"  # indexed with every chunk: the body is "doc\n<text>"


def reference_bm25(query: list[str], k1: float = 1.2, b: float = 0.75) -> dict[str, float]:
    """Okapi BM25 as SQLite FTS5 defines it (idf floored at 1e-6), over title + text."""
    docs = {doc_id: [TITLE, *text.split()] for doc_id, text in CORPUS.items()}
    n_docs = len(docs)
    avgdl = sum(len(tokens) for tokens in docs.values()) / n_docs
    scores: dict[str, float] = {}
    for doc_id, tokens in docs.items():
        total = 0.0
        for term in query:
            containing = sum(term in other for other in docs.values())
            idf = max(math.log((n_docs - containing + 0.5) / (containing + 0.5)), 1e-6)
            freq = tokens.count(term)
            total += idf * freq * (k1 + 1) / (freq + k1 * (1 - b + b * len(tokens) / avgdl))
        if any(term in tokens for term in query):
            scores[doc_id] = total
    return scores


@pytest.mark.parametrize("query", ["cat bird", "rock", "fish dog lamp", "the cat and the rock"])
def test_lexical_scores_match_reference_bm25(client: TestClient, query: str) -> None:
    documents = [{"external_id": k, "title": TITLE, "text": v} for k, v in CORPUS.items()]
    assert client.post("/api/v1/documents/batch?wait=true", json={"documents": documents}).status_code == 200
    hits = client.post("/api/v1/search", json={"query": query, "mode": "lexical", "top_k": 10}).json()[
        "results"
    ]
    expected = reference_bm25([w for w in query.split() if w not in {"the", "and"}])
    assert {h["external_id"]: pytest.approx(expected[h["external_id"]], rel=1e-6) for h in hits} == expected
    assert [h["score"] for h in hits] == sorted((h["score"] for h in hits), reverse=True)


def test_rrf_matches_hand_computation() -> None:
    lexical = [(1, 9.0), (2, 5.0), (3, 1.0)]
    dense = [(3, 0.9), (1, 0.8)]
    fused = dict(fuse_rankings([lexical, dense], [1.0, 0.5], k=10))
    assert fused[1] == pytest.approx(1 / 11 + 0.5 / 12)
    assert fused[2] == pytest.approx(1 / 12)
    assert fused[3] == pytest.approx(1 / 13 + 0.5 / 11)
    assert [item for item, _ in fuse_rankings([lexical, dense], [1.0, 0.5], k=10)] == [1, 3, 2]


def test_zscore_fusion_matches_hand_computation() -> None:
    lexical = [(1, 9.0), (2, 5.0), (3, 1.0)]  # mean 5, population std sqrt(32/3)
    dense = [(3, 0.9), (4, 0.5)]  # mean 0.7, std 0.2 -> z = +1, -1
    z_lex = {1: 4 / math.sqrt(32 / 3), 2: 0.0, 3: -4 / math.sqrt(32 / 3)}
    z_dense = {3: 1.0, 4: -1.0}
    fused = dict(fuse_scores([lexical, dense], [0.6, 0.4]))
    assert fused[1] == pytest.approx(0.6 * z_lex[1] + 0.4 * z_dense[4])  # absent from dense: its min
    assert fused[2] == pytest.approx(0.6 * z_lex[2] + 0.4 * z_dense[4])
    assert fused[3] == pytest.approx(0.6 * z_lex[3] + 0.4 * z_dense[3])
    assert fused[4] == pytest.approx(0.6 * z_lex[3] + 0.4 * z_dense[4])  # absent from lexical: its min
    assert fuse_scores([[(7, 2.0)], []], [0.5, 0.5]) == [(7, 0.0)]  # one candidate: z = 0
    with pytest.raises(ValueError):
        fuse_scores([lexical], [0.5, 0.5])


def test_mmr_prefers_a_distinct_item_over_a_near_duplicate() -> None:
    vectors = np.array([[1.0, 0.0], [0.999, 0.0447], [0.0, 1.0]], dtype=np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    ranked = [(10, 1.0), (11, 0.95), (12, 0.7)]
    assert [i for i, _ in mmr(ranked, vectors, 2, diversity=0.0)] == [10, 11]
    assert [i for i, _ in mmr(ranked, vectors, 2, diversity=0.5)] == [10, 12]
    assert mmr(ranked, vectors, 3, diversity=0.5)[1] == (12, 0.7)  # scores are kept
    assert len(mmr(ranked, vectors, 10, diversity=0.5)) == 3
