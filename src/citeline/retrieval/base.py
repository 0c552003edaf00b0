"""Protocols for the two retrievers; hybrid search is both plus a fusion step."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np
import numpy.typing as npt
from sqlalchemy.orm import Session

from citeline.retrieval.scope import SearchScope

Ranked = list[tuple[int, float]]  # (chunk id, retriever score), best first


class LexicalIndex(Protocol):
    """Keyword retrieval over chunk text; writes join the caller's transaction."""

    def add(self, session: Session, rows: Sequence[tuple[int, str]]) -> None: ...

    def remove(self, session: Session, chunk_ids: Sequence[int]) -> None: ...

    def search(self, session: Session, query: str, k: int, scope: SearchScope) -> Ranked: ...


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
    ) -> Ranked: ...

    def vectors_for(self, chunk_ids: Sequence[int]) -> npt.NDArray[np.float32]:
        """The stored vectors of these chunks, one row each in order (zeros for an unknown id)."""

    def __len__(self) -> int: ...
