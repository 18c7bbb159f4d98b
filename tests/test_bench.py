"""`guichet bench query|drafts|api|index --json` on the sample with small counts."""

import json
import shutil

import pytest

from evals.bench.index import EDIT, _edit_first_paragraph
from evals.bench.query import questions_from_index
from evals.cli import bench_group
from tests.fixtures.evals import run_json


def test_queries_built_from_the_index_are_reproducible(sample_retriever):
    first = questions_from_index(sample_retriever, 30)
    assert first == questions_from_index(sample_retriever, 30)
    assert len(first) == 30 and len(set(first)) == 30
    many = questions_from_index(sample_retriever, 100_000)  # more than the corpus yields: cycled
    assert len(many) == 100_000


def test_bench_query_against_local_mode(cli_runner, sample_index_dir):
    figures = run_json(cli_runner, bench_group, ["query", "--index-dir", str(sample_index_dir), "--count", "8"])
    assert figures["queries"] == 8
    assert 0 < figures["p50_ms"] <= figures["p95_ms"] <= figures["p99_ms"]
    assert 0 < figures["baseline_p50_ms"] <= figures["baseline_p95_ms"]
    assert figures["baseline_points"] == figures["chunks"]
    assert figures["speedup"] == pytest.approx(figures["baseline_p50_ms"] / figures["p50_ms"], rel=0.02)
    assert 0 < figures["engine_p50_ms"] and 0 < figures["baseline_engine_p50_ms"]
    assert figures["embed_p50_ms"] > 0
    assert isinstance(figures["target_p50_ms_pass"], bool)


def test_bench_drafts(cli_runner, sample_index_dir):
    figures = run_json(cli_runner, bench_group, ["drafts", "--index-dir", str(sample_index_dir), "--count", "5"])
    assert figures["drafts"] + figures["errors"] == 5 and figures["errors"] == 0
    assert 0 < figures["p50_ms"] <= figures["p95_ms"]
    assert "target_p95_ms_pass" in figures


def test_bench_api_through_the_real_server(cli_runner, sample_index_dir):
    figures = run_json(cli_runner, bench_group, [
        "api", "--index-dir", str(sample_index_dir), "--clients", "2", "--duration", "3", "--baseline-duration", "2",
    ])
    assert figures["errors"] == 0 and figures["baseline_errors"] == 0, (figures.get("error_examples"), figures.get("server_errors"))
    assert figures["requests"] > 0 and figures["drafts_per_s"] > 0 and figures["baseline_drafts_per_s"] > 0
    assert 0 < figures["p50_ms"] <= figures["p95_ms"]
    assert figures["startup_s"] > 0 and figures["server_peak_rss_mb"] > 50
    assert set(figures) >= {"target_drafts_per_s_pass", "target_errors_pass", "target_startup_s_pass"}


def test_bench_index_on_a_tiny_source(cli_runner, tmp_path, sample_source_dir):
    source = tmp_path / "tiny" / "particuliers"
    source.mkdir(parents=True)
    documents = sorted((sample_source_dir / "particuliers").glob("F*.*"))[:2]
    for document in documents:
        shutil.copy(document, source)
    if documents[0].suffix == ".json":  # the npm layout: index.json lists the IDs
        (source / "index.json").write_text(json.dumps([d.stem for d in documents]))
    figures = run_json(cli_runner, bench_group, [
        "index", "--source", str(source.parent), "--embedder", "none", "--baseline-sample", "2",
    ])
    assert figures["fiches"] == 2 and figures["chunks"] > 0
    assert figures["wall_s"] > 0 and figures["bm25_wall_s"] > 0 and figures["reindex_wall_s"] > 0
    assert figures["reindex_published"] is False  # nothing changed
    assert figures["changed_reindex_updated"] == 1 and figures["changed_reindex_wall_s"] > 0  # 1% of 2: one
    assert all(d.read_bytes() == (source / d.name).read_bytes() for d in documents)  # the source is untouched
    assert figures["baseline_tokens_per_s"] > 0 and figures["peak_rss_mb"] > 0
    assert figures["tokens_per_s"] is None  # a BM25-only build embeds nothing


def test_edited_paragraph_in_both_forms():
    xml = "<Publication><Paragraphe>Un.</Paragraphe><Paragraphe>Deux.</Paragraphe></Publication>"
    assert _edit_first_paragraph(xml, ".xml").count(EDIT) == 1
    xmljs = {"type": "element", "name": "Publication", "children": [
        {"type": "element", "name": "Paragraphe", "children": [{"type": "text", "text": "Un."}]}]}
    edited = json.loads(_edit_first_paragraph(json.dumps(xmljs), ".json"))
    assert edited["children"][0]["children"][0]["text"] == "Un." + EDIT


@pytest.mark.slow
def test_bench_soak_with_a_reindex_half_way(cli_runner, sample_index_dir, sample_source_dir):
    figures = run_json(cli_runner, bench_group, [
        "soak", "--index-dir", str(sample_index_dir), "--reindex-source", str(sample_source_dir),
        "--clients", "2", "--duration", "8",
    ])
    assert figures["reindex_http_status"] == 202 and figures["reindex_status"] == "succeeded", figures
    assert figures["errors"] == 0 and figures["drafts"] > 0, figures["error_examples"]
    assert figures["rss_after_warmup_mb"] > 0 and figures["rss_growth_pct"] is not None
    assert figures["after_reindex_p50_ms"] > 0
