"""Use cases for documents: queue uploads and batches for indexing, list, read, patch, delete."""

from __future__ import annotations

import io
from collections.abc import Iterable
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any, BinaryIO

from sqlalchemy import select

from citeline.auth import audit
from citeline.auth.access import (
    bump_acl_version,
    can_read,
    can_write,
    document_visibility,
    writable_collection,
)
from citeline.auth.principal import LOCAL, Principal
from citeline.core.errors import (
    BadRequestError,
    CollectionNotFoundError,
    DocumentNotFoundError,
    DocumentParseError,
    ForbiddenError,
    UnsupportedMediaTypeError,
)
from citeline.core.ids import new_id
from citeline.documents import repository as repo
from citeline.documents.archives import ArchiveError, unpack_zip
from citeline.documents.schemas import (
    AcceptedDocument,
    BatchRequest,
    ChunkOut,
    DocumentList,
    DocumentOut,
    DocumentPatch,
    IngestResponse,
)
from citeline.ingestion.jobs import INGEST_JOB
from citeline.ingestion.parsers import ARCHIVE, detect_format
from citeline.ingestion.pipeline import IngestionPipeline, IngestItem, bump_generation
from citeline.jobs.base import JobQueue
from citeline.storage.base import Store
from citeline.storage.blobs import BlobStore
from citeline.storage.models import Collection, Document, Job

_BATCH_EXTENSIONS = {"text": ".txt", "markdown": ".md", "html": ".html"}
_MIME = {
    "text": "text/plain",
    "markdown": "text/markdown",
    "html": "text/html",
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv",
    "eml": "message/rfc822",
    "rtf": "application/rtf",
    "epub": "application/epub+zip",
    "odt": "application/vnd.oasis.opendocument.text",
}


@dataclass(slots=True)
class UploadedFile:
    filename: str
    content_type: str | None
    stream: BinaryIO


@dataclass(slots=True)
class _Pending:
    item: IngestItem
    accepted: AcceptedDocument
    mime: str
    size: int
    acl: list[str] | None = None  # None: keep the document's ACL (a new one gets none)


class DocumentService:
    """Each public method is one unit of work: it commits once, then hands work to the job runner."""

    def __init__(
        self,
        db: Store,
        blobs: BlobStore,
        runner: JobQueue,
        pipeline: IngestionPipeline,
        *,
        max_unpacked_bytes: int = 1024**3,
    ) -> None:
        self.max_unpacked_bytes = max_unpacked_bytes
        self.db = db
        self.blobs = blobs
        self.runner = runner
        self.pipeline = pipeline

    # -- ingest -------------------------------------------------------------------------------------
    def queue_files(
        self,
        files: Iterable[UploadedFile],
        collection: str | None,
        metadata: dict[str, Any],
        principal: Principal = LOCAL,
        acl: list[str] | None = None,
    ) -> tuple[IngestResponse, Future[None] | None]:
        """Store each file and queue it; ZIP archives are unpacked (one level) into their members."""
        pending: list[_Pending] = []
        rejected: list[AcceptedDocument] = []

        def reject(filename: str, reason: str) -> None:
            rejected.append(AcceptedDocument(id=None, filename=filename, status="rejected", error=reason))

        def accept(upload: UploadedFile, *, inside_archive: bool) -> None:
            filename = clean_filename(upload.filename)
            head = upload.stream.read(4096)
            upload.stream.seek(0)
            try:
                kind = detect_format(filename, upload.content_type, head)
            except UnsupportedMediaTypeError as exc:
                reject(filename, exc.detail)
                return
            if kind == ARCHIVE:
                if inside_archive:
                    reject(filename, f"Could not read {filename!r}: nested archives are not unpacked")
                    return
                try:
                    unpacked = unpack_zip(filename, upload.stream, self.max_unpacked_bytes)
                except ArchiveError as exc:
                    reject(filename, f"Could not read {filename!r}: {exc}")
                    return
                for name, reason in unpacked.rejected:
                    reject(clean_filename(name), f"Could not read {clean_filename(name)!r}: {reason}")
                for member in unpacked.members:
                    accept(UploadedFile(member.name, None, member.stream), inside_archive=True)
                return
            digest, size = self.blobs.put_stream(upload.stream)
            item = IngestItem(
                document_id="",
                blob=digest,
                filename=filename,
                content_type=upload.content_type,
                metadata=metadata,
            )
            accepted = AcceptedDocument(id=None, filename=filename, external_id=filename, status="queued")
            pending.append(_Pending(item, accepted, _MIME.get(kind, "application/octet-stream"), size, acl))

        for upload in files:
            accept(upload, inside_archive=False)
        if not pending:
            reasons = "; ".join(r.error or r.filename for r in rejected) or "no files were uploaded"
            raise UnsupportedMediaTypeError(reasons)
        return self._queue(pending, rejected, collection, principal)

    def queue_paths(
        self, paths: list[Path], collection: str | None, metadata: dict[str, Any]
    ) -> tuple[IngestResponse, Future[None] | None]:
        """Queue files and every file under folders; a file's name is its path relative to its folder."""
        found = walk_files(paths)
        if not found:
            raise BadRequestError(f"No files found in {', '.join(str(p) for p in paths)}")
        uploads = (UploadedFile(name, None, io.BytesIO(file.read_bytes())) for name, file in found)
        return self.queue_files(uploads, collection, metadata)

    def queue_batch(
        self, request: BatchRequest, principal: Principal = LOCAL
    ) -> tuple[IngestResponse, Future[None] | None]:
        pending = []
        for doc in request.documents:
            digest = self.blobs.put_bytes(doc.text.encode("utf-8"))
            filename = doc.external_id + _BATCH_EXTENSIONS[doc.format]
            item = IngestItem(
                document_id="",
                blob=digest,
                filename=filename,
                content_type=_MIME[doc.format],
                title=doc.title or doc.external_id,
                metadata=doc.metadata,
            )
            accepted = AcceptedDocument(
                id=None, filename=filename, external_id=doc.external_id, status="queued"
            )
            pending.append(_Pending(item, accepted, _MIME[doc.format], len(doc.text), doc.acl))
        return self._queue(pending, [], request.collection, principal)

    def _queue(
        self,
        pending: list[_Pending],
        rejected: list[AcceptedDocument],
        collection: str | None,
        principal: Principal,
    ) -> tuple[IngestResponse, Future[None] | None]:
        with self.db.transaction() as session:
            coll = writable_collection(session, principal, collection or repo.DEFAULT_COLLECTION)
            acl_changed = False
            for p in pending:
                external_id = p.accepted.external_id or p.item.filename
                document = repo.find_by_external_id(session, coll.id, external_id)
                if document is None:
                    document = Document(
                        id=new_id(),
                        collection_id=coll.id,
                        external_id=external_id,
                        title=p.item.title or PurePosixPath(p.item.filename).stem or p.item.filename,
                        source=p.item.filename,
                        mime=p.mime,
                        sha256=p.item.blob,
                        size_bytes=p.size,
                        metadata_=dict(p.item.metadata),
                        status="queued",
                    )
                    session.add(document)
                elif document.version == 0:
                    document.status = "queued"
                if p.acl is not None and list(p.acl) != list(document.acl or []):
                    document.acl = list(p.acl)
                    acl_changed = True
                document.size_bytes = p.size
                p.item.document_id = p.accepted.id = document.id
            job = Job(
                id=new_id(),
                kind=INGEST_JOB,
                status="queued",
                total=len(pending),
                payload={"items": [p.item.to_payload() for p in pending]},
                created_by=principal.owner_name,
            )
            session.add(job)
            if acl_changed:
                bump_acl_version(session)
            audit.record(session, principal, "ingest", coll.name, job=job.id, documents=len(pending))
        future = self.runner.submit(job.id, INGEST_JOB)  # only after the commit above
        response = IngestResponse(job_id=job.id, documents=[p.accepted for p in pending] + rejected)
        return response, future

    def collect_results(self, response: IngestResponse) -> IngestResponse:
        """Fill each queued document's final status from its finished job."""
        if response.job_id is None:
            return response
        with self.db.read() as session:
            job = session.get(Job, response.job_id)
            results: dict[str, Any] = dict(job.result.get("documents", {})) if job else {}
        for accepted in response.documents:
            outcome = results.get(accepted.id or "")
            if outcome:
                accepted.status = outcome["status"]
                accepted.chunks = outcome["chunks"]
                accepted.error = outcome["error"]
        return response

    @staticmethod
    def raise_if_all_failed(response: IngestResponse) -> None:
        """A request whose every file was unreadable is a 400 naming each file and its reason."""
        if response.documents and all(d.status in ("failed", "rejected") for d in response.documents):
            failed = [d for d in response.documents if d.status == "failed"]
            if failed:
                if len(failed) == 1 and len(response.documents) == 1:
                    raise DocumentParseError(failed[0].filename, _reason(failed[0]))
                raise DocumentParseError(
                    ", ".join(d.filename for d in failed),
                    "; ".join(d.error or "" for d in response.documents),
                )

    # -- read / update / delete ---------------------------------------------------------------------
    def list_documents(
        self,
        *,
        collection: str | None,
        status: str | None,
        external_id: str | None,
        limit: int,
        offset: int,
        principal: Principal = LOCAL,
    ) -> DocumentList:
        with self.db.read() as session:
            collection_id = None
            if collection is not None:
                coll = repo.get_collection_by_name(session, collection)
                if coll is None or not can_read(session, principal, coll.id):
                    raise CollectionNotFoundError(f"Collection {collection!r} not found")
                collection_id = coll.id
            rows, total = repo.list_documents(
                session,
                collection_id=collection_id,
                status=status,
                external_id=external_id,
                limit=limit,
                offset=offset,
                visible=document_visibility(session, principal),
            )
            names = repo.collection_names(session, sorted({d.collection_id for d in rows}))
            items = [to_out(d, names[d.collection_id]) for d in rows]
        return DocumentList(items=items, total=total, limit=limit, offset=offset)

    def get(
        self, document_id: str, *, include_text: bool = False, principal: Principal = LOCAL
    ) -> DocumentOut:
        with self.db.read() as session:
            document = self._require(session, document_id, principal)
            names = repo.collection_names(session, [document.collection_id])
            return to_out(document, names[document.collection_id], include_text=include_text)

    def chunks(self, document_id: str, principal: Principal = LOCAL) -> list[ChunkOut]:
        with self.db.read() as session:
            self._require(session, document_id, principal)
            return [
                ChunkOut(
                    id=c.id,
                    ordinal=c.ordinal,
                    text=c.text,
                    start=c.start,
                    end=c.end,
                    page=c.page,
                    heading_path=list(c.heading_path or []),
                    token_count=c.token_count,
                )
                for c in repo.chunks_of(session, document_id)
            ]

    def patch(self, document_id: str, patch: DocumentPatch, principal: Principal = LOCAL) -> DocumentOut:
        with self.db.transaction() as session:
            document = self._require(session, document_id, principal, write=True)
            if patch.acl is not None and list(patch.acl) != list(document.acl or []):
                document.acl = list(patch.acl)
                bump_acl_version(session)
                audit.record(session, principal, "document.acl", document.id, acl=list(patch.acl))
            if patch.title is not None:
                document.title = patch.title
            if patch.metadata is not None:
                document.metadata_ = {**(document.metadata_ or {}), **patch.metadata}
            session.flush()
            names = repo.collection_names(session, [document.collection_id])
            return to_out(document, names[document.collection_id])

    def delete(self, document_id: str, principal: Principal = LOCAL) -> None:
        """Remove a document from the store and from every index in one transaction."""
        with self.pipeline.write_lock:
            with self.db.transaction() as session:
                document = self._require(session, document_id, principal, write=True)
                audit.record(session, principal, "delete", document.id, title=document.title)
                digest = document.sha256
                chunk_ids = repo.chunk_ids_of(session, document_id)
                self.pipeline.lexical.remove(session, chunk_ids)
                repo.delete_document_rows(session, document_id)
                generation = bump_generation(session)
                still_used = session.query(Document.id).filter(Document.sha256 == digest).first() is not None
            self.pipeline.vectors.apply(generation, [], chunk_ids)
        if not still_used:
            self.blobs.delete(digest)

    @staticmethod
    def _require(session: Any, document_id: str, principal: Principal, *, write: bool = False) -> Document:
        """The document if the caller may read it (and write it, with ``write``); else 404, as if it
        did not exist, or 403 for a readable document in a collection the caller may only read."""
        visible = session.execute(
            select(Document).where(Document.id == document_id, *document_visibility(session, principal))
        ).scalar_one_or_none()
        if visible is None:
            raise DocumentNotFoundError(f"Document {document_id!r} not found")
        if write:
            collection = session.get(Collection, visible.collection_id)
            if collection is None or not can_write(session, principal, collection):
                raise ForbiddenError("You may read but not change documents in this collection.")
        return visible  # type: ignore[no-any-return]


def to_out(document: Document, collection: str, *, include_text: bool = False) -> DocumentOut:
    return DocumentOut(
        id=document.id,
        collection=collection,
        external_id=document.external_id,
        title=document.title,
        source=document.source,
        mime=document.mime,
        sha256=document.sha256,
        size_bytes=document.size_bytes,
        version=document.version,
        metadata=dict(document.metadata_ or {}),
        acl=list(document.acl or []),
        status=document.status,
        error=document.error,
        chunk_count=document.chunk_count,
        created_at=document.created_at,
        updated_at=document.updated_at,
        text=document.text if include_text else None,
    )


def clean_filename(name: str | None) -> str:
    """A safe display name: forward slashes, no leading separators or parent references."""
    raw = (name or "upload").replace("\\", "/")
    parts = [p for p in raw.split("/") if p not in ("", ".", "..")]
    cleaned = "/".join(parts)[-500:] or "upload"
    return cleaned.strip() or "upload"


def _reason(doc: AcceptedDocument) -> str:
    prefix = f"Could not read {doc.filename!r}: "
    error = doc.error or "unknown error"
    return error[len(prefix) :] if error.startswith(prefix) else error


def walk_files(paths: list[Path]) -> list[tuple[str, Path]]:
    """(display name, path) for each file, folders expanded recursively; hidden entries skipped."""
    found: list[tuple[str, Path]] = []
    for root in paths:
        if root.is_file():
            found.append((root.name, root))
            continue
        for file in sorted(root.rglob("*")):
            relative = file.relative_to(root)
            if file.is_file() and not any(part.startswith(".") for part in relative.parts):
                found.append((relative.as_posix(), file))
    return found
