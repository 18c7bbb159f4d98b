"""`guichet eval retrieval` on the sample index: structure, sane values, errors, gate."""

import json

import pytest

from evals.cli import GATE_FAILED_EXIT, eval_group
from evals.metrics import mean
from tests.fixtures.evals import EMAIL, EMAIL_ROW, PLAIN_ROW, RUN_LIMIT

MODES = ("bm25", "dense", "hybrid")
REQUIRED = ("hit@1", "hit@5", "mrr@10", "ndcg@10", "recall@5", "span_recall@5", "latency_p50_ms", "latency_p95_ms",
            "confidence_ece", "confidence_brier")


def test_metrics_per_mode_with_the_documented_keys(retrieval_run):
    result, _ = retrieval_run
    assert result["benchmark"] == "retrieval"
    assert list(result["metrics"]) == list(MODES)
    assert result["questions"] == RUN_LIMIT
    for mode in MODES:
        figures = result["metrics"][mode]
        assert all(key in figures for key in REQUIRED), figures.keys()
        assert figures["errors"] == 0
        for k_small, k_large in ((1, 3), (3, 5), (5, 10)):
            assert figures[f"hit@{k_small}"] <= figures[f"hit@{k_large}"]
        for name in ("hit@1", "hit@5", "mrr@10", "ndcg@10", "recall@5", "span_recall@5"):
            assert 0.0 <= figures[name] <= 1.0
        assert 0 < figures["latency_p50_ms"] <= figures["latency_p95_ms"]
    # Titles of indexed fiches: a working hybrid search finds most of them.
    assert result["metrics"]["hybrid"]["hit@5"] >= 0.6
    assert result["metrics"]["hybrid"]["span_recall@10"] > 0


def test_aggregates_are_the_means_of_the_per_question_figures(retrieval_run):
    result, _ = retrieval_run
    rows = [r for r in result["per_question"] if r["mode"] == "hybrid"]
    assert len(rows) == RUN_LIMIT
    assert result["metrics"]["hybrid"]["mrr@10"] == pytest.approx(mean(r["figures"]["mrr@10"] for r in rows))
    for row in rows:
        hit = row["figures"]["hit@5"] == 1.0
        assert hit == any(g in row["ranked"][:5] for g in row["gold"])
        assert row["top"] and row["top"][0]["fiche_id"] == row["ranked"][0]


def test_confidence_is_measured_against_a_hit_in_the_top_5(retrieval_run):
    result, _ = retrieval_run
    rows = [r for r in result["per_question"] if r["mode"] == "hybrid"]
    hits = [r["figures"]["hit@5"] for r in rows]
    brier = mean((r["confidence"] - hit) ** 2 for r, hit in zip(rows, hits, strict=True))
    assert result["metrics"]["hybrid"]["confidence_brier"] == pytest.approx(brier)
    table = result["calibration"]["hybrid"]
    assert sum(b["count"] for b in table["bins"]) == len(rows)
    assert table["ece"] == result["metrics"]["hybrid"]["confidence_ece"]
    assert 0.0 <= table["ece"] <= 1.0


def test_report_files_and_plots(retrieval_run):
    from matplotlib.image import imread

    _, report = retrieval_run
    for name in ("result.json", "report.md", "report.html", "recall_at_k.png", "score_distribution.png",
                 "reliability.png", "latency.png"):
        assert (report / name).is_file(), name
    for png in report.glob("*.png"):
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert imread(png).shape[0] > 100
    html = (report / "report.html").read_text(encoding="utf-8")
    assert '<img src="recall_at_k.png"' in html and "Worst questions" in html
    markdown = (report / "report.md").read_text(encoding="utf-8")
    assert "| hit@5 |" in markdown and "![recall_at_k](recall_at_k.png)" in markdown


def _gate_run(cli_runner, dataset, index_dir, baseline, *extra):
    return cli_runner.invoke(eval_group, [
        "retrieval", "--dataset", str(dataset), "--index-dir", str(index_dir), "--modes", "bm25", "--limit", "4",
        "--baseline", str(baseline), *extra,
    ])


def test_baseline_gate_exit_code(tmp_path, cli_runner, retrieval_run, sample_index_dir, sample_questions_file):
    result, report = retrieval_run
    same = report / "result.json"
    better = json.loads(same.read_text())
    better["metrics"]["bm25"]["mrr@10"] = 1.5  # a baseline no run can reach
    better_path = tmp_path / "better.json"
    better_path.write_text(json.dumps(better))

    failed = _gate_run(cli_runner, sample_questions_file, sample_index_dir, better_path, "--gate", "bm25/mrr@10",
                       "--report", str(tmp_path / "r"))
    assert failed.exit_code == GATE_FAILED_EXIT, failed.output
    assert "FAILED" in failed.output and "bm25 mrr@10: 1.500" in failed.output
    assert "Δ bm25" in (tmp_path / "r" / "report.md").read_text(encoding="utf-8")

    passed = _gate_run(cli_runner, sample_questions_file, sample_index_dir, same, "--gate", "hit@10", "--max-drop", "1")
    assert passed.exit_code == 0, passed.output
    assert "passed" in passed.output


def test_bad_inputs_are_named(tmp_path, cli_runner, sample_index_dir, sample_questions_file):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "a", "question": "Bonjour ?", "gold": ["F1"]}\n{"id": "b", "question": "q"}\n')
    result = cli_runner.invoke(eval_group, ["retrieval", "--dataset", str(bad), "--index-dir", str(sample_index_dir)])
    assert result.exit_code == 1 and "bad.jsonl:2: missing key(s) gold" in result.output
    result = cli_runner.invoke(eval_group, ["retrieval", "--dataset", str(sample_questions_file),
                                            "--index-dir", str(sample_index_dir), "--modes", "bm25,fuzzy"])
    assert result.exit_code == 2 and "fuzzy" in result.output
    result = cli_runner.invoke(eval_group, ["retrieval", "--dataset", str(sample_questions_file),
                                            "--index-dir", str(tmp_path / "no-index")])
    assert result.exit_code == 1 and "cannot open the index" in result.output
    broken = tmp_path / "broken.json"
    broken.write_text("{")
    result = cli_runner.invoke(eval_group, ["retrieval", "--dataset", str(sample_questions_file), "--limit", "1",
                                            "--modes", "bm25", "--index-dir", str(sample_index_dir),
                                            "--baseline", str(broken), "--gate", "hit@1"])
    assert result.exit_code == 1 and "broken.json: not valid JSON" in result.output


def test_only_indexed_drops_questions_about_absent_fiches(tmp_path, cli_runner, sample_index_dir, sample_questions_file):
    rows = sample_questions_file.read_text(encoding="utf-8").splitlines()[:2]
    rows.append(json.dumps({"id": "absent", "question": "Fiche absente ?", "gold": ["F99999999"]}))
    dataset = tmp_path / "mixed.jsonl"
    dataset.write_text("\n".join(rows) + "\n", encoding="utf-8")
    result = cli_runner.invoke(eval_group, ["retrieval", "--dataset", str(dataset), "--index-dir", str(sample_index_dir),
                                            "--modes", "bm25", "--only-indexed", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["questions"] == 2 and data["config"]["dropped_not_indexed"] == 1


def test_a_mode_the_index_cannot_serve_is_reported_not_fatal(tmp_path, cli_runner, sample_bm25_index_dir,
                                                            sample_questions_file):
    result = cli_runner.invoke(eval_group, [
        "retrieval", "--dataset", str(sample_questions_file), "--index-dir", str(sample_bm25_index_dir),
        "--embedder", "none", "--modes", "dense,bm25", "--limit", "3", "--json", "--report", str(tmp_path / "r"),
    ])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["questions"] == 3  # the set's, not those of the first mode, which stopped
    assert data["metrics"]["dense"]["questions"] == 0 and "dense" in data["metrics"]["dense"]["error"]
    assert data["metrics"]["bm25"]["questions"] == 3 and data["metrics"]["bm25"]["errors"] == 0
    assert "| hit@1 | — |" in (tmp_path / "r" / "report.md").read_text(encoding="utf-8")


# --- e-mail rows: read as drafts read them, one outcome per gold question ------------

def _outcomes(result, mode):
    return {r["id"]: r for r in result["per_question"] if r["mode"] == mode}


def test_gold_fiches_of_the_email_row_are_in_the_sample(sample_retriever):
    assert sample_retriever.fiche("F1311").title.startswith("Révision du loyer en cours de bail")
    assert sample_retriever.fiche("F1168").title.startswith("Préavis et formalités du congé donné par le locataire")


def test_email_row_gives_one_outcome_per_gold_question(email_retrieval_run):
    from evals.retrieval_eval import FIRST_QUESTION, LATER_QUESTION

    assert email_retrieval_run["rows"] == 2 and email_retrieval_run["questions"] == 3  # 2 from the e-mail
    for mode in ("bm25", "hybrid"):
        outcomes = _outcomes(email_retrieval_run, mode)
        assert set(outcomes) == {"bail", "bail#q2", "plain"}
        first, later = outcomes["bail"], outcomes["bail#q2"]
        assert (first["kind"], later["kind"]) == (FIRST_QUESTION, LATER_QUESTION)
        assert (first["question"], later["question"]) == ("Révision du loyer (label)", "Préavis du locataire (label)")
        assert (first["gold"], later["gold"]) == (["F1311"], ["F1168"])
        assert first["needs_read"] == later["needs_read"] == 2 and not first["error"]
        assert "révision du loyer" in first["need"]["question"] and "préavis" in later["need"]["question"]
        assert first["need"]["situation"] == ["je suis locataire d'un appartement à Lyon."]
        assert "F1311" in first["ranked"][:5] and first["figures"]["hit@5"] == 1.0
        assert set(email_retrieval_run["by_kind"][mode]) == {FIRST_QUESTION, LATER_QUESTION, "all"}
        assert email_retrieval_run["by_kind"][mode][LATER_QUESTION]["questions"] == 1


def test_the_jth_gold_is_scored_on_the_jth_need(email_retrieval_run, sample_draft_service):
    from evals.metrics import ranking_metrics
    from retrieval.types import SearchMode

    needs, results = sample_draft_service.understand(EMAIL, mode=SearchMode.HYBRID, k=10)
    outcomes = _outcomes(email_retrieval_run, "hybrid")
    for j, row_id in enumerate(("bail", "bail#q2")):
        ranked = [hit.fiche_id for hit in results[j].fiches]
        assert outcomes[row_id]["need"] == needs[j].to_dict()
        assert outcomes[row_id]["ranked"] == ranked
        assert outcomes[row_id]["figures"] == ranking_metrics(ranked, outcomes[row_id]["gold"], [1, 3, 5, 10])
    assert outcomes["bail"]["ranked"] != outcomes["bail#q2"]["ranked"]


def test_rows_without_message_or_understand_are_searched_on_their_question(email_retrieval_run, sample_retriever,
                                                                           email_questions):
    from evals.retrieval_eval import evaluate_retrieval
    from retrieval.types import SearchMode

    plain = _outcomes(email_retrieval_run, "bm25")["plain"]
    searched = sample_retriever.search(PLAIN_ROW["question"], k=10, mode=SearchMode.BM25)
    assert plain["ranked"] == [hit.fiche_id for hit in searched.fiches]
    assert plain["need"] == {} and plain["needs_read"] == 0 and plain["kind"] == ""
    # Without `understand`, the e-mail row is one question: its label.
    alone = evaluate_retrieval(sample_retriever, email_questions[:1], modes=(SearchMode.BM25,))
    (row,) = alone["per_question"]
    searched = sample_retriever.search(EMAIL_ROW["question"], k=10, mode=SearchMode.BM25)
    assert row["id"] == "bail" and row["need"] == {} and row["ranked"] == [h.fiche_id for h in searched.fiches]


def test_a_mode_the_index_cannot_serve_stops_on_a_first_email_row(sample_bm25_index_dir, email_questions):
    from evals.retrieval_eval import evaluate_retrieval
    from evals.runtime import draft_service
    from retrieval import open_retriever
    from retrieval.types import SearchMode
    from tests.fixtures.evals import understand_fn

    retriever = open_retriever(index_dir=sample_bm25_index_dir, embedder_spec="none")
    try:
        result = evaluate_retrieval(retriever, email_questions, modes=(SearchMode.DENSE, SearchMode.BM25),
                                    understand=understand_fn(draft_service(retriever)))
    finally:
        retriever.close()
    dense = [r for r in result["per_question"] if r["mode"] == "dense"]
    assert [r["id"] for r in dense] == ["bail", "bail#q2"] and all(r["error"] for r in dense)
    assert result["metrics"]["dense"]["questions"] == 0 and result["metrics"]["bm25"]["questions"] == 3
    assert result["questions"] == 3  # counted on the set, not on the mode that stopped
