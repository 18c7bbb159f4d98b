"""An OpenAI-compatible chat endpoint: guichet as a "model" for existing clients.

The last user message is the citizen's message; the answer is the draft text with its
[n] markers followed by the sources. Model "guichet" drafts extractively,
"guichet-llm" through the configured LLM.
"""

from __future__ import annotations

import time
import uuid
from typing import Any, Literal

from fastapi import APIRouter, Depends, HTTPException
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from api.auth import Principal
from api.db import transaction
from api.deps import get_draft_service, get_principal, get_services
from api.drafting import DraftFailed, DraftRejected, run_draft, sse
from api.records import store_draft
from api.services import Services
from generation.types import DraftFormat, DraftMode

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
    user_messages = [m for m in body.messages if m.role == "user" and _text(m).strip()]
    if not user_messages:
        raise HTTPException(422, "messages: no user message with text")
    message = _text(user_messages[-1])
    if len(message) > services.settings.max_message_chars:
        raise HTTPException(422, f"messages: above the limit of {services.settings.max_message_chars} characters")
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
    extra = {"draft_id": record.id, "sources": draft.get("sources", []), "abstained": draft.get("abstained")}
    completion_id = f"chatcmpl-{uuid.uuid4().hex}"
    if body.stream:
        return StreamingResponse(_chunks(completion_id, body.model, content, extra), media_type="text/event-stream")
    return {
        "id": completion_id,
        "object": "chat.completion",
        "created": int(time.time()),
        "model": body.model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0},
        "guichet": extra,
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


def _chunks(completion_id: str, model: str, content: str, extra: dict):
    yield _chunk(completion_id, model, {"role": "assistant", "content": ""}, None)
    for start in range(0, len(content), 80):
        yield _chunk(completion_id, model, {"content": content[start:start + 80]}, None)
    yield _chunk(completion_id, model, {}, "stop", extra)
    yield "data: [DONE]\n\n"
