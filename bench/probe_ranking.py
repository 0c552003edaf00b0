"""Probes behind "Why not 0.75" in docs/benchmarks.md, on the SciFact *train* split, in-process.

Each probe asks whether something beyond the default fusion could still gain, using the candidates
``bench.tune_fusion`` retrieves (the product's own retrievers and fusion code) and paired per-query
differences against the default (mean and standard error):

- oracle: the best of nine lexical weights chosen per query (an upper bound no real system reaches);
- document-level fusion: each retriever's best chunk per document, fused at document level;
- length prior: the share of corpus documents relevant to some train claim, by document length; a
  learned ranker that sees document length exploits this property of how SciFact was assembled.

Run from the project root:  .venv/bin/python -m bench.probe_ranking [--data-dir /tmp/scifact-index]
"""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table

from bench.tune_fusion import Run, train_runs
from citeline.evaluation.beir import BeirDataset
from citeline.evaluation.metrics import ndcg_at_k, unique_ranking
from citeline.retrieval.base import Ranked
from citeline.retrieval.fusion import fuse_scores

console = Console()
LEXICAL = 0.3  # the default weights 0.3 / 0.7 and 100 candidates
DEPTH = 100
Ranking = Callable[[str, Run], list[str]]


def default_fusion(run: Run, weight: float = LEXICAL) -> Ranked:
    lexical, _, filled = run.at(DEPTH)
    return fuse_scores([lexical, filled], [weight, 1 - weight], [run.lexical.stats, run.dense.stats])


def document_fusion(owner: dict[int, str], weight: float) -> Ranking:
    """Each retriever's best standardised chunk score per document, then the convex combination."""

    def rank(_query_id: str, run: Run) -> list[str]:
        lexical, _, filled = run.at(DEPTH)
        best: list[dict[str, float]] = [{}, {}]
        floors = []
        for side, (ranked, stats) in enumerate(((lexical, run.lexical.stats), (filled, run.dense.stats))):
            for chunk_id, score in ranked:
                # No statistics (no BM25 match) or no spread: no evidence either way, like fuse_scores.
                z = (score - stats.mean) / stats.std if stats is not None and stats.std > 0 else 0.0
                document = owner[chunk_id]
                best[side][document] = max(best[side].get(document, -math.inf), z)
            floors.append(min(best[side].values(), default=0.0))
        documents = set(best[0]) | set(best[1])
        scores = {
            d: weight * best[0].get(d, floors[0]) + (1 - weight) * best[1].get(d, floors[1])
            for d in documents
        }
        return sorted(scores, key=lambda d: -scores[d])

    return rank


def paired(
    dataset: BeirDataset, runs: dict[str, Run], base: list[float], rank: Ranking
) -> tuple[float, float, float]:
    """Mean nDCG@10 of ``rank``, its mean difference to ``base`` and that difference's standard error."""
    scores = np.array([ndcg_at_k(rank(q, run), dataset.qrels[q], 10) for q, run in runs.items()])
    diff = scores - np.array(base)
    return float(scores.mean()), float(diff.mean()), float(diff.std() / math.sqrt(len(diff)))


def length_prior(data: Path, dataset: BeirDataset) -> list[tuple[str, int, float]]:
    """(length band, corpus documents in it, share relevant to some claim of the split)."""
    relevant = {doc for judged in dataset.qrels.values() for doc in judged}
    lengths: dict[str, int] = {}
    with (data / "corpus.jsonl").open(encoding="utf-8") as corpus:
        for line in corpus:
            row = json.loads(line)
            lengths[str(row["_id"])] = len(f"{row.get('title', '')} {row.get('text', '')}")
    bands = [0, 600, 900, 1200, 1500, 2000, 2500, 3000, math.inf]
    rows = []
    for low, high in itertools.pairwise(bands):
        inside = [d for d, n in lengths.items() if low <= n < high]
        share = sum(d in relevant for d in inside) / len(inside) if inside else 0.0
        band = f"{low}-{high} chars" if high < math.inf else f"{low}+ chars"
        rows.append((band, len(inside), share))
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    data, dataset, runs, owner = train_runs(argv, __doc__)

    def weighted(weight: float) -> Ranking:
        def rank(_query_id: str, run: Run) -> list[str]:
            return unique_ranking(owner.get(chunk_id) for chunk_id, _ in default_fusion(run, weight))

        return rank

    base = [ndcg_at_k(weighted(LEXICAL)(q, run), dataset.qrels[q], 10) for q, run in runs.items()]
    table = Table("probe", "train nDCG@10", "vs default", "SE", title=f"SciFact train ({len(runs)} queries)")
    table.add_row("default: z-score 0.3 / 0.7, 100 candidates", f"{np.mean(base):.4f}", "", "")

    # Oracle: for each query, the ranking of whichever of nine weights scores it best.
    rankings = {w: {q: weighted(w)(q, run) for q, run in runs.items()} for w in ORACLE_WEIGHTS}

    def oracle(query_id: str, _run: Run) -> list[str]:
        return max(
            (rankings[w][query_id] for w in ORACLE_WEIGHTS),
            key=lambda ranking: ndcg_at_k(ranking, dataset.qrels[query_id], 10),
        )

    table.add_row(
        "oracle: best of 9 lexical weights, chosen per query", *_row(paired(dataset, runs, base, oracle))
    )
    for weight in (0.25, 0.3, 0.35):
        result = paired(dataset, runs, base, document_fusion(owner, weight))
        table.add_row(f"document-level fusion, lexical {weight}", *_row(result))
    console.print(table)

    prior = Table("document length", "documents", "relevant to a train claim", title="SciFact corpus")
    for band, count, share in length_prior(data, dataset):
        prior.add_row(band, str(count), f"{share:.1%}")
    console.print(prior)
    return 0


ORACLE_WEIGHTS = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.8, 1.0)


def _row(result: tuple[float, float, float]) -> tuple[str, str, str]:
    mean, diff, error = result
    return f"{mean:.4f}", f"{diff:+.4f}", f"{error:.4f}"


if __name__ == "__main__":
    raise SystemExit(main())
