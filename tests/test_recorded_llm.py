"""The LLM drafter against exchanges recorded from a real OpenAI-compatible server.

tests/fixtures/recorded/ holds requests and raw responses recorded once by
tests/fixtures/record_llm.py from llama-cpp-python's server running the base Gemma 3
270M model: its JSON and its server-sent events are exactly what a real server sends
(its field order, its extra fields, its chunking), and its answers are a small model's
real output. A local HTTP server replays them.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from generation.llm import LLMDrafter, LLMError
from generation.settings import LLMSettings
from generation.text import citations_in

RECORDED = Path(__file__).parent / "fixtures" / "recorded" / "llama_cpp_gemma3_270m.json"


def recording() -> dict:
    return json.loads(RECORDED.read_text(encoding="utf-8"))


def exchange(stream: bool) -> dict:
    return next(e for e in recording()["exchanges"] if e["request"]["stream"] is stream)


def recorded_content(stream: bool) -> str:
    """The answer's text as the recorded server sent it (parsed here, not by the client)."""
    body = exchange(stream)["body"]
    if not stream:
        return json.loads(body)["choices"][0]["message"]["content"]
    parts = []
    for line in body.splitlines():
        if line.startswith("data: ") and line != "data: [DONE]":
            delta = json.loads(line[6:])["choices"][0].get("delta", {})
            parts.append(delta.get("content") or "")
    return "".join(parts)


@pytest.fixture
def replay_server():
    """Serves the recorded responses; keeps the requests it receives."""
    received: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args) -> None:
            pass

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
            received.append(body)
            recorded = exchange(bool(body.get("stream")))
            payload = recorded["body"].encode("utf-8")
            self.send_response(recorded["status"])
            self.send_header("Content-Type", recorded["content_type"])
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1", received
    server.shutdown()
    server.server_close()


@pytest.fixture
def drafter(replay_server):
    base_url, _ = replay_server
    return LLMDrafter(LLMSettings(base_url=base_url, model=recording()["model"], timeout_s=5.0))


def recorded_prompt() -> tuple[str, str]:
    messages = exchange(False)["request"]["messages"]
    return messages[0]["content"], messages[1]["content"]


def test_the_recording_is_a_real_servers(drafter):
    plain, streamed = exchange(False), exchange(True)
    assert plain["status"] == 200 and plain["content_type"].startswith("application/json")
    assert streamed["status"] == 200 and streamed["content_type"].startswith("text/event-stream")
    assert streamed["body"].rstrip().endswith("data: [DONE]")
    assert recorded_content(False).strip() and recorded_content(True).strip()


def test_a_plain_answer_is_read_as_the_server_sent_it(drafter, replay_server):
    content = recorded_content(False)
    if citations_in(content):
        assert drafter.write_body(["?"], recorded_passages()).strip() in content
    else:  # the base model cites nothing: the answer is refused, the service falls back
        with pytest.raises(LLMError, match="ne cite aucun passage"):
            drafter.write_body(["?"], recorded_passages())
    _, received = replay_server
    sent = received[-1]
    assert [m["role"] for m in sent["messages"]] == [m["role"] for m in exchange(False)["request"]["messages"]]
    assert sent["model"] == recording()["model"] and not sent.get("stream")


def test_a_streamed_answer_arrives_delta_by_delta_as_the_server_sent_it(drafter):
    received = []
    content = recorded_content(True)
    try:
        for delta in drafter.stream_body(["?"], recorded_passages()):
            received.append(delta)
    except LLMError as exc:
        assert not citations_in(content) and "ne cite aucun passage" in str(exc)
    assert "".join(received) == content
    assert len(received) > 1  # pieces, as the server streamed them


def recorded_passages():
    from ingest.model import Chunk
    from retrieval.types import Passage

    return [Passage(Chunk.from_payload(p), 1.0, rank) for rank, p in enumerate(recording()["passages"], 1)]


def test_the_verifier_flags_every_claim_of_a_real_small_models_answer():
    """The base 270M model repeats its prompt instead of answering: against the passages
    it was given, not one of its sentences is a supported claim."""
    from generation.verify import Verifier

    content = recorded_content(False)
    checks = [c for c in Verifier(recorded_passages()).check_all(content) if c.verdict.value != "not_a_claim"]
    assert checks, "the model wrote something"
    assert all(c.flagged for c in checks)


def test_the_service_falls_back_on_the_real_answer_with_a_notice(replay_server, passage_retriever):
    from generation.service import DraftService
    from generation.types import DraftMode

    base_url, received = replay_server
    service = DraftService(passage_retriever, LLMSettings(base_url=base_url, model="gemma3", timeout_s=5.0))
    message = "Quel est le montant de l'allocation de rentrée scolaire pour un enfant de 15 ans ?"
    plain = service.draft(message, mode=DraftMode.LLM)
    assert received, "the model was asked"
    if citations_in(recorded_content(False)):
        assert plain.mode == DraftMode.LLM
    else:
        assert plain.mode == DraftMode.EXTRACTIVE
        assert any("ne cite aucun passage" in n for n in plain.notices)
        assert not any(s.flagged for s in plain.sentences)  # the extractive fallback is verified clean
