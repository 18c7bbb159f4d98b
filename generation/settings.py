from __future__ import annotations

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class LLMSettings(BaseSettings):
    """An OpenAI-compatible chat endpoint (vLLM, Ollama, llama.cpp server, Albert API).

    Without a base URL, drafts are extractive. Environment: GUICHET_LLM_*.
    """

    model_config = SettingsConfigDict(env_prefix="GUICHET_LLM_", env_file=".env", extra="ignore")

    base_url: str | None = None
    model: str = "default"
    api_key: SecretStr | None = None
    timeout_s: float = 30.0
    max_tokens: int = 1024
    temperature: float = 0.1

    @property
    def configured(self) -> bool:
        return bool(self.base_url)
