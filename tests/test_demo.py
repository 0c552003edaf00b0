"""The README's demo: the FastAPI docs, and a question whose answer is on the query-parameters page."""

from __future__ import annotations

import pytest

from tests.conftest import MakeClient
from tests.helpers import SHARED_DATA

FASTAPI_DOCS = SHARED_DATA / "fastapi-docs"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not FASTAPI_DOCS.is_dir(), reason="../shared/data/fastapi-docs is not present"),
]


def test_fastapi_docs_optional_query_parameter(make_client: MakeClient) -> None:
    client = make_client(corpus_dir=FASTAPI_DOCS)
    ingested = client.post("/ingest").json()
    assert ingested["documents"] >= 150
    assert ingested["failed"] == []

    result = client.post("/query", json={"question": "How do I declare an optional query parameter?"}).json()
    sources = [s["source"] for s in result["sources"]]
    assert "en/docs/tutorial/query-params.md" in sources[:3]
    assert result["answerable"] is True
    assert "None" in result["answer"]
