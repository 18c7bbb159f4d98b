from __future__ import annotations

import asyncio

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse
from sqlalchemy import text

from api.deps import get_services
from api.services import Services

router = APIRouter(tags=["santé"])


@router.get("/healthz", summary="Le processus répond")
def healthz() -> dict:
    return {"status": "ok"}


def _database_ok(services: Services) -> None:
    with services.engine.connect() as connection:
        connection.execute(text("SELECT 1"))


@router.get("/readyz", summary="Index ouvert et base joignable")
async def readyz(services: Services = Depends(get_services)):
    problems: dict[str, str] = {}
    timeout = services.settings.readiness_timeout_s
    try:
        await asyncio.wait_for(asyncio.to_thread(_database_ok, services), timeout)
    except asyncio.TimeoutError:
        problems["database"] = f"no answer within {timeout:g} s"
    except Exception as exc:
        problems["database"] = f"unreachable: {type(exc).__name__}"
    if services.retriever is None:
        problems["index"] = services.retriever_error or "not opened"
    else:
        try:
            await asyncio.wait_for(asyncio.to_thread(services.retriever.check), timeout)
        except asyncio.TimeoutError:
            problems["index"] = f"no answer within {timeout:g} s"
        except Exception as exc:
            problems["index"] = str(exc) or type(exc).__name__
    if problems:
        detail = "; ".join(f"{name}: {why}" for name, why in problems.items())
        return JSONResponse({"status": "unavailable", "error": "unavailable", "detail": detail,
                             "checks": problems}, 503)
    return {"status": "ready", "checks": {"database": "ok", "index": "ok"}}
