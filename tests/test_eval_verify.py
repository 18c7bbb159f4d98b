"""guichet eval verify: labelled sentences built from a real index of the sample, the
verifier's catch rates, determinism, the CLI's JSON and report."""

import json
import random

import pytest
from click.testing import CliRunner

from api.cli import cli
from evals.verify_bench import (
    ERROR_KINDS,
    KINDS,
    change_condition,
    change_number,
    claim_sentences,
    flip_polarity,
    paraphrase,
    run_verify_benchmark,
)
from generation.text import numeric_values


@pytest.fixture(scope="module")
def result(sample_retriever):
    return run_verify_benchmark(sample_retriever, per_kind=8, seed=5)


def test_every_kind_has_cases_and_each_case_says_what_it_is(result):
    assert set(result["kinds"]) == set(KINDS)
    assert all(result["kinds"][kind]["total"] >= 2 for kind in KINDS)
    kinds_of_rows = {row["kind"] for row in result["per_case"]}
    assert kinds_of_rows == set(KINDS)


def test_the_verifier_catches_the_errors_and_spares_the_correct_sentences(result):
    rates = {kind: figures["rate"] for kind, figures in result["kinds"].items()}
    for kind in ("out_of_range", "uncited", "contact", "number"):
        assert rates[kind] == 1.0, kind
    assert min(rates[kind] for kind in ERROR_KINDS) >= 0.6
    assert result["false_flags"] == {"verbatim": 0.0, "paraphrase": 0.0}
    verdicts = result["kinds"]["out_of_range"]["verdicts"]
    assert verdicts == {"invalid_citation": result["kinds"]["out_of_range"]["total"]}


def test_same_seed_same_cases_other_seed_other_cases(sample_retriever, result):
    again = run_verify_benchmark(sample_retriever, per_kind=8, seed=5)
    assert [r["text"] for r in again["per_case"]] == [r["text"] for r in result["per_case"]]
    other = run_verify_benchmark(sample_retriever, per_kind=8, seed=6)
    assert [r["text"] for r in other["per_case"]] != [r["text"] for r in result["per_case"]]


def test_claims_are_plain_sentences_of_the_passage():
    text = ("Titre > Section\n## Conditions\n- Vous devez avoir au moins 18 ans pour faire la demande en mairie.\n"
            "| a | b |\nQui peut demander la carte ?\nLa carte est délivrée gratuitement par la mairie de votre domicile.")
    assert claim_sentences(text) == [
        "Vous devez avoir au moins 18 ans pour faire la demande en mairie.",
        "La carte est délivrée gratuitement par la mairie de votre domicile.",
    ]


def test_injected_errors_change_what_they_say():
    rng = random.Random(1)
    sentence = "Vous devez faire la demande avant vos 18 ans, dans un délai de 2 mois."
    changed = change_number(sentence, sentence, rng)
    assert changed != sentence and numeric_values(changed) - numeric_values(sentence)
    assert "ne devez pas" in flip_polarity(sentence, random.Random(0)) or "n'" in flip_polarity(sentence, random.Random(0))
    assert flip_polarity("Le stage ne vous permet pas de récupérer des points.", rng) == \
        "Le stage vous permet de récupérer des points."
    assert change_condition("Si vous êtes salarié, vous avez droit à 5 jours de congé payé.", random.Random(3)) in (
        "Vous avez droit à 5 jours de congé payé.", "Si vous n'êtes pas salarié, vous avez droit à 5 jours de congé payé.")
    rewritten = paraphrase(sentence, {"CAF": "caisse d'allocations familiales"}, rng)
    assert rewritten and rewritten != sentence


def test_cli_writes_json_and_a_report_with_plots(sample_index_dir, tmp_path):
    out = tmp_path / "report"
    run = CliRunner().invoke(cli, ["eval", "verify", "--index-dir", str(sample_index_dir), "--count", "4",
                                   "--seed", "2", "--json", "--report", str(out)])
    assert run.exit_code == 0, run.output
    data = json.loads(run.stdout.strip().splitlines()[-1])
    assert data["benchmark"] == "verify"
    for figures in data["kinds"].values():
        assert set(figures) >= {"total", "rate", "verdicts"}
        assert figures["rate"] == round(figures.get("caught", figures.get("flagged")) / figures["total"], 3)
    assert set(data["false_flags"]) == {"verbatim", "paraphrase"}
    assert {"caught.png", "verdicts.png", "latency.png", "report.html", "report.md"} <= {p.name for p in out.iterdir()}
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "By kind" in html and "wrong_passage" in html


def test_cli_refuses_semantic_on_a_bm25_index(sample_bm25_index_dir):
    run = CliRunner().invoke(cli, ["eval", "verify", "--index-dir", str(sample_bm25_index_dir), "--count", "2"])
    assert run.exit_code != 0 and "--no-semantic" in run.output
    run = CliRunner().invoke(cli, ["eval", "verify", "--index-dir", str(sample_bm25_index_dir), "--count", "2",
                                   "--no-semantic", "--json"])
    assert run.exit_code == 0, run.output


def test_errors_made_with_words_the_checks_do_not_list_are_reported_apart():
    from evals.verify_bench import swap_actor

    changed, beyond = swap_actor("Le juge peut accorder un délai de grâce.", random.Random(0))
    assert changed in ("Le procureur peut accorder un délai de grâce.", "Le greffier peut accorder un délai de grâce.")
    assert beyond
    changed, beyond = swap_actor("La demande se fait à la mairie.", random.Random(0))
    assert "préfecture" in changed and not beyond
