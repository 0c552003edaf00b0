"""What a search may see: collections, documents and metadata filters, applied inside each retriever."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, or_

from citeline.storage.models import Document

FilterValue = str | int | float | bool


@dataclass(frozen=True, slots=True)
class SearchScope:
    """Restrictions on the documents a query may retrieve; None means unrestricted."""

    collection_ids: frozenset[str] | None = None
    document_ids: frozenset[str] | None = None
    metadata: dict[str, FilterValue | list[FilterValue]] = field(default_factory=dict)

    @property
    def needs_document_filter(self) -> bool:
        """True when filtering needs more than the collection, so vector search asks SQL for ids."""
        return self.document_ids is not None or bool(self.metadata)

    def document_clauses(self) -> list[ColumnElement[bool]]:
        """SQL conditions on the documents table that express this scope."""
        clauses: list[ColumnElement[bool]] = []
        if self.collection_ids is not None:
            clauses.append(Document.collection_id.in_(sorted(self.collection_ids)))
        if self.document_ids is not None:
            clauses.append(Document.id.in_(sorted(self.document_ids)))
        for key, wanted in self.metadata.items():
            values = wanted if isinstance(wanted, list) else [wanted]
            ors = [_metadata_equals(key, value) for value in values]
            clauses.append(ors[0] if len(ors) == 1 else or_(*ors))
        return clauses


def _metadata_equals(key: str, value: Any) -> ColumnElement[bool]:
    element = Document.metadata_[key]
    clause: ColumnElement[bool]
    if isinstance(value, bool):
        clause = element.as_boolean() == value
    elif isinstance(value, int):
        clause = element.as_integer() == value
    elif isinstance(value, float):
        clause = element.as_float() == value
    else:
        clause = element.as_string() == str(value)
    return clause
