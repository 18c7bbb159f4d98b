"""An OpenAI-compatible chat endpoint: guichet as a "model" for existing clients.

The citizen's message is the conversation's user messages, oldest first (a follow-up
is read with the situation told before it); system and assistant messages are not read.
The answer is the draft text with its [n] markers followed by the sources. Model
"guichet" drafts extractively, "guichet-llm" through the configured LLM. With
`stream`, the text is sent as the draft service writes it (the language model's text
as it arrives, masked where it cites no source), then the sources; the last chunk
carries the verified draft ("guichet": sentences, sources, draft_id).
"""

from __future__ import annotations

import logging
import time
import uuid
from typing import Any, Literal

from fastapi import APIRouter, Depends, HTTPException
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from api.auth import Principal
from api.db import transaction
from api.deps import get_draft_service, get_principal, get_services
from api.drafting import DraftFailed, DraftRejected, run_draft, sse, stream_items
from api.errors import log_internal_error
from api.records import store_draft
from api.services import Services
from generation.types import DraftFormat, DraftMode

log = logging.getLogger(__name__)
router = APIRouter(prefix="/v1", tags=["compatible OpenAI"])

MODELS = {"guichet": DraftMode.EXTRACTIVE, "guichet-llm": DraftMode.LLM}
CREATED = 1_700_000_000


class ContentPart(BaseModel):
    model_config = ConfigDict(extra="allow")
    type: str
    text: str | None = None


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="allow")
    role: Literal["system", "user", "assistant", "tool", "developer"]
    content: str | list[ContentPart] | None = None


class ChatRequest(BaseModel):
    model_config = ConfigDict(extra="allow")  # temperature, max_tokens… are accepted and ignored
    model: str = "guichet"
    messages: list[ChatMessage] = Field(min_length=1)
    stream: bool = False


def _text(message: ChatMessage) -> str:
    if isinstance(message.content, str):
        return message.content
    return "\n".join(part.text or "" for part in message.content or [] if part.type == "text")


def render_with_sources(draft: dict) -> str:
    """The draft text, then one line per source (unless the text already lists them)."""
    text = draft.get("text", "")
    sources = draft.get("sources") or []
    if not sources or "Sources" in text:
        return text
    lines = []
    for source in sources:
        numbers = "".join(f"[{n}]" for n in source.get("numbers", []))
        section = " > ".join(source.get("sections") or [])
        where = f" — {section}" if section else ""
        date = f" (mis à jour le {source['date']})" if source.get("date") else ""
        lines.append(f"{numbers} {source.get('title', '')}{where}{date} : {source.get('url', '')}")
    return text.rstrip() + "\n\nSources :\n" + "\n".join(lines)


@router.get("/models", summary="Modèles proposés")
def list_models(_principal: Principal = Depends(get_principal)) -> dict:
    return {
        "object": "list",
        "data": [{"id": name, "object": "model", "created": CREATED, "owned_by": "guichet"} for name in MODELS],
    }


@router.post("/chat/completions", summary="Complétion de chat compatible OpenAI, avec sources")
def chat_completions(
    body: ChatRequest,
    principal: Principal = Depends(get_principal),
    services: Services = Depends(get_services),
    draft_service=Depends(get_draft_service),
):
    if body.model not in MODELS:
        raise HTTPException(404, f"unknown model {body.model!r}; available: {', '.join(MODELS)}")
    user_messages = [_text(m).strip() for m in body.messages if m.role == "user" and _text(m).strip()]
    if not user_messages:
        raise HTTPException(422, "messages: no user message with text")
    message = "\n\n".join(user_messages)
    if len(message) > services.settings.max_message_chars:
        raise HTTPException(422, f"messages: above the limit of {services.settings.max_message_chars} characters")
    completion_id = f"chatcmpl-{uuid.uuid4().hex}"
    if body.stream:
        return StreamingResponse(
            _live_chunks(completion_id, body.model, draft_service, services, principal, message),
            media_type="text/event-stream", headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )
    try:
        draft = run_draft(draft_service, message, mode=MODELS[body.model], format=DraftFormat.EMAIL, audience=None)
    except DraftRejected as exc:
        raise HTTPException(422, f"messages: {exc}") from exc
    except DraftFailed as exc:
        raise HTTPException(500, str(exc)) from exc
    with transaction(services.sessions) as session:
        record = store_draft(session, key_id=principal.key_id, message=message, draft=draft, audience=None,
                             keep_message=services.settings.retention_days > 0)
    content = render_with_sources(draft)
    return {
        "id": completion_id,
        "object": "chat.completion",
        "created": int(time.time()),
        "model": body.model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0},
        "guichet": _extra(draft, record.id),
    }


def _chunk(completion_id: str, model: str, delta: dict, finish: str | None, extra: dict | None = None) -> str:
    data: dict[str, Any] = {
        "id": completion_id,
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }
    if extra:
        data["guichet"] = extra
    return "data: " + sse("x", data).split("data: ", 1)[1]


def _extra(draft: dict, draft_id: str) -> dict:
    return {"draft_id": draft_id, "sources": draft.get("sources", []), "abstained": draft.get("abstained"),
            "sentences": draft.get("sentences", []), "notices": draft.get("notices", [])}


def _live_chunks(completion_id: str, model: str, draft_service, services: Services, principal: Principal,
                 message: str):
    """OpenAI chunks as the draft service writes: its text deltas, then the sources of the
    verified draft, which is stored; an error is a last chunk with finish_reason "error"."""
    yield _chunk(completion_id, model, {"role": "assistant", "content": ""}, None)
    final = None
    try:
        for item in stream_items(draft_service, message, {"mode": MODELS[model], "format": DraftFormat.SHORT}):
            if isinstance(item, str):
                for start in range(0, len(item), 80):
                    yield _chunk(completion_id, model, {"content": item[start:start + 80]}, None)
            elif isinstance(item, dict) and item.get("reset"):  # the model failed: extractive from here
                yield _chunk(completion_id, model, {"content": "\n\n"}, None)
            elif not isinstance(item, dict) or "sentences" in item:
                final = item.to_dict() if hasattr(item, "to_dict") else dict(item)
        if final is None:
            raise RuntimeError("the draft service ended without a draft")
    except Exception as exc:  # the client reads an error, never the message text
        log_internal_error(log, "chat completion stream failed", exc)
        yield _chunk(completion_id, model, {"content": f"\n\n[guichet] le brouillon a échoué ({type(exc).__name__})."},
                     "error")
        yield "data: [DONE]\n\n"
        return
    with transaction(services.sessions) as session:
        record = store_draft(session, key_id=principal.key_id, message=message, draft=final, audience=None,
                             keep_message=services.settings.retention_days > 0)
    sources = render_with_sources({**final, "text": ""}).strip()
    if sources:
        yield _chunk(completion_id, model, {"content": "\n\n" + sources}, None)
    yield _chunk(completion_id, model, {}, "stop", _extra(final, record.id))
    yield "data: [DONE]\n\n"
