"""SciFact (BEIR) through the HTTP API: ingest throughput, nDCG@10 / recall@100 and latency per search mode.

Run from the project root:  .venv/bin/python -m bench.scifact [--split test] [--env CITELINE_RRF_K=20]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from bench.common import (
    PROJECT_ROOT,
    Qrels,
    Server,
    environment,
    load_corpus,
    load_qrels,
    load_queries,
    mean,
    ndcg_at_k,
    percentile,
    recall_at_k,
    running_server,
    unique_ranking,
    write_results,
)

MODES = ("lexical", "vector", "hybrid")
TOP_K = 100
BATCH_SIZE = 250
REFERENCE_NDCG10 = {"BM25 (BEIR paper)": 0.665, "all-MiniLM-L6-v2 (MTEB)": 0.645}

console = Console()


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, default=PROJECT_ROOT / ".." / "shared" / "data" / "scifact")
    parser.add_argument("--split", default="test", help="qrels split to evaluate (tune on train only)")
    parser.add_argument("--limit-queries", type=int, default=None, metavar="N", help="first N queries only")
    parser.add_argument("--out", type=Path, default=PROJECT_ROOT / "bench" / "results" / "scifact.json")
    parser.add_argument(
        "--env",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="extra environment for the server, e.g. CITELINE_RRF_K=20 (repeatable)",
    )
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=None,
        help="keep the index here and reuse it on later runs (ingest then reports 'unchanged')",
    )
    args = parser.parse_args(argv)
    args.server_env = dict(_key_value(item) for item in args.env)
    return args


def _key_value(item: str) -> tuple[str, str]:
    key, sep, value = item.partition("=")
    if not sep or not key:
        raise SystemExit(f"--env wants KEY=VALUE, got {item!r}")
    return key, value


def ingest(server: Server, corpus: dict[str, dict[str, str]]) -> dict[str, Any]:
    """Upsert the corpus in batches through POST /documents/batch?wait=true; time the whole ingest."""
    items = [
        {"external_id": doc_id, "title": doc["title"], "text": doc["text"], "metadata": {}}
        for doc_id, doc in corpus.items()
    ]
    statuses: dict[str, int] = {}
    chunks = 0
    errors: list[str] = []
    columns = (
        TextColumn("ingest"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[chunks]} chunks"),
        TimeElapsedColumn(),
    )
    started = time.perf_counter()
    with Progress(*columns, console=console) as progress:
        task = progress.add_task("ingest", total=len(items), chunks=0)
        for offset in range(0, len(items), BATCH_SIZE):
            batch = items[offset : offset + BATCH_SIZE]
            response = server.client.post(
                "/api/v1/documents/batch", params={"wait": "true"}, json={"documents": batch}
            )
            response.raise_for_status()
            for doc in response.json()["documents"]:
                statuses[doc["status"]] = statuses.get(doc["status"], 0) + 1
                chunks += doc.get("chunks") or 0
                if doc.get("error"):
                    errors.append(f"{doc['external_id']}: {doc['error']}")
            progress.update(task, advance=len(batch), chunks=chunks)
    seconds = time.perf_counter() - started
    if errors:
        console.print(f"[red]{len(errors)} documents failed[/red], e.g. {errors[:3]}")
    return {
        "documents": len(items),
        "chunks": chunks,
        "seconds": round(seconds, 2),
        "docs_per_s": round(len(items) / seconds, 2),
        "chunks_per_s": round(chunks / seconds, 2),
        "batch_size": BATCH_SIZE,
        "statuses": statuses,
        "errors": errors[:20],
    }


def evaluate(server: Server, queries: dict[str, str], qrels: Qrels) -> dict[str, Any]:
    """Search every judged query in each mode; nDCG@10, recall@100 and client-side latency per mode."""
    ndcg: dict[str, list[float]] = {mode: [] for mode in MODES}
    recall: dict[str, list[float]] = {mode: [] for mode in MODES}
    latency_ms: dict[str, list[float]] = {mode: [] for mode in MODES}
    server_ms: dict[str, list[float]] = {mode: [] for mode in MODES}
    per_query: dict[str, dict[str, dict[str, float]]] = {}
    columns = (TextColumn("search"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console) as progress:
        task = progress.add_task("search", total=len(qrels))
        for query_id, relevant in qrels.items():
            per_query[query_id] = {}
            for mode in MODES:
                body = {"query": queries[query_id], "top_k": TOP_K, "mode": mode}
                started = time.perf_counter()
                response = server.client.post("/api/v1/search", json=body)
                elapsed_ms = (time.perf_counter() - started) * 1000
                response.raise_for_status()
                payload = response.json()
                ranking = unique_ranking(hit["external_id"] for hit in payload["results"])
                scores = {
                    "ndcg@10": ndcg_at_k(ranking, relevant, 10),
                    "recall@100": recall_at_k(ranking, relevant, 100),
                }
                ndcg[mode].append(scores["ndcg@10"])
                recall[mode].append(scores["recall@100"])
                latency_ms[mode].append(elapsed_ms)
                server_ms[mode].append(float(payload.get("timings_ms", {}).get("total", 0.0)))
                per_query[query_id][mode] = {k: round(v, 4) for k, v in scores.items()}
            progress.advance(task)
    modes = {
        mode: {
            "ndcg@10": round(mean(ndcg[mode]), 4),
            "recall@100": round(mean(recall[mode]), 4),
            "latency_ms": {
                "p50": round(percentile(latency_ms[mode], 50), 1),
                "p95": round(percentile(latency_ms[mode], 95), 1),
                "mean": round(mean(latency_ms[mode]), 1),
            },
            "server_total_ms_p50": round(percentile(server_ms[mode], 50), 1),
        }
        for mode in MODES
    }
    return {"queries": len(qrels), "top_k": TOP_K, "modes": modes, "per_query": per_query}


def _interpreter() -> str:
    """The Python that ran this, relative to the project root when it lives there (.venv/bin/python)."""
    executable = Path(sys.executable)
    try:
        return str(executable.relative_to(PROJECT_ROOT))
    except ValueError:
        return executable.name


def print_report(results: dict[str, Any]) -> None:
    ingest_figures = results["ingest"]
    console.print(
        f"ingest: {ingest_figures['documents']} docs, {ingest_figures['chunks']} chunks in "
        f"{ingest_figures['seconds']:.1f}s = {ingest_figures['docs_per_s']:.1f} docs/s, "
        f"{ingest_figures['chunks_per_s']:.1f} chunks/s  {ingest_figures['statuses']}"
    )
    table = Table(
        "mode",
        "nDCG@10",
        "recall@100",
        "p50 ms",
        "p95 ms",
        title=f"SciFact {results['split']} ({results['search']['queries']} queries)",
    )
    for mode, figures in results["search"]["modes"].items():
        table.add_row(
            mode,
            f"{figures['ndcg@10']:.4f}",
            f"{figures['recall@100']:.4f}",
            f"{figures['latency_ms']['p50']:.1f}",
            f"{figures['latency_ms']['p95']:.1f}",
        )
    for name, value in REFERENCE_NDCG10.items():
        table.add_row(f"[dim]{name}[/dim]", f"[dim]{value:.3f}[/dim]", "", "", "")
    console.print(table)
    env = results["environment"]
    console.print(
        f"[dim]{env['date']}  {env['cpu_count']} CPUs  Python {env['python']}  "
        f"model {env['embedding_model']}  load {env['load_average_1m_at_start']}->{env['load_average_1m']}  "
        f"server env {results['server_env'] or '{}'}[/dim]"
    )


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    load_at_start = round(os.getloadavg()[0], 2)
    corpus = load_corpus(args.data)
    queries = load_queries(args.data)
    qrels = {qid: rel for qid, rel in load_qrels(args.data, args.split).items() if qid in queries}
    if args.limit_queries is not None:
        qrels = dict(list(qrels.items())[: args.limit_queries])
    console.print(f"SciFact: {len(corpus)} documents, {len(qrels)} {args.split} queries")

    with running_server(args.server_env, data_dir=args.data_dir) as server:
        ingest_figures = ingest(server, corpus)
        ready = server.ready()
        search_figures = evaluate(server, queries, qrels)

    results = {
        "benchmark": "scifact",
        "split": args.split,
        "command": " ".join(
            [_interpreter(), "-m", "bench.scifact", *(sys.argv[1:] if argv is None else argv)]
        ),
        "server_env": args.server_env,
        "environment": {**environment(ready), "load_average_1m_at_start": load_at_start},
        "index": {"documents": ready.get("documents"), "chunks": ready.get("chunks")},
        "ingest": ingest_figures,
        "search": search_figures,
        "reference_ndcg@10": REFERENCE_NDCG10,
    }
    print_report(results)
    console.print(f"wrote {write_results(args.out, results)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
