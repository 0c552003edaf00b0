"""Job lifecycle through the real app: progress events, cancel, and leases that outlive a dead worker."""

from __future__ import annotations

import io
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from citeline.config import Settings
from citeline.documents.service import DocumentService, UploadedFile
from citeline.storage.blobs import BlobStore
from citeline.storage.database import Database
from citeline.storage.models import Job, utcnow
from tests.conftest import MakeClient
from tests.helpers import read_sse

SENTENCES = [
    "The quarterly audit reviews every expense claim above the approval limit.",
    "Travel bookings go through the corporate portal unless the trip is urgent.",
    "Each team lead signs off the budget forecast before the finance review.",
]


def documents(count: int, prefix: str = "doc", version: str = "v1") -> list[dict[str, Any]]:
    return [
        {"external_id": f"{prefix}{i}", "text": f"{version} note {i}. " + " ".join(SENTENCES) * 3}
        for i in range(count)
    ]


def wait_until(client: TestClient, job_id: str, done: Any, timeout_s: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        job: dict[str, Any] = client.get(f"/api/v1/jobs/{job_id}").json()
        if done(job):
            return job
        time.sleep(0.02)
    raise AssertionError(f"job {job_id} never reached the state: {job}")


def read_events(client: TestClient, job_id: str) -> list[tuple[str, dict[str, Any]]]:
    return read_sse(client, "GET", f"/api/v1/jobs/{job_id}/events")


def test_progress_events_end_with_done(client: TestClient) -> None:
    queued = client.post("/api/v1/documents/batch", json={"documents": documents(12)}).json()
    events = read_events(client, queued["job_id"])
    names = [name for name, _ in events]
    assert names[-1] == "done" and names.count("done") == 1
    assert set(names[:-1]) <= {"progress"}
    progress = [data["progress"] for _, data in events]
    assert progress == sorted(progress)
    final = events[-1][1]
    assert (final["status"], final["progress"], final["total"]) == ("succeeded", 12, 12)
    assert final["lease_until"] is None and final["finished_at"] is not None
    assert client.get("/api/v1/jobs/nope/events").status_code == 404


def test_cancel_running_and_queued_jobs(client: TestClient) -> None:
    first = client.post("/api/v1/documents/batch", json={"documents": documents(60)}).json()
    second = client.post("/api/v1/documents/batch", json={"documents": documents(5, "late")}).json()

    cancelled_queued = client.post(f"/api/v1/jobs/{second['job_id']}/cancel")
    assert cancelled_queued.status_code == 202
    assert cancelled_queued.json()["status"] == "cancelled"

    wait_until(client, first["job_id"], lambda job: job["progress"] >= 2)
    assert client.post(f"/api/v1/jobs/{first['job_id']}/cancel").status_code == 202
    job = wait_until(client, first["job_id"], lambda job: job["status"] == "cancelled")
    assert 2 <= job["progress"] < 60
    assert "not indexed" in job["error"]

    docs = client.get("/api/v1/documents", params={"limit": 100}).json()["items"]
    statuses: dict[str, int] = {}
    for doc in docs:
        statuses[doc["status"]] = statuses.get(doc["status"], 0) + 1
    assert statuses == {"indexed": job["progress"], "cancelled": 65 - job["progress"]}
    hits = client.post("/api/v1/search", json={"query": "late note", "top_k": 50}).json()["results"]
    assert all(not hit["external_id"].startswith("late") for hit in hits)

    again = client.post(f"/api/v1/jobs/{first['job_id']}/cancel")
    assert (again.status_code, again.json()["code"]) == (409, "job_finished")
    assert client.post("/api/v1/jobs/nope/cancel").status_code == 404


def _orphan(data: Path, *, attempts: int, worker: str) -> str:
    """Commit an upload and mark its job as held by ``worker`` under a lease that ran out."""
    db = Database(Settings(data_dir=data).sqlalchemy_url)

    class Nowhere:
        def submit(self, job_id: str, kind: str) -> None:
            return None

    service = DocumentService(db, BlobStore(data / "blobs"), Nowhere(), None)  # type: ignore[arg-type]
    upload = UploadedFile("orphan.txt", "text/plain", io.BytesIO(b"The orphaned job text."))
    queued, _ = service.queue_files([upload], None, {})
    assert queued.job_id is not None
    with db.transaction() as session:
        job = session.get(Job, queued.job_id)
        assert job is not None
        job.status, job.worker, job.attempts = "running", worker, attempts
        job.lease_until = utcnow() - timedelta(seconds=5)
    db.dispose()
    return queued.job_id


def test_a_job_whose_worker_died_is_claimed_again(make_client: MakeClient, tmp_path: Path) -> None:
    data = tmp_path / "data"
    make_client(data).__exit__(None, None, None)  # create the schema
    job_id = _orphan(data, attempts=1, worker="another-host:4242:dead")
    client = make_client(data, job_lease_s=1)
    job = wait_until(client, job_id, lambda job: job["status"] == "succeeded")
    assert job["attempts"] == 2
    assert client.post("/api/v1/search", json={"query": "orphaned job"}).json()["results"]


def test_a_job_that_keeps_dying_fails_cleanly(make_client: MakeClient, tmp_path: Path) -> None:
    data = tmp_path / "data"
    make_client(data).__exit__(None, None, None)
    job_id = _orphan(data, attempts=3, worker="another-host:4242:dead")
    client = make_client(data, job_lease_s=1, job_max_attempts=3)
    job = wait_until(client, job_id, lambda job: job["status"] == "failed")
    assert "gave up after 3 attempts" in job["error"]
    assert job["lease_until"] is None


def test_a_live_lease_is_not_stolen(make_client: MakeClient, tmp_path: Path) -> None:
    data = tmp_path / "data"
    make_client(data).__exit__(None, None, None)
    job_id = _orphan(data, attempts=1, worker="another-host:4242:alive")
    db = Database(Settings(data_dir=data).sqlalchemy_url)
    with db.transaction() as session:
        job = session.get(Job, job_id)
        assert job is not None
        job.lease_until = utcnow() + timedelta(seconds=600)  # its worker is still renewing
    db.dispose()
    client = make_client(data, job_lease_s=1)
    time.sleep(1.5)  # several reaper rounds
    job = client.get(f"/api/v1/jobs/{job_id}").json()
    assert (job["status"], job["attempts"], job["worker"]) == ("running", 1, "another-host:4242:alive")
