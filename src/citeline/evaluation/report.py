"""`citeline eval`: run an evaluation with progress bars and print it as tables or JSON."""

from __future__ import annotations

import json
import os
import platform
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

import httpx
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from citeline.core.errors import CiteLineError
from citeline.evaluation.beir import BeirDataset, BeirFormatError
from citeline.evaluation.runner import IngestReport, ModeReport, evaluate_queries, ingest_corpus
from citeline.evaluation.targets import EmbeddedTarget, EvalTarget, HttpTarget, TargetError
from citeline.retrieval.service import SearchMode


class EvaluationError(RuntimeError):
    """An evaluation could not run; the message says why (bad folder, service error, unreachable)."""


def run_evaluation(
    folder: Path,
    *,
    split: str,
    url: str | None,
    api_key: str | None,
    collection: str | None,
    data_dir: Path | None,
    modes: Sequence[str],
    top_k: int,
    limit: int | None,
    skip_ingest: bool,
    as_json: bool,
    console: Console,
) -> int:
    """Returns the process exit code: 0, or 1 when no judged query could be scored."""
    try:
        dataset = BeirDataset.load(folder, split)
        name = collection or f"eval-{dataset.name}"
        with _target(url, api_key, data_dir, console) as target:
            ingest = None if skip_ingest else _ingest(target, dataset, name, console)
            reports = _search(target, dataset, name, cast(Sequence[SearchMode], modes), top_k, limit, console)
    except (BeirFormatError, TargetError, CiteLineError) as exc:
        raise EvaluationError(str(exc)) from exc
    except httpx.HTTPError as exc:
        raise EvaluationError(f"cannot reach {url}: {exc}") from exc
    result = {
        "dataset": dataset.name,
        "split": split,
        "target": url or "embedded",
        "collection": name,
        "environment": {
            "date": datetime.now(UTC).isoformat(timespec="seconds"),
            "cpu_count": os.cpu_count(),
            "python": platform.python_version(),
        },
        "ingest": asdict(ingest) if ingest else None,
        "modes": {mode: asdict(report) for mode, report in reports.items()},
    }
    if as_json:
        print(json.dumps(result, indent=2))
    else:
        _print_tables(console, dataset, split, ingest, reports)
    return 0 if any(r.queries for r in reports.values()) else 1


@contextmanager
def _target(
    url: str | None, api_key: str | None, data_dir: Path | None, console: Console
) -> Iterator[EvalTarget]:
    if url is not None:
        remote = HttpTarget(url, api_key)
        try:
            yield remote
        finally:
            remote.close()
        return
    from citeline.config import Settings
    from citeline.services import build_services

    with tempfile.TemporaryDirectory(prefix="citeline-eval-") as temp:
        settings = Settings(data_dir=data_dir or Path(temp))
        with console.status("Loading the embedding model..."):
            services = build_services(settings)
        try:
            yield EmbeddedTarget(services)
        finally:
            services.close()


def _bar(console: Console, label: str) -> Progress:
    columns = (TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    return Progress(*columns, console=console)


def _ingest(target: EvalTarget, dataset: BeirDataset, collection: str, console: Console) -> IngestReport:
    with _bar(console, "ingest") as progress:
        task = progress.add_task("ingest", total=len(dataset.corpus))
        return ingest_corpus(target, dataset, collection, lambda n: progress.advance(task, n))


def _search(
    target: EvalTarget,
    dataset: BeirDataset,
    collection: str,
    modes: Sequence[SearchMode],
    top_k: int,
    limit: int | None,
    console: Console,
) -> dict[str, ModeReport]:
    total = min(len(dataset.qrels), limit or len(dataset.qrels))
    with _bar(console, "search") as progress:
        task = progress.add_task("search", total=total)
        return evaluate_queries(
            target,
            dataset,
            collection,
            modes=modes,
            top_k=top_k,
            limit=limit,
            on_progress=lambda n: progress.advance(task, n),
        )


def _print_tables(
    console: Console,
    dataset: BeirDataset,
    split: str,
    ingest: IngestReport | None,
    reports: dict[str, ModeReport],
) -> None:
    if ingest is not None:
        statuses = ", ".join(f"{n} {status}" for status, n in sorted(ingest.statuses.items()))
        console.print(
            f"ingest: {ingest.documents} documents in {ingest.seconds:.1f}s "
            f"({ingest.docs_per_s:.1f} docs/s): {statuses}"
        )
    any_report = next(iter(reports.values()))
    table = Table(
        "mode",
        "nDCG@10",
        "recall@10",
        f"recall@{any_report.top_k}",
        "MRR@10",
        "p50 ms",
        "p95 ms",
        "p99 ms",
        title=f"{dataset.name} {split}: {any_report.queries} judged queries",
    )
    for mode, report in reports.items():
        latency: dict[str, Any] = report.latency_ms
        table.add_row(
            mode,
            f"{report.ndcg_at_10:.4f}",
            f"{report.recall_at_10:.4f}",
            f"{report.recall_at_k:.4f}",
            f"{report.mrr_at_10:.4f}",
            *(f"{latency.get(p, 0.0):.1f}" for p in ("p50", "p95", "p99")),
        )
    console.print(table)
