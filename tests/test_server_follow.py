"""A live retriever across reindexes: it follows the published version (a Qdrant server
through qdrant-client's in-process mode, and Edge), never queries a removed collection,
readiness checks the version in use, and a snapshot closes only once no request holds it."""

from __future__ import annotations

import threading
from dataclasses import replace

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from ingest.model import Fiche
from retrieval.errors import IndexNotFound
from retrieval.index.versions import EdgeIndex, ServerIndex
from retrieval.search.retriever import IndexRetriever
from retrieval.types import SearchMode
from tests.fixtures.api import auth, make_key, post_at_once
from tests.test_server_store import apply


@pytest.fixture(scope="module")
def fiches(sample_fiches):
    return [f for f in sample_fiches if f.is_content][:8]


def _server_index() -> ServerIndex:
    return ServerIndex.connect(":memory:", None, "guichet", 5)


def _redated(fiche, n: int):
    return replace(Fiche.from_dict(fiche.to_dict()), date=f"2030-01-{n:02d}")


def _collections(index: ServerIndex) -> set[str]:
    return {c.name for c in index._client.get_collections().collections}


def test_a_live_server_mode_retriever_follows_two_reindexes(fiches):
    index = _server_index()
    apply(index, fiches[:4], None)
    retriever = IndexRetriever(index, None, follow_interval_s=0)
    assert retriever.version.number == 1
    apply(index, fiches[:5], None)
    apply(index, fiches[:6], None)  # publishes v3 and removes v1, the collection first opened
    assert "guichet_v1" not in _collections(index)
    found = retriever.search(fiches[5].title, k=3, mode=SearchMode.BM25)
    assert retriever.version.number == 3
    assert fiches[5].id in [hit.fiche_id for hit in found.fiches], "answers from the new version"
    assert retriever.fiche(fiches[5].id) == fiches[5]
    retriever.check()


def test_readiness_follows_the_alias_and_fails_on_a_removed_collection_in_use(fiches):
    index = _server_index()
    apply(index, fiches[:4], None)
    throttled = IndexRetriever(index, None, follow_interval_s=3600)
    pinned = IndexRetriever(index, None, follow_updates=False)
    apply(index, fiches[:5], None)
    apply(index, fiches[:6], None)
    throttled.check()  # readiness follows the alias before it checks
    assert throttled.version.number == 3
    with pytest.raises(IndexNotFound, match="version 1 in use .* was removed"):
        pinned.check()


@pytest.mark.parametrize("kind", ["edge", "server"])
def test_searches_during_twenty_version_switches_have_no_error(kind, fiches, tmp_path):
    index = EdgeIndex(tmp_path) if kind == "edge" else _server_index()
    apply(index, fiches[:5], None)
    retriever = IndexRetriever(index, None, follow_interval_s=0)
    errors: list[BaseException] = []
    searches = 0
    done = threading.Event()

    def search_until_done():
        nonlocal searches
        while not done.is_set():
            try:
                result = retriever.search(fiches[searches % 5].title, k=3, mode=SearchMode.BM25)
                assert result.fiches, "every version holds these fiches"
                retriever.fiche(fiches[0].id)
            except BaseException as exc:
                errors.append(exc)
            searches += 1

    readers = [threading.Thread(target=search_until_done) for _ in range(2)]
    for reader in readers:
        reader.start()
    try:
        for n in range(1, 21):
            assert apply(index, [_redated(fiches[0], n), *fiches[1:5]], None)["published"]
    finally:
        done.set()
        for reader in readers:
            reader.join(60)
    assert errors == []
    assert searches >= 20
    retriever.search(fiches[0].title, k=1, mode=SearchMode.BM25)
    assert retriever.version.number == 21
    assert retriever.fiche(fiches[0].id).date == "2030-01-20"
    retriever.close()


def test_a_switched_snapshot_closes_only_when_its_last_request_ends(fiches, tmp_path):
    index = EdgeIndex(tmp_path)
    apply(index, fiches[:3], None)
    retriever = IndexRetriever(index, None)
    closed = []
    with retriever._held() as held:
        old_close = held.version.close
        held.version.close = lambda: (closed.append(held.version.number), old_close())
        apply(index, fiches[:4], None)
        retriever.search(fiches[3].title, k=1, mode=SearchMode.BM25)  # switches to version 2
        assert retriever.snapshot is not held and held.users == 1
        assert closed == [], "still in use by this request"
        assert held.bm25 is not retriever.snapshot.bm25, "statistics come with their version"
        held.version.get_fiche(fiches[0].id)  # the old version still answers
    assert closed == [1]
    retriever.close()


def test_two_workers_asked_to_reindex_a_server_index_at_once_build_once(
        fiches, database_url, api_settings, api_draft_service):
    index = _server_index()
    apply(index, fiches[:4], None)
    retriever = IndexRetriever(index, None, follow_interval_s=0)
    builds: list[int] = []
    release = threading.Event()

    def real_build(_source: str) -> dict:
        release.wait(30)
        summary = apply(index, fiches[:6], None)
        builds.append(summary["version"])
        return summary

    settings = api_settings.model_copy(update={"database_url": database_url})
    workers = [create_app(settings, retriever=retriever, draft_service=api_draft_service,
                          ingest_runner=real_build) for _ in range(2)]
    key = auth(make_key(workers[0], "content"))
    with TestClient(workers[0]) as first, TestClient(workers[1]) as second:
        statuses = post_at_once([first, second], "/api/reindex", key)
        release.set()
    for app in workers:
        app.state.services.reindexer.wait(60)
    assert sorted(statuses) == [202, 409] and builds == [2]
    assert _collections(index) == {"guichet_v1", "guichet_v1_docs", "guichet_v2", "guichet_v2_docs"}
    found = retriever.search(fiches[5].title, k=3, mode=SearchMode.BM25)
    assert retriever.version.number == 2 and fiches[5].id in [h.fiche_id for h in found.fiches]
    for app in workers:
        app.state.services.engine.dispose()


def test_a_version_collected_while_it_is_opened_gives_way_to_the_newest(fiches):
    index = _server_index()
    apply(index, fiches[:5], None)
    retriever = IndexRetriever(index, None, follow_interval_s=0)
    opened, calls = index.open_current, []

    def open_then_collect():
        # Between opening a version and reading it, the writer publishes a newer one
        # and collects this one (its collections are gone).
        version = opened()
        calls.append(version.number)
        if len(calls) == 1:
            apply(index, [_redated(fiches[0], 1), *fiches[1:5]], None)
            for name in (version.store.collection, version.docs):
                index._client.delete_collection(name)
        return version

    index.open_current = open_then_collect
    retriever._open_current()
    assert calls == [1, 2] and retriever.snapshot.version.number == 2
    assert retriever.search(fiches[1].title, k=3, mode=SearchMode.BM25).fiches


def test_a_search_whose_version_is_collected_while_it_runs_runs_again_on_the_newest(fiches):
    index = _server_index()
    apply(index, fiches[:5], None)
    retriever = IndexRetriever(index, None, follow_interval_s=3600)  # it would not follow by itself
    held = retriever.version
    apply(index, [_redated(fiches[0], 1), *fiches[1:5]], None)
    apply(index, [_redated(fiches[0], 2), *fiches[1:5]], None)
    for name in (held.store.collection, held.docs):  # as the writer collects two versions back
        if index._client.collection_exists(name):
            index._client.delete_collection(name)
    found = retriever.search(fiches[1].title, k=3, mode=SearchMode.BM25)
    assert found.fiches and retriever.version.number == 3
    assert retriever.fiche(fiches[1].id) is not None

    pinned = IndexRetriever(index, None, follow_updates=False)
    apply(index, [_redated(fiches[0], 3), *fiches[1:5]], None)
    apply(index, [_redated(fiches[0], 4), *fiches[1:5]], None)
    for name in (pinned.version.store.collection, pinned.version.docs):
        if index._client.collection_exists(name):
            index._client.delete_collection(name)
    with pytest.raises(Exception, match="not found"):  # a pinned retriever does not move
        pinned.search(fiches[1].title, k=3, mode=SearchMode.BM25)
