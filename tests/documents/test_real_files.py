"""Every real file in pdf-samples and mixed-formats, uploaded through the API: indexed, or refused with a
reason naming the file; never a 500, a crash or a hang."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.helpers import SHARED_DATA

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not SHARED_DATA.is_dir(), reason="../shared/data is not present"),
]
# Long books kept out so the suite stays fast; their formats are covered by smaller files.
SKIPPED = {"handbook-872p.docx", "DA-619p.pdf", "book-war-and-peace-1225p.txt", "winter-sports.epub"}
PER_REQUEST = 12


@pytest.mark.parametrize("folder", ["pdf-samples", "mixed-formats"])
def test_every_file_is_indexed_or_refused_with_a_reason(client: TestClient, folder: str) -> None:
    root = SHARED_DATA / folder
    paths = sorted(p for p in root.rglob("*") if p.is_file() and p.name not in SKIPPED)
    counts: dict[str, int] = {}
    for offset in range(0, len(paths), PER_REQUEST):
        group: list[Path] = paths[offset : offset + PER_REQUEST]
        files = [("files", (str(p.relative_to(root)), p.read_bytes(), None)) for p in group]
        response = client.post("/api/v1/documents?wait=true", files=files)
        assert response.status_code in (200, 400, 415), response.text
        body = response.json()
        if response.status_code != 200:  # every file of the request was refused: one error names them
            assert body["code"] in ("document_unreadable", "unsupported_media_type"), body
            assert all(p.name in body["detail"] for p in group), body["detail"]
            counts["refused (whole request)"] = counts.get("refused (whole request)", 0) + len(group)
            continue
        for doc in body["documents"]:
            counts[doc["status"]] = counts.get(doc["status"], 0) + 1
            assert doc["status"] in ("indexed", "unchanged", "failed", "rejected"), doc
            if doc["status"] in ("failed", "rejected"):
                assert doc["error"] and doc["filename"] in doc["error"], doc
    print(f"\n{folder}: {len(paths)} files -> {counts}")
    assert counts.get("indexed", 0) + counts.get("unchanged", 0) >= len(paths) // 2
    ready = client.get("/ready").json()
    assert ready["documents"] >= counts.get("indexed", 0)
