"""The HTTP API through the real app (TestClient) on a real SQLite file."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from api.models import AuditEvent, DraftRecord, Feedback
from api.routes.openai_compat import render_with_sources
from tests.fixtures.api import auth

MESSAGE = (
    "Bonjour, je m'appelle Jeanne Martin (jeanne.martin@example.org, 06 12 34 56 78). "
    "Quel justificatif de domicile fournir pour la carte d'identité de mon fils mineur ? Merci."
)


def _draft(client, key, **extra):
    response = client.post("/api/drafts", json={"message": MESSAGE, **extra}, headers=auth(key))
    assert response.status_code == 200, response.text
    return response.json()


def _count(app, model) -> int:
    with app.state.services.sessions() as session:
        return session.scalar(select(func.count()).select_from(model))


def test_health_and_readiness_need_no_key(api_client):
    assert api_client.get("/healthz").json() == {"status": "ok"}
    ready = api_client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["checks"] == {"database": "ok", "index": "ok"}


def test_readiness_is_503_with_the_reason_when_the_index_cannot_open(api_settings):
    from fastapi.testclient import TestClient

    from api.app import create_app

    def broken():
        raise FileNotFoundError("no index at data/index")

    app = create_app(api_settings, open_retriever=broken)
    with TestClient(app) as client:
        response = client.get("/readyz")
        assert response.status_code == 503
        assert "no index at data/index" in response.json()["detail"]
        key = __import__("tests.fixtures.api", fromlist=["make_key"]).make_key(app, "agent")
        search = client.get("/api/search", params={"question": "carte"}, headers=auth(key))
        assert search.status_code == 503 and "index" in search.json()["detail"]


def test_every_api_route_refuses_a_missing_or_wrong_key(api_client):
    calls = [
        ("post", "/api/drafts", {"json": {"message": "x"}}),
        ("get", "/api/drafts/abc", {}),
        ("post", "/api/drafts/abc/events", {"json": {"type": "copied"}}),
        ("post", "/api/drafts/abc/feedback", {"json": {"rating": "up"}}),
        ("get", "/api/search", {"params": {"question": "carte"}}),
        ("get", "/api/fiches/F1342", {}),
        ("post", "/api/reindex", {}),
        ("get", "/api/index/status", {}),
        ("get", "/api/gaps", {}),
        ("get", "/api/gaps/groups", {}),
        ("get", "/api/feedback/summary", {}),
        ("get", "/api/me", {}),
        ("get", "/v1/models", {}),
        ("post", "/v1/chat/completions", {"json": {"messages": [{"role": "user", "content": "x"}]}}),
    ]
    for method, path, kwargs in calls:
        missing = getattr(api_client, method)(path, **kwargs)
        assert missing.status_code == 401, (path, missing.text)
        wrong = getattr(api_client, method)(path, headers=auth("gch_not-a-real-key"), **kwargs)
        assert wrong.status_code == 401, (path, wrong.text)


def test_draft_is_returned_stored_and_masked(api_client, api_app, api_keys):
    draft = _draft(api_client, api_keys["agent"], format="short", audience="particuliers")
    assert draft["id"] and draft["format"] == "short" and draft["mode"] == "extractive"
    assert draft["citations"], "the sample fiches answer this question"
    assert all(c["number"] >= 1 and c["text"] for c in draft["citations"])
    assert {"text", "verdict", "start", "end"} <= set(draft["sentences"][0])
    stored = api_client.get(f"/api/drafts/{draft['id']}", headers=auth(api_keys["agent"])).json()
    assert stored["text"] == draft["text"]
    assert "jeanne.martin@example.org" not in stored["message"]
    assert "06 12 34 56 78" not in stored["message"]
    with api_app.state.services.sessions() as session:
        record = session.get(DraftRecord, draft["id"])
        assert "jeanne.martin@example.org" not in json.dumps(record.questions)
        actions = session.scalars(select(AuditEvent.action).where(AuditEvent.draft_id == draft["id"])).all()
    assert actions == ["drafted"]


def test_draft_returns_the_needs_it_understood(api_client, api_keys):
    draft = _draft(api_client, api_keys["agent"])
    (need,) = draft["needs"]
    assert "justificatif de domicile" in need["question"] and need["source"] == "rules"
    assert isinstance(need["situation"], list)
    assert "jeanne.martin@example.org" not in json.dumps(draft["needs"])


def test_draft_from_the_needs_the_agent_corrected(api_client, api_keys):
    corrected = {"question": "Comment se fait la révision du loyer en cours de bail ?",
                 "situation": ["Je suis locataire d'un appartement.", "  "]}
    draft = _draft(api_client, api_keys["agent"], needs=[corrected])
    assert [(n["question"], n["situation"], n["source"]) for n in draft["needs"]] == [
        (corrected["question"], ["Je suis locataire d'un appartement."], "agent")]
    assert draft["questions"] == [corrected["question"]]
    cited = {c["fiche_id"] for c in draft["citations"]}
    assert "F1311" in cited and "F32675" not in cited  # the loyer fiche, not the message's ID card one


@pytest.mark.parametrize("needs, words", [
    ([{"question": "   "}], "blank"),
    ([{"question": ""}], "needs.0.question"),
    ([{"question": f"Question {n} ?"} for n in range(4)], "at most 3"),
    ([{"question": "Loyer ?", "situation": "locataire"}], "situation"),
])
def test_bad_needs_are_refused(api_client, api_app, api_keys, needs, words):
    response = api_client.post("/api/drafts", json={"message": MESSAGE, "needs": needs},
                               headers=auth(api_keys["agent"]))
    assert response.status_code == 422, response.text
    assert words in response.json()["detail"]
    assert _count(api_app, DraftRecord) == 0


def test_agents_read_only_their_own_drafts_admin_reads_all(api_client, api_keys):
    draft = _draft(api_client, api_keys["agent"])
    path = f"/api/drafts/{draft['id']}"
    assert api_client.get(path, headers=auth(api_keys["agent2"])).status_code == 403
    assert api_client.get(path, headers=auth(api_keys["admin"])).status_code == 200
    assert api_client.post(f"{path}/feedback", json={"rating": "up"}, headers=auth(api_keys["agent2"])).status_code == 403
    assert api_client.get("/api/drafts/0123456789abcdef", headers=auth(api_keys["agent"])).status_code == 404


def test_events_and_feedback_are_recorded(api_client, api_app, api_keys):
    draft = _draft(api_client, api_keys["agent"])
    key = auth(api_keys["agent"])
    base = f"/api/drafts/{draft['id']}"
    assert api_client.post(f"{base}/events", json={"type": "edited", "details": {"chars_after": 120}},
                           headers=key).status_code == 201
    assert api_client.post(f"{base}/events", json={"type": "copied"}, headers=key).status_code == 201
    # Free text in the audit log is refused: no message text can land there.
    refused = api_client.post(f"{base}/events", json={"type": "copied", "details": {"text": "Jeanne"}}, headers=key)
    assert refused.status_code == 422
    feedback = api_client.post(f"{base}/feedback", headers=key, json={
        "rating": "down", "reasons": ["faits_erronés", "trop_long"], "final_text": "Madame, voici… [1]"})
    assert feedback.status_code == 201, feedback.text
    assert api_client.post(f"{base}/feedback", json={"rating": 4, "reasons": ["clair"]}, headers=key).status_code == 201
    assert api_client.post(f"{base}/feedback", json={"rating": 6}, headers=key).status_code == 422
    bad_reason = api_client.post(f"{base}/feedback", json={"rating": "up", "reasons": ["génial"]}, headers=key)
    assert bad_reason.status_code == 422 and "reasons" in bad_reason.json()["detail"]
    with api_app.state.services.sessions() as session:
        rows = session.scalars(select(Feedback).where(Feedback.draft_id == draft["id"]).order_by(Feedback.id)).all()
        actions = session.scalars(select(AuditEvent.action).where(AuditEvent.draft_id == draft["id"])
                                  .order_by(AuditEvent.id)).all()
    assert [(r.rating, r.reasons) for r in rows] == [("down", ["faits_erronés", "trop_long"]), ("4", ["clair"])]
    assert rows[0].final_text.startswith("Madame")
    assert actions == ["drafted", "edited", "copied", "feedback", "feedback"]


def test_draft_streams_server_sent_events(api_client, api_app, api_keys):
    with api_client.stream("POST", "/api/drafts?stream=true", json={"message": MESSAGE},
                           headers=auth(api_keys["agent"])) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        body = "".join(response.iter_text())
    events = [block for block in body.split("\n\n") if block.strip()]
    names = [block.split("\n")[0].removeprefix("event: ") for block in events]
    assert names[-2:] == ["draft", "done"]
    final = json.loads(events[-2].split("data: ", 1)[1])
    assert final["id"] and final["text"]
    assert _count(api_app, DraftRecord) == 1


def test_search_and_fiche(api_client, api_keys, api_retriever):
    key = auth(api_keys["agent"])
    result = api_client.get("/api/search", params={"question": "justificatif de domicile pour un mineur", "k": 2}, headers=key)
    assert result.status_code == 200, result.text
    data = result.json()
    assert 1 <= len(data["fiches"]) <= 2
    fiche_id = data["fiches"][0]["fiche_id"]
    assert data["fiches"][0]["passages"][0]["text"]
    fiche = api_client.get(f"/api/fiches/{fiche_id}", headers=key)
    assert fiche.status_code == 200
    assert fiche.json()["id"] == fiche_id and fiche.json()["markdown"]
    assert fiche.json()["title"] == api_retriever.fiche(fiche_id).title
    assert api_client.get(f"/api/fiches/{fiche_id.lower()}", headers=key).json()["id"] == fiche_id
    assert api_client.get("/api/fiches/F99999999", headers=key).status_code == 404
    labour = api_client.get("/api/fiches/TE-article374530", headers=key)  # a labour-law ID, not indexed here
    assert labour.status_code == 404 and "in the index" in labour.text
    assert api_client.get("/api/fiches/..%2Fetc", headers=key).status_code == 404
    assert api_client.get("/api/search", params={"question": " "}, headers=key).status_code == 422
    assert api_client.get("/api/search", params={"question": "x", "k": 0}, headers=key).status_code == 422
    assert api_client.get("/api/search", params={"question": "x", "mode": "magic"}, headers=key).status_code == 422


def test_roles_reindex_status_and_gaps(api_client, api_app, api_keys):
    assert api_client.post("/api/reindex", headers=auth(api_keys["agent"])).status_code == 403
    assert api_client.get("/api/gaps", headers=auth(api_keys["agent"])).status_code == 403
    assert api_client.get("/api/gaps/groups", headers=auth(api_keys["agent"])).status_code == 403
    assert api_client.get("/api/feedback/summary", headers=auth(api_keys["agent"])).status_code == 403
    started = api_client.post("/api/reindex", headers=auth(api_keys["content"]))
    assert started.status_code == 202
    api_app.state.services.reindexer.wait(120)
    status = api_client.get("/api/index/status", headers=auth(api_keys["agent"])).json()
    assert status["running"] is False
    run = status["runs"][0]
    # The configured source does not exist: the run fails with guichet ingest's reason, recorded.
    assert run["id"] == started.json()["id"] and run["status"] == "failed" and run["error"]
    index = status["index"]
    assert index["embedder"] and index["fiches"] >= 1 and index["chunks"] >= index["fiches"]
    assert index["snapshot_date"][:2] == "20"


def test_reindex_is_one_at_a_time(api_settings, api_retriever, api_draft_service):
    import threading

    from fastapi.testclient import TestClient

    from api.app import create_app
    from tests.fixtures.api import make_key

    release = threading.Event()

    def slow_ingest(source: str) -> dict:  # the real runner is tested above; this one waits
        release.wait(30)
        return {"added": 3, "source": source}

    app = create_app(api_settings, retriever=api_retriever, draft_service=api_draft_service,
                     ingest_runner=slow_ingest)
    key = auth(make_key(app, "admin"))
    with TestClient(app) as client:
        assert client.post("/api/reindex", headers=key).status_code == 202
        busy = client.post("/api/reindex", headers=key)
        assert busy.status_code == 409 and "already running" in busy.json()["detail"]
        release.set()
        app.state.services.reindexer.wait(30)
        run = client.get("/api/index/status", headers=key).json()["runs"][0]
        assert run["status"] == "succeeded" and run["summary"]["added"] == 3
        assert client.post("/api/reindex", headers=key).status_code == 202
        app.state.services.reindexer.wait(30)


def test_gaps_list_unanswered_questions_most_frequent_first(api_client, api_keys):
    key = auth(api_keys["agent"])
    for message in ["Puis-je adopter un lama dans mon appartement ?", "puis-je adopter un lama dans mon appartement",
                    "Où faire tatouer mon furet albinos ?", "Xylophone zzz quokka ?", "ÿþ%%% ### ?"]:
        response = api_client.post("/api/drafts", json={"message": message}, headers=key)
        assert response.status_code == 200 and response.json()["abstained"] is True, message
    gaps = api_client.get("/api/gaps", headers=auth(api_keys["content"])).json()["gaps"]
    assert gaps[0]["count"] == 2 and "lama" in gaps[0]["question"].lower()
    assert [g["count"] for g in gaps[1:]] == [1] and "furet" in gaps[1]["question"]  # the noise is not a gap
    groups = api_client.get("/api/gaps/groups", headers=auth(api_keys["content"])).json()
    assert sum(group["count"] for group in groups["groups"]) == 3 and len(groups["weeks"]) == 8
    assert all(group["nearest"] for group in groups["groups"] if group["topic"] != "Sans fiche proche")


def test_openai_compatible_chat(api_client, api_keys):
    key = auth(api_keys["agent"])
    models = api_client.get("/v1/models", headers=key).json()
    assert {m["id"] for m in models["data"]} == {"guichet", "guichet-llm"}
    body = {"model": "guichet", "messages": [{"role": "system", "content": "Tu es un agent."},
                                             {"role": "user", "content": MESSAGE}]}
    answer = api_client.post("/v1/chat/completions", json=body, headers=key)
    assert answer.status_code == 200, answer.text
    data = answer.json()
    content = data["choices"][0]["message"]["content"]
    assert data["object"] == "chat.completion" and "[1]" in content
    assert "service-public.fr" in content and data["guichet"]["draft_id"]
    with api_client.stream("POST", "/v1/chat/completions", json={**body, "stream": True}, headers=key) as stream:
        lines = [line for line in stream.iter_lines() if line.startswith("data: ")]
    assert lines[-1] == "data: [DONE]"
    chunks = [json.loads(line[6:]) for line in lines[:-1]]
    streamed = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks)
    draft_id = chunks[-1]["guichet"]["draft_id"]
    stored = api_client.get(f"/api/drafts/{draft_id}", headers=key).json()
    assert streamed == render_with_sources(stored) and "[1]" in streamed
    unknown = api_client.post("/v1/chat/completions", json={**body, "model": "gpt-4"}, headers=key)
    assert unknown.status_code == 404 and "error" in unknown.json() and "message" in unknown.json()["error"]


def test_rate_limit_answers_429_with_retry_after(api_settings, api_retriever, api_draft_service):
    from fastapi.testclient import TestClient

    from api.app import create_app
    from tests.fixtures.api import make_key

    app = create_app(api_settings.model_copy(update={"rate_limit_per_minute": 5}),
                     retriever=api_retriever, draft_service=api_draft_service)
    limited, other = make_key(app, "agent"), make_key(app, "agent")
    with TestClient(app) as client:
        codes = [client.get("/api/me", headers=auth(limited)).status_code for _ in range(7)]
        assert codes[:5] == [200] * 5 and codes[5:] == [429, 429]
        refused = client.get("/api/me", headers=auth(limited))
        assert int(refused.headers["Retry-After"]) >= 1 and "retry" in refused.json()["detail"]
        assert client.get("/api/me", headers=auth(other)).status_code == 200, "limits are per key"


@pytest.mark.parametrize("body, status, words", [
    (b"{not json", 422, "json"),
    (b'{"message": "\xff\xfe\xfa"}', 400, ""),
    (b'{"message": ""}', 422, "message"),
    (b'{"message": "   "}', 422, "blank"),
    (b'{"message": "ok", "mode": "poetry"}', 422, "mode"),
    (b'{"message": "ok", "audience": "martiens"}', 422, "audience"),
    (b'{"message": "ok", "extra": 1}', 422, "extra"),
    (b'["message"]', 422, ""),
    (b'{"message": 12}', 422, "message"),
])
def test_bad_draft_requests_get_clear_errors(api_client, api_app, api_keys, body, status, words):
    response = api_client.post("/api/drafts", content=body, headers={
        **auth(api_keys["agent"]), "Content-Type": "application/json"})
    assert response.status_code == status, response.text
    data = response.json()
    assert data["error"] and words.lower() in data["detail"].lower()
    assert "Traceback" not in response.text
    assert _count(api_app, DraftRecord) == 0


def test_oversized_bodies_are_refused_before_being_read(api_client, api_settings, api_keys):
    key = auth(api_keys["agent"])
    big = api_client.post("/api/drafts", content=b"x" * (api_settings.max_body_bytes + 1),
                          headers={**key, "Content-Type": "application/json"})
    assert big.status_code == 413 and str(api_settings.max_body_bytes) in big.json()["detail"]

    def chunks():  # no Content-Length: counted while streaming in
        for _ in range(100):
            yield b" " * 1024

    streamed = api_client.post("/api/drafts", content=chunks(), headers={**key, "Content-Type": "application/json"})
    assert streamed.status_code == 413
    long_message = api_client.post("/api/drafts", json={"message": "a" * (api_settings.max_message_chars + 1)},
                                   headers=key)
    assert long_message.status_code == 422 and str(api_settings.max_message_chars) in long_message.json()["detail"]


def test_html_in_a_message_is_stored_and_returned_as_data(api_client, api_keys):
    hostile = "<script>alert(1)</script><img src=x onerror=alert(2)> justificatif de domicile ?"
    draft = api_client.post("/api/drafts", json={"message": hostile}, headers=auth(api_keys["agent"])).json()
    stored = api_client.get(f"/api/drafts/{draft['id']}", headers=auth(api_keys["agent"]))
    assert stored.headers["content-type"].startswith("application/json")
    assert "<script>alert(1)</script>" in stored.json()["message"]


def test_web_page_is_served_with_a_strict_content_security_policy(api_client):
    page = api_client.get("/")
    assert page.status_code == 200 and "guichet" in page.text
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert api_client.get("/app.js").status_code == 200
    assert api_client.get("/style.css").status_code == 200
    missing = api_client.get("/api/nothing-here")
    assert missing.status_code == 404 and missing.json()["error"] == "not_found"


def test_api_docs_work_offline(api_client):
    docs = api_client.get("/docs")
    assert docs.status_code == 200
    assert "cdn." not in docs.text and "/docs-assets/swagger-ui-bundle.js" in docs.text
    script = api_client.get("/docs-assets/swagger-ui-bundle.js")
    assert script.status_code == 200 and len(script.content) > 100_000
    assert api_client.get("/docs-assets/swagger-ui.css").status_code == 200
    assert "/api/drafts" in api_client.get("/openapi.json").json()["paths"]


def test_reindex_runs_guichet_ingest_and_opens_the_new_index(api_settings, tmp_path, monkeypatch):
    """No index at start (503); POST /api/reindex runs the real `guichet ingest`; then ready."""
    import shutil

    from fastapi.testclient import TestClient

    from api.app import create_app
    from tests.fixtures.api import SAMPLE, make_key

    source = tmp_path / "source" / "particuliers"
    source.mkdir(parents=True)
    for fiche_id in ("F21258", "F34482"):
        found = SAMPLE / "particuliers" / f"{fiche_id}.xml"
        if not found.exists():
            pytest.skip("the bundled sample is needed")
        shutil.copy(found, source / found.name)
    monkeypatch.setenv("GUICHET_INDEX_DIR", str(tmp_path / "index"))
    monkeypatch.setenv("GUICHET_EMBEDDER", "none")
    app = create_app(api_settings.model_copy(update={"reindex_source": str(source.parent)}))
    key = auth(make_key(app, "content"))
    with TestClient(app) as client:
        assert client.get("/readyz").status_code == 503
        assert client.post("/api/reindex", headers=key).status_code == 202
        app.state.services.reindexer.wait(300)
        run = client.get("/api/index/status", headers=key).json()["runs"][0]
        assert run["status"] == "succeeded", run
        assert run["summary"]["added"] == 2
        assert client.get("/readyz").status_code == 200
        found = client.get("/api/search", params={"question": "timbre fiscal passeport", "mode": "bm25"},
                           headers=key).json()
        assert found["fiches"][0]["fiche_id"] == "F21258"
        dense = client.get("/api/search", params={"question": "timbre fiscal"}, headers=key)
        assert dense.status_code == 422 and "bm25" in dense.json()["detail"]


def test_personal_data_of_a_message_never_reaches_the_logs(api_client, api_keys, caplog):
    import logging

    caplog.set_level(logging.DEBUG)
    key = auth(api_keys["agent"])
    draft = api_client.post("/api/drafts", json={"message": MESSAGE}, headers=key)
    assert draft.status_code == 200
    api_client.get("/api/search", params={"question": "jeanne.martin@example.org carte"}, headers=key)
    api_client.post("/api/drafts", json={"message": "jeanne.martin@example.org", "mode": "poetry"}, headers=key)
    logged = caplog.text
    assert "api.access" in logged or "POST /api/drafts" in logged, "the access log ran"
    for value in ("Jeanne", "Martin", "jeanne.martin@example.org", "06 12 34 56 78"):
        assert value not in logged


def test_openai_compatible_stream_sends_the_model_text_as_written_and_reads_the_conversation(
        api_settings, api_retriever, openai_server):
    from fastapi.testclient import TestClient

    from api.app import create_app
    from generation.service import DraftService
    from generation.settings import LLMSettings
    from tests.fixtures.api import make_key

    first = "Bonjour, mon fils a 16 ans et il est au lycée."
    follow_up = "Quel justificatif de domicile faut-il pour sa carte d'identité ?"
    openai_server.script("Il faut un justificatif de domicile de moins d'un an [1].\nLe texte du modèle continue [1].")
    service = DraftService(api_retriever, LLMSettings(base_url=openai_server.base_url, model="scripted"))
    app = create_app(api_settings, retriever=api_retriever, draft_service=service)
    key = auth(make_key(app, "agent"))
    body = {"model": "guichet-llm", "stream": True, "messages": [
        {"role": "user", "content": first}, {"role": "assistant", "content": "Un brouillon précédent."},
        {"role": "user", "content": follow_up}]}
    with TestClient(app) as client, client.stream("POST", "/v1/chat/completions", json=body, headers=key) as stream:
        chunks = [json.loads(line[6:]) for line in stream.iter_lines()
                  if line.startswith("data: ") and line != "data: [DONE]"]
    app.state.services.engine.dispose()
    contents = [c["choices"][0]["delta"].get("content", "") for c in chunks]
    streamed = "".join(contents)
    assert streamed.startswith("Il faut un justificatif de domicile de moins d'un an [1].\n")
    assert contents.index("Le texte du modèle continue [1].") < len(contents) - 2  # sent before the sources
    assert "Sources :" in streamed and chunks[-1]["choices"][0]["finish_reason"] == "stop"
    extra = chunks[-1]["guichet"]
    assert extra["draft_id"] and extra["sentences"] and extra["sources"]
    sent = openai_server.received_text()
    assert "mon fils a 16 ans" in sent and "justificatif de domicile faut-il" in sent
    assert "Un brouillon précédent" not in sent  # assistant turns are not the citizen's words
