"""Bar chart of bench/results/scifact.json: nDCG@10 and recall@100 per mode, with published baselines."""

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

MODES = ("lexical", "vector", "hybrid")
METRICS = (("ndcg@10", "nDCG@10"), ("recall@100", "recall@100"))
# Published nDCG@10 on the SciFact test split (see ../shared/data/README.md).
REFERENCES = (("BM25 (BEIR) 0.665", 0.665, "tab:gray"), ("all-MiniLM-L6-v2 0.645", 0.645, "tab:purple"))


def plot(results: dict[str, Any], out: Path) -> Path:
    modes = results["search"]["modes"]
    fig, ax = plt.subplots(figsize=(7.5, 5))
    width = 0.38
    for i, (key, label) in enumerate(METRICS):
        xs = [m + (i - 0.5) * width for m in range(len(MODES))]
        values = [modes[mode][key] for mode in MODES]
        bars = ax.bar(xs, values, width, label=label, color=("tab:blue", "tab:orange")[i])
        ax.bar_label(bars, fmt="%.3f", fontsize=8, padding=2)
    for label, value, colour in REFERENCES:
        ax.axhline(value, color=colour, linestyle="--", linewidth=1, label=f"{label} (nDCG@10)")
    ax.set_xticks(range(len(MODES)), MODES)
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("score")
    env = results["environment"]
    ax.set_title(
        f"SciFact {results['split']} ({results['search']['queries']} queries), "
        f"model {env['embedding_model']}",
        fontsize=10,
    )
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.08), ncol=2, fontsize=8, frameon=False)
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
