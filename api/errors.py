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


class ApiError(StarletteHTTPException):
    """An HTTP error with machine-readable fields beside the English `detail`: `reason`,
    a stable code finer than `error` (e.g. "invalid_key"), and the values a client needs
    to say it in its own words (the page says it in French): limits, lengths, roles."""

    def __init__(self, status: int, detail: str, reason: str, headers: dict | None = None, **fields):
        super().__init__(status, detail, headers=headers)
        self.extra = {"reason": reason, **fields}


class FieldError(ApiError):
    """A 422 on one field of the request, in the same shape as a validation error."""

    def __init__(self, field: str, type_: str, detail: str, **context):
        super().__init__(422, f"{field}: {detail}", "invalid_field",
                         errors=[{"loc": f"body.{field}", "field": field, "type": type_, "msg": detail, **context}])


# FastAPI's own message when a body cannot be decoded at all (not UTF-8, not a form).
_UNPARSABLE_BODY = "There was an error parsing the body"
NOT_JSON = "the body is not JSON: send a JSON object (UTF-8) with Content-Type: application/json"
# Input types that mean "the body is not the JSON object expected".
_NOT_AN_OBJECT = {"model_attributes_type", "dict_type", "model_type"}
_CONTEXT_KEYS = ("max_length", "min_length", "expected", "le", "ge", "lt", "gt", "limit")


def _validation_errors(exc: RequestValidationError) -> list[dict]:
    """Each error with its location, the field it names (without "body."/"query."), its
    pydantic type (stable) and the context a client needs (limits, expected values);
    the submitted values are not echoed back."""
    errors = []
    for error in exc.errors():
        loc = tuple(error.get("loc", ()))
        type_ = str(error.get("type", "value_error"))
        where, parts = (loc[0], loc[1:]) if loc and loc[0] in ("body", "query", "path", "header") else ("", loc)
        if type_ == "json_invalid":
            position = parts[0] if parts and isinstance(parts[0], int) else None
            reason = (error.get("ctx") or {}).get("error", "")
            at = f" at character {position}" if position is not None else ""
            msg = f"the body is not valid JSON{at}" + (f": {reason}" if reason else "")
            errors.append({"loc": "body", "field": "", "type": type_, "msg": msg, "position": position})
            continue
        field = ".".join(str(part) for part in parts)
        msg = str(error.get("msg", ""))
        if where == "body" and not field and type_ in _NOT_AN_OBJECT:
            type_, msg = "json_object_expected", "the body must be a JSON object"
        context = {k: _plain(v) for k, v in (error.get("ctx") or {}).items() if k in _CONTEXT_KEYS}
        errors.append({"loc": ".".join(str(p) for p in loc), "field": field, "type": type_, "msg": msg, **context})
    return errors


def _plain(value):
    return value if isinstance(value, (int, float, str, bool)) or value is None else str(value)


def _summary(errors: list[dict]) -> str:
    return "; ".join(f"{e['field']}: {e['msg']}" if e["field"] else e["msg"] for e in errors) or "invalid request"


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


def caller_error_reason(exc: CallerError) -> str:
    """The stable code of a caller's error: the message or the query could not be used."""
    return "invalid_message" if type(exc).__name__ == "MessageError" else "invalid_query"


_GENERIC_REASONS = {404: "not_found", 405: "method_not_allowed", 409: "busy", 429: "rate_limited",
                    503: "unavailable"}


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException):
        message = exc.detail if isinstance(exc.detail, str) else json.dumps(exc.detail, ensure_ascii=False)
        extra = getattr(exc, "extra", None)
        if exc.status_code == 400 and message == _UNPARSABLE_BODY:
            message, extra = NOT_JSON, {"reason": "invalid_json"}
        elif extra is None and exc.status_code in _GENERIC_REASONS:
            extra = {"reason": _GENERIC_REASONS[exc.status_code]}
        return JSONResponse(error_body(request.url.path, exc.status_code, message, extra), exc.status_code,
                            headers=getattr(exc, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError):
        errors = _validation_errors(exc)
        invalid_json = any(e["type"] in ("json_invalid", "json_object_expected") for e in errors)
        reason = "invalid_json" if invalid_json else "invalid_field"
        return JSONResponse(error_body(request.url.path, 422, _summary(errors), {"reason": reason, "errors": errors}),
                            422)

    @app.exception_handler(CallerError)
    async def caller_error(request: Request, exc: CallerError):
        return JSONResponse(error_body(request.url.path, 422, str(exc), {"reason": caller_error_reason(exc)}), 422)

    @app.exception_handler(IndexFailure)
    async def index_unavailable(request: Request, exc: IndexFailure):
        log.warning("index unavailable on %s %s: %s", request.method, request.url.path, type(exc).__name__)
        return JSONResponse(error_body(request.url.path, 503, f"the index is not available: {exc}",
                                       {"reason": "index_unavailable"}), 503,
                            headers={"Retry-After": "10"})

    @app.exception_handler(Exception)
    async def internal_error(request: Request, exc: Exception):
        log_internal_error(log, f"unhandled error on {request.method} {request.url.path}", exc)
        return JSONResponse(error_body(request.url.path, 500, "internal error; it has been logged",
                                       {"reason": "internal_error"}), 500)


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
                return await self._reject(scope, send, 400, "invalid Content-Length header",
                                          {"reason": "invalid_content_length"})
            if too_large:
                return await self._reject(scope, send, 413, self._message(), self._extra())
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
                await self._reject(scope, send, 413, self._message(), self._extra())

    def _message(self) -> str:
        return f"request body larger than the limit of {self.max_bytes} bytes"

    def _extra(self) -> dict:
        return {"reason": "body_too_large", "limit_bytes": self.max_bytes}

    async def _reject(self, scope, send, status: int, message: str, extra: dict):
        response = JSONResponse(error_body(scope.get("path", ""), status, message, extra), status)
        await response({"type": "http"}, _empty_receive, send)


class _TooLarge(StarletteHTTPException):
    """Raised while the body streams in; FastAPI lets HTTP exceptions through as they are."""


async def _empty_receive():
    return {"type": "http.disconnect"}
