"""Calling the draft service, one-shot or streamed, and storing what it produced.

The draft service is generation.service.DraftService (or anything with the same
`draft(message, mode=, format=, audience=) -> Draft` and optional `stream(...)`).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

from api.auth import Principal
from api.db import transaction
from api.errors import caller_error_reason, log_internal_error
from api.records import store_draft
from api.services import Services
from retrieval.errors import CallerError, IndexFailure

log = logging.getLogger(__name__)


class DraftFailed(RuntimeError):
    """The draft service failed: a bug (500); its message names the type, never the citizen's text."""


class DraftRejected(CallerError):
    """The message cannot be drafted from (e.g. nothing left once cleaned)."""


def _as_dict(draft) -> dict:
    return draft.to_dict() if hasattr(draft, "to_dict") else dict(draft)


def run_draft(service, message: str, **options) -> dict:
    try:
        return _as_dict(service.draft(message, **options))
    except CallerError as exc:  # generation's MessageError, a query the index cannot run
        raise DraftRejected(str(exc)) from exc
    except IndexFailure:
        raise  # a 503 naming the index (api/errors.py), not a draft failure
    except Exception as exc:
        log_internal_error(log, "draft service failed", exc)
        raise DraftFailed(f"the draft service failed ({type(exc).__name__})") from exc


def sse(event: str, data) -> str:
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


def stream_items(service, message: str, options: dict) -> Iterator:
    """Text deltas (str), event dicts, then the final Draft; draft() alone if no stream()."""
    stream = getattr(service, "stream", None)
    if callable(stream):
        yield from stream(message, **options)
    else:
        yield service.draft(message, **options)


def draft_events(service, services: Services, principal: Principal, message: str, **options) -> Iterator[str]:
    """Server-sent events: `delta` (text pieces), `draft` (the stored draft), `error`."""
    final = None
    try:
        for item in stream_items(service, message, options):
            if isinstance(item, str):
                yield sse("delta", {"text": item})
            elif hasattr(item, "to_dict") or (isinstance(item, dict) and "sentences" in item):
                final = _as_dict(item)
            elif isinstance(item, dict):
                yield sse(str(item.get("event") or item.get("type") or "message"), item)
    except CallerError as exc:
        yield sse("error", {"error": "invalid_request", "detail": str(exc), "reason": caller_error_reason(exc)})
        return
    except IndexFailure as exc:
        yield sse("error", {"error": "unavailable", "detail": f"the index is not available: {exc}"})
        return
    except Exception as exc:
        log_internal_error(log, "draft stream failed", exc)
        yield sse("error", {"error": "internal_error", "detail": f"the draft service failed ({type(exc).__name__})"})
        return
    if final is None:
        yield sse("error", {"error": "upstream_error", "detail": "the draft service ended without a draft"})
        return
    services.purge_if_due()
    with transaction(services.sessions) as session:
        record = store_draft(session, key_id=principal.key_id, message=message, draft=final,
                             audience=options.get("audience"),
                             keep_message=services.settings.retention_days > 0)
    yield sse("draft", {"id": record.id, "created_at": record.created_at.isoformat(), **final})
    yield sse("done", {"id": record.id})
