"""Identifiers: sortable-enough random hex ids."""

from __future__ import annotations

import hashlib
import uuid


def new_id() -> str:
    """A random 32-hex-character id."""
    return uuid.uuid4().hex


def sha256_hex(data: bytes | str) -> str:
    raw = data.encode("utf-8") if isinstance(data, str) else data
    return hashlib.sha256(raw).hexdigest()
