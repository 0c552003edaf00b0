"""Two tenants with overlapping vocabulary, plus a shared collection with ACL-narrowed documents: for
every endpoint, a tenant never sees the other's documents, chunks, counts or ids, and top_k stays full."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.auth.conftest import MakeKey, h
from tests.helpers import read_sse

TOPICS = ["travel", "expense", "laptop", "leave", "security", "payroll", "training", "hiring", "office",
          "pension", "bonus", "parking"]  # fmt: skip


def _docs(tenant: str) -> list[dict[str, Any]]:
    return [
        {
            "external_id": f"{tenant}-{topic}",
            "title": f"{tenant} {topic} policy",
            "text": f"The {topic} policy of {tenant}: quarterly reviews approve every {topic} expense claim. "
            f"Managers check the {topic} budget each quarter and report the {topic} expense totals.",
        }
        for topic in TOPICS
    ]


class World:
    def __init__(self, client: TestClient, make_key: MakeKey) -> None:
        self.client = client
        self.admin = make_key("root", ["read", "write", "admin"])
        self.ana = make_key("ana", ["read", "write"])
        self.bob = make_key("bob", ["read", "write"])
        self.jobs = {}
        for key, tenant in ((self.ana, "acme"), (self.bob, "globex")):
            body = {"collection": tenant, "documents": _docs(tenant)}
            response = client.post("/api/v1/documents/batch?wait=true", json=body, headers=h(key))
            assert response.status_code == 200, response.text
            self.jobs[tenant] = response.json()["job_id"]
        shared = [
            {"external_id": "shared-handbook", "title": "shared handbook",
             "text": "Every expense claim in the shared handbook is approved by the quarterly review board."},
            {"external_id": "shared-ana-only", "title": "ana eyes only", "acl": ["user:ana"],
             "text": "The quarterly expense claim review for ana only: confidential budget totals."},
        ]  # fmt: skip
        response = client.post(
            "/api/v1/documents/batch?wait=true",
            json={"collection": "shared", "documents": shared},
            headers=h(self.admin),
        )
        assert response.status_code == 200, response.text
        for user in ("ana", "bob"):
            grant = {"principal": f"user:{user}", "permission": "read"}
            assert (
                client.put("/api/v1/collections/shared/grants", json=grant, headers=h(self.admin)).status_code
                == 200
            )

    def ids_of(self, key: str) -> dict[str, str]:
        """external id -> document id of everything the admin sees, for checking others' ids."""
        items = self.client.get("/api/v1/documents?limit=500", headers=h(key)).json()["items"]
        return {item["external_id"]: item["id"] for item in items}


@pytest.fixture
def world(auth_client: TestClient, make_key: MakeKey) -> World:
    return World(auth_client, make_key)


QUESTION = "Who approves the quarterly expense claim?"
# What each tenant may see: its own documents and the shared handbook; ana also her ACL-narrowed one.
ALLOWED = {
    "ana": lambda external: (
        external.startswith("acme-") or external in ("shared-handbook", "shared-ana-only")
    ),
    "bob": lambda external: external.startswith("globex-") or external == "shared-handbook",
}


def _external_ids(results: list[dict[str, Any]]) -> list[str]:
    return [r["external_id"] for r in results]


def _check(user: str, results: list[dict[str, Any]], expected: int) -> None:
    externals = _external_ids(results)
    assert len(externals) == expected, externals
    assert all(ALLOWED[user](e) for e in externals), externals


def test_search_keeps_top_k_full_with_only_readable_documents(world: World) -> None:
    for user, key in (("ana", world.ana), ("bob", world.bob)):
        for mode in ("hybrid", "lexical", "vector"):
            body = {"query": QUESTION, "top_k": 12, "mode": mode}
            results = world.client.post("/api/v1/search", json=body, headers=h(key)).json()["results"]
            _check(user, results, 12)
    everything = world.client.post(
        "/api/v1/search", json={"query": QUESTION, "top_k": 50}, headers=h(world.admin)
    )
    assert len(everything.json()["results"]) == 26  # the admin sees all: 12 + 12 + 2
    bob_all = world.client.post("/api/v1/search", json={"query": QUESTION, "top_k": 50}, headers=h(world.bob))
    _check("bob", bob_all.json()["results"], 13)  # his 12 and the shared handbook, nothing more
    filtered = {"query": QUESTION, "top_k": 5, "filters": {"missing": "x"}}
    assert world.client.post("/api/v1/search", json=filtered, headers=h(world.bob)).json()["results"] == []


def test_a_collection_one_may_not_read_is_not_found_like_a_missing_one(world: World) -> None:
    for collection in ("acme", "no-such-collection"):
        response = world.client.post(
            "/api/v1/search", json={"query": QUESTION, "collection": collection}, headers=h(world.bob)
        )
        assert (response.status_code, response.json()["code"]) == (404, "collection_not_found")
        assert response.json()["detail"] == f"Collection {collection!r} not found"
    upload = {"collection": "acme", "documents": [{"external_id": "x", "text": "hijack"}]}
    assert world.client.post("/api/v1/documents/batch", json=upload, headers=h(world.bob)).status_code == 404
    shared = {"collection": "shared", "documents": [{"external_id": "x", "text": "hijack"}]}
    assert world.client.post("/api/v1/documents/batch", json=shared, headers=h(world.bob)).status_code == 403


def test_answers_streams_socket_and_chat_cite_only_readable_sources(world: World) -> None:
    client = world.client
    for user, key in (("ana", world.ana), ("bob", world.bob)):
        body = {"question": QUESTION, "top_k": 10}
        answer = client.post("/api/v1/query", json=body, headers=h(key)).json()
        _check(user, answer["sources"], 10)
        other = "globex" if user == "ana" else "acme"
        assert other not in answer["answer"]
        events = read_sse(client, "POST", "/api/v1/query/stream", json=body, headers=h(key))
        _check(user, events[0][1], 10)
        assert events[-1][0] == "done" and events[-1][1]["answer"] == answer["answer"]
        with client.websocket_connect("/api/v1/ws/query", headers=h(key)) as socket:
            socket.send_json(body)
            _check(user, socket.receive_json()["sources"], 10)
        chat = {"model": "citeline", "messages": [{"role": "user", "content": QUESTION}]}
        reply = client.post("/v1/chat/completions", json=chat, headers=h(key)).json()
        _check(user, reply["citeline"]["sources"], len(reply["citeline"]["sources"]))
        models = {m["id"] for m in client.get("/v1/models", headers=h(key)).json()["data"]}
        assert models == {"citeline", "shared", "acme" if user == "ana" else "globex"}
    # ana's ACL-narrowed document is found for her and never for bob.
    narrow = {"query": "confidential budget totals for ana only", "top_k": 26}
    ana_hits = client.post("/api/v1/search", json=narrow, headers=h(world.ana)).json()["results"]
    assert "shared-ana-only" in _external_ids(ana_hits)
    bob_hits = client.post("/api/v1/search", json=narrow, headers=h(world.bob)).json()["results"]
    assert "shared-ana-only" not in _external_ids(bob_hits)


def test_documents_chunks_counts_and_ids_stay_private(world: World) -> None:
    client = world.client
    everything = world.ids_of(world.admin)
    assert len(everything) == 26
    for user, key in (("ana", world.ana), ("bob", world.bob)):
        listing = client.get("/api/v1/documents?limit=500", headers=h(key)).json()
        visible = _external_ids(listing["items"])
        assert listing["total"] == len(visible) == (14 if user == "ana" else 13)
        assert all(ALLOWED[user](e) for e in visible)
        for external, document_id in everything.items():
            if ALLOWED[user](external):
                continue
            for method, path in (("GET", f"/api/v1/documents/{document_id}"),
                                 ("GET", f"/api/v1/documents/{document_id}/chunks"),
                                 ("PATCH", f"/api/v1/documents/{document_id}"),
                                 ("DELETE", f"/api/v1/documents/{document_id}")):  # fmt: skip
                kwargs: dict[str, Any] = {"json": {"title": "x"}} if method == "PATCH" else {}
                response = client.request(method, path, headers=h(key), **kwargs)
                assert response.status_code == 404, (user, method, external, response.text)
                assert response.json()["detail"] == f"Document {document_id!r} not found"
        hidden = client.get("/api/v1/documents?collection=acme", headers=h(world.bob))
        assert hidden.status_code == 404
    assert len(world.ids_of(world.admin)) == 26  # nothing was deleted or changed by the refused calls
    readable_only = client.delete(f"/api/v1/documents/{everything['shared-handbook']}", headers=h(world.bob))
    assert readable_only.status_code == 403  # bob may read the shared handbook, not delete it


def test_jobs_and_audit_stay_private(world: World) -> None:
    client = world.client
    for key, own, other in ((world.ana, "acme", "globex"), (world.bob, "globex", "acme")):
        assert client.get(f"/api/v1/jobs/{world.jobs[own]}", headers=h(key)).status_code == 200
        for method, suffix in (("GET", ""), ("GET", "/events"), ("POST", "/cancel")):
            response = client.request(method, f"/api/v1/jobs/{world.jobs[other]}{suffix}", headers=h(key))
            assert response.status_code == 404, (method, suffix, response.text)
        assert client.get("/api/v1/audit", headers=h(key)).status_code == 403
        assert client.post("/api/v1/query", json={"question": QUESTION}, headers=h(key)).status_code == 200
    events = client.get("/api/v1/audit?limit=1000", headers=h(world.admin)).json()
    actions = [(e["action"], e["target"]) for e in events]
    assert ("ingest", "acme") in actions and ("ingest", "globex") in actions
    assert ("grant.put", "shared") in actions
    assert [e["actor"].startswith("key:") for e in events if e["action"] == "query"] == [True, True]
    assert all("question" not in e["detail"] for e in events)  # question text only when configured
    collections = client.get("/api/v1/collections", headers=h(world.bob)).json()
    assert {c["name"] for c in collections} == {"globex", "shared"}
    shared = next(c for c in collections if c["name"] == "shared")
    assert shared["grants"] is None and shared["can_write"] is False  # bob does not manage it
    assert json.dumps(collections).count("ana") == 0


def test_an_acl_change_takes_effect_on_the_next_search(world: World) -> None:
    """The vector index caches what an ACL hides; a changed ACL must not be served from that cache."""
    client, handbook = world.client, world.ids_of(world.admin)["shared-handbook"]
    query = {"query": "shared handbook quarterly review board", "top_k": 5, "mode": "vector"}

    def bob_sees() -> bool:
        results = client.post("/api/v1/search", json=query, headers=h(world.bob)).json()["results"]
        return "shared-handbook" in _external_ids(results)

    assert bob_sees() and bob_sees()  # the second search is served from the cache
    patch = client.patch(f"/api/v1/documents/{handbook}", json={"acl": ["user:ana"]}, headers=h(world.admin))
    assert patch.status_code == 200 and patch.json()["acl"] == ["user:ana"]
    assert not bob_sees()
    client.patch(
        f"/api/v1/documents/{handbook}", json={"acl": ["user:ana", "user:bob"]}, headers=h(world.admin)
    )
    assert bob_sees()
    client.patch(f"/api/v1/documents/{handbook}", json={"acl": []}, headers=h(world.admin))
    assert bob_sees()
    bad = client.patch(f"/api/v1/documents/{handbook}", json={"acl": ["everyone"]}, headers=h(world.admin))
    assert bad.status_code == 422
