"""LLM-judge faithfulness (RAGAS-style): for each claim sentence of a draft, ask an
OpenAI-compatible chat endpoint whether the cited passages entail it.

Reported apart from the deterministic metrics: a judge is a model, with its own errors.
It is called through the drafter's client (generation.llm.LLMDrafter: llama-index's
OpenAILike), so that what is judged and what drafts speak to the endpoint alike.
"""

from __future__ import annotations

import re

from llama_index.core.base.llms.types import ChatMessage, MessageRole

from generation.llm import LLMDrafter, describe_error
from generation.settings import LLMSettings

JUDGE_SYSTEM_PROMPT = (
    "Tu es un vérificateur rigoureux. On te donne des extraits de fiches officielles de "
    "service-public.fr et une phrase. Réponds uniquement par OUI si la phrase est "
    "entièrement justifiée par les extraits (aucune information absente des extraits), "
    "sinon réponds uniquement par NON."
)
JUDGE_USER_TEMPLATE = "Extraits :\n{passages}\n\nPhrase : {sentence}\n\nLa phrase est-elle justifiée par les extraits ? (OUI ou NON)"

_CITATION_MARK = re.compile(r"\s*\[\d+\]")


class JudgeError(RuntimeError):
    """The judge endpoint failed or answered something that is neither OUI nor NON."""


class LLMJudge:
    def __init__(
        self,
        settings: LLMSettings,
        *,
        system_prompt: str = JUDGE_SYSTEM_PROMPT,
        user_template: str = JUDGE_USER_TEMPLATE,
    ):
        if not settings.configured:
            raise JudgeError("no LLM endpoint configured (GUICHET_LLM_BASE_URL)")
        self.settings = settings
        self.system_prompt = system_prompt
        self.user_template = user_template
        self._llm = LLMDrafter._client(settings.model_copy(update={"max_tokens": 5, "temperature": 0.0}))

    def entailed(self, sentence: str, passages: list[str]) -> bool:
        numbered = "\n\n".join(f"[{n}] {text}" for n, text in enumerate(passages, start=1))
        messages = [
            ChatMessage(role=MessageRole.SYSTEM, content=self.system_prompt),
            ChatMessage(role=MessageRole.USER,
                        content=self.user_template.format(passages=numbered, sentence=strip_citations(sentence))),
        ]
        try:
            answer = self._llm.chat(messages).message.content
        except Exception as exc:  # the endpoint's failure, told by its type
            raise JudgeError(f"judge request failed: {describe_error(exc)}") from exc
        return parse_verdict(answer or "")

    def close(self) -> None:
        """Nothing to release: the client's connections close with it."""


def parse_verdict(answer: str) -> bool:
    word = re.sub(r"[^A-Za-zÀ-ÿ]", " ", answer or "").split()
    first = word[0].upper() if word else ""
    if first in ("OUI", "YES"):
        return True
    if first in ("NON", "NO"):
        return False
    raise JudgeError(f"judge answered neither OUI nor NON: {answer[:60]!r}")


def strip_citations(sentence: str) -> str:
    return _CITATION_MARK.sub("", sentence).strip()
