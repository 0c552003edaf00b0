"""Ingestion throughput through the HTTP API, beside the embedding model's raw speed on the same chunks.

Uploads ../shared/data/sec-10q (real 10-Q PDFs) and ../shared/data/fastapi-docs (Markdown) to a fresh
`citeline serve` with POST /api/v1/documents?wait=true, then reads every job's per-document timings
(parse / chunk / embed / write) and pages. Finally it embeds the very same chunk bodies with the same
model in this process (the server idle), so "ingest chunks/s as a share of raw embedding chunks/s" is
measured in one run on one machine; and once more 32 texts per model call, the earlier default, to show
what embedding each text alone (deterministic vectors) costs in throughput.

Run from the project root:  .venv/bin/python -m bench.ingest
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

from bench.common import PROJECT_ROOT, Server, environment, running_server, write_results
from citeline.embeddings.local import LocalEmbedder
from citeline.ingestion.pipeline import index_body

DATA = PROJECT_ROOT / ".." / "shared" / "data"
CORPORA = {
    "sec-10q": (DATA / "sec-10q", "*.pdf", 4),  # (folder, pattern, files per request)
    "fastapi-docs": (DATA / "fastapi-docs", "*.md", 40),
}
STAGES = ("parse", "chunk", "embed", "write")
console = Console()


def upload(server: Server, name: str, folder: Path, pattern: str, per_request: int) -> dict[str, Any]:
    paths = sorted(folder.rglob(pattern))
    documents: list[dict[str, Any]] = []
    job_ids: list[str] = []
    columns = (TextColumn(name), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    started = time.perf_counter()
    with Progress(*columns, console=console) as progress:
        task = progress.add_task(name, total=len(paths))
        for offset in range(0, len(paths), per_request):
            group = paths[offset : offset + per_request]
            files = [("files", (str(p.relative_to(folder)), p.read_bytes(), None)) for p in group]
            response = server.client.post(
                "/api/v1/documents", params={"wait": "true"}, data={"collection": name}, files=files
            )
            response.raise_for_status()
            body = response.json()
            documents.extend(body["documents"])
            job_ids.append(body["job_id"])
            progress.advance(task, len(group))
    seconds = time.perf_counter() - started
    outcomes: list[dict[str, Any]] = []
    for job_id in job_ids:
        job = server.client.get(f"/api/v1/jobs/{job_id}").json()
        outcomes.extend(job["result"]["documents"].values())
    stage_ms = {stage: sum(o.get("timings_ms", {}).get(stage, 0.0) for o in outcomes) for stage in STAGES}
    total_stage_ms = sum(stage_ms.values()) or 1.0
    chunks = sum(o.get("chunks") or 0 for o in outcomes)
    pages = sum(o.get("pages") or 0 for o in outcomes)
    failed = [d for d in documents if d["status"] not in ("indexed", "unchanged")]
    return {
        "files": len(paths),
        "indexed": sum(d["status"] == "indexed" for d in documents),
        "failed": [f"{d['filename']}: {d.get('error')}" for d in failed],
        "pages": pages,
        "chunks": chunks,
        "seconds": round(seconds, 2),
        "files_per_s": round(len(paths) / seconds, 2),
        "pages_per_s": round(pages / seconds, 2),
        "chunks_per_s": round(chunks / seconds, 2),
        "stage_share": {stage: round(ms / total_stage_ms, 3) for stage, ms in stage_ms.items()},
        "stage_seconds": {stage: round(ms / 1000, 2) for stage, ms in stage_ms.items()},
    }


def chunk_bodies(server: Server, collection: str) -> list[str]:
    """The exact texts the server embedded: title and headings, then the chunk (index_body)."""
    bodies: list[str] = []
    offset = 0
    while True:
        page = server.client.get(
            "/api/v1/documents", params={"collection": collection, "limit": 500, "offset": offset}
        ).json()
        for doc in page["items"]:
            for chunk in server.client.get(f"/api/v1/documents/{doc['id']}/chunks").json():
                bodies.append(index_body(doc["title"], chunk["heading_path"], chunk["text"]))
        offset += len(page["items"])
        if not page["items"] or offset >= page["total"]:
            return bodies


def raw_embedding(bodies: list[str], batch_size: int = 1) -> dict[str, Any]:
    """The model alone over ``bodies``: the product's one-text-per-call default, or ``batch_size``
    texts per call (length-sorted), the pre-2026-12-04 default, for comparison."""
    embedder = LocalEmbedder(batch_size=batch_size)
    embedder.warm_up()
    embedder.embed_documents(bodies[:32])  # warm the session
    started = time.perf_counter()
    embedder.embed_documents(bodies)
    seconds = time.perf_counter() - started
    return {
        "chunks": len(bodies),
        "batch_size": batch_size,
        "seconds": round(seconds, 2),
        "chunks_per_s": round(len(bodies) / seconds, 2),
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--out", type=Path, default=PROJECT_ROOT / "bench" / "results" / "ingest.json")
    args = parser.parse_args(argv)
    load_at_start = round(os.getloadavg()[0], 2)
    results: dict[str, Any] = {"benchmark": "ingest", "corpora": {}}
    with running_server() as server:
        for name, (folder, pattern, per_request) in CORPORA.items():
            results["corpora"][name] = upload(server, name, folder, pattern, per_request)
        bodies = {name: chunk_bodies(server, name) for name in CORPORA}
        ready = server.ready()
    for name, texts in bodies.items():
        corpus = results["corpora"][name]
        corpus["raw_embedding"] = raw_embedding(texts)
        corpus["raw_embedding_batched"] = raw_embedding(texts, batch_size=32)
        corpus["share_of_raw_embedding"] = round(
            corpus["chunks_per_s"] / corpus["raw_embedding"]["chunks_per_s"], 3
        )
    results["environment"] = {**environment(ready), "load_average_1m_at_start": load_at_start}
    results["command"] = " ".join([Path(sys.executable).name, "-m", "bench.ingest"])

    table = Table(
        "corpus", "files", "pages", "chunks", "files/s", "pages/s", "chunks/s", "raw embed chunks/s",
        "share", "raw batch 32", "parse", "chunk", "embed", "write",
        title="Ingest through POST /api/v1/documents",
    )  # fmt: skip
    for name, c in results["corpora"].items():
        share, raw = c["stage_share"], c["raw_embedding"]["chunks_per_s"]
        table.add_row(
            name, str(c["files"]), str(c["pages"]), str(c["chunks"]), f"{c['files_per_s']:.2f}",
            f"{c['pages_per_s']:.1f}", f"{c['chunks_per_s']:.1f}", f"{raw:.1f}",
            f"{c['share_of_raw_embedding']:.0%}", f"{c['raw_embedding_batched']['chunks_per_s']:.1f}",
            *(f"{share[s]:.0%}" for s in STAGES),
        )  # fmt: skip
        if c["failed"]:
            console.print(f"[red]{name}: {len(c['failed'])} failed[/red] {c['failed'][:3]}")
    console.print(table)
    console.print(f"wrote {write_results(args.out, results)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
