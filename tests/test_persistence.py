"""Data lives in CITELINE_DATA_DIR and survives restarts; unfinished jobs resume."""

from __future__ import annotations

import io
import time
from pathlib import Path

from citeline.config import Settings
from citeline.documents.service import DocumentService, UploadedFile
from citeline.storage.blobs import BlobStore
from citeline.storage.database import Database
from tests.conftest import MakeClient
from tests.helpers import handbook_files


def test_index_survives_a_restart(make_client: MakeClient, tmp_path: Path) -> None:
    data = tmp_path / "data"
    first = make_client(data)
    assert first.post("/api/v1/documents?wait=true", files=handbook_files()).status_code == 200
    before = first.post("/api/v1/search", json={"query": "doctor's note"}).json()["results"]
    first.__exit__(None, None, None)

    second = make_client(data)
    assert second.get("/ready").json()["documents"] == 3
    after = second.post("/api/v1/search", json={"query": "doctor's note"}).json()["results"]
    assert [r["chunk_id"] for r in after] == [r["chunk_id"] for r in before]
    answer = second.post("/query", json={"question": "When is a doctor's note required?"}).json()
    assert "three consecutive days" in answer["answer"]


class CrashedRunner:
    """A process that dies after committing the upload, before its job runs."""

    def submit(self, job_id: str, kind: str) -> None:
        return None


def test_queued_job_left_by_a_crash_runs_on_start(make_client: MakeClient, tmp_path: Path) -> None:
    data = tmp_path / "data"
    make_client(data).__exit__(None, None, None)  # create the schema
    db = Database(Settings(data_dir=data).sqlalchemy_url)
    service = DocumentService(db, BlobStore(data / "blobs"), CrashedRunner(), None)  # type: ignore[arg-type]
    upload = UploadedFile("vault.txt", "text/plain", io.BytesIO(b"The vault code changes monthly."))
    queued, _ = service.queue_files([upload], None, {})
    db.dispose()

    restarted = make_client(data)
    for _ in range(200):
        job = restarted.get(f"/api/v1/jobs/{queued.job_id}").json()
        if job["status"] == "succeeded":
            break
        time.sleep(0.05)
    assert job["status"] == "succeeded"
    hits = restarted.post("/api/v1/search", json={"query": "vault code"}).json()["results"]
    assert hits[0]["source"] == "vault.txt"


def test_an_older_database_is_upgraded_in_place(tmp_path: Path) -> None:
    """Columns and indexes added since a database was made are created at start; ACLs set before the
    ACL version existed still count (the version starts above 0)."""
    import sqlite3

    path = tmp_path / "old.db"
    Database(f"sqlite:///{path}").create_schema()
    with sqlite3.connect(path) as old:
        old.execute("DROP INDEX ix_documents_acl")
        old.execute("DROP INDEX ix_collections_owner_id")
        for table, column in (
            ("index_state", "acl_version"),
            ("jobs", "created_by"),
            ("collections", "owner_id"),
        ):
            old.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
    Database(f"sqlite:///{path}").create_schema()
    with sqlite3.connect(path) as upgraded:
        assert upgraded.execute("SELECT acl_version FROM index_state").fetchone() == (1,)
        for index in ("ix_documents_acl", "ix_collections_owner_id"):
            assert upgraded.execute("SELECT name FROM sqlite_master WHERE name = ?", (index,)).fetchone()
        assert "created_by" in [row[1] for row in upgraded.execute("PRAGMA table_info(jobs)")]
    Database(f"sqlite:///{path}").create_schema()  # a second start changes nothing
    with sqlite3.connect(path) as again:
        assert again.execute("SELECT acl_version FROM index_state").fetchone() == (1,)
