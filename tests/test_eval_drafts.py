"""`guichet eval drafts` on the sample index, and the LLM judge against a local
OpenAI-protocol server with scripted answers."""

import re

import pytest

from evals.cli import eval_group
from evals.judge import JudgeError, parse_verdict, strip_citations
from tests.fixtures.evals import run_json

DETERMINISTIC = ("citation_coverage", "citation_validity", "support_rate", "unsupported_numbers",
                 "abstention_precision", "abstention_recall", "latency_p50_ms", "latency_p95_ms")


def drafts_args(dataset, index_dir, *extra):
    return ["drafts", "--dataset", str(dataset), "--index-dir", str(index_dir), *extra]


@pytest.fixture(scope="module")
def drafts_run(sample_index_dir, sample_questions_file, uncovered_file, tmp_path_factory):
    from click.testing import CliRunner

    report = tmp_path_factory.mktemp("drafts-report")
    env = {"GUICHET_LLM_BASE_URL": ""}
    result = run_json(CliRunner(), eval_group, drafts_args(
        sample_questions_file, sample_index_dir, "--limit", "6", "--uncovered", str(uncovered_file),
        "--report", str(report)), env=env)
    return result, report


def test_deterministic_metrics(drafts_run):
    result, _ = drafts_run
    assert result["benchmark"] == "drafts"
    assert result["questions"] == 6 and result["uncovered_questions"] == 4
    figures = result["metrics"]
    assert all(name in figures for name in DETERMINISTIC)
    assert figures["errors"] == 0 and figures["drafts"] == 10
    for name in ("citation_coverage", "citation_validity", "support_rate", "abstention_precision", "abstention_recall"):
        assert 0.0 <= figures[name] <= 1.0
    assert "judge" not in result  # no endpoint configured
    rows = result["per_question"]
    answered = [r for r in rows if r["covered"] and not r["abstained"]]
    assert answered, "the sample should answer some title questions"
    claims = sum(r["claims"] for r in answered)
    assert figures["citation_coverage"] == pytest.approx(sum(r["cited_claims"] for r in answered) / claims)
    uncovered = [r for r in rows if not r["covered"]]
    assert figures["abstained_uncovered"] == sum(r["abstained"] for r in uncovered)
    assert [p["threshold"] for p in result["abstention_curve"]][:2] == [0.1, 0.2]


def test_drafts_report(drafts_run):
    _, report = drafts_run
    for name in ("report.md", "report.html", "result.json", "latency.png", "confidence.png", "support.png"):
        assert (report / name).is_file(), name
    assert "abstention_recall" in (report / "report.md").read_text(encoding="utf-8")


def test_llm_judge_faithfulness(openai_server, sample_index_dir, sample_questions_file, cli_runner):
    openai_server.script("OUI")
    env = {"GUICHET_LLM_BASE_URL": openai_server.base_url, "GUICHET_LLM_MODEL": "juge"}
    result = run_json(cli_runner, eval_group, drafts_args(sample_questions_file, sample_index_dir, "--limit", "3"), env=env)
    judge = result["judge"]
    asked = [r for r in openai_server.requests if "Phrase :" in r["messages"][-1]["content"]]
    assert asked, "the judge should have been asked about the cited sentences"
    assert judge["judged_sentences"] >= len(asked) and judge["errors"] == 0
    # Every request answered OUI: the uncited sentences (not asked) are the only misses.
    assert judge["faithfulness"] == pytest.approx(len(asked) / judge["judged_sentences"])
    for request in asked:
        assert request["model"] == "juge" and request["temperature"] == 0
        sentence = request["messages"][-1]["content"].split("Phrase : ", 1)[1]
        assert not re.search(r"\[\d+\]", sentence.split("\n")[0])
    # The extractive drafts themselves did not use the endpoint.
    assert len(openai_server.requests) == len(asked)


def test_judge_errors_are_counted_not_fatal(openai_server, sample_index_dir, sample_questions_file, cli_runner):
    openai_server.script("Peut-être bien")
    env = {"GUICHET_LLM_BASE_URL": openai_server.base_url}
    result = run_json(cli_runner, eval_group, drafts_args(sample_questions_file, sample_index_dir, "--limit", "2"), env=env)
    assert result["judge"]["errors"] >= 1
    assert "neither OUI nor NON" in result["judge"]["error_examples"][0]


def test_verdict_parsing():
    assert parse_verdict("OUI.") is True
    assert parse_verdict(" non, la phrase ajoute un montant") is False
    with pytest.raises(JudgeError):
        parse_verdict("")
    assert strip_citations("Le délai est de 2 mois [1] [3].") == "Le délai est de 2 mois."


def test_llm_mode_without_endpoint_is_refused(sample_index_dir, sample_questions_file, cli_runner):
    result = cli_runner.invoke(eval_group, drafts_args(sample_questions_file, sample_index_dir, "--mode", "llm"),
                               env={"GUICHET_LLM_BASE_URL": ""})
    assert result.exit_code == 1 and "GUICHET_LLM_BASE_URL" in result.output


def test_uncovered_set_with_gold_is_refused(sample_index_dir, sample_questions_file, cli_runner):
    result = cli_runner.invoke(eval_group, drafts_args(sample_questions_file, sample_index_dir,
                                                       "--uncovered", str(sample_questions_file)))
    assert result.exit_code == 1 and "must have an empty gold list" in result.output
