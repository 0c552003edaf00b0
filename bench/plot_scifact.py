"""Charts of bench/results/scifact.json: quality per variant (with published baselines) and latency."""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # after matplotlib.use(): the backend must be chosen first

from bench.common import PROJECT_ROOT

# Published nDCG@10 on the SciFact test split (see ../shared/data/README.md).
REFERENCES = (
    ("BM25 (BEIR) 0.665", 0.665, "tab:gray"),
    ("bge-small-en-v1.5 0.713", 0.713, "tab:green"),
    ("bge-base-en-v1.5 0.744", 0.744, "tab:red"),
)


def plot(results: dict[str, Any], out: Path) -> Path:
    variants = results["variants"]
    names = list(variants)
    fig, (quality, latency) = plt.subplots(
        1, 2, figsize=(12, 0.7 * len(names) + 2.6), gridspec_kw={"width_ratios": [3, 2]}, sharey=True
    )
    ys = list(range(len(names)))
    height = 0.38
    for offset, key, label, colour in (
        (-height / 2, "ndcg@10", "nDCG@10", "tab:blue"),
        (height / 2, "recall@100", "recall@100", "tab:orange"),
    ):
        bars = quality.barh([y + offset for y in ys], [variants[n][key] for n in names], height, label=label,
                            color=colour)  # fmt: skip
        quality.bar_label(bars, fmt="%.3f", fontsize=8, padding=2)
    for label, value, colour in REFERENCES:
        quality.axvline(value, color=colour, linestyle="--", linewidth=1, label=f"published {label}")
    quality.set_xlim(0.5, 1.02)
    quality.set_yticks(ys, names)
    quality.invert_yaxis()
    quality.set_xlabel("score (SciFact test)")
    quality.legend(loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=3, fontsize=7, frameon=False)

    for offset, key, colour in ((-height / 2, "p50", "tab:cyan"), (height / 2, "p95", "tab:purple")):
        values = [variants[n]["latency_top10_ms"][key] for n in names]
        bars = latency.barh([y + offset for y in ys], values, height, label=f"{key} (client, top_k=10)",
                            color=colour)  # fmt: skip
        latency.bar_label(bars, fmt="%.0f", fontsize=8, padding=2)
    latency.axvline(50, color="black", linestyle=":", linewidth=1, label="p50 target 50 ms")
    latency.set_xlabel("search latency, ms (HTTP round trip)")
    latency.legend(loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=2, fontsize=7, frameon=False)

    env = results["environment"]
    fig.suptitle(
        f"SciFact {results['split']} ({results['queries']} queries) through POST /api/v1/search; "
        f"{env['cpu_count']} CPUs, model {env['embedding_model']}",
        fontsize=10,
    )
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=150)
    plt.close(fig)
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--results", type=Path, default=PROJECT_ROOT / "bench" / "results" / "scifact.json")
    parser.add_argument("--out", type=Path, default=PROJECT_ROOT / "docs" / "img" / "scifact.png")
    args = parser.parse_args(argv)
    results = json.loads(args.results.read_text(encoding="utf-8"))
    print(f"wrote {plot(results, args.out)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
