"""Baseline comparison and gate arithmetic, baseline file errors."""

import json

import pytest

from evals.report import BaselineError, deltas, gate, load_baseline


def retrieval_result(hit5_bm25: float, hit5_hybrid: float) -> dict:
    return {"benchmark": "retrieval", "metrics": {
        "bm25": {"hit@5": hit5_bm25, "mrr@10": 0.5, "span_recall@5": None},
        "hybrid": {"hit@5": hit5_hybrid, "mrr@10": 0.6, "span_recall@5": None},
    }}


def test_deltas_skip_what_is_not_comparable():
    table = deltas(retrieval_result(0.80, 0.90), retrieval_result(0.85, 0.88))
    assert table["bm25"]["hit@5"] == pytest.approx(-0.05)
    assert table["hybrid"]["hit@5"] == pytest.approx(0.02)
    assert "span_recall@5" not in table["bm25"]


def test_gate_threshold_and_mode_filter():
    now, before = retrieval_result(0.80, 0.90), retrieval_result(0.85, 0.91)
    outcome = gate(now, before, "hit@5", 0.02)
    assert not outcome.passed and outcome.failures == ["bm25 hit@5: 0.850 → 0.800 (-0.050)"]
    assert gate(now, before, "hybrid/hit@5", 0.02).passed  # a drop of 0.01 is tolerated
    assert gate(now, before, "hit@5", 0.05).passed  # exactly the tolerated drop
    with pytest.raises(BaselineError, match="span_recall@5"):
        gate(now, before, "span_recall@5", 0.02)


def test_gate_on_drafts_results():
    now = {"benchmark": "drafts", "metrics": {"support_rate": 0.70}}
    before = {"benchmark": "drafts", "metrics": {"support_rate": 0.80}}
    assert gate(now, before, "support_rate", 0.05).failures == ["drafts support_rate: 0.800 → 0.700 (-0.100)"]


def test_baseline_files_are_checked(tmp_path):
    path = tmp_path / "b.json"
    path.write_text(json.dumps(retrieval_result(0.8, 0.9)))
    assert load_baseline(path, "retrieval")["metrics"]["bm25"]["hit@5"] == 0.8
    with pytest.raises(BaselineError, match="a retrieval result, not a drafts one"):
        load_baseline(path, "drafts")
    path.write_text("[1, 2]")
    with pytest.raises(BaselineError, match="not a guichet eval result"):
        load_baseline(path, "retrieval")
    with pytest.raises(BaselineError, match="no such baseline file"):
        load_baseline(tmp_path / "missing.json", "retrieval")
