"""The JobQueue protocol: where committed job rows are handed to be run (in-process now, Celery later)."""

from __future__ import annotations

from concurrent.futures import Future
from typing import Protocol


class JobQueue(Protocol):
    """Runs durable `Job` rows by id. Submit only after the row and its inputs are committed."""

    def submit(self, job_id: str, kind: str) -> Future[None]:
        """Schedule the job; the future resolves when it has finished (or failed)."""

    def recover(self) -> int:
        """Re-schedule jobs a previous process left queued or running; returns how many."""

    def shutdown(self) -> None:
        """Stop accepting work and wait for the running job."""
