"""Answer quality on COVID-QA through the HTTP API: is the gold answer in the answer, and in its sources?

Ingests the 98 articles of ../shared/data/covidqa through POST /api/v1/documents/batch, asks each of
the questions whose gold span lines up with its article through POST /api/v1/query, and counts how
often the gold answer text (case and whitespace folded) appears in the answer, in the sources the
answer cites, and anywhere in the returned sources. COVID-QA has no train split and nothing here is
tuned on it.

Run from the project root:  .venv/bin/python -m bench.covidqa [--limit N] [--env CITELINE_QUERY_TOP_K=8]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from bench.common import PROJECT_ROOT, environment, running_server, write_results
from citeline.evaluation.metrics import mean, percentile

DATA = PROJECT_ROOT / ".." / "shared" / "data" / "covidqa" / "200423_covidQA.json"
CITATION = re.compile(r"\[(\d{1,3})\]")
console = Console()


def fold(text: str) -> str:
    return " ".join(text.lower().split())


def load(path: Path) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(articles as batch documents, questions whose answer_start really points at the answer text)."""
    raw = json.loads(path.read_text(encoding="utf-8"))
    documents, questions = [], []
    for article in raw["data"]:
        for paragraph in article["paragraphs"]:
            context, doc_id = paragraph["context"], str(paragraph["document_id"])
            documents.append({"external_id": doc_id, "text": context})
            for qa in paragraph["qas"]:
                answer = qa["answers"][0]
                start = answer["answer_start"]
                if context[start : start + len(answer["text"])] != answer["text"]:
                    continue  # about 17% of COVID-QA's offsets do not line up; those are left out
                questions.append({"id": qa["id"], "question": qa["question"], "answer": answer["text"],
                                  "document": doc_id})  # fmt: skip
    return documents, questions


def judge(result: dict[str, Any], gold: str, document: str) -> dict[str, bool]:
    answer, sources = result["answer"], result["sources"]
    cited = {int(n) for n in CITATION.findall(answer)}
    target = fold(gold)
    return {
        "answerable": bool(result["answerable"]),
        "in_answer": target in fold(answer),
        "in_cited_sources": any(target in fold(s["text"]) for s in sources if s["n"] in cited),
        "in_sources": any(target in fold(s["text"]) for s in sources),
        "right_document_cited": any(s["external_id"] == document for s in sources if s["n"] in cited),
        "citations_valid": cited <= {s["n"] for s in sources},
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--limit", type=int, default=None, help="first N questions only")
    parser.add_argument("--env", action="append", default=[], metavar="KEY=VALUE", help="server settings")
    parser.add_argument("--out", type=Path, default=PROJECT_ROOT / "bench" / "results" / "covidqa.json")
    args = parser.parse_args(argv)
    server_env = dict(item.split("=", 1) for item in args.env)
    documents, questions = load(DATA)
    questions = questions[: args.limit]
    load_at_start = round(os.getloadavg()[0], 2)
    judged: list[dict[str, bool]] = []
    latency: list[float] = []
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with running_server(server_env) as server, Progress(*columns, console=console) as progress:
        started = time.perf_counter()
        response = server.client.post(
            "/api/v1/documents/batch", params={"wait": "true"}, json={"documents": documents}
        )
        response.raise_for_status()
        ingest_s = time.perf_counter() - started
        task = progress.add_task("questions", total=len(questions))
        for q in questions:
            mark = time.perf_counter()
            reply = server.client.post("/api/v1/query", json={"question": q["question"]})
            latency.append((time.perf_counter() - mark) * 1000)
            reply.raise_for_status()
            judged.append(judge(reply.json(), q["answer"], q["document"]))
            progress.advance(task)
        ready = server.ready()
    shares = {key: round(mean([float(j[key]) for j in judged]), 4) for key in judged[0]}
    latency_ms = {"p50": round(percentile(latency, 50), 1), "p95": round(percentile(latency, 95), 1)}
    results = {
        "benchmark": "covidqa",
        "command": " ".join([Path(sys.executable).name, "-m", "bench.covidqa", *(argv or sys.argv[1:])]),
        "server_env": server_env,
        "environment": {**environment(ready), "load_average_1m_at_start": load_at_start},
        "articles": len(documents),
        "questions": len(questions),
        "ingest_seconds": round(ingest_s, 1),
        "shares": shares,
        "latency_ms": latency_ms,
    }
    table = Table(
        "measure", "share", title=f"COVID-QA: {len(questions)} questions over {len(documents)} articles"
    )
    for key, value in shares.items():
        table.add_row(key, f"{value:.3f}")
    table.add_row("query p50 / p95 ms", f"{latency_ms['p50']} / {latency_ms['p95']}")
    console.print(table)
    console.print(f"wrote {write_results(args.out, results)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
