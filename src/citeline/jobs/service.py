"""Reading and cancelling jobs."""

from __future__ import annotations

from citeline.core.errors import JobFinishedError, JobNotFoundError
from citeline.ingestion.jobs import cancel_ingest
from citeline.jobs.runner import TERMINAL
from citeline.jobs.schemas import JobOut
from citeline.storage.base import Store
from citeline.storage.models import Job


class JobService:
    def __init__(self, db: Store) -> None:
        self.db = db

    def get(self, job_id: str) -> JobOut:
        with self.db.read() as session:
            job = session.get(Job, job_id)
            if job is None:
                raise JobNotFoundError(f"Job {job_id!r} not found")
            return JobOut.model_validate(job)

    def cancel(self, job_id: str) -> JobOut:
        """A queued job is cancelled at once; a running one stops before its next document."""
        with self.db.transaction() as session:
            job = session.get(Job, job_id)
            if job is None:
                raise JobNotFoundError(f"Job {job_id!r} not found")
            if job.status in TERMINAL:
                raise JobFinishedError(f"Job {job_id!r} already {job.status}; nothing to cancel")
            job.cancel_requested = True
            if job.status == "queued":
                items = job.payload.get("items", [])
                cancel_ingest(session, job, [str(item["document_id"]) for item in items])
            session.flush()
            return JobOut.model_validate(job)
