"""The versioned Qdrant Edge index: builds, change sets, build info, errors."""

import json
import os
from dataclasses import replace

import pytest

from ingest.changes import compute_changes
from ingest.chunking import chunk_fiche
from ingest.model import GUIDED_SEARCH, Fiche
from retrieval import open_retriever
from retrieval.embedding.embedders import EmbeddingCache
from retrieval.errors import EmbedderMismatch, IndexCorrupt, IndexNotFound, IndexOutdated
from retrieval.index.indexer import Indexer
from retrieval.index.store import TITLE_DENSE, TITLE_SPARSE, VectorQuery
from retrieval.index.versions import EdgeIndex
from retrieval.search.retriever import IndexRetriever
from retrieval.settings import RetrievalSettings
from retrieval.types import SearchFilters, SearchMode
from tests.fixtures.retrieval import TEST_CACHE_DIR, TEST_DENSE_MAX_TOKENS, build_index


def copy(fiche: Fiche, **changes) -> Fiche:
    return replace(Fiche.from_dict(fiche.to_dict()), **changes)


@pytest.fixture(scope="module")
def content_fiches(sample_fiches) -> list[Fiche]:
    return [f for f in sample_fiches if f.is_content]


def test_build_records_how_it_was_built(sample_bm25_index_dir, sample_fiches):
    index = EdgeIndex(sample_bm25_index_dir)
    assert index.current_number() == 1
    info = json.loads((sample_bm25_index_dir / "versions" / "1" / "build.json").read_text())
    expected_chunks = sum(len(chunk_fiche(f)) for f in sample_fiches if f.is_content)
    assert info["embedder"] == "none" and info["dim"] == 0
    assert info["chunks"] == expected_chunks
    assert info["fiches"] == len(sample_fiches)
    assert info["snapshot_date"] == max(f.date for f in sample_fiches)
    assert info["bm25"]["language"] == "french" and info["version"] == 1 and info["created"]
    version_dir = sample_bm25_index_dir / "versions" / "1"
    for name in ("manifest.json", "summary.json", "acronyms.json", "fiches.sqlite", "shard"):
        assert (version_dir / name).exists(), name


def test_stored_fiches_are_returned_whole(sample_bm25_index_dir, sample_fiches):
    retriever = IndexRetriever(EdgeIndex(sample_bm25_index_dir), None)
    fiche = next(f for f in sample_fiches if f.is_content and f.legal_references)
    stored = retriever.fiche(fiche.id)
    assert stored == fiche
    assert retriever.fiche("F0000000") is None
    chunks = retriever.chunks(fiche.id)
    assert [c.id for c in chunks] == [c.id for c in chunk_fiche(fiche)]
    retriever.close()


def test_change_set_deletes_updates_and_changes_metadata(tmp_path, content_fiches):
    fiches = content_fiches[:12]
    build_index(tmp_path, fiches, None)
    index = EdgeIndex(tmp_path)
    long_fiche = next(f for f in fiches if len(chunk_fiche(f)) >= 2)
    gone, moved = [f for f in fiches if f is not long_fiche][:2]
    shorter = copy(long_fiche, sections=long_fiche.sections[:1], markdown=long_fiche.sections[0].markdown)
    redated = copy(moved, date="2031-01-02", audiences=["professionnels"])
    next_fiches = [shorter if f is long_fiche else redated if f is moved else f for f in fiches if f is not gone]

    summary = build_index(tmp_path, next_fiches, None)

    assert (summary["updated"], summary["metadata_only"], summary["deleted"]) == (1, 1, 1)
    assert summary["chunks_written"] == len(chunk_fiche(shorter)) < len(chunk_fiche(long_fiche))
    retriever = IndexRetriever(index, None)
    store = retriever.version.store
    assert store.count(gone.id) == 0 and retriever.fiche(gone.id) is None
    assert store.count(long_fiche.id) == len(chunk_fiche(shorter))
    assert {c.date for c in retriever.chunks(moved.id)} == {"2031-01-02"}
    assert retriever.fiche(moved.id).audiences == ["professionnels"]
    found = retriever.search(moved.title, k=3, mode=SearchMode.BM25, filters=SearchFilters(audience="professionnels"))
    assert [f.fiche_id for f in found.fiches] == [moved.id]
    assert store.count() == sum(len(chunk_fiche(f)) for f in next_fiches)
    retriever.close()


def test_versions_switch_and_old_ones_are_collected(tmp_path, content_fiches):
    build_index(tmp_path, content_fiches[:5], None)
    build_index(tmp_path, content_fiches[:6], None)
    assert sorted(os.listdir(tmp_path / "versions")) == ["1", "2"]  # the previous one is kept
    summary = build_index(tmp_path, content_fiches[:4], None)
    assert summary["version"] == 3 and summary["garbage_collected"] == [1]
    assert sorted(os.listdir(tmp_path / "versions")) == ["2", "3"]
    assert (tmp_path / "CURRENT").read_text().strip() == "3"


def test_no_change_publishes_nothing(tmp_path, content_fiches):
    build_index(tmp_path, content_fiches[:3], None)
    summary = build_index(tmp_path, content_fiches[:3], None)
    assert summary["published"] is False and summary["unchanged"] == 3 and summary["version"] == 1
    assert os.listdir(tmp_path / "versions") == ["1"]


def test_full_rebuild_starts_from_scratch(tmp_path, content_fiches):
    build_index(tmp_path, content_fiches[:4], None)
    summary = build_index(tmp_path, content_fiches[2:5], None, full=True)
    assert summary["added"] == 3 and summary["deleted"] == 0 and summary["version"] == 2
    retriever = IndexRetriever(EdgeIndex(tmp_path), None)
    assert retriever.fiche(content_fiches[0].id) is None
    retriever.close()


class CountingEmbedder:
    """The real default embedder, counting the passages it embeds."""

    def __init__(self, embedder):
        self._embedder = embedder
        self.name, self.dim = embedder.name, embedder.dim
        self.passages = 0

    def embed_queries(self, texts):
        return self._embedder.embed_queries(texts)

    def embed_passages(self, texts):
        self.passages += len(texts)
        return self._embedder.embed_passages(texts)

    def count_tokens(self, text):
        return self._embedder.count_tokens(text)


def test_metadata_only_changes_are_applied_without_embedding(tmp_path, content_fiches, default_embedder):
    embedder = CountingEmbedder(default_embedder)
    fiches = content_fiches[:3]
    cache = EmbeddingCache(TEST_CACHE_DIR / "cache.sqlite")
    indexer = Indexer(EdgeIndex(tmp_path), embedder, cache=cache, dense_max_tokens=TEST_DENSE_MAX_TOKENS, show_progress=False)
    indexer.apply(compute_changes(fiches, {}))
    embedder.passages = 0
    changed = [copy(fiches[0], date="2030-05-06", themes=["Nouveau thème"]), *fiches[1:]]
    summary = indexer.apply(compute_changes(changed, indexer.previous_manifest()))
    cache.close()
    assert summary["metadata_only"] == 1 and summary["chunks_written"] == 0
    assert embedder.passages == 0 and summary["chunks_embedded"] == 0
    retriever = IndexRetriever(EdgeIndex(tmp_path), embedder)
    hits = retriever.search(fiches[0].title, k=1, filters=SearchFilters(theme="Nouveau thème"))
    assert hits.fiches[0].fiche_id == fiches[0].id and hits.fiches[0].date == "2030-05-06"
    retriever.close()


def test_unchanged_chunks_are_not_embedded_again(tmp_path, content_fiches, default_embedder):
    embedder = CountingEmbedder(default_embedder)
    cache = EmbeddingCache(TEST_CACHE_DIR / "cache.sqlite")
    indexer = Indexer(EdgeIndex(tmp_path), embedder, cache=cache, dense_max_tokens=TEST_DENSE_MAX_TOKENS, show_progress=False)
    indexer.apply(compute_changes(content_fiches[:2], {}))
    embedder.passages = 0
    indexer.apply(compute_changes(content_fiches[:2], {}), full=True)  # same texts, new version
    cache.close()
    assert embedder.passages == 0


def test_opening_with_another_embedder_is_refused(sample_bm25_index_dir, default_embedder):
    with pytest.raises(EmbedderMismatch) as error:
        IndexRetriever(EdgeIndex(sample_bm25_index_dir), default_embedder)
    assert "'none'" in str(error.value) and "'multilingual-e5-small'" in str(error.value)


def test_updating_with_another_embedder_is_refused(tmp_path, content_fiches, default_embedder):
    build_index(tmp_path, content_fiches[:2], None)
    indexer = Indexer(EdgeIndex(tmp_path), default_embedder, show_progress=False)
    with pytest.raises(EmbedderMismatch, match="--full"):
        indexer.previous_manifest()


def test_titles_are_indexed_once_per_fiche_on_its_first_chunk_guided_searches_aside(
    sample_index_dir, sample_fiches, default_embedder
):
    retriever = IndexRetriever(EdgeIndex(sample_index_dir), default_embedder)
    fiche = next(f for f in sample_fiches if f.is_content and len(chunk_fiche(f)) > 2)
    sparse = retriever.bm25.embed_query(fiche.title)
    dense = default_embedder.embed_queries([fiche.title])[0]
    by_words, by_meaning = retriever.version.store.search(
        [VectorQuery(TITLE_SPARSE, sparse, 10_000), VectorQuery(TITLE_DENSE, dense, 10_000)], None
    )
    guides = {f.id for f in sample_fiches if f.type == GUIDED_SEARCH}
    content = {f.id for f in sample_fiches if f.is_content}
    assert guides and guides <= content
    assert sorted(h.fiche_id for h in by_meaning) == sorted(content - guides)  # every other fiche once
    assert {h.chunk_id.split("#")[1] for h in by_words + by_meaning} == {"0"}
    assert by_meaning[0].fiche_id == fiche.id
    assert fiche.id in [h.fiche_id for h in by_words[:3]]
    assert retriever.build_info["title_bm25"]["avg_len"] < retriever.build_info["bm25"]["avg_len"]
    retriever.close()


def test_an_index_of_an_older_format_asks_for_a_full_rebuild(tmp_path, content_fiches):
    build_index(tmp_path, content_fiches[:2], None)
    build = tmp_path / "versions" / "1" / "build.json"
    build.write_text(json.dumps(json.loads(build.read_text()) | {"format": 1}))
    with pytest.raises(IndexOutdated, match=r"format 1.*reads format 3.*guichet ingest --full"):
        IndexRetriever(EdgeIndex(tmp_path), None)
    with pytest.raises(IndexOutdated, match="--full"):
        Indexer(EdgeIndex(tmp_path), None, show_progress=False).previous_manifest()
    assert build_index(tmp_path, content_fiches[:2], None, full=True)["published"]
    assert IndexRetriever(EdgeIndex(tmp_path), None).search(content_fiches[0].title, mode=SearchMode.BM25).fiches


def test_missing_index_says_how_to_build_one(tmp_path):
    with pytest.raises(IndexNotFound, match=r"no index at /.*: run `guichet ingest` to index the bundled sample there"):
        open_retriever(RetrievalSettings(index_dir=tmp_path / "nowhere"), embedder_spec="none")


def test_corrupt_pointer_is_reported(tmp_path, content_fiches):
    build_index(tmp_path, content_fiches[:2], None)
    (tmp_path / "CURRENT").write_text("garbage")
    with pytest.raises(IndexCorrupt, match="pointer file .* is corrupt"):
        IndexRetriever(EdgeIndex(tmp_path), None)
    (tmp_path / "CURRENT").write_text("7\n")
    with pytest.raises(IndexCorrupt, match="version 7, which is missing"):
        IndexRetriever(EdgeIndex(tmp_path), None)


def test_a_missing_point_key_file_is_reported(tmp_path, content_fiches):
    build_index(tmp_path, content_fiches[:2], None)
    (tmp_path / "versions" / "1" / "chunk_ids.json").unlink()
    retriever = IndexRetriever(EdgeIndex(tmp_path), None)
    with pytest.raises(IndexCorrupt, match=r"chunk_ids.json.*guichet ingest --full"):
        retriever.search(content_fiches[0].title, mode=SearchMode.BM25)
    retriever.close()


def test_corrupt_files_are_reported(tmp_path, content_fiches):
    build_index(tmp_path, content_fiches[:2], None)
    version = tmp_path / "versions" / "1"
    (version / "build.json").write_text("{not json")
    with pytest.raises(IndexCorrupt, match="build.json"):
        IndexRetriever(EdgeIndex(tmp_path), None)


def test_a_version_built_before_a_field_was_indexed_gets_its_payload_index_on_the_next_build(tmp_path, content_fiches):
    import qdrant_edge as qe

    build_index(tmp_path, content_fiches[:3], None)
    shard_dir = tmp_path / "versions" / "1" / "shard"
    shard = qe.EdgeShard.load(str(shard_dir))
    shard.update(qe.UpdateOperation.delete_field_index("source"))  # as built before "source" was indexed
    shard.flush()
    shard.close()
    assert "source" not in qe.EdgeShard.load(str(shard_dir)).info().payload_schema
    build_index(tmp_path, content_fiches[:4], None)
    version = EdgeIndex(tmp_path).open_current()
    assert "source" in version.store._shard.info().payload_schema
    version.close()
