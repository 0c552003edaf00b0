"""SQL for documents and collections."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import ColumnElement, delete, func, select
from sqlalchemy.orm import Session

from citeline.core.ids import new_id
from citeline.storage.models import Chunk, Collection, Document

DEFAULT_COLLECTION = "default"


def get_collection_by_name(session: Session, name: str) -> Collection | None:
    return session.execute(select(Collection).where(Collection.name == name)).scalar_one_or_none()


def ensure_collection(session: Session, name: str) -> Collection:
    collection = get_collection_by_name(session, name)
    if collection is None:
        collection = Collection(id=new_id(), name=name)
        session.add(collection)
        session.flush()
    return collection


def collection_names(session: Session, ids: Sequence[str]) -> dict[str, str]:
    rows = session.execute(select(Collection.id, Collection.name).where(Collection.id.in_(list(ids)))).all()
    return {row[0]: row[1] for row in rows}


def find_by_external_id(session: Session, collection_id: str, external_id: str) -> Document | None:
    return session.execute(
        select(Document).where(Document.collection_id == collection_id, Document.external_id == external_id)
    ).scalar_one_or_none()


def list_documents(
    session: Session,
    *,
    collection_id: str | None,
    status: str | None,
    external_id: str | None,
    limit: int,
    offset: int,
    visible: Sequence[ColumnElement[bool]] = (),
) -> tuple[list[Document], int]:
    conditions = list(visible)
    if collection_id is not None:
        conditions.append(Document.collection_id == collection_id)
    if status is not None:
        conditions.append(Document.status == status)
    if external_id is not None:
        conditions.append(Document.external_id == external_id)
    total = session.execute(select(func.count()).select_from(Document).where(*conditions)).scalar_one()
    rows = session.execute(
        select(Document)
        .where(*conditions)
        .order_by(Document.created_at, Document.id)
        .limit(limit)
        .offset(offset)
    ).scalars()
    return list(rows), int(total)


def chunk_ids_of(session: Session, document_id: str) -> list[int]:
    return list(session.execute(select(Chunk.id).where(Chunk.document_id == document_id)).scalars())


def chunks_of(session: Session, document_id: str) -> list[Chunk]:
    return list(
        session.execute(
            select(Chunk).where(Chunk.document_id == document_id).order_by(Chunk.ordinal)
        ).scalars()
    )


def delete_document_rows(session: Session, document_id: str) -> None:
    session.execute(delete(Chunk).where(Chunk.document_id == document_id))
    session.execute(delete(Document).where(Document.id == document_id))


def indexed_chunk_count(session: Session, visible: Sequence[ColumnElement[bool]] = ()) -> int:
    """Chunks in the index, or only those of documents matching ``visible``."""
    if not visible:
        return int(session.execute(select(func.count()).select_from(Chunk)).scalar_one())
    query = select(func.count()).select_from(Chunk).join(Document, Document.id == Chunk.document_id)
    return int(session.execute(query.where(*visible)).scalar_one())


def document_count(session: Session) -> int:
    return int(session.execute(select(func.count()).select_from(Document)).scalar_one())
