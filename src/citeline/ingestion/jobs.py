"""The ingest job: index each queued document, recording progress on the job row."""

from __future__ import annotations

import logging
from concurrent.futures import Future, ThreadPoolExecutor

from sqlalchemy import update
from sqlalchemy.orm import Session

from citeline.ingestion.pipeline import IngestionPipeline, IngestItem, IngestOutcome, Prepared
from citeline.jobs.runner import TERMINAL, JobContext, finish_job
from citeline.storage.base import Store
from citeline.storage.models import Document, Job

log = logging.getLogger(__name__)

INGEST_JOB = "ingest"
WINDOW = 8  # documents parsed, then their new chunks embedded in one embed_documents call


class IngestJobHandler:
    """Callable the job runner invokes; safe to re-run (documents finished before a restart are skipped)."""

    def __init__(self, db: Store, pipeline: IngestionPipeline) -> None:
        self.db = db
        self.pipeline = pipeline

    def __call__(self, context: JobContext) -> None:
        job_id = context.job_id
        with self.db.read() as session:
            job = session.get(Job, job_id)
            if job is None or job.status in TERMINAL:
                return
            items = [IngestItem.from_payload(p) for p in job.payload.get("items", [])]
            done: dict[str, dict[str, object]] = dict(job.result.get("documents", {}))
        with self.db.transaction() as session:
            session.execute(update(Job).where(Job.id == job_id).values(total=len(items)))
        pending = [item for item in items if item.document_id not in done]  # the rest finished earlier
        windows = [pending[start : start + WINDOW] for start in range(0, len(pending), WINDOW)]
        # One thread parses the next window while this one embeds (parsers are mostly native code).
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="citeline-parse") as parser:
            upcoming = parser.submit(self.pipeline.prepare_many, windows[0]) if windows else None
            for number, window in enumerate(windows):
                assert upcoming is not None
                if context.heartbeat():
                    upcoming.cancel()
                    self._cancel(job_id, [item for w in windows[number:] for item in w])
                    return
                current = upcoming
                upcoming = (
                    parser.submit(self.pipeline.prepare_many, windows[number + 1])
                    if number + 1 < len(windows)
                    else None
                )
                for item, outcome in zip(window, self._index(window, current), strict=True):
                    done[item.document_id] = outcome.to_result()
                if not self._record(job_id, done):
                    return
        with self.db.transaction() as session:
            job = session.get(Job, job_id)
            if job is not None and job.status not in TERMINAL:
                finish_job(job, "succeeded")
        self.db.optimize()  # the index just grew or shrank: keep the query planner's picture current

    def _record(self, job_id: str, done: dict[str, dict[str, object]]) -> bool:
        """Save progress and per-document outcomes; False when the job row has gone."""
        with self.db.transaction() as session:
            job = session.get(Job, job_id)
            if job is None:
                return False
            job.progress = len(done)
            job.result = {"documents": dict(done)}
            return True

    def _index(
        self, window: list[IngestItem], prepared: Future[list[Prepared | IngestOutcome]]
    ) -> list[IngestOutcome]:
        """The window in one embedding pass; if that fails, one by one so one bad file sinks only itself."""
        try:
            return self.pipeline.finish_many(prepared.result())
        except Exception:
            log.exception("indexing a window of %d documents failed; retrying one by one", len(window))
        outcomes = []
        for item in window:
            try:
                outcomes.append(self.pipeline.index(item))
            except Exception as exc:  # a parser bug must not take the rest of the batch down
                log.exception("indexing %s (%s) failed", item.document_id, item.filename)
                outcomes.append(
                    IngestOutcome(item.document_id, "failed", error=f"internal error: {type(exc).__name__}")
                )
        return outcomes

    def _cancel(self, job_id: str, remaining: list[IngestItem]) -> None:
        with self.db.transaction() as session:
            job = session.get(Job, job_id)
            if job is not None:
                cancel_ingest(session, job, [item.document_id for item in remaining])


def cancel_ingest(session: Session, job: Job, document_ids: list[str]) -> None:
    """End an ingest job as cancelled. Documents it never reached: new ones become 'cancelled',
    updates keep their previous version."""
    for document_id in document_ids:
        document = session.get(Document, document_id)
        if document is None or document.status != "queued":
            continue
        document.status = "indexed" if document.version > 0 else "cancelled"
        document.error = "ingest cancelled"
    finish_job(job, "cancelled", f"cancelled with {len(document_ids)} document(s) not indexed")
