"""`guichet draft` on a real BM25 Edge index of the bundled sample."""

import json

import pytest
from click.testing import CliRunner

from api.cli import cli

MESSAGE = (
    "Bonjour,\nJe suis salarié dans le privé. Combien de jours de congés payés acquiert-on par mois "
    "de travail ? Je voudrais aussi savoir quelle est la durée du préavis de licenciement.\n"
    "Cordialement,\nPaul Martin\n06 12 34 56 78"
)


@pytest.fixture
def run(sample_bm25_index_dir, monkeypatch):
    monkeypatch.delenv("GUICHET_LLM_BASE_URL", raising=False)

    def invoke(*args, input=None, env=None):
        base = ["draft", "--index-dir", str(sample_bm25_index_dir), "--embedder", "none"]
        return CliRunner().invoke(cli, base + list(args), input=input, env=env, catch_exceptions=False)

    return invoke


def test_draft_prints_a_cited_email_with_sources(run):
    result = run(MESSAGE)
    assert result.exit_code == 0, result.output
    assert result.output.startswith("Madame, Monsieur,")
    assert "Sources :" in result.output and "https://www.service-public.fr/" in result.output
    assert "[1]" in result.output and "mis à jour le" in result.output
    assert "06 12 34 56 78" not in result.output
    assert "phrases vérifiées" in result.output


def test_json_output_has_sentences_verdicts_and_sources(run, tmp_path):
    path = tmp_path / "message.txt"
    path.write_text(MESSAGE, encoding="utf-8")
    result = run("--json", "--format", "short", "--file", str(path))
    assert result.exit_code == 0, result.output
    draft = json.loads(result.output)
    assert draft["format"] == "short" and draft["mode"] == "extractive"
    assert len(draft["questions"]) == 2
    assert draft["sources"] and all(s["url"].startswith("https://") for s in draft["sources"])
    assert {s["verdict"] for s in draft["sentences"]} >= {"supported"}


def test_message_from_standard_input(run):
    result = run("--format", "short", "-", input="Quelle est la durée du préavis de licenciement ?")
    assert result.exit_code == 0, result.output
    assert not result.output.startswith("Madame")
    text, _, rest = result.output.partition("\n\nSources :\n")  # listed below the text to paste
    assert rest and "https://www.service-public.fr/" in rest and "[1]" in text


def test_llm_option_uses_the_configured_endpoint(run, openai_server):

    openai_server.script("La durée du préavis de licenciement dépend de l'ancienneté du salarié [1].")
    result = run("--llm", "--json", MESSAGE, env={"GUICHET_LLM_BASE_URL": openai_server.base_url})
    assert result.exit_code == 0, result.output
    draft = json.loads(result.output)
    assert draft["mode"] == "llm" and len(openai_server.requests) == 1
    assert "06 12 34 56 78" not in openai_server.received_text()


def test_llm_option_without_endpoint_falls_back_with_a_notice(run):
    result = run("--llm", MESSAGE)
    assert result.exit_code == 0
    assert "! Brouillon extractif" in result.output


@pytest.mark.parametrize("args, error", [([], "give the message"), (["   "], "empty"),
                                         (["texte", "--file", "tests/data/pii_messages.jsonl"], "not both")])
def test_bad_input_is_a_clear_error(run, args, error):
    result = run(*args)
    assert result.exit_code == 2
    assert error in result.output


def test_missing_index_is_a_clear_error(tmp_path):
    result = CliRunner().invoke(cli, ["draft", "--index-dir", str(tmp_path / "nowhere"), "--embedder", "none", "Question ?"])
    assert result.exit_code == 1
    assert "Error" in result.output and "Traceback" not in result.output
