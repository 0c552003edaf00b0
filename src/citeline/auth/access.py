"""Who may read and write what: collection ownership and grants, narrowed per document by its ACL.

A collection is readable by its owner, by every user or key granted `read` or `write` on it, and by an
admin acting with the admin scope; writable by its owner, `write` grantees and admins. A document whose
`acl` lists principals ("user:<name>", "key:<id>") is readable only by them, the collection's owner and
admins. These rules become SQL conditions inside both retrievers (retrieval/scope.py), so every
top_k result is readable; endpoints answer 404 for what the caller may not read.
"""

from __future__ import annotations

import threading
from typing import Any

from sqlalchemy import ColumnElement, func, literal, or_, select, update
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.types import Boolean

from citeline.auth.principal import Principal
from citeline.core.errors import CollectionNotFoundError, ForbiddenError
from citeline.core.ids import new_id
from citeline.storage.models import Chunk, Collection, Document, Grant, IndexState

WRITE = "write"


def readable_collection_ids(session: Any, principal: Principal) -> frozenset[str] | None:
    """The collections the caller may read; None means all of them."""
    return collection_access(session, principal)[0]


def collection_access(session: Any, principal: Principal) -> tuple[frozenset[str] | None, frozenset[str]]:
    """(readable collections, None for all; collections the caller owns), in one query."""
    if principal.sees_everything:
        return None, frozenset()  # admins are never narrowed by an ACL, so what they own is moot
    owned = select(Collection.id, literal(True)).where(Collection.owner_id == principal.user_id)
    granted = select(Grant.collection_id, literal(False)).where(Grant.principal.in_(principal.tokens))
    rows = session.execute(owned.union_all(granted)).all()
    return frozenset(row[0] for row in rows), frozenset(row[0] for row in rows if row[1])


def manages(principal: Principal, collection: Collection) -> bool:
    """The collection's owner and admins manage it (grants) and always write it."""
    return principal.sees_everything or (
        principal.user_id is not None and collection.owner_id == principal.user_id
    )


def can_write(session: Any, principal: Principal, collection: Collection) -> bool:
    if manages(principal, collection):
        return True
    grant = select(Grant.id).where(
        Grant.collection_id == collection.id, Grant.principal.in_(principal.tokens), Grant.permission == WRITE
    )
    return session.execute(grant).first() is not None


def can_read(session: Any, principal: Principal, collection_id: str) -> bool:
    readable = readable_collection_ids(session, principal)
    return readable is None or collection_id in readable


class acl_lists(FunctionElement[bool]):
    """True when the document's ACL array contains one of ``names``."""

    type = Boolean()
    inherit_cache = False

    def __init__(self, names: tuple[str, ...]) -> None:
        self.names = names
        super().__init__()


@compiles(acl_lists, "sqlite")
def _acl_lists_sqlite(element: acl_lists, compiler: SQLCompiler, **kw: Any) -> str:
    column = compiler.process(Document.__table__.c.acl, **kw)
    names = ", ".join(compiler.process(literal(name), **kw) for name in element.names)
    return f"EXISTS (SELECT 1 FROM json_each({column}) WHERE json_each.value IN ({names}))"


@compiles(acl_lists, "postgresql")
def _acl_lists_postgresql(element: acl_lists, compiler: SQLCompiler, **kw: Any) -> str:
    column = compiler.process(Document.__table__.c.acl, **kw)
    names = ", ".join(compiler.process(literal(name), **kw) for name in element.names)
    return f"EXISTS (SELECT 1 FROM json_array_elements_text({column}) AS a(v) WHERE a.v IN ({names}))"


def acl_clause(names: tuple[str, ...], exempt_collections: frozenset[str]) -> ColumnElement[bool]:
    """Documents with no ACL, with one naming the caller, or in a collection the caller owns."""
    unrestricted = or_(Document.acl.is_(None), func.json_array_length(Document.acl) == 0)
    clauses = [unrestricted, acl_lists(names)]
    if exempt_collections:
        clauses.append(Document.collection_id.in_(sorted(exempt_collections)))
    return or_(*clauses)


def document_visibility(session: Any, principal: Principal) -> list[ColumnElement[bool]]:
    """SQL conditions on documents for what the caller may read (none for an all-seeing admin)."""
    readable, owned = collection_access(session, principal)
    if readable is None:
        return []
    return [Document.collection_id.in_(sorted(readable)), acl_clause(principal.tokens, owned)]


def writable_collection(session: Any, principal: Principal, name: str) -> Collection:
    """The collection to write into, created (owned by the caller) if it does not exist yet; 404 for
    one the caller cannot read, 403 for one it can read but not write."""
    collection = session.execute(select(Collection).where(Collection.name == name)).scalar_one_or_none()
    if collection is None:
        collection = Collection(id=new_id(), name=name, owner_id=principal.user_id)
        session.add(collection)
        session.flush()
        return collection
    if can_write(session, principal, collection):
        return collection  # type: ignore[no-any-return]
    if can_read(session, principal, collection.id):
        raise ForbiddenError(f"You may read but not write the collection {name!r}.")
    raise CollectionNotFoundError(f"Collection {name!r} not found")


def hidden_chunk_ids(
    session: Any, names: tuple[str, ...], exempt: frozenset[str], collection_ids: frozenset[str] | None
) -> list[int]:
    """Chunks of documents whose ACL shuts the caller out. Reads only the documents that have an ACL
    (usually few), so the vector index can mask them out instead of asking SQL for every allowed id."""
    query = select(Document.id, Document.collection_id, Document.acl).where(
        func.json_array_length(Document.acl) > 0
    )
    if collection_ids is not None:
        query = query.where(Document.collection_id.in_(sorted(collection_ids)))
    wanted = set(names)
    hidden = [
        document_id
        for document_id, collection_id, acl in session.execute(query).all()
        if collection_id not in exempt and not wanted.intersection(acl or ())
    ]
    if not hidden:
        return []
    chunks = select(Chunk.id).where(Chunk.document_id.in_(hidden))
    return list(session.execute(chunks).scalars())


def acl_stamp(session: Any) -> tuple[int, int]:
    """(ACL version, index generation): changes whenever a document's ACL or the index changes. The
    version is 0 until some document gets an ACL. One primary-key read."""
    row = session.execute(
        select(IndexState.acl_version, IndexState.generation).where(IndexState.id == 1)
    ).one()
    return int(row[0]), int(row[1])


def bump_acl_version(session: Any) -> None:
    """Record, in the caller's transaction, that some document's ACL changed."""
    session.execute(
        update(IndexState).where(IndexState.id == 1).values(acl_version=IndexState.acl_version + 1)
    )


class HiddenChunks:
    """Per process: the chunk ids each caller's ACLs hide, cached until an ACL or the index changes
    (both read per search by acl_stamp, one primary-key query), so repeated searches cost no scan."""

    def __init__(self, max_entries: int = 1024) -> None:
        self._cache: dict[tuple[Any, ...], frozenset[int]] = {}
        self._max = max_entries
        self._lock = threading.Lock()

    def __call__(
        self,
        session: Any,
        stamp: tuple[int, int],
        names: tuple[str, ...],
        exempt: frozenset[str],
        collection_ids: frozenset[str] | None,
    ) -> frozenset[int]:
        """``stamp`` is acl_stamp(session), which the caller has already read."""
        key = (stamp, names, exempt, collection_ids)
        with self._lock:
            found = self._cache.get(key)
        if found is None:
            found = frozenset(hidden_chunk_ids(session, names, exempt, collection_ids))
            with self._lock:
                if len(self._cache) >= self._max:
                    self._cache.clear()
                self._cache[key] = found
        return found
