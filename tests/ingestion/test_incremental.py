"""Re-ingest embeds only what changed, and the switch to the new version is all or nothing."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

SECTIONS = {
    "Leave": "Staff get 25 days of paid leave each year.",
    "Travel": "Economy class is the default for flights under six hours.",
    "Equipment": "Laptops are replaced every four years.",
}


def markdown(sections: dict[str, str]) -> bytes:
    return "\n\n".join(f"# {title}\n\n{text}" for title, text in sections.items()).encode()


def upload(client: TestClient, data: bytes) -> dict[str, Any]:
    files = [("files", ("policy.md", data, "text/markdown"))]
    body = client.post("/api/v1/documents?wait=true", files=files).json()
    job: dict[str, Any] = client.get(f"/api/v1/jobs/{body['job_id']}").json()
    outcome: dict[str, Any] = next(iter(job["result"]["documents"].values()))
    return outcome


def test_a_changed_file_embeds_only_its_new_chunks(client: TestClient) -> None:
    first = upload(client, markdown(SECTIONS))
    assert (first["status"], first["chunks"], first["embedded"]) == ("indexed", 3, 3)

    same = upload(client, markdown(SECTIONS))
    assert (same["status"], same["embedded"]) == ("unchanged", 0)

    edited = {**SECTIONS, "Travel": "Business class is allowed for flights over six hours."}
    second = upload(client, markdown(edited))
    assert (second["status"], second["chunks"], second["embedded"]) == ("indexed", 3, 1)
    hits = client.post("/api/v1/search", json={"query": "business class flights"}).json()["results"]
    assert "Business class" in hits[0]["text"]
    assert all("Economy class" not in h["text"] for h in hits)

    back = upload(client, markdown(SECTIONS))  # the old text's vector is still stored by content hash
    assert (back["status"], back["embedded"]) == ("indexed", 0)


def test_a_failed_update_keeps_the_previous_version_searchable(client: TestClient) -> None:
    assert upload(client, markdown(SECTIONS))["status"] == "indexed"
    files = [("files", ("policy.md", b"   \n\n  ", "text/markdown"))]  # same name, nothing readable
    broken = client.post("/api/v1/documents?wait=true", files=files)
    assert (broken.status_code, broken.json()["code"]) == (400, "document_unreadable")
    assert "policy.md" in broken.json()["detail"]
    doc = client.get("/api/v1/documents", params={"external_id": "policy.md"}).json()["items"][0]
    assert (doc["status"], doc["version"], doc["chunk_count"]) == ("indexed", 1, 3)
    assert "no text" in doc["error"]
    hits = client.post("/api/v1/search", json={"query": "paid leave days"}).json()["results"]
    assert hits and hits[0]["document_id"] == doc["id"]
