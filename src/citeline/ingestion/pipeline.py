"""Parse -> chunk -> embed new chunk hashes -> swap the document's chunks in one transaction."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import delete, select, update

from citeline.core.errors import DocumentParseError, UnsupportedMediaTypeError
from citeline.core.ids import sha256_hex
from citeline.embeddings.base import Embedder
from citeline.ingestion.chunking import chunk_document
from citeline.ingestion.model import ChunkDraft, ParsedDocument
from citeline.ingestion.parsers import parse_document
from citeline.retrieval.base import LexicalIndex, VectorIndex
from citeline.storage.base import Store
from citeline.storage.blobs import BlobStore
from citeline.storage.models import Chunk, Document, Embedding, IndexState

log = logging.getLogger(__name__)


@dataclass(slots=True)
class IngestItem:
    """One document for a job to (re)index: its row, its stored bytes and how to read them."""

    document_id: str
    blob: str
    filename: str
    content_type: str | None = None
    title: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)

    def to_payload(self) -> dict[str, Any]:
        return {
            "document_id": self.document_id,
            "blob": self.blob,
            "filename": self.filename,
            "content_type": self.content_type,
            "title": self.title,
            "metadata": self.metadata,
        }

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> IngestItem:
        return cls(**payload)


@dataclass(slots=True)
class Prepared:
    """A parsed and chunked document waiting for its vectors."""

    item: IngestItem
    title: str
    parsed: ParsedDocument
    drafts: list[ChunkDraft]
    bodies: list[str]
    hashes: list[str]
    timings: dict[str, float]


@dataclass(slots=True)
class IngestOutcome:
    document_id: str
    status: str  # indexed | unchanged | failed
    chunks: int = 0
    embedded: int = 0
    error: str | None = None
    pages: int | None = None  # for paged formats (PDF, slides)
    timings_ms: dict[str, float] = field(default_factory=dict)  # parse, chunk, embed, write

    def to_result(self) -> dict[str, object]:
        """The per-document entry of an ingest job's result."""
        return {
            "status": self.status,
            "chunks": self.chunks,
            "embedded": self.embedded,
            "error": self.error,
            "pages": self.pages,
            "timings_ms": self.timings_ms,
        }


def index_body(title: str, heading_path: tuple[str, ...] | list[str], text: str) -> str:
    """The text both retrievers see for a chunk: a header of title and headings, then the chunk."""
    header = [title, *(h for h in heading_path if h and h != title)]
    return " > ".join(part for part in header if part) + "\n" + text


class IngestionPipeline:
    """Indexes one document at a time; the swap of old for new chunks is a single transaction."""

    def __init__(
        self,
        db: Store,
        blobs: BlobStore,
        embedder: Embedder,
        lexical: LexicalIndex,
        vectors: VectorIndex,
        *,
        max_tokens: int = 200,
        overlap_tokens: int = 40,
    ) -> None:
        self.db = db
        self.blobs = blobs
        self.embedder = embedder
        self.lexical = lexical
        self.vectors = vectors
        self.max_tokens = max_tokens
        self.overlap_tokens = overlap_tokens
        self.write_lock = threading.Lock()  # orders index generations written by this process

    def index(self, item: IngestItem) -> IngestOutcome:
        return self.index_many([item])[0]

    def index_many(self, items: list[IngestItem]) -> list[IngestOutcome]:
        """Index several documents, embedding their new chunks in one ``embed_documents`` call.

        Each document still switches to its new version in its own transaction, in order, so a crash
        between two of them leaves every document on one whole version.
        """
        return self.finish_many(self.prepare_many(items))

    def prepare_many(self, items: list[IngestItem]) -> list[Prepared | IngestOutcome]:
        """Parse and chunk (the CPU work that can run beside another window's embedding)."""
        return [self._prepare(item) for item in items]

    def finish_many(self, prepared: list[Prepared | IngestOutcome]) -> list[IngestOutcome]:
        """Embed the new chunks of every prepared document in one pass, then switch each document over."""
        ready = [p for p in prepared if isinstance(p, Prepared)]
        mark = time.perf_counter()
        vectors, missing = self._vectors_for(
            [body for p in ready for body in p.bodies], [h for p in ready for h in p.hashes]
        )
        embed_ms = (time.perf_counter() - mark) * 1000
        total_new = sum(len(missing.intersection(p.hashes)) for p in ready) or 1
        outcomes = []
        for entry in prepared:
            if isinstance(entry, IngestOutcome):
                outcomes.append(entry)
                continue
            embedded = len(missing.intersection(entry.hashes))
            entry.timings["embed"] = round(embed_ms * embedded / total_new, 2)  # its share of the batch
            mark = time.perf_counter()
            self._swap(entry, vectors)
            _lap(entry.timings, "write", mark)
            pages = max((b.page for b in entry.parsed.blocks if b.page is not None), default=None)
            outcome = IngestOutcome(
                entry.item.document_id, "indexed", chunks=len(entry.drafts), embedded=embedded
            )
            outcome.pages, outcome.timings_ms = pages, entry.timings
            outcomes.append(outcome)
        return outcomes

    def _prepare(self, item: IngestItem) -> Prepared | IngestOutcome:
        """Parse and chunk one document, or the outcome that ends its indexing early."""
        with self.db.read() as session:
            document = session.get(Document, item.document_id)
            if document is None:  # deleted while queued
                return IngestOutcome(item.document_id, "failed", error="document was deleted")
            unchanged = document.status == "indexed" and document.sha256 == item.blob and document.version > 0
            title = item.title or document.title
        if unchanged:
            self._update_fields(item)
            return IngestOutcome(item.document_id, "unchanged", chunks=document.chunk_count)
        timings: dict[str, float] = {}
        mark = time.perf_counter()
        try:
            parsed = parse_document(item.filename, self.blobs.get(item.blob), item.content_type)
        except (DocumentParseError, UnsupportedMediaTypeError) as exc:
            return self._fail(item.document_id, exc.detail)
        mark = _lap(timings, "parse", mark)
        title = item.title or parsed.title or title
        drafts = chunk_document(
            parsed, self.embedder.count_tokens, max_tokens=self.max_tokens, overlap_tokens=self.overlap_tokens
        )
        if not drafts:
            return self._fail(item.document_id, f"Could not read {item.filename!r}: no text found")
        bodies = [index_body(title, d.heading_path, d.text) for d in drafts]
        hashes = [sha256_hex(body) for body in bodies]
        _lap(timings, "chunk", mark)
        return Prepared(item, title, parsed, drafts, bodies, hashes, timings)

    def _vectors_for(
        self, bodies: list[str], hashes: list[str]
    ) -> tuple[dict[str, npt.NDArray[np.float32]], set[str]]:
        """Vectors for every hash, embedding only those not already stored (returned as the second item)."""
        model = self.embedder.name
        unique = list(dict.fromkeys(hashes))
        with self.db.read() as session:
            stored = {
                h: np.frombuffer(v, dtype=np.float32)
                for h, v in session.execute(
                    select(Embedding.content_hash, Embedding.vector).where(
                        Embedding.model == model, Embedding.content_hash.in_(unique)
                    )
                )
            }
        missing = [h for h in unique if h not in stored]
        if missing:
            body_by_hash = dict(zip(hashes, bodies, strict=True))
            fresh = self.embedder.embed_documents([body_by_hash[h] for h in missing])
            with self.db.transaction() as session:
                already = set(
                    session.execute(
                        select(Embedding.content_hash).where(
                            Embedding.model == model, Embedding.content_hash.in_(missing)
                        )
                    ).scalars()
                )
                session.add_all(
                    Embedding(model=model, content_hash=h, vector=fresh[i].astype(np.float32).tobytes())
                    for i, h in enumerate(missing)
                    if h not in already
                )
            stored.update({h: fresh[i] for i, h in enumerate(missing)})
        return stored, set(missing)

    def _swap(self, prepared: Prepared, vectors: dict[str, npt.NDArray[np.float32]]) -> None:
        """Replace the document's chunks and index rows with the new version in one transaction."""
        item, title, drafts, bodies, hashes = (
            prepared.item, prepared.title, prepared.drafts, prepared.bodies, prepared.hashes,
        )  # fmt: skip
        text, mime = prepared.parsed.text, prepared.parsed.mime
        with self.write_lock:
            with self.db.transaction() as session:
                document = session.get(Document, item.document_id, with_for_update=True)
                if document is None:
                    return
                old_ids = list(
                    session.execute(select(Chunk.id).where(Chunk.document_id == document.id)).scalars()
                )
                self.lexical.remove(session, old_ids)
                session.execute(delete(Chunk).where(Chunk.document_id == document.id))
                version = document.version + 1
                chunks = [
                    Chunk(
                        document_id=document.id,
                        version=version,
                        ordinal=d.ordinal,
                        text=d.text,
                        start=d.start,
                        end=d.end,
                        page=d.page,
                        heading_path=list(d.heading_path),
                        token_count=d.token_count,
                        content_hash=h,
                    )
                    for d, h in zip(drafts, hashes, strict=True)
                ]
                session.add_all(chunks)
                session.flush()
                self.lexical.add(session, [(c.id, body) for c, body in zip(chunks, bodies, strict=True)])
                document.version = version
                document.title = title
                document.text = text
                document.mime = mime
                document.sha256 = item.blob
                document.chunk_count = len(chunks)
                document.status = "indexed"
                document.error = None
                if item.metadata:
                    document.metadata_ = {**(document.metadata_ or {}), **item.metadata}
                generation = bump_generation(session)
                added = [(c.id, document.collection_id, vectors[c.content_hash]) for c in chunks]
            self.vectors.apply(generation, added, old_ids)

    def _update_fields(self, item: IngestItem) -> None:
        with self.db.transaction() as session:
            document = session.get(Document, item.document_id)
            if document is None:
                return
            if item.title:
                document.title = item.title
            if item.metadata:
                document.metadata_ = {**(document.metadata_ or {}), **item.metadata}

    def _fail(self, document_id: str, reason: str) -> IngestOutcome:
        with self.db.transaction() as session:
            document = session.get(Document, document_id)
            if document is not None:
                # A failed update keeps the previous version searchable.
                document.status = "indexed" if document.version > 0 else "failed"
                document.error = reason
        return IngestOutcome(document_id, "failed", error=reason)


def _lap(timings: dict[str, float], name: str, mark: float) -> float:
    now = time.perf_counter()
    timings[name] = round((now - mark) * 1000, 2)
    return now


def bump_generation(session: Any) -> int:
    """Increment the index generation inside the caller's transaction and return the new value."""
    session.execute(update(IndexState).where(IndexState.id == 1).values(generation=IndexState.generation + 1))
    return int(session.execute(select(IndexState.generation).where(IndexState.id == 1)).scalar_one())
