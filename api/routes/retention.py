"""The retention policy and its purge: what is removed, after how long."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from api.auth import Principal
from api.deps import get_services, require_roles
from api.records import PURGE_KEEPS, PURGED_DRAFT_FIELDS
from api.services import Services

router = APIRouter(prefix="/api/retention", tags=["conservation"])


@router.get("", summary="La durée de conservation et ce que la purge retire")
def policy(_principal: Principal = Depends(require_roles("admin")),
           services: Services = Depends(get_services)) -> dict:
    return {
        "retention_days": services.settings.retention_days,
        "draft_fields_removed": list(PURGED_DRAFT_FIELDS),
        "draft_fields_kept": list(PURGE_KEEPS),
        "feedback_fields_removed": ["final_text"],
    }


@router.post("/purge", summary="Purger maintenant les textes au-delà de la durée de conservation (admin)")
def purge(_principal: Principal = Depends(require_roles("admin")),
          services: Services = Depends(get_services)) -> dict:
    return {"retention_days": services.settings.retention_days, "purged": services.purge_now().to_dict()}
