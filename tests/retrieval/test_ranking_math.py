"""BM25 and fusion against reference computations on a small corpus."""

from __future__ import annotations

import math

import numpy as np
import pytest
from fastapi.testclient import TestClient

from citeline.retrieval.base import ScoreStats
from citeline.retrieval.diversity import mmr
from citeline.retrieval.fusion import fuse_rankings, fuse_scores
from citeline.retrieval.scope import SearchScope
from citeline.services import Services

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


def _load(client: TestClient) -> Services:
    documents = [{"external_id": k, "title": TITLE, "text": v} for k, v in CORPUS.items()]
    assert client.post("/api/v1/documents/batch?wait=true", json={"documents": documents}).status_code == 200
    services: Services = client.app.state.services  # type: ignore[attr-defined]
    return services


def _population(values: list[float]) -> tuple[float, float]:
    mean = sum(values) / len(values)
    return mean, math.sqrt(sum((v - mean) ** 2 for v in values) / len(values))


def test_retriever_statistics_cover_every_scored_chunk_not_just_the_top_k(client: TestClient) -> None:
    services = _load(client)
    everywhere = SearchScope(collection_ids=None)
    with services.db.read() as session:
        lexical = services.search.lexical.search(session, "cat bird", 1, everywhere)
        vector = services.embedder.embed_query("cat bird")
        dense = services.search.vectors.search(session, vector, 1, everywhere)
        chunk_ids = [c for c, _ in services.search.vectors.search(session, vector, 100, everywhere).ranked]
    assert len(lexical.ranked) == len(dense.ranked) == 1
    mean, std = _population(list(reference_bm25(["cat", "bird"]).values()))  # the 4 matching documents
    assert lexical.stats == ScoreStats(pytest.approx(mean, rel=1e-6), pytest.approx(std, rel=1e-6))
    cosines = services.search.vectors.vectors_for(chunk_ids) @ vector
    assert len(cosines) == len(CORPUS)
    assert dense.stats is not None
    assert (dense.stats.mean, dense.stats.std) == pytest.approx((cosines.mean(), cosines.std()), rel=1e-5)


def test_hybrid_scores_are_whole_index_zscores_with_exact_similarities(client: TestClient) -> None:
    services = _load(client)
    query = "fish dog lamp"
    bm25 = reference_bm25(["fish", "dog", "lamp"])
    vector = services.embedder.embed_query(query)
    with services.db.read() as session:
        every = services.search.vectors.search(session, vector, 100, SearchScope(collection_ids=None))
    owner = {
        h["chunk_id"]: h["external_id"]
        for h in client.post("/api/v1/search", json={"query": query, "mode": "vector", "top_k": 10}).json()[
            "results"
        ]
    }
    cosine = {owner[c]: s for c, s in every.ranked}
    lex_mean, lex_std = _population(list(bm25.values()))
    dense_mean, dense_std = _population(list(cosine.values()))
    floor = min((s - lex_mean) / lex_std for s in bm25.values())  # BM25 of a chunk no term matches
    expected = {
        doc: 0.3 * ((bm25[doc] - lex_mean) / lex_std if doc in bm25 else floor)
        + 0.7 * (cosine[doc] - dense_mean) / dense_std
        for doc in CORPUS
    }
    hits = client.post("/api/v1/search", json={"query": query, "top_k": 10}).json()["results"]
    assert {h["external_id"]: h["score"] for h in hits} == pytest.approx(expected, rel=1e-5)


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
    with pytest.raises(ValueError):
        fuse_scores([lexical, dense], [0.5, 0.5], [None])


def test_zscore_fusion_uses_given_statistics_instead_of_the_lists_own() -> None:
    lexical = [(1, 9.0), (2, 5.0)]
    dense = [(2, 0.9), (1, 0.3)]
    stats = [ScoreStats(mean=3.0, std=2.0), ScoreStats(mean=0.5, std=0.1)]
    fused = dict(fuse_scores([lexical, dense], [0.3, 0.7], stats))
    assert fused[1] == pytest.approx(0.3 * (9 - 3) / 2 + 0.7 * (0.3 - 0.5) / 0.1)
    assert fused[2] == pytest.approx(0.3 * (5 - 3) / 2 + 0.7 * (0.9 - 0.5) / 0.1)
    # With the lists' own statistics both items would tie at 0; with the given ones 2 wins clearly.
    assert [item for item, _ in fuse_scores([lexical, dense], [0.3, 0.7], stats)] == [2, 1]
    assert ScoreStats.of_moments(0, 0.0, 0.0) is None
    assert ScoreStats.of_moments(2, 4.0, 10.0) == ScoreStats(2.0, 1.0)


def test_mmr_prefers_a_distinct_item_over_a_near_duplicate() -> None:
    vectors = np.array([[1.0, 0.0], [0.999, 0.0447], [0.0, 1.0]], dtype=np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    ranked = [(10, 1.0), (11, 0.95), (12, 0.7)]
    assert [i for i, _ in mmr(ranked, vectors, 2, diversity=0.0)] == [10, 11]
    assert [i for i, _ in mmr(ranked, vectors, 2, diversity=0.5)] == [10, 12]
    assert mmr(ranked, vectors, 3, diversity=0.5)[1] == (12, 0.7)  # scores are kept
    assert len(mmr(ranked, vectors, 10, diversity=0.5)) == 3
