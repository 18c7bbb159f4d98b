from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Query
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api.auth import Principal
from api.deps import get_services, get_session, require_roles
from api.gaps import coverage_gaps, feedback_over_time, gap_groups
from api.models import DraftRecord, Feedback
from api.reindex import ReindexBusy, recent_runs
from api.services import Services

router = APIRouter(prefix="/api", tags=["index"])


class ReindexRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # Only the configured source may be reindexed from the API (no arbitrary paths or URLs).
    confirm: bool = Field(True, description="Réindexer la source configurée (GUICHET_REINDEX_SOURCE)")


@router.post("/reindex", status_code=202, summary="Réindexer la source configurée (rôle content ou admin)")
def reindex(
    body: ReindexRequest | None = None,
    principal: Principal = Depends(require_roles("content")),
    services: Services = Depends(get_services),
) -> dict:
    source = services.settings.reindex_source
    try:
        run = services.reindexer.start(source, principal.key_id)
    except ReindexBusy as exc:
        raise HTTPException(409, f"{exc}; see GET /api/index/status") from exc
    return {"id": run.id, "status": "running", "source": source}


@router.get("/index/status", summary="Derniers réindexages, index et base")
def index_status(
    _principal: Principal = Depends(require_roles("agent", "content")),
    services: Services = Depends(get_services),
    session: Session = Depends(get_session),
) -> dict:
    return {
        "running": (holder := services.reindexer.lock.holder()) is not None,
        "build": holder.describe() if holder else None,
        "runs": recent_runs(session),
        "index": services.retriever.index_info() if services.retriever else {},
        "index_error": services.retriever_error,
        "records": {
            "drafts": session.scalar(select(func.count()).select_from(DraftRecord)),
            "feedback": session.scalar(select(func.count()).select_from(Feedback)),
        },
    }


@router.get("/gaps", summary="Questions que les fiches n'ont pas couvertes, les plus fréquentes d'abord")
def gaps(
    limit: int = Query(50, ge=1, le=500),
    _principal: Principal = Depends(require_roles("content")),
    session: Session = Depends(get_session),
) -> dict:
    return {"gaps": coverage_gaps(session, limit)}


@router.get("/gaps/groups", summary="Besoins sans réponse groupés par thème, par semaine, avec les fiches proches")
def gap_topics(
    weeks: int = Query(8, ge=1, le=52),
    _principal: Principal = Depends(require_roles("content")),
    session: Session = Depends(get_session),
) -> dict:
    return gap_groups(session, weeks=weeks)


@router.get("/feedback/summary", summary="Avis des agents par semaine : notes et raisons")
def feedback_summary(
    weeks: int = Query(8, ge=1, le=52),
    _principal: Principal = Depends(require_roles("content")),
    session: Session = Depends(get_session),
) -> dict:
    return feedback_over_time(session, weeks=weeks)
