"""ZIP uploads: members are indexed one by one; bombs, nesting and bad members are refused per file."""

from __future__ import annotations

import io
import zipfile

from fastapi.testclient import TestClient

from tests.conftest import MakeClient


def make_zip(members: dict[str, bytes], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def upload(client: TestClient, name: str, data: bytes) -> dict[str, object]:
    response = client.post("/api/v1/documents?wait=true", files=[("files", (name, data, "application/zip"))])
    assert response.status_code in (200, 400, 415), response.text
    body: dict[str, object] = response.json()
    return body


def test_members_are_indexed_as_separate_documents(client: TestClient) -> None:
    inner = make_zip({"deep.txt": b"Nested archives are not unpacked."})
    archive = make_zip(
        {
            "policies/leave.md": b"# Leave\n\nStaff get 25 days of paid leave.",
            "policies/": b"",
            "../../etc/escape.txt": b"The escape hatch is in the basement.",
            "photo.png": b"\x89PNG\r\n\x1a\n" + bytes(16),
            "inner.zip": inner,
        }
    )
    body = upload(client, "handbook.zip", archive)
    outcome = {d["filename"]: d for d in body["documents"]}  # type: ignore[union-attr]
    assert outcome["handbook.zip/policies/leave.md"]["status"] == "indexed"
    assert outcome["handbook.zip/etc/escape.txt"]["status"] == "indexed"  # '..' dropped from the label
    assert outcome["handbook.zip/photo.png"]["status"] == "rejected"
    assert "PNG" in outcome["handbook.zip/photo.png"]["error"]
    assert outcome["handbook.zip/inner.zip"]["status"] == "rejected"
    assert "nested archives" in outcome["handbook.zip/inner.zip"]["error"]

    hits = client.post("/api/v1/search", json={"query": "paid leave days"}).json()["results"]
    assert hits[0]["source"] == "handbook.zip/policies/leave.md"
    again = upload(client, "handbook.zip", archive)
    statuses = {d["filename"]: d["status"] for d in again["documents"]}  # type: ignore[union-attr]
    assert statuses["handbook.zip/policies/leave.md"] == "unchanged"


def test_a_zip_bomb_member_is_refused(client: TestClient) -> None:
    archive = make_zip(
        {"bomb.txt": b"0" * (20 * 1024 * 1024), "ok.txt": b"A normal small file about invoices."}
    )
    assert len(archive) < 100_000
    body = upload(client, "bomb.zip", archive)
    outcome = {d["filename"]: d for d in body["documents"]}  # type: ignore[union-attr]
    assert outcome["bomb.zip/bomb.txt"]["status"] == "rejected"
    assert "archive bomb" in outcome["bomb.zip/bomb.txt"]["error"]
    assert outcome["bomb.zip/ok.txt"]["status"] == "indexed"


def test_archives_over_the_unpacked_limit_or_damaged_are_refused_whole(make_client: MakeClient) -> None:
    client = make_client(max_unpacked_mb=1)
    big = make_zip({f"part{i}.txt": bytes(range(256)) * 1200 for i in range(4)}, zipfile.ZIP_STORED)
    response = client.post("/api/v1/documents", files=[("files", ("big.zip", big, "application/zip"))])
    assert response.status_code == 415
    assert "over the 1 MiB limit" in response.json()["detail"]

    damaged = make_zip({"a.txt": b"hello"})[:30]
    response = client.post(
        "/api/v1/documents", files=[("files", ("damaged.zip", damaged, "application/zip"))]
    )
    assert response.status_code == 415
    assert "not a valid ZIP archive" in response.json()["detail"]
