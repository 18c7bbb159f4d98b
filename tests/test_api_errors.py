"""The split between the caller's errors (4xx with the reason) and internal ones (500,
logged with a traceback that never carries the citizen's text)."""

from __future__ import annotations

import json
import logging

import pytest

from generation.format import build_sources
from generation.verify import Verifier
from retrieval.errors import IndexCorrupt, IndexUnavailable, InvalidQuery
from tests.fixtures.api import auth

CITIZEN_TEXT = "Jeanne Martin habite 12 rue des Lilas"
MESSAGE = f"Bonjour, {CITIZEN_TEXT}. Quel justificatif de domicile fournir pour une carte d'identité ?"


def _internal_bug(*_args, **_kwargs):
    # A bug whose message quotes the citizen's text, as a KeyError on a name would.
    raise ValueError(f"unexpected value {CITIZEN_TEXT!r}")


def _logged(caplog) -> str:
    return "\n".join(record.getMessage() for record in caplog.records)


def test_an_internal_value_error_in_search_is_a_500_logged_with_traceback_but_no_text(
        api_client, api_keys, api_retriever, monkeypatch, caplog):
    monkeypatch.setattr(api_retriever, "search", _internal_bug)
    with caplog.at_level(logging.ERROR, logger="api"):
        response = api_client.get("/api/search", params={"question": "carte d'identité"},
                                  headers=auth(api_keys["agent"]))
    assert response.status_code == 500, response.text
    assert response.json()["error"] == "internal_error"
    assert CITIZEN_TEXT not in response.text
    logged = _logged(caplog)
    assert 'File "' in logged and "_internal_bug" in logged, "the traceback is logged"
    assert "builtins.ValueError" in logged
    assert "Jeanne" not in logged and "Lilas" not in logged


def test_a_query_the_index_cannot_run_is_a_422_with_the_reason(api_client, api_keys, api_retriever, monkeypatch):
    def invalid(*_args, **_kwargs):
        raise InvalidQuery("mode 'dense' needs dense vectors: use mode 'bm25'")

    monkeypatch.setattr(api_retriever, "search", invalid)
    response = api_client.get("/api/search", params={"question": "carte"}, headers=auth(api_keys["agent"]))
    assert response.status_code == 422
    assert response.json() == {"error": "invalid_request", "detail": "mode 'dense' needs dense vectors: use mode 'bm25'"}


def test_an_index_failure_during_a_draft_is_a_503(api_client, api_keys, api_retriever, monkeypatch):
    def down(*_args, **_kwargs):
        raise IndexUnavailable("the Qdrant server does not answer")

    monkeypatch.setattr(api_retriever, "search_many", down)
    response = api_client.post("/api/drafts", json={"message": MESSAGE}, headers=auth(api_keys["agent"]))
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "10"


def test_a_bug_in_the_draft_service_is_a_500_without_the_message_in_logs(
        api_client, api_keys, api_retriever, monkeypatch, caplog):
    monkeypatch.setattr(api_retriever, "search_many", _internal_bug)
    with caplog.at_level(logging.ERROR, logger="api"):
        response = api_client.post("/api/drafts", json={"message": MESSAGE}, headers=auth(api_keys["agent"]))
        streamed = api_client.post("/api/drafts", json={"message": MESSAGE, "stream": True},
                                   headers=auth(api_keys["agent"]))
    assert response.status_code == 500
    assert "ValueError" in response.json()["detail"] and "Jeanne" not in response.text
    error_events = [line for line in streamed.text.splitlines() if line.startswith("data:") and "error" in line]
    assert json.loads(error_events[0][5:])["error"] == "internal_error"
    logged = _logged(caplog)
    assert logged.count("_internal_bug") >= 2, "both paths log the traceback"
    assert "Jeanne" not in logged and "Lilas" not in logged


def test_an_unreadable_message_is_a_422_naming_the_field(api_client, api_keys):
    response = api_client.post("/api/drafts", json={"message": "!!! ??? ..."}, headers=auth(api_keys["agent"]))
    assert response.status_code == 422
    assert response.json()["detail"].startswith("message: ")


class _BrokenEmbedder:
    def embed_passages(self, texts):
        raise RuntimeError("the embedding runtime crashed")


def test_an_embedder_failure_during_verification_is_not_swallowed(api_retriever):
    passages = api_retriever.search("carte d'identité", k=1).passages
    verifier = Verifier(passages, embedder=_BrokenEmbedder())
    weak = "Une phrase qui ne dit rien de ce passage [1]."  # weak in words: its meaning is asked
    with pytest.raises(RuntimeError, match="embedding runtime crashed"):
        verifier.check_all(weak)


def test_sources_survive_an_unreadable_fiche_but_not_a_bug(api_retriever):
    passages = api_retriever.search("carte d'identité", k=1).passages

    def corrupt(_fiche_id):
        raise IndexCorrupt("fiche unreadable")

    sources = build_sources([1], passages, corrupt)
    assert sources[0].legal_references == []
    with pytest.raises(ValueError):
        build_sources([1], passages, _internal_bug)
