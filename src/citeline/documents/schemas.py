"""Request and response bodies for the documents API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

ItemStatus = Literal["queued", "rejected", "indexed", "unchanged", "failed", "cancelled"]


class DocumentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    collection: str
    external_id: str | None
    title: str
    source: str | None
    mime: str
    sha256: str
    size_bytes: int
    version: int
    metadata: dict[str, Any]
    acl: list[str] = Field(default_factory=list, description="Who may read it; empty: every reader.")
    status: str
    error: str | None
    chunk_count: int
    created_at: datetime
    updated_at: datetime
    text: str | None = Field(default=None, description="Extracted text; only with ?include_text=true.")


class DocumentList(BaseModel):
    items: list[DocumentOut]
    total: int
    limit: int
    offset: int


class AcceptedDocument(BaseModel):
    id: str | None = Field(description="Document id; null when the file was rejected before storing.")
    filename: str
    external_id: str | None = None
    status: ItemStatus
    chunks: int | None = None
    error: str | None = None


class IngestResponse(BaseModel):
    job_id: str | None
    documents: list[AcceptedDocument]


AclEntry = Annotated[str, StringConstraints(pattern=r"^(user|key):[^\s]{1,200}$")]
AclList = Annotated[list[AclEntry], Field(max_length=200)]


class BatchDocumentIn(BaseModel):
    external_id: str = Field(min_length=1, max_length=512)
    title: str | None = Field(default=None, max_length=1000)
    text: str = Field(min_length=1)
    metadata: dict[str, Any] = Field(default_factory=dict)
    format: Literal["text", "markdown", "html"] = "text"
    acl: AclList | None = Field(
        default=None,
        description='Who may read it ("user:<name>", "key:<id>"); omitted: the collection\'s readers.',
    )


class BatchRequest(BaseModel):
    collection: str | None = Field(default=None, min_length=1, max_length=200)
    documents: list[BatchDocumentIn] = Field(min_length=1, max_length=1000)


class DocumentPatch(BaseModel):
    title: str | None = Field(default=None, min_length=1, max_length=1000)
    metadata: dict[str, Any] | None = None
    acl: AclList | None = Field(default=None, description="Replace the ACL; [] lets every reader in.")


class ChunkOut(BaseModel):
    id: int
    ordinal: int
    text: str
    start: int
    end: int
    page: int | None
    heading_path: list[str]
    token_count: int
