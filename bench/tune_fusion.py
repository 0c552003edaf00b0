"""Tune hybrid fusion on the SciFact *train* split (never the test split), in-process.

Retrieves each train query's BM25 and dense candidates once, then scores every fusion setting with the
product's own fuse functions, so the grid costs seconds after the first ingest. Prints the grid, best
first; the chosen defaults (zscore over whole-index statistics with exact vector scores for lexical
candidates, lexical 0.3 / dense 0.7, 100 candidates) are recorded in docs/benchmarks.md. "zscore-list"
rows standardise by each truncated list's own mean and spread instead (the issue-3 first default).

Run from the project root:  .venv/bin/python -m bench.tune_fusion [--data-dir /tmp/scifact-index]
"""

from __future__ import annotations

import argparse
import itertools
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.progress import track
from rich.table import Table

from bench.common import PROJECT_ROOT
from citeline.config import Settings
from citeline.evaluation.beir import BeirDataset
from citeline.evaluation.metrics import mean, ndcg_at_k, recall_at_k, unique_ranking
from citeline.evaluation.runner import ingest_corpus
from citeline.evaluation.targets import EmbeddedTarget
from citeline.retrieval.base import Candidates, Ranked
from citeline.retrieval.fusion import fuse_rankings, fuse_scores
from citeline.services import build_services
from citeline.storage.models import Chunk, Document

console = Console()
DEPTH = 300


@dataclass(frozen=True)
class Run:
    """One query's candidates: BM25 and dense top DEPTH with their statistics, and the exact dense score
    of every BM25 candidate."""

    lexical: Candidates
    dense: Candidates
    dense_of_lexical: dict[int, float]

    def at(self, depth: int) -> tuple[Ranked, Ranked, Ranked]:
        """BM25 top ``depth``, dense top ``depth``, and the dense list completed with the exact scores of
        those BM25 candidates (what SearchService fuses)."""
        lexical, dense = self.lexical.ranked[:depth], self.dense.ranked[:depth]
        seen = {chunk_id for chunk_id, _ in dense}
        filled = dense + [(c, self.dense_of_lexical[c]) for c, _ in lexical if c not in seen]
        return lexical, dense, filled


Fuse = Callable[[Run, int], Ranked]


def candidates(data_dir: Path, dataset: BeirDataset) -> tuple[dict[str, Run], dict[int, str]]:
    """Per train query: its Run; and chunk id -> external id."""
    services = build_services(Settings(data_dir=data_dir))
    try:
        report = ingest_corpus(EmbeddedTarget(services), dataset, "scifact")
        console.print(f"index: {report.statuses}")
        runs: dict[str, Run] = {}
        with services.db.read() as session:
            rows = session.query(Chunk.id, Document.external_id).join(
                Document, Document.id == Chunk.document_id
            )
            owner = {int(chunk_id): str(external_id) for chunk_id, external_id in rows}
            scope = services.scope(session, "scifact", {})  # the data dir may hold other collections
            for query_id in track(list(dataset.qrels), description="candidates", console=console):
                query = dataset.queries[query_id]
                lexical = services.search.lexical.search(session, query, DEPTH, scope)
                vector = services.embedder.embed_query(query)
                dense = services.search.vectors.search(session, vector, DEPTH, scope)
                exact = services.search.vectors.scores_for([c for c, _ in lexical.ranked], vector)
                runs[query_id] = Run(lexical, dense, dict(exact))
        return runs, owner
    finally:
        services.close()


def score(
    dataset: BeirDataset,
    runs: dict[str, Run],
    owner: dict[int, str],
    fuse: Fuse,
    depth: int,
) -> tuple[float, float]:
    ndcg, recall = [], []
    for query_id, run in runs.items():
        ranking = unique_ranking(owner.get(chunk) for chunk, _ in fuse(run, depth))
        ndcg.append(ndcg_at_k(ranking, dataset.qrels[query_id], 10))
        recall.append(recall_at_k(ranking, dataset.qrels[query_id], 100))
    return mean(ndcg), mean(recall)


def _rrf(k: int, weight: float) -> Fuse:
    def fuse(run: Run, depth: int) -> Ranked:
        lexical, dense, _ = run.at(depth)
        return fuse_rankings([lexical, dense], [weight, 1.0], k=k)

    return fuse


def _zscore_list(weight: float) -> Fuse:
    def fuse(run: Run, depth: int) -> Ranked:
        lexical, dense, _ = run.at(depth)
        return fuse_scores([lexical, dense], [weight, 1 - weight])

    return fuse


def _zscore(weight: float) -> Fuse:
    """What SearchService does: whole-index statistics, exact dense scores for BM25 candidates."""

    def fuse(run: Run, depth: int) -> Ranked:
        lexical, _, filled = run.at(depth)
        return fuse_scores([lexical, filled], [weight, 1 - weight], [run.lexical.stats, run.dense.stats])

    return fuse


def grid() -> list[tuple[str, Fuse]]:
    settings: list[tuple[str, Fuse]] = [
        ("lexical only", lambda run, depth: run.at(depth)[0]),
        ("dense only", lambda run, depth: run.at(depth)[1]),
    ]
    for k, weight in itertools.product((10, 30, 60, 100), (0.7, 1.0, 1.3)):
        settings.append((f"rrf k={k} lexical={weight}", _rrf(k, weight)))
    for weight in (0.3, 0.4, 0.5, 0.6, 0.7):
        settings.append((f"zscore-list lexical={weight}", _zscore_list(weight)))
    for weight in (0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.5):
        settings.append((f"zscore lexical={weight}", _zscore(weight)))
    return settings


def train_runs(
    argv: Sequence[str] | None, description: str | None
) -> tuple[Path, BeirDataset, dict[str, Run], dict[int, str]]:
    """The command line shared by the train-split scripts (--data, --data-dir), then every train
    query's candidates: (SciFact folder, train split, runs, chunk id -> external id)."""
    parser = argparse.ArgumentParser(
        description=description, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, default=PROJECT_ROOT / ".." / "shared" / "data" / "scifact")
    parser.add_argument("--data-dir", type=Path, default=None, help="keep (and reuse) the index here")
    args = parser.parse_args(argv)
    dataset = BeirDataset.load(args.data, "train")
    with tempfile.TemporaryDirectory(prefix="citeline-train-") as temp:
        runs, owner = candidates(args.data_dir or Path(temp), dataset)
    return args.data, dataset, runs, owner


def main(argv: Sequence[str] | None = None) -> int:
    _, dataset, runs, owner = train_runs(argv, __doc__)
    rows = []
    for depth in (50, 100, 200):
        for name, fuse in grid():
            ndcg, recall = score(dataset, runs, owner, fuse, depth)
            rows.append((ndcg, recall, name, depth))
    table = Table(
        "fusion", "candidates", "nDCG@10", "recall@100", title=f"SciFact train ({len(runs)} queries)"
    )
    for ndcg, recall, name, depth in sorted(rows, reverse=True)[:25]:
        table.add_row(name, str(depth), f"{ndcg:.4f}", f"{recall:.4f}")
    console.print(table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
