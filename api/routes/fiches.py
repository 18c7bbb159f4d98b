from __future__ import annotations

import re

from fastapi import APIRouter, Depends, HTTPException, Path

from api.auth import Principal
from api.deps import get_principal, get_retriever

router = APIRouter(prefix="/api", tags=["fiches"])

FICHE_ID_PATTERN = r"^[A-Za-z]{1,3}[0-9]{1,7}$"


@router.get("/fiches/{fiche_id}", summary="Une fiche : métadonnées, Markdown, sections, références")
def get_fiche(
    fiche_id: str = Path(max_length=12, description="Identifiant de fiche, p. ex. F1234"),
    _principal: Principal = Depends(get_principal),
    retriever=Depends(get_retriever),
) -> dict:
    if not re.match(FICHE_ID_PATTERN, fiche_id):
        raise HTTPException(404, f"no fiche with ID {fiche_id!r} (IDs look like F1234, N19, R42)")
    fiche = retriever.fiche(fiche_id.upper())
    if fiche is None:
        raise HTTPException(404, f"no fiche with ID {fiche_id!r} in the index")
    return fiche.to_dict()
