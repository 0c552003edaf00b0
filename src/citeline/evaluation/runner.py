"""Ingest a BEIR corpus into a target, run its judged queries, and score the rankings."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from citeline.documents.schemas import BatchDocumentIn
from citeline.evaluation.beir import BeirDataset
from citeline.evaluation.metrics import mean, mrr_at_k, ndcg_at_k, percentile, recall_at_k, unique_ranking
from citeline.evaluation.targets import BATCH_SIZE, EvalTarget
from citeline.retrieval.service import SearchMode

Progress = Callable[[int], None]  # called with how many items were just finished


@dataclass(slots=True)
class IngestReport:
    documents: int
    seconds: float
    docs_per_s: float
    statuses: dict[str, int]


@dataclass(slots=True)
class ModeReport:
    """Mean metrics over the judged queries and client-side latency for one search mode."""

    queries: int
    top_k: int
    ndcg_at_10: float
    recall_at_10: float
    recall_at_k: float
    mrr_at_10: float
    latency_ms: dict[str, float]
    server_ms: dict[str, float]
    per_query: dict[str, dict[str, float]] = field(default_factory=dict, repr=False)


def corpus_documents(dataset: BeirDataset) -> list[BatchDocumentIn]:
    """The corpus as batch documents keyed by the data set's own ids (title-only entries keep their title)."""
    return [
        BatchDocumentIn(
            external_id=doc_id, title=doc["title"] or None, text=doc["text"] or doc["title"] or doc_id
        )
        for doc_id, doc in dataset.corpus.items()
    ]


def ingest_corpus(
    target: EvalTarget, dataset: BeirDataset, collection: str, on_progress: Progress | None = None
) -> IngestReport:
    """Upsert every corpus document in batches; unchanged documents come back 'unchanged' and cost nothing."""
    documents = corpus_documents(dataset)
    statuses: dict[str, int] = {}
    started = time.perf_counter()
    for offset in range(0, len(documents), BATCH_SIZE):
        batch = documents[offset : offset + BATCH_SIZE]
        for status, count in target.ingest(batch, collection).items():
            statuses[status] = statuses.get(status, 0) + count
        if on_progress is not None:
            on_progress(len(batch))
    seconds = time.perf_counter() - started
    return IngestReport(
        len(documents), round(seconds, 2), round(len(documents) / max(seconds, 1e-9), 2), statuses
    )


def evaluate_queries(
    target: EvalTarget,
    dataset: BeirDataset,
    collection: str,
    *,
    modes: Sequence[SearchMode] = ("hybrid",),
    top_k: int = 100,
    limit: int | None = None,
    on_progress: Progress | None = None,
) -> dict[str, ModeReport]:
    """Search every judged query once per mode and score the ranking of distinct documents."""
    judged = list(dataset.qrels.items())[:limit]
    scores: dict[str, dict[str, list[float]]] = {m: {} for m in modes}
    latencies: dict[str, list[float]] = {m: [] for m in modes}
    server_ms: dict[str, list[float]] = {m: [] for m in modes}
    per_query: dict[str, dict[str, dict[str, float]]] = {m: {} for m in modes}
    for query_id, relevant in judged:
        for mode in modes:
            answer = target.search(dataset.queries[query_id], top_k, collection, mode)
            ranking = unique_ranking(answer.external_ids)
            figures = {
                "ndcg@10": ndcg_at_k(ranking, relevant, 10),
                "recall@10": recall_at_k(ranking, relevant, 10),
                f"recall@{top_k}": recall_at_k(ranking, relevant, top_k),
                "mrr@10": mrr_at_k(ranking, relevant, 10),
            }
            for name, value in figures.items():
                scores[mode].setdefault(name, []).append(value)
            latencies[mode].append(answer.latency_ms)
            if answer.server_ms is not None:
                server_ms[mode].append(answer.server_ms)
            per_query[mode][query_id] = {name: round(value, 4) for name, value in figures.items()}
        if on_progress is not None:
            on_progress(1)
    return {
        mode: ModeReport(
            queries=len(judged),
            top_k=top_k,
            ndcg_at_10=round(mean(scores[mode].get("ndcg@10", [])), 4),
            recall_at_10=round(mean(scores[mode].get("recall@10", [])), 4),
            recall_at_k=round(mean(scores[mode].get(f"recall@{top_k}", [])), 4),
            mrr_at_10=round(mean(scores[mode].get("mrr@10", [])), 4),
            latency_ms=_latency_summary(latencies[mode]),
            server_ms=_latency_summary(server_ms[mode]),
            per_query=per_query[mode],
        )
        for mode in modes
    }


def _latency_summary(values: list[float]) -> dict[str, float]:
    if not values:
        return {}
    return {
        "p50": round(percentile(values, 50), 1),
        "p95": round(percentile(values, 95), 1),
        "p99": round(percentile(values, 99), 1),
        "mean": round(mean(values), 1),
    }
