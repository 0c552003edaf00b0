"""The Store protocol: the relational store every repository, pipeline and job runner talks to."""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Protocol

from sqlalchemy.orm import Session


class Store(Protocol):
    """Hands out SQLAlchemy sessions; the caller of `transaction()` owns the one commit."""

    url: str

    def create_schema(self) -> None:
        """Create tables and engine-specific indexes (idempotent)."""

    def transaction(self) -> AbstractContextManager[Session]:
        """A session committed when the block exits normally, rolled back on error."""

    def read(self) -> AbstractContextManager[Session]:
        """A session for reads only."""

    def optimize(self) -> None:
        """Refresh the query planner's statistics after the data changed a lot (bounded cost)."""

    def ping(self) -> bool:
        """True when the store answers a trivial query (readiness)."""

    def dispose(self) -> None:
        """Close pooled connections."""
