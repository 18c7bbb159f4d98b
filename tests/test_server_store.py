"""The Qdrant server path, on qdrant-client's in-process `:memory:` mode (same client API)."""

import socket
import time
from dataclasses import replace

import pytest

from ingest.changes import compute_changes
from ingest.chunking import chunk_fiche
from ingest.model import Fiche
from retrieval import open_retriever
from retrieval.embedding.embedders import EmbeddingCache
from retrieval.errors import EmbedderMismatch, IndexNotFound, IndexUnavailable
from retrieval.index.indexer import Indexer
from retrieval.index.versions import EdgeIndex, ServerIndex
from retrieval.search.retriever import IndexRetriever
from retrieval.settings import RetrievalSettings
from retrieval.types import SearchFilters, SearchMode
from tests.fixtures.retrieval import TEST_CACHE_DIR, TEST_DENSE_MAX_TOKENS, SilentServer


@pytest.fixture(scope="module")
def fiches(sample_fiches):
    return [f for f in sample_fiches if f.is_content][:15]


def make_index(kind, tmp_path):
    if kind == "server":
        return ServerIndex.connect(":memory:", None, "guichet", 5)
    return EdgeIndex(tmp_path)


def apply(index, fiches, embedder, full=False):
    cache = EmbeddingCache(TEST_CACHE_DIR / "cache.sqlite") if embedder else None
    indexer = Indexer(index, embedder, cache=cache, dense_max_tokens=TEST_DENSE_MAX_TOKENS, show_progress=False)
    try:
        return indexer.apply(compute_changes(fiches, indexer.previous_manifest(full=full)), full=full)
    finally:
        if cache:
            cache.close()


@pytest.mark.parametrize("kind", ["edge", "server"])
def test_hybrid_search_finds_each_fiche_by_title(kind, tmp_path, fiches, default_embedder):
    index = make_index(kind, tmp_path)
    summary = apply(index, fiches, default_embedder)
    assert summary["chunks"] == sum(len(chunk_fiche(f)) for f in fiches)
    retriever = IndexRetriever(index, default_embedder)
    for mode in SearchMode:
        found = [retriever.search(f.title, k=3, mode=mode).fiches for f in fiches[:5]]
        assert sum(f.id in [h.fiche_id for h in hits] for f, hits in zip(fiches, found)) >= 4, mode
    assert retriever.fiche(fiches[0].id) == fiches[0]


def test_edge_and_server_give_the_same_bm25_ranking(tmp_path, fiches):
    edge, server = EdgeIndex(tmp_path), ServerIndex.connect(":memory:", None, "guichet", 5)
    for index in (edge, server):
        apply(index, fiches, None)
    on_edge, on_server = IndexRetriever(edge, None), IndexRetriever(server, None)
    for query in ("déclaration de revenus", "carte grise duplicata", fiches[3].title):
        a = on_edge.search(query, k=5, mode=SearchMode.BM25)
        b = on_server.search(query, k=5, mode=SearchMode.BM25)
        assert [f.fiche_id for f in a.fiches] == [f.fiche_id for f in b.fiches]
        assert [round(f.score, 3) for f in a.fiches] == [round(f.score, 3) for f in b.fiches]


def test_server_versions_are_collections_behind_an_alias(fiches):
    index = ServerIndex.connect(":memory:", None, "guichet", 5)
    client = index._client
    apply(index, fiches[:5], None)
    apply(index, fiches[:6], None)
    assert index.current_number() == 2
    gone, redated = fiches[0], replace(Fiche.from_dict(fiches[1].to_dict()), date="2032-03-04")
    summary = apply(index, [redated, *fiches[2:6]], None)
    assert summary["version"] == 3 and summary["deleted"] == 1 and summary["metadata_only"] == 1
    names = sorted(c.name for c in client.get_collections().collections)
    assert names == ["guichet_v2", "guichet_v2_docs", "guichet_v3", "guichet_v3_docs"]
    retriever = IndexRetriever(index, None)
    assert retriever.version.store.count(gone.id) == 0 and retriever.fiche(gone.id) is None
    assert {c.date for c in retriever.chunks(redated.id)} == {"2032-03-04"}
    hits = retriever.search(redated.title, k=1, mode=SearchMode.BM25, filters=SearchFilters(fiche_ids=[redated.id]))
    assert hits.fiches[0].date == "2032-03-04"


def test_server_refuses_another_embedder_and_reports_missing_index(fiches, default_embedder):
    index = ServerIndex.connect(":memory:", None, "guichet", 5)
    with pytest.raises(IndexNotFound, match="no index at :memory:"):
        IndexRetriever(index, None)
    apply(index, fiches[:2], None)
    with pytest.raises(EmbedderMismatch, match="'none'.*'multilingual-e5-small'"):
        IndexRetriever(index, default_embedder)


def test_a_server_that_does_not_answer_times_out_with_a_clear_error():
    server = SilentServer()
    settings = RetrievalSettings(qdrant_url=f"http://127.0.0.1:{server.port}", qdrant_timeout_s=1)
    started = time.monotonic()
    with pytest.raises(IndexUnavailable, match="does not answer"):
        open_retriever(settings, embedder_spec="none")
    assert time.monotonic() - started < 10
    server.close()


def test_a_closed_port_is_reported():
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    settings = RetrievalSettings(qdrant_url=f"http://127.0.0.1:{port}", qdrant_timeout_s=1)
    with pytest.raises(IndexUnavailable, match=f"127.0.0.1:{port}"):
        open_retriever(settings, embedder_spec="none")
