"""`guichet search` through the real CLI, on the sample index."""

import json

from click.testing import CliRunner

from api.cli import cli


def invoke(*args, env=None):
    return CliRunner().invoke(cli, ["search", *args], env=env or {}, catch_exceptions=False)


def test_search_prints_fiches_with_date_url_and_excerpts(sample_index_dir, sample_fiches):
    fiche = next(f for f in sample_fiches if f.is_content and f.type.startswith("Fiche Question"))
    result = invoke(fiche.title, "--k", "3", "--index-dir", str(sample_index_dir))
    assert result.exit_code == 0, result.output
    assert f"[{fiche.id}]" in result.output and fiche.url in result.output
    assert "mis à jour le" in result.output and "confidence" in result.output
    assert result.output.count("\n1. ") == 1 and "\n3. " in result.output and "\n4. " not in result.output


def test_search_names_a_question_in_another_language(sample_index_dir):
    result = invoke("How can I renew my passport abroad?", "--k", "2", "--index-dir", str(sample_index_dir))
    assert result.exit_code == 0, result.output
    assert "! La question semble rédigée en anglais" in result.output and "\n1. " in result.output


def test_search_json_and_filters(sample_bm25_index_dir):
    result = invoke("déclaration de revenus", "--json", "--mode", "bm25", "--audience", "particuliers",
                    "--index-dir", str(sample_bm25_index_dir), "--embedder", "none")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["mode"] == "bm25" and data["fiches"]
    assert all("particuliers" in p["audiences"] for p in data["passages"])


def test_search_auto_embedder_uses_the_one_the_index_was_built_with(sample_bm25_index_dir):
    result = invoke("passeport", "--mode", "bm25", "--index-dir", str(sample_bm25_index_dir), "--embedder", "auto")
    assert result.exit_code == 0, result.output


def test_search_errors_are_clear(tmp_path, sample_bm25_index_dir):
    result = invoke("passeport", "--index-dir", str(tmp_path / "none"), "--embedder", "none")
    assert result.exit_code != 0 and "no index at" in result.output and "guichet ingest" in result.output
    result = invoke("   ", "--index-dir", str(sample_bm25_index_dir), "--embedder", "none", "--mode", "bm25")
    assert result.exit_code != 0 and "empty query" in result.output
    result = invoke("passeport", "--index-dir", str(sample_bm25_index_dir), "--embedder", "none")
    assert result.exit_code != 0 and "without an embedder" in result.output
