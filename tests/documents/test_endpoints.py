"""Uploading, upserting, listing, reading, patching and deleting documents over HTTP."""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path

from fastapi.testclient import TestClient

from tests.conftest import MakeClient
from tests.helpers import make_docx, make_pdf


def search(client: TestClient, query: str, **extra: object) -> list[dict[str, object]]:
    response = client.post("/api/v1/search", json={"query": query, **extra})
    assert response.status_code == 200, response.text
    results: list[dict[str, object]] = response.json()["results"]
    return results


def test_upload_every_supported_format_and_find_each(client: TestClient) -> None:
    pdf = make_pdf(
        [["The cafeteria opens at 07:30 on weekdays."], ["Visitors must sign in at the reception desk."]]
    )
    docx = make_docx("Fleet policy", ["Company cars are replaced every four years or after 120,000 km."])
    files = [
        ("files", ("notes.txt", b"The quarterly all-hands meeting is held in the atrium.", "text/plain")),
        (
            "files",
            ("guide.md", b"# Guide\n\n## Parking\n\nBicycle parking is in the basement.", "text/markdown"),
        ),
        (
            "files",
            ("page.html", b"<h1>Wifi</h1><p>The guest wifi password rotates every Monday.</p>", "text/html"),
        ),
        ("files", ("building.pdf", pdf, "application/pdf")),
        ("files", ("fleet.docx", docx, "application/octet-stream")),
    ]
    response = client.post("/api/v1/documents?wait=true", files=files)
    assert response.status_code == 200, response.text
    docs = {d["filename"]: d for d in response.json()["documents"]}
    assert {d["status"] for d in docs.values()} == {"indexed"}

    assert search(client, "when does the cafeteria open")[0]["source"] == "building.pdf"
    visitors = search(client, "where do visitors sign in")[0]
    assert (visitors["source"], visitors["page"]) == ("building.pdf", 2)
    assert search(client, "how often are company cars replaced")[0]["source"] == "fleet.docx"
    bike = search(client, "bicycle parking")[0]
    assert bike["source"] == "guide.md"
    assert bike["heading_path"][-1] == "Parking"
    assert search(client, "guest wifi password")[0]["source"] == "page.html"

    listed = client.get("/api/v1/documents").json()
    assert listed["total"] == 5
    mimes = {d["source"]: d["mime"] for d in listed["items"]}
    assert mimes["fleet.docx"].endswith("wordprocessingml.document")
    assert mimes["building.pdf"] == "application/pdf"


def test_upload_without_wait_returns_202_and_a_job_to_follow(client: TestClient) -> None:
    response = client.post(
        "/api/v1/documents", files=[("files", ("a.txt", b"Alpha beta gamma delta.", "text/plain"))]
    )
    assert response.status_code == 202
    job_id = response.json()["job_id"]
    for _ in range(200):
        job = client.get(f"/api/v1/jobs/{job_id}").json()
        if job["status"] == "succeeded":
            break
        time.sleep(0.05)
    assert job["status"] == "succeeded"
    assert (job["progress"], job["total"]) == (1, 1)
    doc_id = response.json()["documents"][0]["id"]
    assert job["result"]["documents"][doc_id]["status"] == "indexed"
    assert client.get("/api/v1/jobs/nope").json()["code"] == "job_not_found"


def test_chunk_offsets_point_into_the_extracted_text(handbook_client: TestClient) -> None:
    doc = handbook_client.get("/api/v1/documents", params={"external_id": "leave-policy.md"}).json()["items"][
        0
    ]
    full = handbook_client.get(f"/api/v1/documents/{doc['id']}", params={"include_text": "true"}).json()
    chunks = handbook_client.get(f"/api/v1/documents/{doc['id']}/chunks").json()
    assert len(chunks) == doc["chunk_count"] >= 2
    for chunk in chunks:
        assert full["text"][chunk["start"] : chunk["end"]] == chunk["text"]
    assert any(chunk["heading_path"][-1:] == ["Sick leave"] for chunk in chunks)


def test_unsupported_and_unreadable_files_get_clear_4xx(client: TestClient) -> None:
    png = client.post(
        "/api/v1/documents", files=[("files", ("logo.png", b"\x89PNG\r\n\x1a\n" + bytes(64), "image/png"))]
    )
    assert png.status_code == 415
    assert png.json()["code"] == "unsupported_media_type"
    assert "logo.png" in png.json()["detail"]

    broken = client.post(
        "/api/v1/documents?wait=true",
        files=[("files", ("broken.pdf", b"%PDF-1.7\n garbage", "application/pdf"))],
    )
    assert broken.status_code == 400
    assert broken.json()["code"] == "document_unreadable"
    assert "broken.pdf" in broken.json()["detail"]

    mixed = client.post(
        "/api/v1/documents?wait=true",
        files=[
            ("files", ("ok.txt", b"A perfectly readable note about lunch.", "text/plain")),
            ("files", ("logo.png", b"\x89PNG\r\n\x1a\n" + bytes(64), "image/png")),
        ],
    )
    assert mixed.status_code == 200
    statuses = {d["filename"]: d["status"] for d in mixed.json()["documents"]}
    assert statuses == {"ok.txt": "indexed", "logo.png": "rejected"}

    bad_meta = client.post(
        "/api/v1/documents", data={"metadata": "[1, 2]"}, files=[("files", ("x.txt", b"text", "text/plain"))]
    )
    assert bad_meta.status_code == 400
    assert "metadata" in bad_meta.json()["detail"]

    missing = client.post("/api/v1/documents", data={"collection": "x"})
    assert missing.status_code == 422
    assert missing.json()["code"] == "validation_error"


def _stored_vectors(data_dir: Path) -> dict[str, bytes]:
    with sqlite3.connect(data_dir / "citeline.db") as db:
        return dict(db.execute("SELECT content_hash, vector FROM embeddings").fetchall())


def test_a_chunk_vector_does_not_depend_on_what_it_was_ingested_with(
    make_client: MakeClient, tmp_path: Path
) -> None:
    """The same document indexed alone, or in one job beside longer and shorter ones, gets the very same
    vectors: batching would let the int8 model's per-call activation scale leak between texts."""
    doc = {"external_id": "a", "title": "Leave", "text": "Staff get 25 days of paid leave a year."}
    others = [
        {"external_id": "b", "title": "Travel", "text": "Book trains over flights under 500 km. " * 30},
        {"external_id": "c", "title": "Badge", "text": "Wear it."},
    ]
    alone, together = tmp_path / "alone", tmp_path / "together"
    for data_dir, docs in ((alone, [doc]), (together, [others[0], doc, others[1]])):
        response = make_client(data_dir).post("/api/v1/documents/batch?wait=true", json={"documents": docs})
        assert {d["status"] for d in response.json()["documents"]} == {"indexed"}, response.text
    vectors_alone, vectors_together = _stored_vectors(alone), _stored_vectors(together)
    assert vectors_alone and len(vectors_together) > len(vectors_alone)
    assert {h: vectors_together[h] for h in vectors_alone} == vectors_alone


def test_batch_upsert_by_external_id_replaces_old_text(client: TestClient) -> None:
    doc = {
        "external_id": "policy-7",
        "title": "Remote work",
        "text": "Staff may work remotely two days a week.",
    }
    first = client.post("/api/v1/documents/batch?wait=true", json={"documents": [doc]})
    assert first.status_code == 200
    doc_id = first.json()["documents"][0]["id"]

    same = client.post("/api/v1/documents/batch?wait=true", json={"documents": [doc]}).json()
    assert same["documents"][0] == {**same["documents"][0], "id": doc_id, "status": "unchanged"}

    changed = {**doc, "text": "Staff may work remotely four days a week, from any EU country."}
    client.post("/api/v1/documents/batch?wait=true", json={"documents": [changed]})
    stored = client.get(f"/api/v1/documents/{doc_id}").json()
    assert stored["version"] == 2
    assert client.get("/api/v1/documents").json()["total"] == 1
    texts = [r["text"] for r in search(client, "how many days may staff work remotely")]
    assert any("four days" in t for t in texts)
    assert not any("two days" in t for t in texts)


def test_batch_validation_errors_are_422_with_a_code(client: TestClient) -> None:
    response = client.post("/api/v1/documents/batch", json={"documents": [{"external_id": "", "text": "x"}]})
    assert response.status_code == 422
    assert response.json()["code"] == "validation_error"
    assert response.json()["detail"][0]["loc"][-1] == "external_id"
    assert (
        client.post(
            "/api/v1/documents/batch", content=b"{not json", headers={"content-type": "application/json"}
        ).status_code
        == 422
    )


def test_patch_and_delete(handbook_client: TestClient) -> None:
    client = handbook_client
    doc = client.get("/api/v1/documents", params={"external_id": "expenses.txt"}).json()["items"][0]
    patched = client.patch(f"/api/v1/documents/{doc['id']}", json={"metadata": {"team": "finance"}})
    assert patched.json()["metadata"] == {"team": "finance"}
    assert search(client, "hotel costs per night", filters={"team": "finance"})[0]["document_id"] == doc["id"]
    assert search(client, "hotel costs per night", filters={"team": "legal"}) == []

    assert client.delete(f"/api/v1/documents/{doc['id']}").status_code == 204
    assert client.get(f"/api/v1/documents/{doc['id']}").json()["code"] == "document_not_found"
    assert all(r["document_id"] != doc["id"] for r in search(client, "hotel costs per night", top_k=50))
    assert client.delete(f"/api/v1/documents/{doc['id']}").status_code == 404
    assert client.get("/ready").json()["documents"] == 2


def test_collections_scope_search(client: TestClient) -> None:
    for name, text in (
        ("hr", "Onboarding takes two weeks."),
        ("it", "Onboarding laptops are shipped on day one."),
    ):
        client.post(
            "/api/v1/documents/batch?wait=true",
            json={"collection": name, "documents": [{"external_id": "onboarding", "text": text}]},
        )
    assert client.get("/api/v1/documents").json()["total"] == 2  # same external_id, two collections
    hr = search(client, "onboarding", collection="hr")
    assert [r["text"] for r in hr] == ["Onboarding takes two weeks."]
    missing = client.post("/api/v1/search", json={"query": "x", "collection": "nope"})
    assert (missing.status_code, missing.json()["code"]) == (404, "collection_not_found")
    assert client.get("/api/v1/documents", params={"collection": "it"}).json()["total"] == 1


def test_metadata_form_field_is_stored(client: TestClient) -> None:
    response = client.post(
        "/api/v1/documents?wait=true",
        data={"metadata": json.dumps({"year": 2026, "public": True})},
        files=[("files", ("a.txt", b"Annual report summary.", "text/plain"))],
    )
    doc_id = response.json()["documents"][0]["id"]
    assert client.get(f"/api/v1/documents/{doc_id}").json()["metadata"] == {"year": 2026, "public": True}
    assert search(client, "annual report", filters={"year": 2026, "public": True})[0]["document_id"] == doc_id
