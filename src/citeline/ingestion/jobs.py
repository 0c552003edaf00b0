"""The ingest job: index each queued document, recording progress on the job row."""

from __future__ import annotations

import logging

from citeline.ingestion.pipeline import IngestionPipeline, IngestItem, IngestOutcome
from citeline.storage.base import Store
from citeline.storage.models import Job

log = logging.getLogger(__name__)

INGEST_JOB = "ingest"


class IngestJobHandler:
    """Callable the job runner invokes with a job id."""

    def __init__(self, db: Store, pipeline: IngestionPipeline) -> None:
        self.db = db
        self.pipeline = pipeline

    def __call__(self, job_id: str) -> None:
        with self.db.transaction() as session:
            job = session.get(Job, job_id)
            if job is None or job.status in ("succeeded", "failed", "cancelled"):
                return
            job.status = "running"
            job.attempts += 1
            items = [IngestItem.from_payload(p) for p in job.payload.get("items", [])]
            done: dict[str, dict[str, object]] = dict(job.result.get("documents", {}))
            job.total = len(items)
        for item in items:
            if item.document_id in done:  # finished before a restart
                continue
            try:
                outcome = self.pipeline.index(item)
            except Exception as exc:  # a parser bug must not take the rest of the batch down
                log.exception("indexing %s (%s) failed", item.document_id, item.filename)
                outcome = IngestOutcome(
                    item.document_id, "failed", error=f"internal error: {type(exc).__name__}"
                )
            done[item.document_id] = {
                "status": outcome.status,
                "chunks": outcome.chunks,
                "embedded": outcome.embedded,
                "error": outcome.error,
            }
            with self.db.transaction() as session:
                job = session.get(Job, job_id)
                if job is None:
                    return
                job.progress = len(done)
                job.result = {"documents": dict(done)}
        with self.db.transaction() as session:
            job = session.get(Job, job_id)
            if job is not None:
                job.status = "succeeded"
        self.db.optimize()  # the index just grew or shrank: keep the query planner's picture current
