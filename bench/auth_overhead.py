"""What auth and ACL filtering cost on search latency: the same SciFact index, three ways at once.

Ingests the SciFact corpus once with auth off, gives every tenth document an ACL, creates an admin and a
member key with `citeline keys create`, grants the member read access, then runs three servers on the
same data dir: one with auth off, two with auth on. Each of the 300 test queries goes, in rotating order, to

- auth off (the baseline),
- auth on with the admin key (key lookup, scope check, rate limit, audit; no ACL filter: admins see all),
- auth on with the member key (the same, plus collection grants and the ACL inside both retrievers),

for several rounds, at top_k=10, each variant on its own server process (so each process serves the
same share of the traffic). Reports client and server p50/p95 and each variant's ratio to the baseline
measured in the same run (target: under 10% overhead).

Run from the project root:  .venv/bin/python -m bench.auth_overhead [--rounds 3] [--data-dir DIR]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.progress import track
from rich.table import Table

from bench.common import PROJECT_ROOT, citeline_executable, environment, running_server, write_results
from citeline.evaluation.beir import BeirDataset
from citeline.evaluation.metrics import percentile
from citeline.evaluation.runner import ingest_corpus
from citeline.evaluation.targets import HttpTarget

console = Console()
COLLECTION = "scifact"
SECRET = "bench-secret-0123456789-abcdefghijklmnopqrstuvwxyz"
AUTH_ON = {
    "CITELINE_AUTH": "on",
    "CITELINE_JWT_SECRET": SECRET,
    "CITELINE_RATE_LIMIT_QUERY": "1000000/minute",
    "CITELINE_RATE_LIMIT_INGEST": "1000000/minute",
}


def new_key(data_dir: Path, user: str, scopes: str) -> str:
    env = {**os.environ, "CITELINE_DATA_DIR": str(data_dir)}
    made = subprocess.run(
        [citeline_executable(), "keys", "create", "--scopes", scopes, "--user", user],
        env=env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    return made.stdout.strip().splitlines()[-1]


def narrow_every_tenth(client: httpx.Client, admin: str) -> int:
    """Give every tenth document an ACL naming only the admin, so ACL filtering has work to do."""
    headers = {"X-API-Key": admin}
    ids: list[str] = []
    offset = 0
    while True:
        page = client.get(
            "/api/v1/documents",
            params={"collection": COLLECTION, "limit": 500, "offset": offset},
            headers=headers,
        ).json()
        ids += [item["id"] for item in page["items"]]
        offset += 500
        if offset >= page["total"]:
            break
    narrowed = ids[::10]
    for document_id in track(narrowed, description="ACLs", console=console):
        response = client.patch(
            f"/api/v1/documents/{document_id}", json={"acl": ["user:admin"]}, headers=headers
        )
        response.raise_for_status()
    return len(narrowed)


def timed(client: httpx.Client, query: str, key: str | None) -> tuple[float, float]:
    headers = {"X-API-Key": key} if key else {}
    body = {"query": query, "top_k": 10, "collection": COLLECTION}
    started = time.perf_counter()
    response = client.post("/api/v1/search", json=body, headers=headers)
    elapsed = (time.perf_counter() - started) * 1000
    response.raise_for_status()
    return elapsed, float(response.json()["timings_ms"]["total"])


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, default=PROJECT_ROOT / ".." / "shared" / "data" / "scifact")
    parser.add_argument("--data-dir", type=Path, default=None, help="keep (and reuse) the index here")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--out", type=Path, default=PROJECT_ROOT / "bench" / "results" / "auth_overhead.json")
    args = parser.parse_args(argv)
    dataset = BeirDataset.load(args.data, "test")
    queries = [dataset.queries[q] for q in dataset.qrels]
    with tempfile.TemporaryDirectory(prefix="citeline-auth-bench-") as temp:
        data_dir = args.data_dir or Path(temp)
        with running_server(data_dir=data_dir) as server:
            console.print("ingesting SciFact (auth off) ...")
            report = ingest_corpus(HttpTarget(server.base_url), dataset, COLLECTION)
            console.print(f"index: {report.statuses}")
        admin, member = new_key(data_dir, "admin", "read,write,admin"), new_key(data_dir, "member", "read")
        with (
            running_server(data_dir=data_dir) as off,
            running_server(AUTH_ON, data_dir=data_dir) as on,
            running_server(AUTH_ON, data_dir=data_dir) as on_member,
        ):
            grant = {"principal": "user:member", "permission": "read"}
            on.client.put(
                f"/api/v1/collections/{COLLECTION}/grants", json=grant, headers={"X-API-Key": admin}
            ).raise_for_status()
            narrowed = narrow_every_tenth(on.client, admin)
            variants: dict[str, tuple[httpx.Client, str | None]] = {
                "auth off": (off.client, None),
                "auth on, admin key": (on.client, admin),
                "auth on, member key + grants + ACL": (on_member.client, member),
            }
            for client, key in variants.values():  # warm caches and the model on both servers
                for query in queries[:30]:
                    timed(client, query, key)
            samples: dict[str, dict[str, list[float]]] = {n: {"client": [], "server": []} for n in variants}
            names = list(variants)
            for round_ in range(args.rounds):
                for index, query in enumerate(
                    track(queries, description=f"round {round_ + 1}", console=console)
                ):
                    rotation = names[index % 3 :] + names[: index % 3]  # no variant always goes first
                    for name in rotation:
                        client, key = variants[name]
                        client_ms, server_ms = timed(client, query, key)
                        samples[name]["client"].append(client_ms)
                        samples[name]["server"].append(server_ms)
            ready = off.ready()
    results: dict[str, Any] = {
        "benchmark": "auth_overhead",
        "command": ".venv/bin/python -m bench.auth_overhead",
        "environment": environment(ready),
        "queries": len(queries),
        "rounds": args.rounds,
        "documents_with_acl": narrowed,
        "variants": {},
    }
    base = {kind: percentile(samples["auth off"][kind], 50) for kind in ("client", "server")}
    table = Table(
        "variant", "client p50", "client p95", "server p50", "server p95", "p50 vs off (client / server)"
    )
    for name, values in samples.items():
        figures = {
            f"{kind}_p{p}": round(percentile(values[kind], p), 2)
            for kind in ("client", "server")
            for p in (50, 95)
        }
        ratio = {kind: round(figures[f"{kind}_p50"] / base[kind], 3) for kind in ("client", "server")}
        results["variants"][name] = {**figures, "ratio_p50": ratio}
        table.add_row(
            name,
            f"{figures['client_p50']:.1f}",
            f"{figures['client_p95']:.1f}",
            f"{figures['server_p50']:.1f}",
            f"{figures['server_p95']:.1f}",
            f"{ratio['client']:.3f} / {ratio['server']:.3f}",
        )
    console.print(table)
    console.print(f"wrote {write_results(args.out, results)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
