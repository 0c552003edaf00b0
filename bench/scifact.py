"""SciFact (BEIR) through the HTTP API: ingest throughput, then an ablation of retrieval variants.

Every variant runs against the same index (one ingest; later servers find every document unchanged):
BM25 alone, dense alone, the issue-2 hybrid (RRF), the default hybrid (z-score fusion), and the default
with MMR diversity. Quality is scored at top_k=100 (nDCG@10, recall@100, MRR@10); latency is timed in a
second pass at top_k=10, the size a client asks for.

Run from the project root:  .venv/bin/python -m bench.scifact [--split test] [--limit-queries N]
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from bench.common import PROJECT_ROOT, environment, running_server, write_results
from citeline.evaluation.beir import BeirDataset
from citeline.evaluation.runner import ModeReport, evaluate_queries, ingest_corpus
from citeline.evaluation.targets import HttpTarget
from citeline.retrieval.service import SearchMode

COLLECTION = "scifact"
REFERENCE_NDCG10 = {
    "BM25 (BEIR paper)": 0.665,
    "all-MiniLM-L6-v2 (MTEB)": 0.645,
    "bge-small-en-v1.5 (MTEB)": 0.713,
    "bge-base-en-v1.5 (MTEB)": 0.744,
}

console = Console()


@dataclass(frozen=True, slots=True)
class Variant:
    name: str
    mode: SearchMode
    env: dict[str, str] = field(default_factory=dict)


VARIANTS = (
    Variant("BM25 (FTS5)", "lexical"),
    Variant("dense (MiniLM int8)", "vector"),
    Variant(
        "hybrid RRF k=60 (issue 2)",
        "hybrid",
        {"CITELINE_FUSION": "rrf", "CITELINE_LEXICAL_WEIGHT": "1", "CITELINE_VECTOR_WEIGHT": "1"},
    ),
    Variant("hybrid z-score (default)", "hybrid"),
    Variant("hybrid z-score + MMR 0.3", "hybrid", {"CITELINE_SEARCH_DIVERSITY": "0.3"}),
)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, default=PROJECT_ROOT / ".." / "shared" / "data" / "scifact")
    parser.add_argument("--split", default="test", help="qrels split to evaluate (tune on train only)")
    parser.add_argument("--limit-queries", type=int, default=None, metavar="N", help="first N queries only")
    parser.add_argument("--out", type=Path, default=PROJECT_ROOT / "bench" / "results" / "scifact.json")
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=None,
        help="keep the index here and reuse it on later runs (ingest then reports 'unchanged')",
    )
    return parser.parse_args(argv)


def _bar(label: str) -> Progress:
    columns = (TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    return Progress(*columns, console=console)


def run_variant(
    target: HttpTarget, dataset: BeirDataset, variant: Variant, limit: int | None
) -> dict[str, ModeReport]:
    """Quality at top_k=100, then latency at top_k=10."""
    total = min(len(dataset.qrels), limit or len(dataset.qrels))
    reports = {}
    for top_k in (100, 10):
        with _bar(f"{variant.name} @{top_k}") as progress:
            task = progress.add_task("search", total=total)
            reports[top_k] = evaluate_queries(
                target,
                dataset,
                COLLECTION,
                modes=(variant.mode,),
                top_k=top_k,
                limit=limit,
                on_progress=partial(progress.advance, task),
            )[variant.mode]
    return {"quality": reports[100], "latency": reports[10]}


def summarise(variant: Variant, reports: dict[str, ModeReport]) -> dict[str, Any]:
    quality, latency = reports["quality"], reports["latency"]
    return {
        "mode": variant.mode,
        "server_env": variant.env,
        "queries": quality.queries,
        "ndcg@10": quality.ndcg_at_10,
        "recall@100": quality.recall_at_k,
        "mrr@10": quality.mrr_at_10,
        "latency_top10_ms": latency.latency_ms,
        "server_top10_ms": latency.server_ms,
        "per_query": quality.per_query,
    }


def print_report(results: dict[str, Any]) -> None:
    ingest = results["ingest"]
    console.print(
        f"ingest: {ingest['documents']} docs, {results['index']['chunks']} chunks in {ingest['seconds']:.1f}s"
        f" = {ingest['docs_per_s']:.1f} docs/s  {ingest['statuses']}"
    )
    table = Table(
        "variant",
        "nDCG@10",
        "recall@100",
        "MRR@10",
        "p50 ms",
        "p95 ms",
        "server p50",
        title=f"SciFact {results['split']} ({results['queries']} queries), latency at top_k=10",
    )
    for name, figures in results["variants"].items():
        table.add_row(
            name,
            f"{figures['ndcg@10']:.4f}",
            f"{figures['recall@100']:.4f}",
            f"{figures['mrr@10']:.4f}",
            f"{figures['latency_top10_ms']['p50']:.1f}",
            f"{figures['latency_top10_ms']['p95']:.1f}",
            f"{figures['server_top10_ms'].get('p50', 0.0):.1f}",
        )
    for name, value in REFERENCE_NDCG10.items():
        table.add_row(f"[dim]{name}[/dim]", f"[dim]{value:.3f}[/dim]", "", "", "", "", "")
    console.print(table)
    env = results["environment"]
    console.print(
        f"[dim]{env['date']}  {env['cpu_count']} CPUs  Python {env['python']}  model {env['embedding_model']}"
        f"  load {env['load_average_1m_at_start']}->{env['load_average_1m']}[/dim]"
    )


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    load_at_start = round(os.getloadavg()[0], 2)
    dataset = BeirDataset.load(args.data, args.split)
    console.print(f"SciFact: {len(dataset.corpus)} documents, {len(dataset.qrels)} {args.split} queries")

    variants: dict[str, dict[str, Any]] = {}
    ingest_report = None
    ready: dict[str, Any] = {}
    # One server per distinct environment, all on the same data dir: the first ingests, the rest reuse it.
    groups: dict[tuple[tuple[str, str], ...], list[Variant]] = {}
    for variant in VARIANTS:
        groups.setdefault(tuple(sorted(variant.env.items())), []).append(variant)
    with running_server({}, data_dir=args.data_dir) as first:
        target = HttpTarget(first.base_url)
        with _bar("ingest") as progress:
            task = progress.add_task("ingest", total=len(dataset.corpus))
            ingest_report = ingest_corpus(target, dataset, COLLECTION, lambda n: progress.advance(task, n))
        ready = first.ready()
        for variant in groups.pop((), []):
            variants[variant.name] = summarise(
                variant, run_variant(target, dataset, variant, args.limit_queries)
            )
        target.close()
        data_dir = first.data_dir
        for env_items, members in groups.items():
            with running_server(dict(env_items), data_dir=data_dir) as server:
                other = HttpTarget(server.base_url)
                for variant in members:
                    reports = run_variant(other, dataset, variant, args.limit_queries)
                    variants[variant.name] = summarise(variant, reports)
                other.close()

    results = {
        "benchmark": "scifact",
        "split": args.split,
        "queries": next(iter(variants.values()))["queries"],
        "command": " ".join(
            [_interpreter(), "-m", "bench.scifact", *(sys.argv[1:] if argv is None else argv)]
        ),
        "environment": {**environment(ready), "load_average_1m_at_start": load_at_start},
        "index": {"documents": ready.get("documents"), "chunks": ready.get("chunks")},
        "ingest": asdict(ingest_report) if ingest_report else None,
        "variants": {name: variants[name] for name in (v.name for v in VARIANTS)},
        "reference_ndcg@10": REFERENCE_NDCG10,
    }
    print_report(results)
    console.print(f"wrote {write_results(args.out, results)}")
    return 0


def _interpreter() -> str:
    """The Python that ran this, relative to the project root when it lives there (.venv/bin/python)."""
    executable = Path(sys.executable)
    try:
        return str(executable.relative_to(PROJECT_ROOT))
    except ValueError:
        return executable.name


if __name__ == "__main__":
    raise SystemExit(main())
