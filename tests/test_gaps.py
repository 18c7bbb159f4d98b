"""Coverage gaps (api/gaps.py): only real questions are recorded; groups by topic, per
week, with the nearest fiches and the drafts behind them (masked); the purge clears them."""

from __future__ import annotations

import os
from datetime import timedelta

import pytest
from sqlalchemy import select

from api.auth import create_key
from api.db import create_db_engine, migrate, session_factory, transaction
from api.gaps import NO_NEAREST_TOPIC, feedback_over_time, gap_groups, is_real_question, week_starts
from api.models import CoverageGap, DraftRecord, Feedback, utcnow
from api.records import add_feedback, purge_expired_text, store_draft


@pytest.mark.parametrize("question, situation", [
    ("Combien de temps mon propriétaire a-t-il pour me rendre le dépôt de garantie ?", []),
    ("Puis-je adopter un lama dans mon jardin ?", []),
    ("Est-ce que [NOM_1] peut toucher une partie de sa retraite ?", []),
    # A follow-up alone says nothing; read with its situation it is a question.
    ("Quelles démarches faut-il faire et combien ça coûte ?", ["Je voudrais inscrire mon fils à la crèche."]),
])
def test_real_questions_are_gaps(question, situation):
    assert is_real_question(question, situation)


@pytest.mark.parametrize("question", [
    "Quelles démarches faut-il faire et combien ça coûte ?",  # no subject, no situation
    "C'est possible ?",
    os.urandom(64).decode("latin-1"),
    "\x8f\x12\x00ÿþ þÿ ##### %%% ???",
    "Xylophone zzz quokka ?",  # no French sentence
    "asdfgh qwrtzp xkcdvb mnbvcx ?",
    "1234 5678 90",
])
def test_noise_and_fragments_are_not_gaps(question):
    assert not is_real_question(question, [])


NEAR_LOGEMENT = [{"fiche_id": "F31269", "title": "Dépôt de garantie", "url": "https://x/F31269",
                  "themes": ["Logement"], "score": 0.41},
                 {"fiche_id": "F929", "title": "Préavis", "url": "https://x/F929", "themes": ["Logement"], "score": 0.3}]
NEAR_TRAVAIL = [{"fiche_id": "F89", "title": "Démission", "url": "https://x/F89", "themes": ["Travail"], "score": 0.2}]


def draft_with(needs: list[tuple[str, list[str]]], unanswered: list[dict]) -> dict:
    return {"text": "…", "mode": "extractive", "format": "email", "questions": [q for q, _ in needs],
            "sentences": [], "citations": [], "sources": [], "abstained": True, "confidence": 0.1,
            "needs": [{"question": q, "situation": s, "source": "rules", "asked": True} for q, s in needs],
            "unanswered": unanswered}


@pytest.fixture
def sessions(tmp_path):
    engine = create_db_engine(f"sqlite:///{tmp_path / 'gaps.db'}")
    migrate(engine)
    yield session_factory(engine)
    engine.dispose()


def store(session, key_id, message, needs, unanswered, days_ago=0):
    record = store_draft(session, key_id=key_id, message=message, draft=draft_with(needs, unanswered),
                         audience=None, keep_message=True)
    when = utcnow() - timedelta(days=days_ago)
    record.created_at = when
    for gap in session.scalars(select(CoverageGap).where(CoverageGap.draft_id == record.id)):
        gap.created_at = when
    return record


def test_gaps_are_grouped_by_topic_per_week_with_nearest_fiches_and_masked_drafts(sessions):
    with transaction(sessions) as session:
        key, _ = create_key(session, "agent")
        deposit = "Combien de temps pour récupérer mon dépôt de garantie ?"
        for days_ago in (0, 1, 8):
            store(session, key.id, f"Bonjour, je suis jeanne.martin@example.org. {deposit}", [(deposit, [])],
                  [{"need": 0, "reason": "low_confidence", "confidence": 0.1, "nearest": NEAR_LOGEMENT}], days_ago)
        store(session, key.id, "Puis-je démissionner pendant un arrêt maladie ?",
              [("Puis-je démissionner pendant un arrêt maladie ?", []), ("C'est possible ?", [])],
              [{"need": 0, "reason": "low_confidence", "confidence": 0.2, "nearest": NEAR_TRAVAIL},
               {"need": 1, "reason": "low_confidence", "confidence": 0.2, "nearest": NEAR_TRAVAIL}])
        # Out of scope (one's own file): not something to write a fiche for.
        store(session, key.id, "Où en est mon dossier de retraite ?", [("Où en est mon dossier de retraite ?", [])],
              [{"need": 0, "reason": "out_of_scope", "confidence": 0.0, "nearest": []}])
        store(session, key.id, "Puis-je élever des abeilles en ville ?", [("Puis-je élever des abeilles en ville ?", [])],
              [{"need": 0, "reason": "low_confidence", "confidence": 0.0, "nearest": []}])
    with sessions() as session:
        result = gap_groups(session, weeks=4)
    assert result["weeks"] == week_starts(4)
    topics = [(g["topic"], g["count"]) for g in result["groups"]]
    assert topics == [("Logement", 3), (NO_NEAREST_TOPIC, 1), ("Travail", 1)]
    logement = result["groups"][0]
    assert sum(logement["per_week"]) == 3 and logement["per_week"][-1] >= 1 and logement["per_week"][-2] >= 1
    assert [(f["fiche_id"], f["count"]) for f in logement["nearest"]] == [("F31269", 3), ("F929", 3)]
    assert logement["questions"] == [{"question": deposit, "count": 3}]
    assert len(logement["drafts"]) == 3
    for draft in logement["drafts"]:
        assert "jeanne.martin" not in draft["message"] and "Combien de temps" in draft["message"]


def test_the_retention_purge_clears_the_gaps_texts_and_keeps_the_counts(sessions):
    with transaction(sessions) as session:
        key, _ = create_key(session, "agent")
        store(session, key.id, "Puis-je adopter un lama dans mon jardin ?", [("Puis-je adopter un lama dans mon jardin ?", [])],
              [{"need": 0, "reason": "low_confidence", "confidence": 0.1, "nearest": NEAR_LOGEMENT}], days_ago=40)
    with transaction(sessions) as session:
        purge_expired_text(session, retention_days=30)
    with sessions() as session:
        gap = session.scalars(select(CoverageGap)).one()
        assert gap.question is None and gap.situation == [] and gap.purged_at is not None
        assert session.scalars(select(DraftRecord)).one().message_masked is None
        assert gap_groups(session, weeks=8)["groups"][0]["count"] == 1


def test_feedback_reasons_are_counted_per_week(sessions):
    with transaction(sessions) as session:
        key, _ = create_key(session, "agent")
        record = store(session, key.id, "Puis-je adopter un lama ?", [("Puis-je adopter un lama ?", [])], [])
        add_feedback(session, draft_id=record.id, key_id=key.id, rating="down",
                     reasons=["trop_long", "imprécis"], final_text=None)
        add_feedback(session, draft_id=record.id, key_id=key.id, rating="up", reasons=["clair"], final_text=None)
        old = add_feedback(session, draft_id=record.id, key_id=key.id, rating="down", reasons=["trop_long"],
                           final_text=None)
        old.created_at = utcnow() - timedelta(weeks=1)
    with sessions() as session:
        summary = feedback_over_time(session, weeks=3)
        assert session.scalars(select(Feedback)).all()
    assert summary["ratings"]["down"][-1] == 1 and summary["ratings"]["up"][-1] == 1
    assert summary["reasons"]["trop_long"][-2:] == [1, 1] and summary["reasons"]["clair"][-1] == 1
    assert summary["reasons"]["faits_erronés"] == [0, 0, 0]
