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
    assert response.json() == {"error": "invalid_request", "detail": "mode 'dense' needs dense vectors: use mode 'bm25'",
                               "reason": "invalid_query"}


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


# --- Machine-readable errors: a stable `error` and `reason`, the field named, values a client can word

def test_a_known_path_with_another_method_is_a_405_with_allow(api_client, api_keys):
    response = api_client.get("/api/drafts", headers=auth(api_keys["agent"]))
    assert response.status_code == 405, response.text
    assert response.headers["allow"] == "POST"
    assert response.json()["error"] == "method_not_allowed" and response.json()["allowed"] == ["POST"]
    unknown = api_client.get("/api/nowhere", headers=auth(api_keys["agent"]))
    assert unknown.status_code == 404 and unknown.json()["reason"] == "not_found"


def test_a_body_that_is_not_json_is_named_so(api_client, api_keys):
    headers = {**auth(api_keys["agent"]), "Content-Type": "application/json"}
    not_utf8 = api_client.post("/api/drafts", content=b"\xe9\xff", headers=headers)
    assert not_utf8.status_code == 400, not_utf8.text
    assert not_utf8.json()["reason"] == "invalid_json" and "not JSON" in not_utf8.json()["detail"]
    assert "error parsing the body" not in not_utf8.text

    malformed = api_client.post("/api/drafts", content='{"message": "a",, }', headers=headers)
    assert malformed.status_code == 422
    body = malformed.json()
    assert body["reason"] == "invalid_json" and body["errors"][0]["type"] == "json_invalid"
    assert body["detail"].startswith("the body is not valid JSON at character 16") and "body.16" not in body["detail"]

    plain = api_client.post("/api/drafts", content="bonjour", headers={**headers, "Content-Type": "text/plain"})
    assert plain.status_code == 422 and plain.json()["errors"][0]["type"] == "json_object_expected"


def test_a_message_above_the_limit_names_the_field_its_length_and_the_limit(api_client, api_keys, api_settings):
    limit = api_settings.max_message_chars
    response = api_client.post("/api/drafts", json={"message": "x" * (limit + 7)}, headers=auth(api_keys["agent"]))
    assert response.status_code == 422
    body = response.json()
    assert body["error"] == "invalid_request" and body["reason"] == "invalid_field"
    assert body["errors"] == [{"loc": "body.message", "field": "message", "type": "too_long",
                               "msg": f"{limit + 7} characters, above the limit of {limit}",
                               "length": limit + 7, "limit": limit}]


def test_key_and_role_errors_carry_their_reason(api_client, api_keys):
    missing = api_client.get("/api/me")
    assert missing.status_code == 401 and missing.json()["reason"] == "missing_key"
    revoked = api_client.get("/api/me", headers=auth("gch_not-a-key-at-all"))
    assert revoked.status_code == 401 and revoked.json()["reason"] == "invalid_key"
    refused = api_client.post("/api/reindex", headers=auth(api_keys["agent"]))
    assert refused.status_code == 403
    assert (refused.json()["reason"], refused.json()["required_roles"], refused.json()["role"]) == (
        "role_required", ["admin", "content"], "agent")
