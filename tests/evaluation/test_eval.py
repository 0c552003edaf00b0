"""`citeline eval` on a tiny BEIR folder, embedded and over HTTP through the real app."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from citeline.cli import app
from citeline.evaluation.beir import BeirDataset
from citeline.evaluation.runner import evaluate_queries, ingest_corpus
from citeline.evaluation.targets import HttpTarget
from tests.conftest import MakeClient
from tests.helpers import FIXTURES

BEIR_MINI = FIXTURES / "beir-mini"
ANSWERABLE = ("q1", "q2", "q3", "q4")  # q5's judgement names the wrong document on purpose


@pytest.fixture
def runner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("CITELINE_DATA_DIR", str(tmp_path / "data"))
    return CliRunner()


def test_dataset_keeps_only_judged_queries_with_a_relevant_document() -> None:
    dataset = BeirDataset.load(BEIR_MINI, "test")
    assert dataset.name == "beir-mini"
    assert len(dataset.corpus) == 9
    assert set(dataset.qrels) == {"q1", "q2", "q3", "q4", "q5"}  # q6 has no judgements
    assert dataset.qrels["q5"] == {"coffee": 1, "chess": 0}


def test_embedded_eval_prints_json_report(runner: CliRunner) -> None:
    result = runner.invoke(
        app, ["eval", str(BEIR_MINI), "--json", "--mode", "hybrid", "--mode", "lexical", "--top-k", "10"]
    )
    assert result.exit_code == 0, result.output
    report: dict[str, Any] = json.loads(result.stdout)
    assert report["target"] == "embedded"
    assert report["ingest"]["statuses"] == {"indexed": 9}
    hybrid = report["modes"]["hybrid"]
    assert hybrid["queries"] == 5
    for query_id in ANSWERABLE:
        assert hybrid["per_query"][query_id]["ndcg@10"] == 1.0, query_id
    # q5: the chess document ranks first, the (wrongly) judged coffee one somewhere below it
    assert hybrid["per_query"]["q5"]["mrr@10"] < 1.0
    per_query_ndcg = [q["ndcg@10"] for q in hybrid["per_query"].values()]
    assert hybrid["ndcg_at_10"] == pytest.approx(sum(per_query_ndcg) / 5, abs=1e-4)
    assert hybrid["ndcg_at_10"] < 1.0
    assert hybrid["recall_at_k"] == 1.0  # dense search returns every document at top_k=10
    assert set(hybrid["latency_ms"]) == {"p50", "p95", "p99", "mean"}
    assert report["modes"]["lexical"]["queries"] == 5


def test_eval_over_http_through_the_app(make_client: MakeClient) -> None:
    client = make_client()
    dataset = BeirDataset.load(BEIR_MINI, "test")
    target = HttpTarget("", client=client)

    first = ingest_corpus(target, dataset, "eval-mini")
    assert first.statuses == {"indexed": 9}
    again = ingest_corpus(target, dataset, "eval-mini")
    assert again.statuses == {"unchanged": 9}

    reports = evaluate_queries(target, dataset, "eval-mini", modes=("hybrid", "vector"), top_k=10)
    for mode in ("hybrid", "vector"):
        for query_id in ANSWERABLE:
            assert reports[mode].per_query[query_id]["mrr@10"] == 1.0, (mode, query_id)
    assert reports["hybrid"].server_ms["p50"] > 0

    listed = client.get("/api/v1/documents", params={"collection": "eval-mini", "limit": 100}).json()
    assert listed["total"] == 9


def test_eval_human_output_has_a_table(runner: CliRunner) -> None:
    result = runner.invoke(app, ["eval", str(BEIR_MINI), "--top-k", "10", "--limit", "2"])
    assert result.exit_code == 0, result.output
    assert "nDCG@10" in result.output
    assert "beir-mini test: 2 judged queries" in result.output
    assert "9 indexed" in result.output


def test_eval_of_a_folder_that_is_not_beir_fails_clearly(runner: CliRunner, tmp_path: Path) -> None:
    (tmp_path / "corpus.jsonl").write_text('{"_id": "1", "text": "x"}\n')
    (tmp_path / "queries.jsonl").write_text('{"_id": "1", "text": "x"}\n')
    result = runner.invoke(app, ["eval", str(tmp_path)])
    assert result.exit_code == 2
    assert "has no qrels/test.tsv" in result.output

    (tmp_path / "qrels").mkdir()
    (tmp_path / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\n1\t1\t1\n")
    (tmp_path / "corpus.jsonl").write_text("not json\n")
    result = runner.invoke(app, ["eval", str(tmp_path)])
    assert result.exit_code == 2
    assert "corpus.jsonl line 1: not JSON" in result.output


def test_eval_skip_ingest_on_an_empty_index_names_the_missing_collection(runner: CliRunner) -> None:
    result = runner.invoke(app, ["eval", str(BEIR_MINI), "--skip-ingest"])
    assert result.exit_code == 2
    assert "Collection 'eval-beir-mini' not found" in result.output


def test_eval_against_an_unreachable_service(runner: CliRunner) -> None:
    result = runner.invoke(app, ["eval", str(BEIR_MINI), "--url", "http://127.0.0.1:9"])
    assert result.exit_code == 2
    assert "cannot reach http://127.0.0.1:9" in result.output


def test_eval_rejects_an_unknown_mode(runner: CliRunner) -> None:
    result = runner.invoke(app, ["eval", str(BEIR_MINI), "--mode", "semantic"])
    assert result.exit_code == 2
    assert "unknown mode 'semantic'" in result.output
