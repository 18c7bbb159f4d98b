from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Query

from api.auth import Principal
from api.deps import get_principal, get_retriever
from ingest.model import Audience, SourceName
from retrieval.types import SearchFilters, SearchMode

router = APIRouter(prefix="/api", tags=["recherche"])



@router.get("/search", summary="Les fiches et leurs passages pour une question")
def search(
    question: str = Query(min_length=1, max_length=2000, description="La question"),
    k: int = Query(5, ge=1, le=50),
    mode: SearchMode = SearchMode.HYBRID,
    audience: Audience | None = None,
    type: str | None = Query(None, max_length=100, description="Publication@type"),
    theme: str | None = Query(None, max_length=200),
    source: SourceName | None = Query(None, description="service-public, travail-emploi ou cdtn"),
    passages_per_fiche: int = Query(3, ge=1, le=10),
    _principal: Principal = Depends(get_principal),
    retriever=Depends(get_retriever),
) -> dict:
    if not question.strip():
        raise HTTPException(422, "question: must not be blank")
    filters = SearchFilters(audience=audience, type=type or None, theme=theme or None, source=source)
    # An InvalidQuery (e.g. a dense mode on an index built without an embedder) is a 422
    # with its reason, any other failure a 500 (api/errors.py).
    result = retriever.search(question, k=k, mode=mode, filters=filters, passages_per_fiche=passages_per_fiche)
    return result.to_dict()
