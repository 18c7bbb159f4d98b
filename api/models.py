"""Tables of the API: keys, drafts, feedback, the audit log and reindex runs.

No citizen message text is stored unmasked, and every copy of it (the masked message,
the stored draft's text, sentences and questions, the text finally sent) is removed after
the retention period (see api/records.py). The audit log never holds message text.
"""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import JSON, Boolean, DateTime, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# What an agent may say of a draft (Feedback.reasons) and do with it (AuditEvent.action).
NEGATIVE_REASONS = (
    "faits_erronés",
    "sources_manquantes",
    "trop_long",
    "incohérent",
    "imprécis",
    "fautes_de_langue",
)
POSITIVE_REASONS = ("clair", "complet", "sources_fiables")
FEEDBACK_REASONS = NEGATIVE_REASONS + POSITIVE_REASONS
AUDIT_ACTIONS = ("edited", "copied", "sent", "source_added")


ROLES = ("agent", "content", "admin")


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class Base(DeclarativeBase):
    pass


class ApiKey(Base):
    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    prefix: Mapped[str] = mapped_column(String(16), index=True)  # shown in listings
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)  # sha256 hex
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)

    @property
    def active(self) -> bool:
        return self.revoked_at is None


class DraftRecord(Base):
    __tablename__ = "drafts"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    key_id: Mapped[int] = mapped_column(ForeignKey("api_keys.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    mode: Mapped[str] = mapped_column(String(20))
    format: Mapped[str] = mapped_column(String(20))
    audience: Mapped[str | None] = mapped_column(String(20), nullable=True)
    questions: Mapped[list] = mapped_column(JSON, default=list)
    message_masked: Mapped[str | None] = mapped_column(Text, nullable=True)
    draft: Mapped[dict] = mapped_column(JSON)
    abstained: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    confidence: Mapped[float] = mapped_column(Float, default=0.0)
    # Set by the retention purge, which keeps only the draft's non-text fields.
    purged_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class Feedback(Base):
    __tablename__ = "feedback"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    draft_id: Mapped[str] = mapped_column(ForeignKey("drafts.id"), index=True)
    key_id: Mapped[int] = mapped_column(ForeignKey("api_keys.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    rating: Mapped[str] = mapped_column(String(10))  # up | down | 1..5
    reasons: Mapped[list] = mapped_column(JSON, default=list)
    final_text: Mapped[str | None] = mapped_column(Text, nullable=True)


class CoverageGap(Base):
    """A real question a draft left unanswered (api/gaps.py decides what is one), with
    the topic and the fiches its search found nearest. `question` and `situation` are
    citizen text (masked), cleared by the retention purge; the rest is kept for counts."""

    __tablename__ = "coverage_gaps"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    draft_id: Mapped[str] = mapped_column(ForeignKey("drafts.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    question: Mapped[str | None] = mapped_column(Text, nullable=True)
    situation: Mapped[list] = mapped_column(JSON, default=list)
    topic: Mapped[str] = mapped_column(String(200), index=True)
    nearest: Mapped[list] = mapped_column(JSON, default=list)  # [{fiche_id, title, url, score}]
    confidence: Mapped[float] = mapped_column(Float, default=0.0)
    purged_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class AuditEvent(Base):
    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    key_id: Mapped[int | None] = mapped_column(ForeignKey("api_keys.id"), nullable=True)
    draft_id: Mapped[str | None] = mapped_column(String(32), nullable=True, index=True)
    action: Mapped[str] = mapped_column(String(40))  # drafted, edited, copied, feedback, reindex…
    details: Mapped[dict] = mapped_column(JSON, default=dict)  # counts and flags, never text


class ReindexRun(Base):
    __tablename__ = "reindex_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key_id: Mapped[int | None] = mapped_column(ForeignKey("api_keys.id"), nullable=True)
    source: Mapped[str] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(20))  # running | succeeded | failed
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    summary: Mapped[dict] = mapped_column(JSON, default=dict)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    origin: Mapped[str] = mapped_column(String(10), default="api", server_default="api")  # api | cli
    owner: Mapped[str | None] = mapped_column(String(200), nullable=True)  # the build lock's owner


class BuildLockRow(Base):
    """One row per lock ('index'): held while `owner` is set and its heartbeat is fresh."""

    __tablename__ = "build_locks"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    owner: Mapped[str | None] = mapped_column(String(200), nullable=True)  # host:pid:token
    origin: Mapped[str | None] = mapped_column(String(10), nullable=True)
    run_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    acquired_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    heartbeat_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
