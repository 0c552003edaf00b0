"""Job status as the API shows it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class JobOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    kind: str
    status: str
    progress: int
    total: int
    attempts: int
    error: str | None
    result: dict[str, Any]
    cancel_requested: bool
    worker: str | None = Field(description="host:pid:id of the process running it, while it runs")
    lease_until: datetime | None
    created_at: datetime
    updated_at: datetime
    finished_at: datetime | None
