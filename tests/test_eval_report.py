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


# --- reports of runs on e-mail rows --------------------------------------------------

EMAILS_TITLE = "Per e-mail: what was understood, what was retrieved"


def _sections(out_dir):
    """The e-mail section of report.md and of report.html ("" when absent)."""
    markdown = (out_dir / "report.md").read_text(encoding="utf-8")
    html = (out_dir / "report.html").read_text(encoding="utf-8")
    return _between(markdown, f"## {EMAILS_TITLE}", "## Plots"), _between(html, f"<h2>{EMAILS_TITLE}</h2>", "<h2>Plots</h2>")


def _between(text, start, end):
    return text.split(start, 1)[1].split(end, 1)[0] if start in text else ""


def test_retrieval_report_shows_each_need_searched(tmp_path, email_retrieval_run):
    from markupsafe import escape

    from evals.report import write_report

    write_report(email_retrieval_run, tmp_path)
    markdown, html = _sections(tmp_path)
    needs = {r["id"]: r["need"] for r in email_retrieval_run["per_question"] if r["mode"] == "hybrid" and r["need"]}
    assert set(needs) == {"bail", "bail#q2"}
    for row_id, need in needs.items():
        assert f"| {row_id} | {need['question']}" in markdown
        assert f"<tr><td>{row_id}</td><td><strong>{escape(need['question'])}</strong>" in html
    assert "plain" not in markdown and "plain" not in html  # rows without message are not e-mails


def test_drafts_report_shows_the_questions_understood(tmp_path, email_drafts_run):
    from markupsafe import escape

    from evals.report import write_report

    write_report(email_drafts_run, tmp_path)
    markdown, html = _sections(tmp_path)
    (row,) = [r for r in email_drafts_run["per_question"] if r["id"] == "bail"]
    assert markdown.count("\n| bail |") == 1 and "<tr><td>bail</td>" in html
    for number, need in enumerate(row["needs"], 1):
        assert f"{number}. {need['question']}" in markdown
        assert f"<p>{number}. {escape(need['question'])}</p>" in html
    assert "plain" not in markdown and "plain" not in html


def test_runs_without_message_rows_have_no_email_section(tmp_path, email_questions, sample_retriever,
                                                         sample_draft_service):
    from evals.drafts_eval import evaluate_drafts
    from evals.report import write_report
    from evals.retrieval_eval import evaluate_retrieval
    from retrieval.types import SearchMode
    from tests.fixtures.evals import draft_fn, understand_fn

    plain = [q for q in email_questions if q.message is None]
    retrieval = evaluate_retrieval(sample_retriever, plain, modes=(SearchMode.BM25,),
                                   understand=understand_fn(sample_draft_service))
    drafts = evaluate_drafts(draft_fn(sample_draft_service), plain)
    for name, result in (("retrieval", retrieval), ("drafts", drafts)):
        write_report({"benchmark": name, **result}, tmp_path / name)
        assert (tmp_path / name / "report.md").is_file()
        assert _sections(tmp_path / name) == ("", ""), name


def _row(qid: str, ranked: list[str], gold: list[str], latency: float = 5.0) -> dict:
    return {"id": qid, "question": f"question {qid}", "kind": "", "gold": gold, "mode": "hybrid", "ranked": ranked,
            "figures": {"mrr@10": 0.0, "ndcg@10": 0.0}, "latency_ms": latency, "confidence": 0.5, "top": [],
            "error": None}


def test_worst_questions_are_ranked_by_the_first_gold_misses_first():
    from evals.retrieval_eval import worst_questions

    result = {"per_question": [
        _row("q1", ["F1", "F2"], ["F1"]),  # first: not listed
        _row("q2", ["F9", "F8", "F7", "F2"], ["F2"]),  # rank 4
        _row("q3", ["F9", "F8"], ["F2"]),  # missed
        _row("q4", ["F9", "F2"], ["F2"]),  # rank 2
        _row("q0", ["F9"], ["F3"]),  # missed
    ]}
    assert [r["id"] for r in worst_questions(result, "hybrid")] == ["q0", "q3", "q2", "q4"]


def test_the_configuration_is_a_readable_table_and_a_saturated_set_is_flagged(tmp_path):
    from evals.report import config_rows, write_report

    config = {"index_dir": "data/index", "embedder": "the index's own (multilingual-e5-small)", "limit": None,
              "modes": ["bm25", "hybrid"], "index": {"fiches": 569, "bm25": {"k1": 1.2}}}
    assert config_rows(config) == [
        ("index dir", "data/index"), ("embedder", "the index's own (multilingual-e5-small)"), ("limit", "default"),
        ("modes", "bm25, hybrid"), ("index · fiches", "569"), ("index · bm25 · k1", "1.200")]
    result = {"benchmark": "retrieval", "modes": ["bm25", "hybrid"], "ks": [1, 5], "config": config,
              "metrics": {m: {"hit@1": 1.0, "hit@5": 1.0, "mrr@10": 1.0} for m in ("bm25", "hybrid")},
              "per_question": [_row("q1", ["F1"], ["F1"])], "by_kind": {}}
    write_report(result, tmp_path / "saturated")
    markdown = (tmp_path / "saturated" / "report.md").read_text()
    assert "Warning: this set is saturated" in markdown and "| index · fiches | 569 |" in markdown
    assert "{" not in markdown.split("## Metrics")[0], "no raw JSON in the configuration"
    assert "Every question has a gold fiche first." in markdown
    result["metrics"]["bm25"]["hit@1"] = 0.9
    write_report(result, tmp_path / "not-saturated")
    assert "saturated" not in (tmp_path / "not-saturated" / "report.md").read_text()


def test_the_latency_of_the_first_query_is_not_measured(sample_retriever, email_questions):
    from evals.retrieval_eval import evaluate_retrieval
    from retrieval.types import SearchMode

    calls = []
    original = sample_retriever.search

    def counted(*args, **kwargs):
        calls.append(args[0] if args else kwargs.get("query"))
        return original(*args, **kwargs)

    plain = [q for q in email_questions if q.message is None][:3]
    sample_retriever.search = counted
    try:
        result = evaluate_retrieval(sample_retriever, plain, modes=(SearchMode.BM25,))
    finally:
        del sample_retriever.search
    assert len(calls) == len(plain) + 1 and calls[0] == plain[0].question  # one untimed warm-up query
    assert len([r for r in result["per_question"] if r["mode"] == "bm25"]) == len(plain)
