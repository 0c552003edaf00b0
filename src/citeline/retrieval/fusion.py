"""Combine rankings from several retrievers into one."""

from __future__ import annotations

from collections.abc import Sequence

from citeline.retrieval.base import Ranked


def fuse_rankings(rankings: Sequence[Ranked], weights: Sequence[float], *, k: int = 60) -> Ranked:
    """Weighted reciprocal rank fusion: score(d) = sum_i w_i / (k + rank_i(d)), ranks from 1."""
    if len(rankings) != len(weights):
        raise ValueError("one weight per ranking")
    fused: dict[int, float] = {}
    for ranking, weight in zip(rankings, weights, strict=True):
        for rank, (item, _score) in enumerate(ranking, start=1):
            fused[item] = fused.get(item, 0.0) + weight / (k + rank)
    return sorted(fused.items(), key=lambda pair: (-pair[1], pair[0]))
