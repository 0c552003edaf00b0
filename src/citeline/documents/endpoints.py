"""/api/v1/documents: upload files, upsert JSON batches, list, read, patch, delete."""

from __future__ import annotations

import asyncio
import json
from concurrent.futures import Future
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Query, Response, UploadFile, status
from fastapi.concurrency import run_in_threadpool
from pydantic import TypeAdapter, ValidationError

from citeline.auth.dependencies import IngestWriter, Reader, Writer
from citeline.core.errors import BadRequestError
from citeline.documents.schemas import (
    AclList,
    BatchRequest,
    ChunkOut,
    DocumentList,
    DocumentOut,
    DocumentPatch,
    IngestResponse,
)
from citeline.documents.service import UploadedFile
from citeline.services import Services, ServicesDep

router = APIRouter(prefix="/documents", tags=["documents"])

WaitParam = Annotated[bool, Query(description="Answer only after indexing finished (200 instead of 202).")]


Queued = tuple[IngestResponse, "Future[None] | None"]


async def wait_for(services: Services, queued: Queued) -> IngestResponse:
    """Wait for the job to finish and report each document's outcome; 400 if every file failed."""
    body, future = queued
    if future is not None:
        await asyncio.wrap_future(future)
    body = await run_in_threadpool(services.documents.collect_results, body)
    services.documents.raise_if_all_failed(body)
    return body


async def finish(services: Services, queued: Queued, wait: bool, response: Response) -> IngestResponse:
    """Either return the queued job (202) or wait for it (200)."""
    if not wait:
        response.status_code = status.HTTP_202_ACCEPTED
        return queued[0]
    response.status_code = status.HTTP_200_OK
    return await wait_for(services, queued)


def parse_acl(raw: str | None) -> list[str] | None:
    """The upload form's `acl`: a JSON list of "user:<name>" / "key:<id>" entries."""
    if raw is None:
        return None
    try:
        return TypeAdapter(AclList).validate_json(raw)
    except ValidationError as exc:
        raise BadRequestError(
            f'acl must be a JSON list like ["user:ana", "key:4f2a"]: {exc.errors()[0]["msg"]}'
        ) from exc


def parse_metadata(raw: str | None) -> dict[str, Any]:
    if not raw:
        return {}
    try:
        value = json.loads(raw)
    except ValueError as exc:
        raise BadRequestError(f"metadata must be a JSON object: {exc}") from exc
    if not isinstance(value, dict):
        raise BadRequestError('metadata must be a JSON object, e.g. {"team": "legal"}')
    return value


@router.post("", response_model=IngestResponse, status_code=202)
async def upload_documents(
    services: ServicesDep,
    principal: IngestWriter,
    response: Response,
    files: Annotated[list[UploadFile], File(description="One or more files: txt, md, html, pdf, docx.")],
    collection: Annotated[str | None, Form(min_length=1, max_length=200)] = None,
    metadata: Annotated[str | None, Form(description="JSON object stored with every file.")] = None,
    acl: Annotated[
        str | None, Form(description='JSON list of who may read the files, e.g. ["user:ana", "key:4f2a"].')
    ] = None,
    wait: WaitParam = False,
) -> IngestResponse:
    """Store the files and queue them for indexing; a file with the same name replaces the old one."""
    uploads = [UploadedFile(f.filename or "upload", f.content_type, f.file) for f in files]
    queued = await run_in_threadpool(
        services.documents.queue_files,
        uploads,
        collection,
        parse_metadata(metadata),
        principal,
        parse_acl(acl),
    )
    return await finish(services, queued, wait, response)


@router.post("/batch", response_model=IngestResponse, status_code=202)
async def upsert_batch(
    body: BatchRequest,
    services: ServicesDep,
    principal: IngestWriter,
    response: Response,
    wait: WaitParam = False,
) -> IngestResponse:
    """Create or replace documents by your own `external_id`; unchanged text is not re-indexed."""
    queued = await run_in_threadpool(services.documents.queue_batch, body, principal)
    return await finish(services, queued, wait, response)


@router.get("", response_model=DocumentList)
def list_documents(
    services: ServicesDep,
    principal: Reader,
    collection: str | None = None,
    status: str | None = None,
    external_id: str | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> DocumentList:
    return services.documents.list_documents(
        collection=collection,
        status=status,
        external_id=external_id,
        limit=limit,
        offset=offset,
        principal=principal,
    )


@router.get("/{document_id}", response_model=DocumentOut)
def get_document(
    document_id: str, services: ServicesDep, principal: Reader, include_text: bool = False
) -> DocumentOut:
    return services.documents.get(document_id, include_text=include_text, principal=principal)


@router.get("/{document_id}/chunks", response_model=list[ChunkOut])
def get_chunks(document_id: str, services: ServicesDep, principal: Reader) -> list[ChunkOut]:
    return services.documents.chunks(document_id, principal)


@router.patch("/{document_id}", response_model=DocumentOut)
def patch_document(
    document_id: str, body: DocumentPatch, services: ServicesDep, principal: Writer
) -> DocumentOut:
    return services.documents.patch(document_id, body, principal)


@router.delete("/{document_id}", status_code=204)
def delete_document(document_id: str, services: ServicesDep, principal: IngestWriter) -> Response:
    services.documents.delete(document_id, principal)
    return Response(status_code=204)
