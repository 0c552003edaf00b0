"""GET /api/v1/jobs/{id}: progress and per-document outcome of an ingest job."""

from __future__ import annotations

from fastapi import APIRouter

from citeline.core.errors import JobNotFoundError
from citeline.jobs.schemas import JobOut
from citeline.services import ServicesDep
from citeline.storage.models import Job

router = APIRouter(prefix="/jobs", tags=["jobs"])


@router.get("/{job_id}", response_model=JobOut)
def get_job(job_id: str, services: ServicesDep) -> JobOut:
    with services.db.read() as session:
        job = session.get(Job, job_id)
        if job is None:
            raise JobNotFoundError(f"Job {job_id!r} not found")
        return JobOut.model_validate(job)
