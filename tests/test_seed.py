"""The seed guide's endpoints keep their contract: /health, /ready, /ingest, /query."""

from __future__ import annotations

import shutil
from pathlib import Path

from fastapi.testclient import TestClient

from tests.conftest import MakeClient
from tests.helpers import HANDBOOK


def test_health_and_ready(client: TestClient) -> None:
    assert client.get("/health").json()["status"] == "healthy"
    ready = client.get("/ready")
    assert ready.status_code == 200
    assert ready.json() == {
        "status": "ready",
        "documents": 0,
        "chunks": 0,
        "embedding_model": "all-MiniLM-L6-v2-int8",
    }


def test_query_before_ingest_is_400_with_the_seed_message(client: TestClient) -> None:
    for path in ("/query", "/api/v1/query"):
        response = client.post(path, json={"question": "How many days of annual leave?"})
        assert response.status_code == 400
        assert response.json() == {
            "detail": "Document not ingested yet. Please call /ingest first.",
            "code": "index_empty",
        }


def test_bare_ingest_without_corpus_dir_explains_what_to_do(client: TestClient) -> None:
    response = client.post("/ingest")
    assert response.status_code == 400
    assert "CITELINE_CORPUS_DIR" in response.json()["detail"]


def test_bare_ingest_reads_the_corpus_folder_then_query_answers(
    make_client: MakeClient, tmp_path: Path
) -> None:
    corpus = tmp_path / "corpus"
    shutil.copytree(HANDBOOK, corpus / "handbook")
    (corpus / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(100))
    client = make_client(corpus_dir=corpus)

    response = client.post("/ingest")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["documents"] == 3
    assert body["chunks_created"] >= 3
    assert [f["filename"] for f in body["failed"]] == ["logo.png"]

    again = client.post("/ingest").json()  # unchanged files: no new chunks
    assert again["documents"] == 3
    assert again["chunks_created"] == 0

    answer = client.post("/query", json={"question": "How many days of paid annual leave do employees get?"})
    assert answer.status_code == 200
    result = answer.json()
    assert result["answerable"] is True
    assert "25 days" in result["answer"]
    assert result["sources"][0]["external_id"] == "handbook/leave-policy.md"


def test_ingest_accepts_multipart_files(client: TestClient) -> None:
    files = [("files", ("expenses.txt", (HANDBOOK / "expenses.txt").read_bytes(), "text/plain"))]
    body = client.post("/ingest", files=files).json()
    assert body["documents"] == 1
    assert body["chunks_created"] >= 1
    assert client.get("/ready").json()["documents"] == 1


def test_openapi_docs_are_served(client: TestClient) -> None:
    assert client.get("/docs").status_code == 200
    assert client.get("/redoc").status_code == 200
    paths = client.get("/openapi.json").json()["paths"]
    assert {
        "/api/v1/documents",
        "/api/v1/documents/batch",
        "/api/v1/search",
        "/api/v1/query",
        "/query",
    } <= set(paths)
