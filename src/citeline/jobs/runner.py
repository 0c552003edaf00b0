"""Runs durable job rows in this process, one at a time, in a worker thread, under renewable leases.

A job is claimed with one conditional UPDATE (queued, or running with an expired lease), so two
processes sharing a database never run it twice. The worker renews the lease as it makes progress; a
reaper thread re-claims jobs whose lease ran out (their worker died), counting an attempt, and fails a
job cleanly after ``max_attempts``. No job stays "running" forever.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, and_, or_, select, update

from citeline.storage.base import Store
from citeline.storage.models import Job, utcnow

log = logging.getLogger(__name__)

TERMINAL = ("succeeded", "failed", "cancelled")


def finish_job(job: Job, status: str, error: str | None = None) -> None:
    """Put a job in a terminal state: no lease any more, and when it ended."""
    job.status, job.error, job.lease_until, job.finished_at = status, error, None, utcnow()


@dataclass(slots=True)
class JobContext:
    """Handed to a job handler: renew the lease and learn whether someone asked to cancel."""

    job_id: str
    heartbeat: Callable[[], bool]  # renews the lease; True when cancellation was requested


JobHandler = Callable[[JobContext], None]


class InProcessJobRunner:
    """Executes jobs by id; the job row (committed before submit) is the source of truth."""

    def __init__(
        self,
        db: Store,
        handlers: dict[str, JobHandler],
        *,
        workers: int = 1,
        lease_s: float = 60.0,
        max_attempts: int = 3,
    ) -> None:
        self.db = db
        self.handlers = handlers
        self.lease = timedelta(seconds=lease_s)
        self.max_attempts = max_attempts
        self.worker_id = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="citeline-job")
        self._pending: set[str] = set()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._reaper = threading.Thread(target=self._reap_forever, name="citeline-job-reaper", daemon=True)
        self._reaper.start()

    def submit(self, job_id: str, kind: str) -> Future[None]:
        with self._lock:
            self._pending.add(job_id)
        return self._pool.submit(self._run, job_id, kind)

    def recover(self) -> int:
        """Submit every job that is queued, or running under a lease that expired or whose worker is gone."""
        now = utcnow()
        with self.db.read() as session:
            rows = session.execute(
                select(Job.id, Job.kind, Job.status, Job.worker, Job.lease_until)
                .where(Job.status.in_(["queued", "running"]))
                .order_by(Job.created_at)
            ).all()
        submitted = 0
        for job_id, kind, status, worker, lease_until in rows:
            with self._lock:
                if job_id in self._pending:
                    continue
            expired = _expired(lease_until, now)
            if status == "queued" or expired or _worker_is_gone(worker):
                if status == "running" and not expired:
                    self._expire(job_id, worker)  # its process is dead: no need to wait out the lease
                self.submit(job_id, kind)
                submitted += 1
        return submitted

    def shutdown(self) -> None:
        self._stop.set()
        self._pool.shutdown(wait=True, cancel_futures=True)

    # -- internals --------------------------------------------------------------------------------
    def _run(self, job_id: str, kind: str) -> None:
        try:
            if not self._claim(job_id):
                return
            context = JobContext(job_id, lambda: self._heartbeat(job_id))
            try:
                self.handlers[kind](context)
            except Exception as exc:
                log.exception("job %s (%s) failed", job_id, kind)
                self._finish(job_id, "failed", f"{type(exc).__name__}: {exc}")
                raise
        finally:
            with self._lock:
                self._pending.discard(job_id)

    def _claim(self, job_id: str) -> bool:
        """Take the job if it is free; fail it instead when it has used up its attempts."""
        now = utcnow()
        claimable = or_(
            Job.status == "queued",
            and_(Job.status == "running", or_(Job.lease_until.is_(None), Job.lease_until < now)),
        )
        with self.db.transaction() as session:
            result = session.execute(
                update(Job)
                .where(Job.id == job_id, claimable)
                .values(
                    status="running",
                    worker=self.worker_id,
                    lease_until=now + self.lease,
                    attempts=Job.attempts + 1,
                )
            )
            if cast(CursorResult[Any], result).rowcount != 1:
                return False
            attempts = session.execute(select(Job.attempts).where(Job.id == job_id)).scalar_one()
        if attempts > self.max_attempts:
            reason = f"gave up after {self.max_attempts} attempts: the worker stopped each time"
            self._finish(job_id, "failed", reason)
            return False
        return True

    def _heartbeat(self, job_id: str) -> bool:
        with self.db.transaction() as session:
            session.execute(
                update(Job)
                .where(Job.id == job_id, Job.worker == self.worker_id)
                .values(lease_until=utcnow() + self.lease)
            )
            return bool(session.execute(select(Job.cancel_requested).where(Job.id == job_id)).scalar())

    def _finish(self, job_id: str, status: str, error: str | None) -> None:
        with self.db.transaction() as session:
            job = session.get(Job, job_id)
            if job is not None and job.status not in TERMINAL:
                finish_job(job, status, error)

    def _expire(self, job_id: str, worker: str | None) -> None:
        with self.db.transaction() as session:
            session.execute(
                update(Job).where(Job.id == job_id, Job.worker == worker).values(lease_until=utcnow())
            )

    def _reap_forever(self) -> None:
        interval = max(self.lease.total_seconds() / 3, 0.5)
        while not self._stop.wait(interval):
            try:
                count = self.recover()
            except Exception:  # the database may be briefly unavailable; try again next round
                log.warning("job reaper could not scan for orphaned jobs", exc_info=True)
                continue
            if count:
                log.info("re-claimed %d job(s) whose worker stopped", count)


def _expired(lease_until: datetime | None, now: datetime) -> bool:
    if lease_until is None:
        return True
    if lease_until.tzinfo is None:  # SQLite returns naive UTC datetimes
        lease_until = lease_until.replace(tzinfo=now.tzinfo)
    return lease_until < now


def _worker_is_gone(worker: str | None) -> bool:
    """True for a worker id of this host whose process no longer exists (restart after a crash)."""
    if not worker:
        return True
    host, _, rest = worker.partition(":")
    pid_text = rest.partition(":")[0]
    if host != socket.gethostname() or not pid_text.isdigit():
        return False
    pid = int(pid_text)
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False
