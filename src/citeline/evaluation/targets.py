"""Where an evaluation runs: a Citeline service over HTTP, or an embedded instance in this process."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import httpx

from citeline.documents.schemas import BatchDocumentIn, BatchRequest
from citeline.retrieval.service import SearchMode
from citeline.services import Services

BATCH_SIZE = 250  # documents per POST /documents/batch


@dataclass(frozen=True, slots=True)
class SearchAnswer:
    """The ranked external ids of one search and how long it took (client side, milliseconds)."""

    external_ids: list[str | None]
    latency_ms: float
    server_ms: float | None = None  # the service's own timings_ms.total, when it reports one


class EvalTarget(Protocol):
    """Something that can upsert documents and rank them for a query."""

    def ingest(self, documents: Sequence[BatchDocumentIn], collection: str) -> dict[str, int]:
        """Upsert one batch (at most BATCH_SIZE); returns {status: count} ("indexed", "unchanged", ...)."""

    def search(self, query: str, top_k: int, collection: str, mode: SearchMode) -> SearchAnswer: ...


class HttpTarget:
    """A running service, through POST /api/v1/documents/batch and POST /api/v1/search."""

    def __init__(
        self,
        base_url: str,
        api_key: str | None = None,
        timeout_s: float = 900.0,
        client: httpx.Client | None = None,
    ) -> None:
        """``client`` replaces the one built from ``base_url`` (e.g. a client bound to an ASGI app)."""
        headers = {"X-API-Key": api_key} if api_key else {}
        self.client = client or httpx.Client(
            base_url=base_url.rstrip("/"), headers=headers, timeout=timeout_s
        )

    def ingest(self, documents: Sequence[BatchDocumentIn], collection: str) -> dict[str, int]:
        body = BatchRequest(collection=collection, documents=list(documents)).model_dump(mode="json")
        response = self.client.post("/api/v1/documents/batch", params={"wait": "true"}, json=body)
        _raise_for_status(response)
        return _count_statuses(doc["status"] for doc in response.json()["documents"])

    def search(self, query: str, top_k: int, collection: str, mode: SearchMode) -> SearchAnswer:
        body = {"query": query, "top_k": top_k, "collection": collection, "mode": mode}
        started = time.perf_counter()
        response = self.client.post("/api/v1/search", json=body)
        elapsed = (time.perf_counter() - started) * 1000
        _raise_for_status(response)
        payload = response.json()
        server_ms = payload.get("timings_ms", {}).get("total")
        return SearchAnswer([hit["external_id"] for hit in payload["results"]], elapsed, server_ms)

    def close(self) -> None:
        self.client.close()


class EmbeddedTarget:
    """Citeline's services in this process (no HTTP): the same ingestion pipeline and search service."""

    def __init__(self, services: Services) -> None:
        self.services = services

    def ingest(self, documents: Sequence[BatchDocumentIn], collection: str) -> dict[str, int]:
        request = BatchRequest(collection=collection, documents=list(documents))
        response, future = self.services.documents.queue_batch(request)
        if future is not None:
            future.result()
        response = self.services.documents.collect_results(response)
        return _count_statuses(doc.status for doc in response.documents)

    def search(self, query: str, top_k: int, collection: str, mode: SearchMode) -> SearchAnswer:
        started = time.perf_counter()
        with self.services.db.read() as session:
            scope = self.services.scope(session, collection, {})
            outcome = self.services.search.search(session, query, top_k, scope, mode)
        elapsed = (time.perf_counter() - started) * 1000
        server_ms = outcome.timings_ms.get("total")
        return SearchAnswer([hit.external_id for hit in outcome.hits], elapsed, server_ms)


class TargetError(RuntimeError):
    """The service answered an evaluation request with an error."""


def _raise_for_status(response: httpx.Response) -> None:
    if response.is_success:
        return
    try:
        detail: Any = response.json().get("detail")
    except ValueError:
        detail = response.text[:300]
    raise TargetError(
        f"{response.request.method} {response.request.url.path}: {response.status_code} {detail}"
    )


def _count_statuses(statuses: Any) -> dict[str, int]:
    counts: dict[str, int] = {}
    for status in statuses:
        counts[status] = counts.get(status, 0) + 1
    return counts
