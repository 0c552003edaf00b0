"""Reading and cancelling jobs."""

from __future__ import annotations

from citeline.auth.principal import LOCAL, Principal
from citeline.core.errors import JobFinishedError, JobNotFoundError
from citeline.ingestion.jobs import cancel_ingest
from citeline.jobs.runner import TERMINAL
from citeline.jobs.schemas import JobOut
from citeline.storage.base import Store
from citeline.storage.models import Job


class JobService:
    def __init__(self, db: Store) -> None:
        self.db = db

    def get(self, job_id: str, principal: Principal = LOCAL) -> JobOut:
        with self.db.read() as session:
            return JobOut.model_validate(_visible(session.get(Job, job_id), job_id, principal))

    def cancel(self, job_id: str, principal: Principal = LOCAL) -> JobOut:
        """A queued job is cancelled at once; a running one stops before its next document."""
        with self.db.transaction() as session:
            job = _visible(session.get(Job, job_id), job_id, principal)
            if job.status in TERMINAL:
                raise JobFinishedError(f"Job {job_id!r} already {job.status}; nothing to cancel")
            job.cancel_requested = True
            if job.status == "queued":
                items = job.payload.get("items", [])
                cancel_ingest(session, job, [str(item["document_id"]) for item in items])
            session.flush()
            return JobOut.model_validate(job)


def _visible(job: Job | None, job_id: str, principal: Principal) -> Job:
    """A job is seen by the user who started it (with any of their keys) and by admins; for anyone
    else it does not exist."""
    if job is None or not (
        job.created_by is None or job.created_by == principal.owner_name or principal.sees_everything
    ):
        raise JobNotFoundError(f"Job {job_id!r} not found")
    return job
