from __future__ import annotations

import logging
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy.orm import Session

from api.auth import Principal
from api.db import transaction
from api.deps import get_draft_service, get_principal, get_services, get_session
from api.drafting import DraftFailed, DraftRejected, draft_events, run_draft
from api.errors import FieldError
from api.models import AUDIT_ACTIONS, FEEDBACK_REASONS, DraftRecord
from api.records import PURGED_DRAFT_FIELDS, add_audit, add_feedback, store_draft
from api.services import Services
from generation.types import DraftFormat, DraftMode, Need
from ingest.model import Audience, SourceName

router = APIRouter(prefix="/api", tags=["brouillons"])
log = logging.getLogger(__name__)


class NeedRequest(BaseModel):
    """A question as the agent corrected it on the page, with its situation."""

    model_config = ConfigDict(extra="forbid")

    question: str = Field(min_length=1, max_length=1000)
    situation: list[Annotated[str, Field(max_length=1000)]] = Field(default_factory=list, max_length=6)

    @field_validator("question")
    @classmethod
    def question_not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be blank")
        return value.strip()


class DraftRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    message: str = Field(min_length=1, description="Le message de l'usager, tel quel")
    audience: Audience | None = None
    source: SourceName | None = Field(None, description="Ne citer que cette source (service-public, travail-emploi, cdtn)")
    format: DraftFormat = DraftFormat.EMAIL
    mode: DraftMode = DraftMode.EXTRACTIVE
    stream: bool = False
    needs: list[NeedRequest] | None = Field(
        None, max_length=3,
        description="Les questions telles que l'agent les a corrigées (sinon, lues dans le message)",
    )

    def need_list(self) -> list[Need] | None:
        if not self.needs:
            return None
        return [Need(question=n.question, situation=list(n.situation), source="agent") for n in self.needs]

    @field_validator("message")
    @classmethod
    def not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be blank")
        return value


class AuditEventRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: Literal[AUDIT_ACTIONS]  # type: ignore[valid-type]
    # Counts only (e.g. characters changed); free text is refused so no message text lands here.
    details: dict[str, int | float | bool] = Field(default_factory=dict, max_length=20)


Reason = Literal[FEEDBACK_REASONS]  # type: ignore[valid-type]


class FeedbackRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    rating: Literal["up", "down"] | Annotated[int, Field(ge=1, le=5)]
    reasons: list[Reason] = Field(default_factory=list, max_length=len(FEEDBACK_REASONS))
    final_text: str | None = Field(None, description="Le texte finalement envoyé par l'agent")


def _check_message_length(message: str, services: Services) -> None:
    limit = services.settings.max_message_chars
    if len(message) > limit:
        raise FieldError("message", "too_long", f"{len(message)} characters, above the limit of {limit}",
                         length=len(message), limit=limit)


def _needs_option(body: DraftRequest) -> dict:
    """The corrected needs, passed only when given (other draft services need not know them)."""
    needs = body.need_list()
    options: dict = {"needs": needs} if needs else {}
    if body.source:
        options["source"] = body.source
    return options


def _wants_stream(request: Request, body: DraftRequest) -> bool:
    if body.stream or request.query_params.get("stream", "").lower() in ("1", "true", "yes"):
        return True
    return "text/event-stream" in request.headers.get("accept", "")


@router.post("/drafts", summary="Un brouillon de réponse sourcé (SSE avec Accept: text/event-stream)")
def create_draft(
    body: DraftRequest,
    request: Request,
    principal: Principal = Depends(get_principal),
    services: Services = Depends(get_services),
    draft_service=Depends(get_draft_service),
):
    _check_message_length(body.message, services)
    if _wants_stream(request, body):
        events = draft_events(draft_service, services, principal, body.message, mode=body.mode,
                              format=body.format, audience=body.audience, **_needs_option(body))
        return StreamingResponse(events, media_type="text/event-stream",
                                 headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
    try:
        draft = run_draft(draft_service, body.message, mode=body.mode, format=body.format,
                          audience=body.audience, **_needs_option(body))
    except DraftRejected as exc:
        raise HTTPException(422, f"message: {exc}") from exc
    except DraftFailed as exc:
        raise HTTPException(500, str(exc)) from exc
    services.purge_if_due()
    with transaction(services.sessions) as session:
        record = store_draft(session, key_id=principal.key_id, message=body.message, draft=draft,
                             audience=body.audience, keep_message=services.settings.retention_days > 0)
    return {"id": record.id, "created_at": record.created_at.isoformat(), **draft}


def _own_draft(session: Session, draft_id: str, principal: Principal) -> DraftRecord:
    record = session.get(DraftRecord, draft_id) if len(draft_id) <= 32 else None
    if record is None:
        raise HTTPException(404, f"no draft with ID {draft_id!r}")
    if record.key_id != principal.key_id and not principal.is_admin:
        raise HTTPException(403, "this draft belongs to another key")
    return record


@router.get("/drafts/{draft_id}", summary="Un brouillon enregistré (les siens, ou tous pour admin)")
def get_draft(draft_id: str, principal: Principal = Depends(get_principal),
              session: Session = Depends(get_session)) -> dict:
    record = _own_draft(session, draft_id, principal)
    return {
        "id": record.id,
        "created_at": record.created_at.isoformat(),
        "audience": record.audience,
        "message": record.message_masked,
        **record.draft,
        "purged": _purge_notice(record),
    }


def _purge_notice(record: DraftRecord) -> dict | None:
    """What the retention purge removed from this draft, and when (None: nothing yet)."""
    if record.purged_at is None:
        return None
    return {"at": record.purged_at.isoformat(), "fields": list(PURGED_DRAFT_FIELDS)}


@router.post("/drafts/{draft_id}/events", status_code=201, summary="Journal : brouillon modifié, copié…")
def post_event(draft_id: str, body: AuditEventRequest, principal: Principal = Depends(get_principal),
               services: Services = Depends(get_services)) -> dict:
    # Committed before the answer is sent: an acknowledged row survives a crash.
    with transaction(services.sessions) as session:
        record = _own_draft(session, draft_id, principal)
        event = add_audit(session, key_id=principal.key_id, draft_id=record.id, action=body.type,
                          details=dict(body.details))
    return {"id": event.id, "draft_id": record.id, "type": body.type, "at": event.at.isoformat()}


@router.post("/drafts/{draft_id}/feedback", status_code=201, summary="Avis de l'agent sur le brouillon")
def post_feedback(draft_id: str, body: FeedbackRequest, principal: Principal = Depends(get_principal),
                  services: Services = Depends(get_services)) -> dict:
    if body.final_text is not None and len(body.final_text) > services.settings.max_message_chars:
        limit = services.settings.max_message_chars
        raise FieldError("final_text", "too_long", f"{len(body.final_text)} characters, above the limit of {limit}",
                         length=len(body.final_text), limit=limit)
    # Committed before the answer is sent: an acknowledged row survives a crash.
    with transaction(services.sessions) as session:
        record = _own_draft(session, draft_id, principal)
        row = add_feedback(session, draft_id=record.id, key_id=principal.key_id, rating=str(body.rating),
                           reasons=list(body.reasons), final_text=body.final_text)
    return {"id": row.id, "draft_id": record.id, "rating": row.rating, "reasons": row.reasons}


@router.get("/feedback/reasons", summary="Les raisons proposées pour un avis")
def feedback_reasons() -> dict:
    from api.models import NEGATIVE_REASONS, POSITIVE_REASONS

    return {"negative": list(NEGATIVE_REASONS), "positive": list(POSITIVE_REASONS)}
