"""IR metrics against values computed by hand (trec_eval/BEIR definitions)."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from citeline.evaluation.beir import load_qrels
from citeline.evaluation.metrics import mrr_at_k, ndcg_at_k, percentile, recall_at_k, unique_ranking

QRELS = {"a": 1, "b": 2}
IDEAL_DCG = 2 / math.log2(2) + 1 / math.log2(3)  # b (grade 2) at rank 1, a (grade 1) at rank 2


def test_perfect_ranking_scores_one() -> None:
    assert ndcg_at_k(["b", "a", "x"], QRELS, 10) == pytest.approx(1.0)
    assert recall_at_k(["b", "a", "x"], QRELS, 100) == pytest.approx(1.0)


def test_mixed_ranking_matches_hand_computation() -> None:
    # DCG = 1/log2(2) + 0/log2(3) + 2/log2(4) = 1 + 0 + 1 = 2; IDCG = 2 + 1/log2(3) ~= 2.6309
    assert ndcg_at_k(["a", "x", "b"], QRELS, 10) == pytest.approx(2 / IDEAL_DCG)
    assert ndcg_at_k(["a", "x", "b"], QRELS, 10) == pytest.approx(0.76018, abs=1e-5)
    assert recall_at_k(["a", "x", "b"], QRELS, 100) == pytest.approx(1.0)
    assert recall_at_k(["a", "x", "b"], QRELS, 2) == pytest.approx(0.5)


def test_cutoff_ignores_documents_below_k() -> None:
    # only "a" is inside the top 2: DCG = 1
    assert ndcg_at_k(["a", "x", "b"], QRELS, 2) == pytest.approx(1 / IDEAL_DCG)


def test_missing_relevant_document_scores_lower() -> None:
    found_both = ndcg_at_k(["a", "x", "b"], QRELS, 10)
    missing_b = ndcg_at_k(["a", "x", "y"], QRELS, 10)
    assert missing_b == pytest.approx(1 / IDEAL_DCG)
    assert missing_b < found_both
    assert recall_at_k(["a", "x", "y"], QRELS, 100) == pytest.approx(0.5)
    assert ndcg_at_k(["x", "y"], QRELS, 10) == 0.0
    assert recall_at_k([], QRELS, 100) == 0.0


def test_zero_grade_judgements_are_not_relevant() -> None:
    assert recall_at_k(["a"], {"a": 1, "z": 0}, 10) == pytest.approx(1.0)
    assert ndcg_at_k(["a"], {"a": 1, "z": 0}, 10) == pytest.approx(1.0)


def test_unique_ranking_keeps_each_documents_best_rank() -> None:
    assert unique_ranking(["a", "b", "a", None, "c", "b"]) == ["a", "b", "c"]


def test_percentile_interpolates_like_numpy() -> None:
    assert percentile([4.0, 1.0, 3.0, 2.0], 50) == pytest.approx(2.5)
    assert percentile([1.0, 2.0, 3.0, 4.0], 95) == pytest.approx(3.85)
    assert percentile([7.0], 95) == 7.0


def test_load_qrels_skips_the_header(tmp_path: Path) -> None:
    (tmp_path / "qrels").mkdir()
    (tmp_path / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\n1\t10\t1\n1\t11\t2\n2\t12\t1\n")
    assert load_qrels(tmp_path, "test") == {"1": {"10": 1, "11": 2}, "2": {"12": 1}}


def test_mrr_is_the_reciprocal_rank_of_the_first_relevant_document() -> None:
    assert mrr_at_k(["b", "a"], QRELS, 10) == 1.0
    assert mrr_at_k(["x", "y", "a"], QRELS, 10) == pytest.approx(1 / 3)
    assert mrr_at_k(["x", "y", "a"], QRELS, 2) == 0.0
    assert mrr_at_k(["z"], {"z": 0}, 10) == 0.0
