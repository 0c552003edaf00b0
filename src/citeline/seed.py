"""The seed guide's unversioned endpoints: /health, /ready, /ingest, /query."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.datastructures import UploadFile as StarletteUploadFile

from citeline import __version__
from citeline.answers.schemas import QueryResponse, SeedQueryRequest
from citeline.auth.dependencies import IngestWriter, QueryReader
from citeline.core.errors import BadRequestError, ForbiddenError
from citeline.documents.endpoints import wait_for
from citeline.documents.repository import document_count, indexed_chunk_count
from citeline.documents.schemas import IngestResponse
from citeline.documents.service import UploadedFile
from citeline.services import ServicesDep

router = APIRouter(tags=["seed"])


class SeedIngestResponse(BaseModel):
    status: str
    documents: int
    chunks_created: int
    failed: list[dict[str, Any]]
    job_id: str | None


@router.get("/health")
def health() -> dict[str, str]:
    """Liveness: the process answers."""
    return {"status": "healthy", "version": __version__}


@router.get("/ready", response_model=None)
def ready(request: Request) -> dict[str, Any] | JSONResponse:
    """Readiness: the store answers and the embedding model is loaded."""
    services = getattr(request.app.state, "services", None)
    if services is None or not services.db.ping():
        return JSONResponse({"status": "not_ready", "code": "not_ready"}, status_code=503)
    with services.db.read() as session:
        documents, chunks = document_count(session), indexed_chunk_count(session)
    return {
        "status": "ready",
        "documents": documents,
        "chunks": chunks,
        "embedding_model": services.embedder.name,
    }


@router.post("/ingest", response_model=SeedIngestResponse)
async def ingest(request: Request, services: ServicesDep, principal: IngestWriter) -> SeedIngestResponse:
    """Multipart files: index those. No body: index CITELINE_CORPUS_DIR. Answers when done."""
    if request.headers.get("content-type", "").startswith("multipart/form-data"):
        form = await request.form()
        files = [
            v for v in form.getlist("files") + form.getlist("file") if isinstance(v, StarletteUploadFile)
        ]
        if not files:
            raise BadRequestError("No files in the upload; send them as multipart field 'files'.")
        uploads = [UploadedFile(f.filename or "upload", f.content_type, f.file) for f in files]
        queued = await run_in_threadpool(services.documents.queue_files, uploads, None, {}, principal)
    else:
        if not principal.sees_everything:
            raise ForbiddenError("Indexing the server's corpus folder needs the admin scope.")
        corpus = services.settings.corpus_dir
        if corpus is None:
            raise BadRequestError("Send files as multipart 'files', or set CITELINE_CORPUS_DIR to a folder.")
        if not corpus.is_dir():
            raise BadRequestError(f"CITELINE_CORPUS_DIR {str(corpus)!r} is not a folder.")
        queued = await run_in_threadpool(services.documents.queue_paths, [corpus], None, {})
    body: IngestResponse = await wait_for(services, queued)
    done = [d for d in body.documents if d.status in ("indexed", "unchanged")]
    return SeedIngestResponse(
        status="ok",
        documents=len(done),
        chunks_created=sum(d.chunks or 0 for d in done if d.status == "indexed"),
        failed=[{"filename": d.filename, "error": d.error} for d in body.documents if d not in done],
        job_id=body.job_id,
    )


@router.post("/query", response_model=QueryResponse)
def query(body: SeedQueryRequest, services: ServicesDep, principal: QueryReader) -> QueryResponse:
    """Seed-compatible question answering over every document the caller may read."""
    with services.db.read() as session:
        scope = services.scope(session, None, {}, principal)
        return services.answers.answer(session, body.question, None, scope)
