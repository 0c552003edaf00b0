"""Ingest jobs: status, a live progress stream (SSE), and cancel."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Depends, Request, status
from fastapi.concurrency import run_in_threadpool
from fastapi.sse import EventSourceResponse, ServerSentEvent

from citeline.auth.dependencies import Reader, Writer
from citeline.jobs.runner import TERMINAL
from citeline.jobs.schemas import JobOut
from citeline.services import ServicesDep

router = APIRouter(prefix="/jobs", tags=["jobs"])

POLL_S = 0.25


@router.get("/{job_id}", response_model=JobOut)
def get_job(job_id: str, services: ServicesDep, principal: Reader) -> JobOut:
    return services.jobs.get(job_id, principal)


def existing_job(job_id: str, services: ServicesDep, principal: Reader) -> JobOut:
    """Resolved before a stream starts, so an unknown id is a plain 404 rather than a broken stream."""
    return services.jobs.get(job_id, principal)


@router.get("/{job_id}/events", response_class=EventSourceResponse)
async def job_events(
    job_id: str,
    request: Request,
    services: ServicesDep,
    principal: Reader,
    job: Annotated[JobOut, Depends(existing_job)],
) -> AsyncIterator[ServerSentEvent]:
    """Server-sent events: `progress` whenever the job's status or progress changes, then one `done`."""
    last: tuple[str, int] | None = None
    while True:
        state = (job.status, job.progress)
        if job.status in TERMINAL:
            yield ServerSentEvent(data=job.model_dump(mode="json"), event="done", id=str(job.progress))
            return
        if state != last:
            yield ServerSentEvent(data=job.model_dump(mode="json"), event="progress", id=str(job.progress))
            last = state
        if await request.is_disconnected():
            return
        await asyncio.sleep(POLL_S)
        job = await run_in_threadpool(services.jobs.get, job_id, principal)


@router.post("/{job_id}/cancel", response_model=JobOut, status_code=status.HTTP_202_ACCEPTED)
def cancel_job(job_id: str, services: ServicesDep, principal: Writer) -> JobOut:
    """Stop a job: at once if queued, before its next document if running. 409 once it has finished."""
    return services.jobs.cancel(job_id, principal)
