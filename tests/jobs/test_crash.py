"""A real `citeline serve` killed with SIGKILL in the middle of an ingest job, then restarted."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, text

from citeline.config import Settings
from citeline.storage.database import Database
from citeline.storage.models import Chunk, Document

pytestmark = pytest.mark.slow

COUNT = 80
FILLER = " The policy applies to every office and every contractor working on site."


def batch(version: str) -> list[dict[str, Any]]:
    return [
        {
            "external_id": f"doc{i}",
            "text": f"Revision {version} of record {i}: item {i} is {version}." + FILLER,
        }
        for i in range(COUNT)
    ]


@contextmanager
def serve(data: Path) -> Iterator[tuple[subprocess.Popen[bytes], httpx.Client]]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {**os.environ, "CITELINE_DATA_DIR": str(data), "CITELINE_JOB_LEASE_S": "2"}
    command = [
        str(Path(sys.executable).parent / "citeline"),
        "serve",
        "--port",
        str(port),
        "--log-level",
        "warning",
    ]
    process = subprocess.Popen(command, env=env)
    client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if client.get("/ready").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        else:
            raise AssertionError("server did not become ready")
        yield process, client
    finally:
        client.close()
        if process.poll() is None:
            process.terminate()
            process.wait(timeout=30)


def chunk_texts(data: Path) -> dict[str, list[str]]:
    """external id -> texts of its chunks, straight from the database file."""
    db = Database(Settings(data_dir=data).sqlalchemy_url)
    try:
        with db.read() as session:
            rows = session.execute(
                select(Document.external_id, Chunk.text).join(Chunk, Chunk.document_id == Document.id)
            ).all()
            fts_rows = session.execute(text("SELECT count(*) FROM chunks_fts")).scalar_one()
            chunk_rows = session.execute(select(func.count()).select_from(Chunk)).scalar_one()
            assert fts_rows == chunk_rows, "lexical index and chunks disagree"
    finally:
        db.dispose()
    texts: dict[str, list[str]] = {}
    for external_id, chunk_text in rows:
        texts.setdefault(str(external_id), []).append(chunk_text)
    return texts


def test_sigkill_mid_job_then_restart_resumes_without_loss_or_duplicates(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with serve(data) as (process, client):
        one = client.post("/api/v1/documents/batch?wait=true", json={"documents": batch("one")})
        assert one.status_code == 200
        job_id = client.post("/api/v1/documents/batch", json={"documents": batch("two")}).json()["job_id"]
        deadline = time.monotonic() + 60
        while client.get(f"/api/v1/jobs/{job_id}").json()["progress"] < 10:
            assert time.monotonic() < deadline, "the update job made no progress"
            time.sleep(0.05)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)

    # Dead mid-job: every document still has exactly one version, old or new, and nothing is lost.
    texts = chunk_texts(data)
    assert len(texts) == COUNT
    versions = {doc: {"one" if "one" in t else "two" for t in chunks} for doc, chunks in texts.items()}
    assert all(len(chunks) == 1 for chunks in texts.values()), "duplicate chunks"
    updated = sum(found == {"two"} for found in versions.values())
    assert 10 <= updated < COUNT

    with serve(data) as (_, client):
        deadline = time.monotonic() + 120
        while (job := client.get(f"/api/v1/jobs/{job_id}").json())["status"] != "succeeded":
            assert job["status"] in ("queued", "running"), job
            assert time.monotonic() < deadline, job
            time.sleep(0.1)
        assert job["attempts"] == 2
        assert job["progress"] == job["total"] == COUNT
        body = {"query": "Revision two of record 7", "top_k": 3}
        assert "two" in client.post("/api/v1/search", json=body).json()["results"][0]["text"]

        again = client.post("/api/v1/documents/batch?wait=true", json={"documents": batch("two")}).json()
        assert {d["status"] for d in again["documents"]} == {"unchanged"}
        rerun = client.get(f"/api/v1/jobs/{again['job_id']}").json()
        assert sum(d["embedded"] for d in rerun["result"]["documents"].values()) == 0

    texts = chunk_texts(data)
    assert all(len(chunks) == 1 and "two" in chunks[0] for chunks in texts.values())
