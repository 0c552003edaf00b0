"""The packaged int8 MiniLM reproduces the fp32 sentence-transformers vectors of the upstream model."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from citeline.embeddings.local import LocalEmbedder

REFERENCE = json.loads((Path(__file__).parent / "reference_vectors.json").read_text())


def test_vectors_match_fp32_reference(embedder: LocalEmbedder) -> None:
    items = REFERENCE["items"]
    vectors = embedder.embed_documents([item["text"] for item in items])
    reference = np.array([item["vector"] for item in items], dtype=np.float32)
    reference /= np.linalg.norm(reference, axis=1, keepdims=True)
    cosine = (vectors * reference).sum(axis=1)
    assert vectors.shape == (len(items), 384)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
    assert cosine.min() > 0.96, cosine
    assert cosine.mean() > 0.98, cosine


def test_batching_and_order_do_not_change_vectors(embedder: LocalEmbedder) -> None:
    texts = [
        "short",
        "a much longer sentence about the quarterly budget review " * 3,
        "medium length text here",
    ]
    together = embedder.embed_documents(texts)
    alone = np.stack([embedder.embed_query(t) for t in texts])
    reordered = embedder.embed_documents(texts[::-1])[::-1]
    # The default embeds each text alone, so a vector is a function of its text: bit for bit.
    assert np.array_equal(together, alone)
    assert np.array_equal(together, reordered)
    assert embedder.embed_documents([]).shape == (0, 384)


def test_batched_calls_stay_close_to_single_text_vectors() -> None:
    """batch_size > 1 is allowed; dynamic int8 quantisation then scales activations per batch tensor, so
    companions move a vector ('short' padded beside a long text: cosine ~0.979 to itself alone), within
    the model's own int8-vs-fp32 error."""
    texts = ["short", "a much longer sentence about the quarterly budget review " * 3, "medium text"]
    batched = LocalEmbedder(batch_size=32).embed_documents(texts)
    alone = LocalEmbedder().embed_documents(texts)
    cosine = (batched * alone).sum(axis=1)
    assert cosine.min() > 0.96, cosine  # the bound int8 itself meets against fp32 (test above)
    assert not np.array_equal(batched, alone)  # else batching would not need the warning above


def test_similar_meanings_score_higher(embedder: LocalEmbedder) -> None:
    query = embedder.embed_query("How do I reset my password?")
    near, far = embedder.embed_documents(
        [
            "To change a forgotten password, open the login page and click 'forgot password'.",
            "The cafeteria serves lunch at noon.",
        ]
    )
    assert float(query @ near) > float(query @ far) + 0.3


def test_count_tokens_is_not_truncated(embedder: LocalEmbedder) -> None:
    long_text = "word " * 1000
    assert embedder.count_tokens(["hello world", long_text]) == [2, 1000]
