"""Metric arithmetic on hand-computed cases."""

import math

import pytest

from evals import metrics


def test_hit_and_recall_at_k():
    ranked = ["F1", "F2", "F3", "F4"]
    assert metrics.hit_at_k(ranked, ["F3"], 2) == 0.0
    assert metrics.hit_at_k(ranked, ["F3"], 3) == 1.0
    assert metrics.recall_at_k(ranked, ["F2", "F4", "F9"], 2) == pytest.approx(1 / 3)
    assert metrics.recall_at_k(ranked, ["F2", "F4", "F9"], 4) == pytest.approx(2 / 3)
    assert metrics.recall_at_k(ranked, [], 4) == 0.0


def test_mrr_counts_the_first_gold_within_k():
    assert metrics.mrr_at_k(["F1", "F2", "F3"], ["F3", "F2"]) == pytest.approx(0.5)
    assert metrics.mrr_at_k(["F1"] * 10 + ["F2"], ["F2"], 10) == 0.0


def test_ndcg_binary_relevance():
    # gold at ranks 1 and 3 of two gold fiches: (1 + 1/log2(4)) / (1 + 1/log2(3))
    expected = (1 + 0.5) / (1 + 1 / math.log2(3))
    assert metrics.ndcg_at_k(["F1", "F2", "F3"], ["F1", "F3"]) == pytest.approx(expected)
    assert metrics.ndcg_at_k(["F1", "F3"], ["F1", "F3"]) == pytest.approx(1.0)
    assert metrics.ndcg_at_k(["F9"], ["F1"]) == 0.0


def test_span_recall_ignores_case_whitespace_and_markdown():
    texts = ["Le délai est de **2 mois**\u00a0à compter   de la notification.", "Autre passage"]
    assert metrics.span_recall(["délai est de 2 MOIS à compter"], texts) == 1.0
    assert metrics.span_recall(["délai est de 2 mois", "trois ans"], texts) == 0.5
    assert metrics.span_recall(["l’avis"], ["Demandez l'avis du maire"]) == 1.0
    assert metrics.span_recall([], texts) == 0.0
    # bold around the last words of a sentence: the span's final period still follows them
    passage = "L'âge légal est fixé à **62 ans**. Vous pouvez partir avant."
    assert metrics.span_recall(["L'âge légal est fixé à 62 ans."], [passage]) == 1.0
    assert metrics.span_recall(["Le délai est de 2 mois : passé ce délai"], ["Le délai est de 2 mois: passé ce délai"]) == 1.0


def test_percentiles_interpolate_linearly():
    values = [10, 20, 30, 40, 50]
    figures = metrics.percentiles(values, (50, 95))
    assert figures["p50"] == 30
    assert figures["p95"] == pytest.approx(48.0)  # 40 + 0.8 * 10
    assert metrics.percentiles([], (50,)) == {"p50": 0.0}


def test_precision_recall_of_abstention():
    predicted = [True, True, False, False, True]
    actual = [True, False, True, False, True]
    precision, recall = metrics.precision_recall(predicted, actual)
    assert precision == pytest.approx(2 / 3)
    assert recall == pytest.approx(2 / 3)
    assert metrics.precision_recall([False], [True]) == (0.0, 0.0)
    with pytest.raises(ValueError):
        metrics.precision_recall([True], [])


def test_calibration_error_brier_and_reliability_table():
    # Two bins: 0.9 (hit 2 of 4) and 0.2 (hit 0 of 1).
    figures = metrics.calibration([0.9, 0.9, 0.9, 0.9, 0.2], [1, 1, 0, 0, 0])
    assert figures["ece"] == pytest.approx(4 / 5 * 0.4 + 1 / 5 * 0.2)
    assert figures["brier"] == pytest.approx((2 * 0.01 + 2 * 0.81 + 0.04) / 5)
    assert [(b["low"], b["count"], b["hit_rate"]) for b in figures["bins"]] == [(0.2, 1, 0.0), (0.9, 4, 0.5)]
    assert metrics.calibration([1.0, 0.0], [1, 0])["ece"] == 0.0  # 1.0 falls in the last bin
    assert metrics.calibration([], []) == {"ece": 0.0, "brier": 0.0, "bins": []}
    with pytest.raises(ValueError):
        metrics.calibration([0.5], [])


def test_ranking_metrics_keys_and_dedupe():
    ranked = metrics.dedupe(["F2", "F2", "F1", "F3", "F1"])
    assert ranked == ["F2", "F1", "F3"]
    figures = metrics.ranking_metrics(ranked, ["F1"], [1, 5])
    assert figures == {
        "hit@1": 0.0,
        "recall@1": 0.0,
        "hit@5": 1.0,
        "recall@5": 1.0,
        "mrr@10": 0.5,
        "ndcg@10": pytest.approx(1 / math.log2(3)),
    }
