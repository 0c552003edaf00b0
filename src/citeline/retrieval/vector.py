"""Exact cosine search over an in-memory matrix, kept in step with the store by a generation counter."""

from __future__ import annotations

import threading
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
from sqlalchemy import select
from sqlalchemy.orm import Session

from citeline.retrieval.base import Candidates, Ranked, ScoreStats
from citeline.retrieval.scope import SearchScope
from citeline.storage.models import Chunk, Document, Embedding, IndexState


def current_generation(session: Session) -> int:
    return int(session.execute(select(IndexState.generation).where(IndexState.id == 1)).scalar_one())


class NumpyVectorIndex:
    """All chunk vectors of one embedding model in a float32 matrix; search is one mat-vec product."""

    def __init__(self, model: str, dimensions: int) -> None:
        self.model = model
        self.dimensions = dimensions
        self._lock = threading.RLock()
        self._generation = -1
        self._ids = np.empty(0, dtype=np.int64)
        self._collections = np.empty(0, dtype=np.int32)
        self._matrix = np.empty((0, dimensions), dtype=np.float32)
        self._collection_codes: dict[str, int] = {}

    def __len__(self) -> int:
        return int(self._ids.shape[0])

    def refresh(self, session: Session) -> None:
        generation = current_generation(session)
        if generation == self._generation:
            return
        with self._lock:
            if generation == self._generation:
                return
            rows = session.execute(
                select(Chunk.id, Document.collection_id, Embedding.vector)
                .join(Document, Document.id == Chunk.document_id)
                .join(
                    Embedding,
                    (Embedding.content_hash == Chunk.content_hash) & (Embedding.model == self.model),
                )
                .order_by(Chunk.id)
            ).all()
            ids = np.fromiter((row[0] for row in rows), dtype=np.int64, count=len(rows))
            codes = np.fromiter((self._code(row[1]) for row in rows), dtype=np.int32, count=len(rows))
            matrix = np.empty((len(rows), self.dimensions), dtype=np.float32)
            for i, row in enumerate(rows):
                matrix[i] = np.frombuffer(row[2], dtype=np.float32)
            self._ids, self._collections, self._matrix = ids, codes, matrix
            self._generation = generation

    def apply(
        self,
        generation: int,
        added: Sequence[tuple[int, str, npt.NDArray[np.float32]]],
        removed: Sequence[int],
    ) -> None:
        with self._lock:
            if generation != self._generation + 1:
                # Someone else wrote in between: the next refresh reloads everything.
                self._generation = -1
                return
            keep = ~np.isin(self._ids, np.asarray(removed, dtype=np.int64)) if removed else slice(None)
            ids, codes, matrix = self._ids[keep], self._collections[keep], self._matrix[keep]
            if added:
                ids = np.concatenate(
                    [ids, np.fromiter((a[0] for a in added), dtype=np.int64, count=len(added))]
                )
                new_codes = np.fromiter((self._code(a[1]) for a in added), dtype=np.int32, count=len(added))
                codes = np.concatenate([codes, new_codes])
                matrix = np.vstack([matrix, np.stack([a[2] for a in added]).astype(np.float32)])
                if ids.shape[0] > 1 and not bool(np.all(ids[1:] > ids[:-1])):
                    order = np.argsort(ids, kind="stable")  # vectors_for() relies on sorted ids
                    ids, codes, matrix = ids[order], codes[order], matrix[order]
            self._ids, self._collections, self._matrix = ids, codes, matrix
            self._generation = generation

    def search(
        self, session: Session, vector: npt.NDArray[np.float32], k: int, scope: SearchScope
    ) -> Candidates:
        self.refresh(session)
        ids, codes, matrix = self._ids, self._collections, self._matrix  # one consistent snapshot
        if ids.shape[0] == 0 or k <= 0:
            return Candidates([])
        mask: npt.NDArray[np.bool_] | None = None
        if scope.collection_ids is not None:
            wanted = [self._collection_codes[c] for c in scope.collection_ids if c in self._collection_codes]
            mask = np.isin(codes, np.asarray(wanted, dtype=np.int32))
        if scope.only_acl:
            if scope.hidden_chunks:
                visible = ~np.isin(ids, np.fromiter(scope.hidden_chunks, dtype=np.int64))
                mask = visible if mask is None else mask & visible
        elif scope.needs_document_filter:
            allowed = session.execute(
                select(Chunk.id)
                .join(Document, Document.id == Chunk.document_id)
                .where(*scope.document_clauses())
            ).scalars()
            allowed_mask = np.isin(ids, np.fromiter(allowed, dtype=np.int64))
            mask = allowed_mask if mask is None else mask & allowed_mask
        scores = matrix @ vector.astype(np.float32)
        in_scope = scores if mask is None else scores[mask]
        if in_scope.shape[0] == 0:
            return Candidates([])
        stats = ScoreStats(float(in_scope.mean()), float(in_scope.std()))
        if mask is not None:
            scores = np.where(mask, scores, -np.inf)
        k = min(k, in_scope.shape[0])
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top], kind="stable")]
        return Candidates([(int(ids[i]), float(scores[i])) for i in top], stats)

    def scores_for(self, chunk_ids: Sequence[int], vector: npt.NDArray[np.float32]) -> Ranked:
        scores = self.vectors_for(chunk_ids) @ vector.astype(np.float32)
        return [(int(chunk_id), float(score)) for chunk_id, score in zip(chunk_ids, scores, strict=True)]

    def vectors_for(self, chunk_ids: Sequence[int]) -> npt.NDArray[np.float32]:
        ids, matrix = self._ids, self._matrix  # one consistent snapshot; ids stay sorted
        out = np.zeros((len(chunk_ids), self.dimensions), dtype=np.float32)
        if ids.shape[0] == 0 or not chunk_ids:
            return out
        wanted = np.asarray(chunk_ids, dtype=np.int64)
        rows = np.minimum(np.searchsorted(ids, wanted), ids.shape[0] - 1)
        present = ids[rows] == wanted
        out[present] = matrix[rows[present]]
        return out

    def _code(self, collection_id: str) -> int:
        code = self._collection_codes.get(collection_id)
        if code is None:
            code = self._collection_codes[collection_id] = len(self._collection_codes)
        return code
