"""The database: migrations, SQLite durability settings, masking and retention.

Every test taking `database_url` runs twice: on SQLite and on a real PostgreSQL
(tests/fixtures/db.py; `pytest -m postgres` runs the PostgreSQL half).
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, select, text

from api.auth import create_key
from api.db import MIGRATIONS_DIR, create_db_engine, migrate, session_factory, transaction
from api.gaps import coverage_gaps
from api.masking import mask_personal_data
from api.models import AuditEvent, DraftRecord, Feedback
from api.records import add_feedback, purge_expired_text, store_draft

DRAFT = {"text": "Réponse [1].", "mode": "extractive", "format": "email", "questions": ["Question ?"],
         "sentences": [], "citations": [], "sources": [], "abstained": False, "confidence": 0.8}


@pytest.fixture
def engine(database_url):
    engine = create_db_engine(database_url)
    migrate(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def sessions(engine):
    return session_factory(engine)


def _head_revision() -> str:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return ScriptDirectory.from_config(config).get_current_head()


def test_migrations_create_every_table_and_are_idempotent(engine):
    migrate(engine)  # a second start changes nothing
    tables = set(inspect(engine).get_table_names())
    assert {"api_keys", "drafts", "feedback", "audit_log", "reindex_runs", "alembic_version"} <= tables
    assert "purged_at" in {c["name"] for c in inspect(engine).get_columns("drafts")}
    with engine.connect() as connection:
        assert connection.execute(text("SELECT version_num FROM alembic_version")).scalar() == _head_revision()


def test_migrations_upgrade_a_first_version_database_and_keep_its_rows(database_url):
    engine = create_db_engine(database_url)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0001")
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO api_keys (id, name, role, prefix, key_hash, created_at) "
                                "VALUES (1, 'a', 'agent', 'gch_x', 'h', CURRENT_TIMESTAMP)"))
        connection.execute(text("INSERT INTO drafts (id, key_id, created_at, mode, format, questions, draft, "
                                "abstained, confidence) VALUES ('d1', 1, CURRENT_TIMESTAMP, 'extractive', "
                                "'email', '[]', '{}', false, 0.5)"))
    migrate(engine)
    with engine.connect() as connection:
        assert connection.execute(text("SELECT version_num FROM alembic_version")).scalar() == _head_revision()
        assert connection.execute(text("SELECT id, purged_at FROM drafts")).all() == [("d1", None)]
    engine.dispose()


def test_sqlite_runs_in_wal_mode_with_full_sync(tmp_path):
    engine = create_db_engine(f"sqlite:///{tmp_path / 'guichet.db'}")
    with engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(text("PRAGMA synchronous")).scalar() == 2  # FULL
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1


def test_a_failed_transaction_leaves_nothing_half_written(sessions):
    with transaction(sessions) as session:
        key, _ = create_key(session, "agent")
    try:
        with transaction(sessions) as session:
            record = store_draft(session, key_id=key.id, message="m", draft=DRAFT, audience=None, keep_message=True)
            add_feedback(session, draft_id=record.id, key_id=key.id, rating="up", reasons=[], final_text=None)
            raise RuntimeError("crash between writes")
    except RuntimeError:
        pass
    with sessions() as session:
        assert session.scalars(select(DraftRecord)).all() == []
        assert session.scalars(select(Feedback)).all() == []
        assert session.scalars(select(AuditEvent)).all() == []


def test_personal_data_is_masked():
    masked = mask_personal_data(
        "Jeanne Martin, jeanne.martin@example.org, tél. 06 12 34 56 78, NIR 2 84 05 75 123 456 78, "
        "IBAN FR76 3000 6000 0112 3456 7890 189, dossier 123456789."
    )
    for value in ("jeanne.martin@example.org", "06 12 34 56 78", "2 84 05 75 123 456 78",
                  "FR76 3000 6000 0112 3456 7890 189", "123456789"):
        assert value not in masked
    assert "dossier" in masked


CITIZEN = "Jeanne Martin"
CITIZEN_DRAFT = {
    **DRAFT,
    "text": f"Madame {CITIZEN},\n\nVotre fils Lucas peut obtenir sa carte [1].",
    "questions": [f"Mon fils Lucas ({CITIZEN}) peut-il avoir une carte ?"],
    "needs": [{"question": "Mon fils Lucas peut-il avoir une carte ?", "situation": ["Lucas a 12 ans"]}],
    "sentences": [{"text": "Votre fils Lucas peut obtenir sa carte [1].", "start": 0, "end": 40}],
    "sources": [{"fiche_id": "F1311", "title": "Carte d'identité d'un mineur", "numbers": [1]}],
    "notices": ["Lucas"],
}


def _age(session, record, days: int) -> None:
    record.created_at = record.created_at - timedelta(days=days)
    session.flush()
    session.execute(Feedback.__table__.update().where(Feedback.draft_id == record.id)
                    .values(created_at=record.created_at))


def _all_stored_text(engine) -> str:
    """Every value of every row of every table, as text."""
    with engine.connect() as connection:
        return "\n".join(
            repr(tuple(row))
            for table in inspect(engine).get_table_names()
            for row in connection.execute(text(f"SELECT * FROM {table}"))
        )


def test_retention_removes_every_copy_of_citizen_text_and_only_past_the_period(engine, sessions):
    with transaction(sessions) as session:
        key, _ = create_key(session, "agent")
        old = store_draft(session, key_id=key.id, message=f"Je suis {CITIZEN}, pour mon fils Lucas.",
                          draft=CITIZEN_DRAFT, audience=None, keep_message=True)
        new = store_draft(session, key_id=key.id, message="nouveau message", draft=DRAFT, audience=None,
                          keep_message=True)
        add_feedback(session, draft_id=old.id, key_id=key.id, rating="up", reasons=["clair"],
                     final_text=f"Madame {CITIZEN}, Lucas peut…")
        _age(session, old, 31)
    assert "Lucas" in _all_stored_text(engine), "the test data holds the text before the purge"
    with transaction(sessions) as session:
        report = purge_expired_text(session, retention_days=30)
    assert (report.drafts, report.feedback) == (1, 1)
    assert {"text", "sentences", "questions", "needs", "message"} <= set(report.draft_fields)
    stored = _all_stored_text(engine)
    assert "Lucas" not in stored and "Martin" not in stored and "Jeanne" not in stored
    with sessions() as session:
        purged = session.get(DraftRecord, old.id)
        assert purged.purged_at is not None and purged.message_masked is None and purged.questions == []
        assert purged.draft["sources"] == CITIZEN_DRAFT["sources"], "which fiches were cited is kept"
        assert session.get(DraftRecord, new.id).message_masked == "nouveau message"
        assert session.get(DraftRecord, new.id).draft == DRAFT
        assert session.get(DraftRecord, new.id).purged_at is None
        assert session.scalars(select(Feedback.final_text)).all() == [None]
        assert [e.details for e in session.scalars(select(AuditEvent).where(AuditEvent.action == "purged"))] == [
            {"drafts": 1, "feedback": 1}]
    with transaction(sessions) as session:
        again = purge_expired_text(session, retention_days=30)
    assert (again.drafts, again.feedback) == (0, 0), "a purged draft is not purged twice"


def unanswered_draft(question: str, situation: list[str] | None = None) -> dict:
    """A draft that left its one need unanswered (what the draft service returns)."""
    return {**DRAFT, "questions": [question], "abstained": True,
            "needs": [{"question": question, "situation": situation or [], "source": "rules", "asked": True}],
            "unanswered": [{"need": 0, "reason": "low_confidence", "confidence": 0.1, "nearest": []}]}


def test_gaps_group_questions_case_and_punctuation_insensitively(sessions):
    with transaction(sessions) as session:
        key, _ = create_key(session, "agent")
        for question in ["Puis-je adopter un lama ?", "puis-je adopter un lama", "Où déclarer un furet ?"]:
            store_draft(session, key_id=key.id, message=question, draft=unanswered_draft(question), audience=None,
                        keep_message=False)
        store_draft(session, key_id=key.id, message="x", draft=DRAFT, audience=None, keep_message=False)
    with sessions() as session:
        gaps = coverage_gaps(session)
    assert [(g["question"], g["count"]) for g in gaps] == [("Puis-je adopter un lama ?", 2), ("Où déclarer un furet ?", 1)]
