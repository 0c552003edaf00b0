"""What a search may see: collections, documents and metadata conditions, applied inside each retriever."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement

from citeline.auth.access import acl_clause
from citeline.retrieval.filters import Condition, condition_clause
from citeline.storage.models import Document


@dataclass(frozen=True, slots=True)
class SearchScope:
    """Restrictions on the documents a query may retrieve; None means unrestricted."""

    collection_ids: frozenset[str] | None = None
    document_ids: frozenset[str] | None = None
    conditions: tuple[Condition, ...] = ()
    # The caller's names for document ACLs (None: no ACL check), and collections whose ACLs don't bind
    # the caller (their owner's).
    readers: tuple[str, ...] | None = None
    acl_exempt: frozenset[str] = frozenset()
    # The chunks those ACLs hide, when known: retrievers then drop them by id instead of by SQL.
    hidden_chunks: frozenset[int] | None = None

    @property
    def needs_document_filter(self) -> bool:
        """True when filtering needs more than the collection, so vector search asks SQL for ids."""
        return self.document_ids is not None or bool(self.conditions) or self.readers is not None

    @property
    def only_acl(self) -> bool:
        """True when the ACL is the only document-level restriction and its hidden chunks are known, so
        retrievers can filter by chunk id (no SQL) and by collection alone."""
        return self.hidden_chunks is not None and self.document_ids is None and not self.conditions

    def collection_clauses(self) -> list[ColumnElement[bool]]:
        if self.collection_ids is None:
            return []
        return [Document.collection_id.in_(sorted(self.collection_ids))]

    def visibility_clauses(self) -> list[ColumnElement[bool]]:
        """Only what the caller may see (collections and ACLs), without the request's own filters."""
        return self.collection_clauses() + self._acl_clauses()

    def document_clauses(self) -> list[ColumnElement[bool]]:
        """SQL conditions on the documents table that express this scope."""
        clauses = self.collection_clauses()
        if self.document_ids is not None:
            clauses.append(Document.id.in_(sorted(self.document_ids)))
        clauses.extend(condition_clause(condition) for condition in self.conditions)
        return clauses + self._acl_clauses()

    def _acl_clauses(self) -> list[ColumnElement[bool]]:
        return [] if self.readers is None else [acl_clause(self.readers, self.acl_exempt)]
