"""The database: migrations, SQLite durability settings, masking and retention."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import inspect, select, text

from api.db import create_db_engine, migrate, session_factory, transaction
from api.models import AuditEvent, DraftRecord, Feedback
from api.records import add_feedback, coverage_gaps, mask_personal_data, purge_expired_text, store_draft
from api.auth import create_key

DRAFT = {"text": "Réponse [1].", "mode": "extractive", "format": "email", "questions": ["Question ?"],
         "sentences": [], "citations": [], "sources": [], "abstained": False, "confidence": 0.8}


def _sessions(tmp_path):
    engine = create_db_engine(f"sqlite:///{tmp_path / 'sub' / 'guichet.db'}")
    migrate(engine)
    return engine, session_factory(engine)


def test_migrations_create_every_table_and_are_idempotent(tmp_path):
    engine, _ = _sessions(tmp_path)
    migrate(engine)  # a second start changes nothing
    tables = set(inspect(engine).get_table_names())
    assert {"api_keys", "drafts", "feedback", "audit_log", "reindex_runs", "alembic_version"} <= tables
    with engine.connect() as connection:
        assert connection.execute(text("SELECT version_num FROM alembic_version")).scalar() == "0001"


def test_sqlite_runs_in_wal_mode_with_full_sync(tmp_path):
    engine, _ = _sessions(tmp_path)
    with engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(text("PRAGMA synchronous")).scalar() == 2  # FULL
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1


def test_a_failed_transaction_leaves_nothing_half_written(tmp_path):
    _, sessions = _sessions(tmp_path)
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


def test_retention_clears_old_message_and_final_texts_only(tmp_path):
    _, sessions = _sessions(tmp_path)
    with transaction(sessions) as session:
        key, _ = create_key(session, "agent")
        old = store_draft(session, key_id=key.id, message="ancien message", draft=DRAFT, audience=None,
                          keep_message=True)
        new = store_draft(session, key_id=key.id, message="nouveau message", draft=DRAFT, audience=None,
                          keep_message=True)
        add_feedback(session, draft_id=old.id, key_id=key.id, rating="up", reasons=["clair"], final_text="texte")
        old.created_at = old.created_at - timedelta(days=31)
        session.flush()
        session.execute(
            Feedback.__table__.update().values(created_at=old.created_at)
        )
    with transaction(sessions) as session:
        assert purge_expired_text(session, retention_days=30) == 1
    with sessions() as session:
        assert session.get(DraftRecord, old.id).message_masked is None
        assert session.get(DraftRecord, old.id).draft == DRAFT, "the draft itself is kept"
        assert session.get(DraftRecord, new.id).message_masked == "nouveau message"
        assert session.scalars(select(Feedback.final_text)).all() == [None]


def test_gaps_group_questions_case_and_punctuation_insensitively(tmp_path):
    _, sessions = _sessions(tmp_path)
    with transaction(sessions) as session:
        key, _ = create_key(session, "agent")
        for question in ["Puis-je adopter un lama ?", "puis-je adopter un lama", "Autre chose ?"]:
            store_draft(session, key_id=key.id, message=question,
                        draft={**DRAFT, "questions": [question], "abstained": True}, audience=None,
                        keep_message=False)
        store_draft(session, key_id=key.id, message="x", draft=DRAFT, audience=None, keep_message=False)
    with sessions() as session:
        gaps = coverage_gaps(session)
    assert [(g["question"], g["count"]) for g in gaps] == [("Puis-je adopter un lama ?", 2), ("Autre chose ?", 1)]
