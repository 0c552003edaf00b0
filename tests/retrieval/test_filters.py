"""Metadata filters (equality, in, numeric and date ranges) applied inside every retriever."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

MODES = ("lexical", "vector", "hybrid")


def _doc(external_id: str, text: str, **metadata: Any) -> dict[str, Any]:
    return {"external_id": external_id, "text": text, "metadata": metadata}


REPORTS = [
    _doc("r2019", "Quarterly revenue report for the sales team.", year=2019, team="sales", date="2019-06-30"),
    _doc("r2021", "Quarterly revenue report for the sales team.", year=2021, team="sales", date="2021-03-31"),
    _doc("r2022", "Quarterly revenue report for finance.", year=2022, team="finance", date="2022-09-30"),
    _doc("r2024", "Quarterly revenue report for finance.", year=2024.5, team="finance", date="2024-01-15"),
    _doc("rtext", "Quarterly revenue report, year unknown.", year="2023", team="legal", audited=True),
    _doc("rnone", "Quarterly revenue report without metadata."),
]


@pytest.fixture(scope="module")
def reports_client(tmp_path_factory: pytest.TempPathFactory, embedder: Any) -> Any:
    from citeline.app import create_app
    from citeline.config import Settings

    settings = Settings(data_dir=tmp_path_factory.mktemp("filters"), environment="test")
    with TestClient(create_app(settings, embedder=embedder)) as client:
        response = client.post("/api/v1/documents/batch?wait=true", json={"documents": REPORTS})
        assert response.status_code == 200, response.text
        yield client


def found(client: TestClient, filters: dict[str, Any], mode: str, top_k: int = 10) -> set[str]:
    body = {"query": "quarterly revenue report", "top_k": top_k, "mode": mode, "filters": filters}
    response = client.post("/api/v1/search", json=body)
    assert response.status_code == 200, response.text
    return {hit["external_id"] for hit in response.json()["results"]}


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"team": "finance"}, {"r2022", "r2024"}),
        ({"team": ["sales", "legal"]}, {"r2019", "r2021", "rtext"}),
        ({"team": {"in": ["legal"]}}, {"rtext"}),
        ({"year": 2021}, {"r2021"}),
        ({"year": {"gte": 2021}}, {"r2021", "r2022", "r2024"}),  # "2023" is text, not a number
        ({"year": {"gt": 2021, "lte": 2024.5}}, {"r2022", "r2024"}),
        ({"year": {"lt": 2020}}, {"r2019"}),
        ({"date": {"gte": "2021-01-01", "lt": "2024-01-01"}}, {"r2021", "r2022"}),
        ({"date": {"gte": "2024-01-01T00:00:00"}}, {"r2024"}),
        ({"team": "sales", "year": {"gte": 2020}}, {"r2021"}),
        ({"audited": True}, {"rtext"}),
        ({"audited": False}, set()),
        ({"missing": {"gte": 0}}, set()),
        ({"year": "2023"}, {"rtext"}),
    ],
)
def test_filters_select_exactly_the_matching_documents(
    reports_client: TestClient, mode: str, filters: dict[str, Any], expected: set[str]
) -> None:
    assert found(reports_client, filters, mode) == expected


def test_a_filtered_search_still_fills_top_k(client: TestClient) -> None:
    # 30 strongly matching documents outside the filter, 12 weaker ones inside it
    noise = [
        _doc(f"n{i}", f"Solar panel efficiency report {i}: solar panel output.", kind="noise")
        for i in range(30)
    ]
    wanted = [
        _doc(f"w{i}", f"Notes {i} mention a solar installation.", kind="wanted", n=i) for i in range(12)
    ]
    response = client.post("/api/v1/documents/batch?wait=true", json={"documents": noise + wanted})
    assert response.status_code == 200
    for mode in MODES:
        body = {"query": "solar panel efficiency", "top_k": 10, "mode": mode, "filters": {"kind": "wanted"}}
        hits = client.post("/api/v1/search", json=body).json()["results"]
        assert len(hits) == 10, mode
        assert all(hit["metadata"]["kind"] == "wanted" for hit in hits), mode
        ranged = {**body, "filters": {"kind": "wanted", "n": {"gte": 4}}}
        assert {
            h["metadata"]["n"] for h in client.post("/api/v1/search", json=ranged).json()["results"]
        } == set(range(4, 12))


@pytest.mark.parametrize(
    "filters",
    [
        {"year": {}},
        {"year": {"between": [1, 2]}},
        {"date": {"gte": "last tuesday"}},
        {"team": {"in": []}},
        {"team": {"eq": {"nested": 1}}},
    ],
)
def test_malformed_filters_are_422_with_a_reason(client: TestClient, filters: dict[str, Any]) -> None:
    response = client.post("/api/v1/search", json={"query": "x", "filters": filters})
    assert response.status_code == 422, response.text
    assert response.json()["code"] == "validation_error"


def test_a_small_collection_inside_a_large_index_gets_its_exact_top_k(client: TestClient) -> None:
    """More than 200 out-of-scope matches outrank every in-scope one: the lexical index must look deeper."""
    crowd = [_doc(f"c{i}", f"Budget budget budget review {i}.", kind="crowd") for i in range(230)]
    few = [_doc(f"f{i}", f"The budget is one line among many notes {i}.") for i in range(6)]
    assert client.post("/api/v1/documents/batch?wait=true", json={"documents": crowd}).status_code == 200
    body = {"collection": "small", "documents": few}
    assert client.post("/api/v1/documents/batch?wait=true", json=body).status_code == 200
    for top_k, expected in ((10, 6), (3, 3)):
        search = {"query": "budget", "top_k": top_k, "mode": "lexical", "collection": "small"}
        hits = client.post("/api/v1/search", json=search).json()["results"]
        assert len(hits) == expected
        assert all(hit["external_id"].startswith("f") for hit in hits)
        assert [h["score"] for h in hits] == sorted((h["score"] for h in hits), reverse=True)
    unscoped = client.post("/api/v1/search", json={"query": "budget", "top_k": 10, "mode": "lexical"})
    assert all(hit["external_id"].startswith("c") for hit in unscoped.json()["results"])
    # in scope and plentiful among the first candidates: answered without the deep query
    crowd_only = {"query": "budget", "top_k": 10, "mode": "lexical", "filters": {"kind": "crowd"}}
    hits = client.post("/api/v1/search", json=crowd_only).json()["results"]
    assert len(hits) == 10 and all(hit["metadata"] == {"kind": "crowd"} for hit in hits)
