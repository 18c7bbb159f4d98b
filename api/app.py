"""The FastAPI application: JSON API, OpenAI-compatible endpoint and the agents' page."""

from __future__ import annotations

import logging
import time
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles
from fastapi_offline import FastAPIOffline

from api.errors import ApiError, BodySizeLimit, install_error_handlers
from api.routes import account, drafts, fiches, health, index, openai_compat, retention, search
from api.services import Services
from api.settings import ApiSettings, GuichetSettings, load_settings

WEB_DIR = Path(__file__).resolve().parent / "web"
DOCS_ASSETS = "/docs-assets"
log = logging.getLogger("api.access")

# The page loads only its own script and style; nothing inline can run.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
)


def create_app(settings: GuichetSettings | ApiSettings | None = None, **services_options) -> FastAPI:
    """`settings`: the root (default: load_settings()), or an api section alone (the
    other sections then come from load_settings()). `services_options`: retriever,
    draft_service, open_retriever, draft_service_factory, ingest_runner (see
    api.services.Services); anything not given is opened from the settings when the
    server starts (the lifespan), not here."""
    if not isinstance(settings, GuichetSettings):
        root = load_settings()
        settings = root.model_copy(update={"api": settings}) if settings is not None else root
    services = Services(settings, **services_options)
    settings = settings.api

    @asynccontextmanager
    async def lifespan(_app: FastAPI):
        services.start()  # migrations, the index, the embedder's warm-up: when the server starts
        try:
            yield
        finally:
            services.close()

    # Swagger UI and ReDoc served from the package, not a CDN: agents' networks are often closed.
    app = FastAPIOffline(
        static_url=DOCS_ASSETS,
        title="guichet",
        summary="Brouillons de réponse sourcés à partir des fiches service-public.fr",
        version="0.1.0",
        lifespan=lifespan,
    )
    app.state.services = services
    install_error_handlers(app)
    for module in (health, account, drafts, search, fiches, index, retention, openai_compat):
        app.include_router(module.router)
    app.add_middleware(SecurityHeadersAndAccessLog)
    if settings.cors_origins:  # other front ends calling the API from a browser
        from fastapi.middleware.cors import CORSMiddleware

        app.add_middleware(CORSMiddleware, allow_origins=settings.cors_origins,
                           allow_methods=["GET", "POST"], allow_headers=["Authorization", "Content-Type"])
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)

    install_unknown_routes(app)

    @app.get("/favicon.ico", include_in_schema=False)
    def favicon() -> FileResponse:  # browsers ask for it whatever the page declares
        return FileResponse(WEB_DIR / "favicon.svg", media_type="image/svg+xml")

    app.mount("/", StaticFiles(directory=WEB_DIR, html=True), name="web")
    return app


ALL_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]


def install_unknown_routes(app: FastAPI) -> None:
    """Under /api/ and /v1/, a path that exists with other methods is a 405 with Allow,
    any other a JSON 404 (without this, the page's static files, mounted at /, answered
    every unknown API call with their own 404)."""

    def unknown_route(request: Request):
        allowed = [method for method in ALL_METHODS if method != request.method
                   and _routed(app, {**request.scope, "method": method}, (fallback_api, fallback_v1))]
        if allowed:
            raise ApiError(405, f"{request.method} is not allowed on {request.url.path}: use {', '.join(allowed)}",
                           "method_not_allowed", headers={"Allow": ", ".join(allowed)}, allowed=allowed)
        raise ApiError(404, f"no route {request.url.path}", "not_found")

    app.add_api_route("/api/{rest:path}", unknown_route, methods=ALL_METHODS, include_in_schema=False)
    fallback_api = app.router.routes[-1]
    app.add_api_route("/v1/{rest:path}", unknown_route, methods=ALL_METHODS, include_in_schema=False)
    fallback_v1 = app.router.routes[-1]


def _routed(app: FastAPI, scope: dict, skipped) -> bool:
    """True if one of the app's routes (not `skipped`, not the static mount) takes `scope` fully."""
    from starlette.routing import Match, Mount

    return any(route.matches(scope)[0] == Match.FULL for route in app.router.routes
               if route not in skipped and not (isinstance(route, Mount) and route.path == ""))


class SecurityHeadersAndAccessLog:
    """Pure ASGI (no task group, so body-limit errors reach the handlers unwrapped)."""

    HEADERS = (
        (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
        (b"x-content-type-options", b"nosniff"),
        (b"referrer-policy", b"no-referrer"),
    )

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        started = time.perf_counter()
        status = 0

        # Swagger UI (/docs) and ReDoc start with an inline script.
        headers = self.HEADERS[1:] if scope.get("path", "") in ("/docs", "/redoc") else self.HEADERS

        async def send_with_headers(message):
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                present = {name.lower() for name, _ in message.get("headers", [])}
                extra = [(n, v) for n, v in headers if n not in present]
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        finally:
            # The path only: query strings may carry a citizen's question.
            log.info("%s %s %s %.0fms", scope.get("method"), scope.get("path"), status,
                     (time.perf_counter() - started) * 1000)
