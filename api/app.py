"""The FastAPI application: JSON API, OpenAI-compatible endpoint and the agents' page."""

from __future__ import annotations

import logging
import time
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from api.errors import BodySizeLimit, install_error_handlers
from api.routes import account, drafts, fiches, health, index, openai_compat, search
from api.services import Services
from api.settings import ApiSettings

WEB_DIR = Path(__file__).resolve().parent / "web"
log = logging.getLogger("api.access")

# The page loads only its own script and style; nothing inline can run.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
)


def create_app(settings: ApiSettings | None = None, **services_options) -> FastAPI:
    """`services_options`: retriever, draft_service, open_retriever, draft_service_factory,
    ingest_runner (see api.services.Services); anything not given is opened from settings."""
    settings = settings or ApiSettings()
    services = Services(settings, **services_options)
    services.start()

    @asynccontextmanager
    async def lifespan(_app: FastAPI):
        yield
        services.close()

    app = FastAPI(
        title="guichet",
        summary="Brouillons de réponse sourcés à partir des fiches service-public.fr",
        version="0.1.0",
        lifespan=lifespan,
    )
    app.state.services = services
    install_error_handlers(app)
    for module in (health, account, drafts, search, fiches, index, openai_compat):
        app.include_router(module.router)
    app.middleware("http")(_security_headers_and_access_log)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    app.mount("/", StaticFiles(directory=WEB_DIR, html=True), name="web")
    return app


async def _security_headers_and_access_log(request, call_next):
    started = time.perf_counter()
    response = await call_next(request)
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "no-referrer")
    # The path only: query strings may carry a citizen's question.
    log.info("%s %s %s %.0fms", request.method, request.url.path, response.status_code,
             (time.perf_counter() - started) * 1000)
    return response
