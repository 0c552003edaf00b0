"""Runs durable job rows in this process, one at a time, in a worker thread."""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor

from sqlalchemy import select

from citeline.storage.base import Store
from citeline.storage.models import Job

log = logging.getLogger(__name__)

JobHandler = Callable[[str], None]


class InProcessJobRunner:
    """Executes jobs by id; the job row (committed before submit) is the source of truth."""

    def __init__(self, db: Store, handlers: dict[str, JobHandler], workers: int = 1) -> None:
        self.db = db
        self.handlers = handlers
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="citeline-job")

    def submit(self, job_id: str, kind: str) -> Future[None]:
        return self._pool.submit(self._run, job_id, kind)

    def recover(self) -> int:
        """Re-submit jobs left queued or running by a previous process; returns how many."""
        with self.db.read() as session:
            pending = session.execute(
                select(Job.id, Job.kind).where(Job.status.in_(["queued", "running"])).order_by(Job.created_at)
            ).all()
        for job_id, kind in pending:
            self.submit(job_id, kind)
        return len(pending)

    def shutdown(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)

    def _run(self, job_id: str, kind: str) -> None:
        handler = self.handlers[kind]
        try:
            handler(job_id)
        except Exception as exc:
            log.exception("job %s (%s) failed", job_id, kind)
            with self.db.transaction() as session:
                job = session.get(Job, job_id)
                if job is not None:
                    job.status = "failed"
                    job.error = f"{type(exc).__name__}: {exc}"
            raise
