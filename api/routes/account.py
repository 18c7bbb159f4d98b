from __future__ import annotations

from fastapi import APIRouter, Depends

from api.auth import Principal
from api.deps import get_principal

router = APIRouter(prefix="/api", tags=["compte"])


@router.get("/me", summary="La clé utilisée : nom et rôle")
def me(principal: Principal = Depends(get_principal)) -> dict:
    return {"key_id": principal.key_id, "name": principal.name, "role": principal.role}
