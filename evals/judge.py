"""LLM-judge faithfulness (RAGAS-style): for each claim sentence of a draft, ask an
OpenAI-compatible chat endpoint whether the cited passages entail it.

Reported apart from the deterministic metrics: a judge is a model, with its own errors.
"""

from __future__ import annotations

import re

import httpx

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
        headers = {}
        if settings.api_key:
            headers["Authorization"] = f"Bearer {settings.api_key.get_secret_value()}"
        self._client = httpx.Client(base_url=settings.base_url.rstrip("/"), headers=headers, timeout=settings.timeout_s)

    def entailed(self, sentence: str, passages: list[str]) -> bool:
        numbered = "\n\n".join(f"[{n}] {text}" for n, text in enumerate(passages, start=1))
        body = {
            "model": self.settings.model,
            "temperature": 0,
            "max_tokens": 5,
            "messages": [
                {"role": "system", "content": self.system_prompt},
                {"role": "user", "content": self.user_template.format(passages=numbered, sentence=strip_citations(sentence))},
            ],
        }
        try:
            response = self._client.post("/chat/completions", json=body)
            response.raise_for_status()
            answer = response.json()["choices"][0]["message"]["content"]
        except (httpx.HTTPError, KeyError, IndexError, ValueError) as exc:
            raise JudgeError(f"judge request failed: {exc}") from exc
        return parse_verdict(answer)

    def close(self) -> None:
        self._client.close()


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
