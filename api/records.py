"""What the API stores: drafts, feedback, audit events, and what it derives (gaps).

Citizen messages are stored masked (e-mail addresses, phone numbers, social security
and bank numbers replaced); after the retention period every copy of citizen text is
removed: the message, the draft's text, sentences and questions, and the text the agent
finally sent. Audit events hold actions and counts, never text. The questions left
unanswered are recorded as coverage gaps (api/gaps.py) and purged with the rest.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from api.masking import mask_personal_data
from api.models import AuditEvent, DraftRecord, Feedback, utcnow


def new_draft_id() -> str:
    return uuid.uuid4().hex


def store_draft(
    session: Session,
    *,
    key_id: int,
    message: str,
    draft: dict,
    audience: str | None,
    keep_message: bool,
) -> DraftRecord:
    record = DraftRecord(
        id=new_draft_id(),
        key_id=key_id,
        mode=draft.get("mode", ""),
        format=draft.get("format", ""),
        audience=audience,
        questions=[mask_personal_data(q) for q in draft.get("questions", [])],
        message_masked=mask_personal_data(message) if keep_message else None,
        draft=draft,
        abstained=bool(draft.get("abstained")),
        confidence=float(draft.get("confidence") or 0.0),
    )
    session.add(record)
    session.flush()
    from api.gaps import record_gaps  # derived from what is stored here

    record_gaps(session, record, draft)
    add_audit(session, key_id=key_id, draft_id=record.id, action="drafted",
              details={"mode": record.mode, "format": record.format, "abstained": record.abstained,
                       "sentences": len(draft.get("sentences", []))})
    return record


def add_audit(session: Session, *, key_id: int | None, action: str, draft_id: str | None = None,
              details: dict | None = None) -> AuditEvent:
    event = AuditEvent(key_id=key_id, draft_id=draft_id, action=action, details=details or {})
    session.add(event)
    session.flush()
    return event


def add_feedback(session: Session, *, draft_id: str, key_id: int, rating: str, reasons: list[str],
                 final_text: str | None) -> Feedback:
    row = Feedback(draft_id=draft_id, key_id=key_id, rating=rating, reasons=list(reasons),
                   final_text=mask_personal_data(final_text) if final_text else None)
    session.add(row)
    session.flush()
    add_audit(session, key_id=key_id, draft_id=draft_id, action="feedback",
              details={"rating": rating, "reasons": list(reasons), "final_text_chars": len(final_text or "")})
    return row


# What a purged draft keeps: how it was made and which fiches it cited, no text.
PURGE_KEEPS = ("mode", "format", "abstained", "confidence", "sources", "timings_ms")
PURGED_DRAFT_FIELDS = ("message", "text", "questions", "needs", "sentences", "citations", "notices", "query")
PURGE_BATCH = 500


@dataclass(frozen=True)
class PurgeReport:
    drafts: int  # drafts whose texts were removed
    feedback: int  # final texts cleared
    draft_fields: tuple[str, ...] = PURGED_DRAFT_FIELDS

    def to_dict(self) -> dict:
        return {"drafts": self.drafts, "feedback": self.feedback, "draft_fields": list(self.draft_fields),
                "feedback_fields": ["final_text"]}


def purged_draft(draft: dict) -> dict:
    return {name: draft[name] for name in PURGE_KEEPS if name in draft}


def purge_expired_text(session: Session, retention_days: int) -> PurgeReport:
    """Remove every copy of citizen text older than the retention period: the masked
    message, the draft's text, sentences, questions and needs (names put back), and the
    text finally sent."""
    cutoff = utcnow() - timedelta(days=retention_days)
    purged = 0
    while True:
        records = session.scalars(
            select(DraftRecord).where(DraftRecord.created_at < cutoff, DraftRecord.purged_at.is_(None))
            .limit(PURGE_BATCH)
        ).all()
        for record in records:
            record.message_masked, record.questions = None, []
            record.draft, record.purged_at = purged_draft(record.draft or {}), utcnow()
        session.flush()
        purged += len(records)
        if len(records) < PURGE_BATCH:
            break
    from api.gaps import purge_gap_texts

    purge_gap_texts(session, cutoff)
    feedback = session.execute(
        update(Feedback).where(Feedback.created_at < cutoff, Feedback.final_text.is_not(None)).values(final_text=None)
    ).rowcount or 0
    if purged or feedback:
        add_audit(session, key_id=None, action="purged", details={"drafts": purged, "feedback": feedback})
    return PurgeReport(purged, feedback)
