"""Retention through the API: after the period no name or message text survives, and
the API says what was purged. On SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlalchemy import inspect, select, text
from sqlalchemy.engine import make_url

from api.db import transaction
from api.models import DraftRecord, Feedback
from tests.fixtures.api import auth, make_key

MESSAGE = (
    "Bonjour, je m'appelle Jeanne Martin. Mon fils Lucas, éleveur d'hippocampes, a 12 ans : quel "
    "justificatif de domicile fournir pour sa carte d'identité ? Merci, Jeanne Martin"
)
# Names (masked when stored, but a draft can put them back) and words of the message.
TRACES = ("Jeanne", "Martin", "Lucas", "m'appelle", "hippocampes")


def _stored(app) -> str:
    engine = app.state.services.engine
    with engine.connect() as connection:
        return "\n".join(repr(tuple(row)) for table in inspect(engine).get_table_names()
                         for row in connection.execute(text(f"SELECT * FROM {table}")))


def _age_everything(app, days: int) -> None:
    with transaction(app.state.services.sessions) as session:
        for model in (DraftRecord, Feedback):
            for row in session.scalars(select(model)):
                row.created_at = row.created_at - timedelta(days=days)


def test_the_purge_leaves_no_name_or_message_text_and_says_what_it_removed(db_app, db_client):
    agent, admin = make_key(db_app, "agent"), make_key(db_app, "admin")
    draft = db_client.post("/api/drafts", json={"message": MESSAGE}, headers=auth(agent)).json()
    db_client.post(f"/api/drafts/{draft['id']}/feedback", headers=auth(agent),
                   json={"rating": "up", "final_text": "Madame Martin, pour Lucas il faut…"}).raise_for_status()
    before = db_client.get(f"/api/drafts/{draft['id']}", headers=auth(agent)).json()
    assert before["purged"] is None and before["questions"]
    assert "hippocampes" in _stored(db_app), "the texts are stored before the period ends"

    assert db_client.post("/api/retention/purge", headers=auth(admin)).json()["purged"]["drafts"] == 0
    _age_everything(db_app, db_app.state.services.settings.retention_days + 1)
    purged = db_client.post("/api/retention/purge", headers=auth(admin)).json()
    assert purged["purged"]["drafts"] == 1 and purged["purged"]["feedback"] == 1
    assert "text" in purged["purged"]["draft_fields"]

    after = db_client.get(f"/api/drafts/{draft['id']}", headers=auth(agent))
    assert after.status_code == 200
    body = after.json()
    assert body["purged"]["fields"] == purged["purged"]["draft_fields"]
    assert body["message"] is None and "text" not in body and "sentences" not in body
    assert body["sources"] == draft["sources"]
    for trace in TRACES:
        assert trace not in after.text
        assert trace not in _stored(db_app), f"{trace!r} survived the purge"


def test_the_retention_policy_is_for_admins_and_names_the_fields(db_app, db_client):
    agent, admin = make_key(db_app, "agent"), make_key(db_app, "admin")
    assert db_client.get("/api/retention", headers=auth(agent)).status_code == 403
    assert db_client.post("/api/retention/purge", headers=auth(agent)).status_code == 403
    policy = db_client.get("/api/retention", headers=auth(admin)).json()
    assert policy["retention_days"] == 30
    assert "questions" in policy["draft_fields_removed"] and "sources" in policy["draft_fields_kept"]


def test_on_sqlite_the_purged_text_is_gone_from_the_files_too(api_app, api_client):
    agent, admin = make_key(api_app, "agent"), make_key(api_app, "admin")
    api_client.post("/api/drafts", json={"message": MESSAGE}, headers=auth(agent)).raise_for_status()
    database = Path(make_url(api_app.state.services.settings.database_url).database)
    files = lambda: list(database.parent.glob(database.name + "*"))  # noqa: E731 - the file, -wal, -shm
    assert any(b"hippocampes" in path.read_bytes() for path in files())
    _age_everything(api_app, 31)
    api_client.post("/api/retention/purge", headers=auth(admin)).raise_for_status()
    for path in files():
        assert b"hippocampes" not in path.read_bytes(), f"text left in {path.name}"
