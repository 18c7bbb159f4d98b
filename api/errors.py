"""Clear JSON errors, never a stack trace; an oversized body is refused before it is read.

The split: a CallerError (bad input) is a 422 naming what was wrong; an index error is
a 503; anything else is internal: a 500, logged with its traceback but without the
exception's message, which may quote a citizen's text.
"""

from __future__ import annotations

import json
import logging
import traceback

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from retrieval.errors import CallerError, IndexFailure

log = logging.getLogger(__name__)

ERROR_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "invalid_request",
    429: "rate_limited",
    500: "internal_error",
    502: "upstream_error",
    503: "unavailable",
}


def error_body(path: str, status: int, message: str, extra: dict | None = None) -> dict:
    code = ERROR_CODES.get(status, "error")
    if path.startswith("/v1/"):  # the OpenAI error shape, for OpenAI clients
        return {"error": {"message": message, "type": code, "code": status}}
    return {"error": code, "detail": message, **(extra or {})}


def _validation_message(exc: RequestValidationError) -> tuple[str, list[dict]]:
    errors = []
    for error in exc.errors():
        location = ".".join(str(part) for part in error.get("loc", ()))
        errors.append({"loc": location, "msg": str(error.get("msg", ""))})
    summary = "; ".join(f"{e['loc']}: {e['msg']}" for e in errors) or "invalid request"
    return summary, errors


def traceback_without_messages(exc: BaseException) -> str:
    """The frames of `exc` and of its causes, with exception types but not their messages."""
    parts: list[str] = []
    seen: BaseException | None = exc
    while seen is not None and len(parts) < 5:
        frames = traceback.extract_tb(seen.__traceback__)
        lines = [f'  File "{f.filename}", line {f.lineno}, in {f.name}\n    {f.line or ""}' for f in frames]
        parts.append("\n".join([*lines, f"{type(seen).__module__}.{type(seen).__qualname__}"]))
        seen = seen.__cause__ or (None if seen.__suppress_context__ else seen.__context__)
    return "\nwhich was raised while handling or from:\n".join(reversed(parts))


def log_internal_error(logger: logging.Logger, what: str, exc: BaseException) -> None:
    logger.error("%s: %s\n%s", what, type(exc).__name__, traceback_without_messages(exc))


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException):
        message = exc.detail if isinstance(exc.detail, str) else json.dumps(exc.detail, ensure_ascii=False)
        return JSONResponse(error_body(request.url.path, exc.status_code, message), exc.status_code,
                            headers=getattr(exc, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError):
        # The messages name the fields; the submitted values are not echoed back.
        summary, errors = _validation_message(exc)
        return JSONResponse(error_body(request.url.path, 422, summary, {"errors": errors}), 422)

    @app.exception_handler(CallerError)
    async def caller_error(request: Request, exc: CallerError):
        return JSONResponse(error_body(request.url.path, 422, str(exc)), 422)

    @app.exception_handler(IndexFailure)
    async def index_unavailable(request: Request, exc: IndexFailure):
        log.warning("index unavailable on %s %s: %s", request.method, request.url.path, type(exc).__name__)
        return JSONResponse(error_body(request.url.path, 503, f"the index is not available: {exc}"), 503,
                            headers={"Retry-After": "10"})

    @app.exception_handler(Exception)
    async def internal_error(request: Request, exc: Exception):
        log_internal_error(log, f"unhandled error on {request.method} {request.url.path}", exc)
        return JSONResponse(error_body(request.url.path, 500, "internal error; it has been logged"), 500)


class BodySizeLimit:
    """ASGI middleware: 413 on a declared or streamed body above the limit."""

    def __init__(self, app, max_bytes: int):
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None:
            try:
                too_large = int(declared) > self.max_bytes
            except ValueError:
                return await self._reject(scope, send, 400, "invalid Content-Length header")
            if too_large:
                return await self._reject(scope, send, 413, self._message())
        received = 0
        response_started = False

        async def limited_receive():
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise _TooLarge(413, self._message())
            return message

        async def tracking_send(message):
            nonlocal response_started
            if message["type"] == "http.response.start":
                response_started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except _TooLarge:
            if not response_started:
                await self._reject(scope, send, 413, self._message())

    def _message(self) -> str:
        return f"request body larger than the limit of {self.max_bytes} bytes"

    async def _reject(self, scope, send, status: int, message: str):
        response = JSONResponse(error_body(scope.get("path", ""), status, message), status)
        await response({"type": "http"}, _empty_receive, send)


class _TooLarge(StarletteHTTPException):
    """Raised while the body streams in; FastAPI lets HTTP exceptions through as they are."""


async def _empty_receive():
    return {"type": "http.disconnect"}
