"""`guichet eval drafts` on the sample index, and the LLM judge against a local
OpenAI-protocol server with scripted answers."""

import re

import pytest

from evals.cli import eval_group
from evals.judge import JudgeError, parse_verdict, strip_citations
from tests.fixtures.evals import EMAIL, draft_fn, run_json

NEED_KEYS = ("question", "situation", "query", "source", "asked")

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


# --- e-mail rows: drafted from the message, what was understood kept -----------------

def _rows(run):
    return {r["id"]: r for r in run["per_question"]}


def test_email_row_is_drafted_from_its_message(email_drafts_run, sample_draft_service):
    row = _rows(email_drafts_run)["bail"]
    assert not row["error"] and not row["abstained"]
    assert row["text"] == draft_fn(sample_draft_service)(EMAIL).text  # not a draft of the label
    assert [sorted(n) for n in row["needs"]] == [sorted(NEED_KEYS)] * 2
    assert "révision du loyer" in row["needs"][0]["question"] and "préavis" in row["needs"][1]["question"]
    assert all(n["situation"] == ["je suis locataire d'un appartement à Lyon."] for n in row["needs"])
    assert row["cited_gold"] is True and row["cited_later_gold"] == [True]
    assert email_drafts_run["metrics"]["cited_later_gold_rate"] == 1.0
    plain = _rows(email_drafts_run)["plain"]
    assert plain["needs"] == [] and plain["cited_later_gold"] == [] and plain["text"]


def test_cited_later_gold_is_one_flag_per_later_question_with_gold(sample_draft_service):
    from evals.datasets import Question
    from evals.drafts_eval import measure_draft

    draft = draft_fn(sample_draft_service)(EMAIL)
    cited = {c.passage.fiche_id for c in draft.citations}
    assert {"F1311", "F1168"} <= cited and "F1043" not in cited
    question = Question("m", "q", ["F1311"], extra={"message": EMAIL, "gold_q2": ["F1043"], "gold_q3": [],
                                                    "gold_q4": ["F1168"]})
    assert measure_draft(question, draft, 1.0).cited_later_gold == [False, True]


def test_span_cut_by_a_citation_marker_is_found_in_the_draft(sample_draft_service):
    from evals.datasets import Question
    from evals.drafts_eval import measure_draft
    from evals.metrics import normalise
    from generation.text import strip_citations

    draft = draft_fn(sample_draft_service)(EMAIL)
    cut = re.search(r"([^\s\[\]]+ [^\s\[\]]+) \[\d+\]\. ([^\s\[\]]+ [^\s\[\]]+)", draft.text)
    assert cut, draft.text
    span = f"{cut.group(1)}. {cut.group(2)}"
    assert normalise(span) not in normalise(draft.text) and span in strip_citations(draft.text)
    question = Question("m", "q", ["F1311"], answers=[span, "une phrase qui n'est dans aucun brouillon"],
                        extra={"message": EMAIL})
    assert measure_draft(question, draft, 1.0).span_recall_draft == 0.5


def test_cited_sources_count_drafts_and_fiches_per_source(sample_draft_service):
    from dataclasses import replace

    from evals.datasets import Question
    from evals.drafts_eval import cited_sources, measure_draft

    draft = draft_fn(sample_draft_service)(EMAIL)
    first = draft.sources[0]
    assert first.source == "service-public"  # the sample is service-public.fr only
    labour = replace(draft, sources=[first, replace(first, fiche_id="TE-article374530", source="travail-emploi"),
                                     replace(first, fiche_id="TE-article375152", source="travail-emploi"),
                                     replace(first, fiche_id="CDTN-45", source="cdtn")])
    question = Question("m", "q", ["F1311"], extra={"message": EMAIL})
    outcome = measure_draft(question, labour, 1.0)
    assert outcome.cited_sources == {"service-public": 1, "travail-emploi": 2, "cdtn": 1}
    plain = measure_draft(question, draft, 1.0)
    abstained = replace(measure_draft(question, draft, 1.0), abstained=True)
    uncovered = replace(measure_draft(Question("u", "q", []), draft, 1.0), covered=False)
    assert cited_sources([outcome, plain, abstained, uncovered]) == {
        "cdtn": {"drafts": 1, "fiches": 1},
        "service-public": {"drafts": 2, "fiches": 1 + len(draft.sources)},
        "travail-emploi": {"drafts": 1, "fiches": 2},
    }


def test_cited_sources_in_the_run(drafts_run):
    result, _ = drafts_run
    answered = [r for r in result["per_question"] if r["covered"] and not r["abstained"] and not r["error"]]
    assert result["cited_sources"]["service-public"]["drafts"] == sum(1 for r in answered if r["cited_sources"])
    assert set(result["cited_sources"]) == {"service-public"}
