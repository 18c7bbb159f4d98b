from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Path

from api.auth import Principal
from api.deps import get_principal, get_retriever
from ingest.model import FICHE_ID

router = APIRouter(prefix="/api", tags=["fiches"])

MAX_FICHE_ID = 40


@router.get("/fiches/{fiche_id}", summary="Une fiche : métadonnées, Markdown, sections, références")
def get_fiche(
    fiche_id: str = Path(max_length=MAX_FICHE_ID, description="Identifiant de fiche, p. ex. F1234, TE-12509, CDTN-45"),
    _principal: Principal = Depends(get_principal),
    retriever=Depends(get_retriever),
) -> dict:
    if fiche_id[:1] in "fnr":  # service-public.fr IDs in any case
        fiche_id = fiche_id.upper()
    if not FICHE_ID.match(fiche_id):
        raise HTTPException(404, f"no fiche with ID {fiche_id!r} (IDs look like F1234, N19, R42, TE-12509, CDTN-45)")
    fiche = retriever.fiche(fiche_id)
    if fiche is None:
        raise HTTPException(404, f"no fiche with ID {fiche_id!r} in the index")
    return fiche.to_dict()
