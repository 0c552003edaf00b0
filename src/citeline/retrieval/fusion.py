"""Combine rankings from several retrievers into one.

Two methods, chosen by ``CITELINE_FUSION``:

- ``rrf``: weighted reciprocal rank fusion, sum_i w_i / (k + rank_i(d)). Uses ranks only.
- ``zscore`` (default): a convex combination of each retriever's standardised scores,
  sum_i w_i * (s_i(d) - mean_i) / std_i. Keeps how far apart the scores are, which ranks throw away.
  Hybrid search standardises by each retriever's statistics over *every* chunk it scored (all BM25
  matches; every chunk's cosine in scope), not over its truncated top list, whose mean and spread
  depend on the candidate depth; and it scores every lexical candidate exactly by the vectors. A
  candidate a retriever did not return gets that retriever's lowest standardised score. Both choices
  were made on the SciFact train split (docs/benchmarks.md).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Literal

from citeline.retrieval.base import Ranked, ScoreStats

FusionMethod = Literal["rrf", "zscore"]


def fuse_rankings(rankings: Sequence[Ranked], weights: Sequence[float], *, k: int = 60) -> Ranked:
    """Weighted reciprocal rank fusion: score(d) = sum_i w_i / (k + rank_i(d)), ranks from 1."""
    if len(rankings) != len(weights):
        raise ValueError("one weight per ranking")
    fused: dict[int, float] = {}
    for ranking, weight in zip(rankings, weights, strict=True):
        for rank, (item, _score) in enumerate(ranking, start=1):
            fused[item] = fused.get(item, 0.0) + weight / (k + rank)
    return sorted(fused.items(), key=lambda pair: (-pair[1], pair[0]))


def fuse_scores(
    rankings: Sequence[Ranked],
    weights: Sequence[float],
    stats: Sequence[ScoreStats | None] | None = None,
) -> Ranked:
    """Convex combination of z-scored retriever scores; absent candidates get the list's minimum.

    Each ranking is standardised by its ``stats`` where given, otherwise by its own mean and spread.
    """
    if len(rankings) != len(weights) or (stats is not None and len(stats) != len(rankings)):
        raise ValueError("one weight (and one stats entry) per ranking")
    given = stats or [None] * len(rankings)
    standardised = [_zscores(ranking, of) for ranking, of in zip(rankings, given, strict=True)]
    floors = [min(scores.values(), default=0.0) for scores in standardised]
    items = {item for scores in standardised for item in scores}
    fused = {
        item: sum(
            weight * scores.get(item, floor)
            for weight, scores, floor in zip(weights, standardised, floors, strict=True)
        )
        for item in items
    }
    return sorted(fused.items(), key=lambda pair: (-pair[1], pair[0]))


def _zscores(ranking: Ranked, stats: ScoreStats | None = None) -> dict[int, float]:
    if not ranking:
        return {}
    if stats is None:
        values = [score for _, score in ranking]
        mean = sum(values) / len(values)
        std = math.sqrt(sum((v - mean) ** 2 for v in values) / len(values))
    else:
        mean, std = stats.mean, stats.std
    if std == 0:
        return {item: 0.0 for item, _ in ranking}
    return {item: (score - mean) / std for item, score in ranking}
