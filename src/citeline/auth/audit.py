"""The audit trail: one appended row per security-relevant action, never updated or deleted."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from citeline.auth.principal import Principal
from citeline.storage.models import AuditEvent


def record(
    session: Session, principal: Principal, action: str, target: str | None = None, **detail: Any
) -> None:
    """Add an event to the caller's transaction, so it commits (or not) with the action itself."""
    session.add(AuditEvent(actor=principal.actor, action=action, target=target, detail=detail))
