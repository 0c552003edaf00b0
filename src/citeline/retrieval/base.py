"""Protocols for the two retrievers; hybrid search is both plus a fusion step."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import numpy.typing as npt
from sqlalchemy.orm import Session

from citeline.retrieval.scope import SearchScope

Ranked = list[tuple[int, float]]  # (chunk id, retriever score), best first


@dataclass(frozen=True, slots=True)
class ScoreStats:
    """Mean and standard deviation of one retriever's scores over every chunk it scored for a query
    (not just the top k it returned): what z-score fusion standardises by."""

    mean: float
    std: float

    @classmethod
    def of_moments(cls, count: int, total: float, total_squares: float) -> ScoreStats | None:
        """From the count, sum and sum of squares of the scores; None when there were none."""
        if count <= 0:
            return None
        mean = total / count
        return cls(mean, math.sqrt(max(total_squares / count - mean * mean, 0.0)))


@dataclass(frozen=True, slots=True)
class Candidates:
    """A retriever's best chunks for a query, and the statistics of all the scores it computed."""

    ranked: Ranked
    stats: ScoreStats | None = None


class LexicalIndex(Protocol):
    """Keyword retrieval over chunk text; writes join the caller's transaction."""

    def add(self, session: Session, rows: Sequence[tuple[int, str]]) -> None: ...

    def remove(self, session: Session, chunk_ids: Sequence[int]) -> None: ...

    def search(self, session: Session, query: str, k: int, scope: SearchScope) -> Candidates:
        """The k best-scoring chunks in scope; stats over every chunk in the index that matches."""
        ...


class VectorIndex(Protocol):
    """Nearest-neighbour retrieval over chunk embeddings."""

    def refresh(self, session: Session) -> None:
        """Bring the index up to date with the store if another writer changed it."""

    def apply(
        self,
        generation: int,
        added: Sequence[tuple[int, str, npt.NDArray[np.float32]]],
        removed: Sequence[int],
    ) -> None:
        """Apply a committed change (chunk id, collection id, vector) made by this process."""

    def search(
        self,
        session: Session,
        vector: npt.NDArray[np.float32],
        k: int,
        scope: SearchScope,
    ) -> Candidates:
        """The k nearest chunks in scope; stats over the similarity of every chunk in scope."""
        ...

    def scores_for(self, chunk_ids: Sequence[int], vector: npt.NDArray[np.float32]) -> Ranked:
        """The exact similarity of these chunks to ``vector`` (0 for an unknown id), in order."""
        ...

    def vectors_for(self, chunk_ids: Sequence[int]) -> npt.NDArray[np.float32]:
        """The stored vectors of these chunks, one row each in order (zeros for an unknown id)."""

    def __len__(self) -> int: ...
