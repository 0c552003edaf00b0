"""Maximal marginal relevance: trade a little relevance for results that don't repeat each other."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from citeline.retrieval.base import Ranked


def mmr(ranked: Ranked, vectors: npt.NDArray[np.float32], top_k: int, diversity: float) -> Ranked:
    """Pick ``top_k`` of ``ranked`` greedily by (1 - diversity) * relevance - diversity * redundancy.

    Relevance is the fused score min-max scaled to [0, 1]; redundancy is the highest cosine to an item
    already picked. ``vectors[i]`` is the L2-normalised vector of ``ranked[i]``. ``diversity`` 0 keeps the
    order; 1 ignores relevance after the first pick. Picked items keep their original scores.
    """
    if diversity <= 0 or len(ranked) <= 1:
        return ranked[:top_k]
    scores = np.asarray([score for _, score in ranked], dtype=np.float64)
    spread = scores.max() - scores.min()
    relevance = (scores - scores.min()) / spread if spread > 0 else np.ones_like(scores)
    similarity = vectors.astype(np.float64) @ vectors.astype(np.float64).T
    picked: list[int] = [int(np.argmax(relevance))]
    redundancy = similarity[picked[0]].copy()
    available = np.ones(len(ranked), dtype=bool)
    available[picked[0]] = False
    while len(picked) < min(top_k, len(ranked)):
        gain = (1 - diversity) * relevance - diversity * redundancy
        gain[~available] = -np.inf
        choice = int(np.argmax(gain))
        picked.append(choice)
        available[choice] = False
        redundancy = np.maximum(redundancy, similarity[choice])
    return [ranked[i] for i in picked]
