from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class ApiSettings(BaseSettings):
    """The HTTP server, its database and its limits. Environment: GUICHET_*."""

    model_config = SettingsConfigDict(env_prefix="GUICHET_", env_file=".env", extra="ignore")

    database_url: str = "sqlite:///data/guichet.db"
    # An admin key provided by automation (kept out of the database; only its hash is stored).
    admin_key: SecretStr | None = None
    host: str = "127.0.0.1"
    port: int = 8000
    # Server processes: each opens the index and serves requests (set to the CPU cores to
    # use them all; the rate limit then counts per process).
    workers: int = Field(default=1, ge=1, le=64)
    max_body_bytes: int = Field(default=256 * 1024, gt=0)
    max_message_chars: int = Field(default=20_000, gt=0)
    rate_limit_per_minute: int = Field(default=120, gt=0)  # per API key
    # Citizen message text and the text finally sent are cleared after this many days.
    retention_days: int = Field(default=30, ge=0)
    # Source reindexed by POST /api/reindex (same meaning as `guichet ingest --source`).
    reindex_source: str = "data/sample"
    readiness_timeout_s: float = 2.0
    cors_origins: list[str] = Field(default_factory=list)
