"""A Qdrant server that stops answering while guichet serves: /readyz and every request
that needs the index answer 503 with a clear message within a bounded time, never hang.

The index is a real one on qdrant-client's in-process `:memory:` mode (no Qdrant server
runs here); "the server stops answering" is the same client pointed at a real TCP server
on 127.0.0.1 that accepts connections and never replies.
"""

from __future__ import annotations

import time

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from generation.service import DraftService
from generation.settings import LLMSettings
from ingest.changes import compute_changes
from retrieval.index.indexer import Indexer
from retrieval.index.versions import ServerIndex
from retrieval.search.retriever import IndexRetriever
from tests.fixtures.api import api_fiches, make_key
from tests.fixtures.retrieval import SilentServer

TIMEOUT_S = 1


@pytest.fixture
def server_retriever():
    index = ServerIndex.connect(":memory:", None, "guichet", TIMEOUT_S)
    indexer = Indexer(index, None, show_progress=False)
    indexer.apply(compute_changes(api_fiches(), indexer.previous_manifest()))
    retriever = IndexRetriever(index, None)
    yield retriever
    retriever.close()


def stop_answering(retriever: IndexRetriever, server: SilentServer) -> None:
    """Every client the retriever holds now talks to a server that never replies (the
    client `guichet` itself would open on that URL)."""
    silent = ServerIndex.connect(f"http://127.0.0.1:{server.port}", None, "guichet", TIMEOUT_S)._client
    retriever.index._client = silent
    retriever.version._client = silent
    retriever.version.store._client = silent


@pytest.fixture
def client_and_key(api_settings, server_retriever):
    app = create_app(api_settings.model_copy(update={"readiness_timeout_s": 3}), retriever=server_retriever,
                     draft_service=DraftService(server_retriever, LLMSettings(base_url=None)))
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client, make_key(app, "agent")
    app.state.services.engine.dispose()


def timed(call):
    started = time.monotonic()
    response = call()
    return response, time.monotonic() - started


def test_requests_get_a_clear_503_when_the_qdrant_server_stops_answering(client_and_key, server_retriever):
    client, key = client_and_key
    auth = {"Authorization": f"Bearer {key}"}
    fiche_id = api_fiches()[0].id
    assert client.get("/readyz").status_code == 200
    assert client.get("/api/search", params={"question": "carte d'identité", "mode": "bm25"}, headers=auth).status_code == 200

    server = SilentServer()
    try:
        stop_answering(server_retriever, server)
        ready, seconds = timed(lambda: client.get("/readyz"))
        assert ready.status_code == 503 and seconds < 5
        assert "index" in ready.json()["checks"]

        calls = {
            "search": lambda: client.get("/api/search", params={"question": "carte d'identité", "mode": "bm25"}, headers=auth),
            "fiche": lambda: client.get(f"/api/fiches/{fiche_id}", headers=auth),
            "draft": lambda: client.post("/api/drafts", json={"message": "Comment refaire ma carte d'identité ?"},
                                         headers=auth),
        }
        for name, call in calls.items():
            response, seconds = timed(call)
            assert response.status_code == 503, (name, response.status_code, response.text)
            assert "index" in response.json()["detail"], name
            assert "Traceback" not in response.text
            assert seconds < 5 * TIMEOUT_S + 5, (name, seconds)
    finally:
        server.close()
