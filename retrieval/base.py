"""Small abstract bases of retrieval: embedders and retrievers."""

from __future__ import annotations

from abc import ABC, abstractmethod

import numpy as np

from ingest.model import Fiche
from retrieval.types import SearchFilters, SearchMode, SearchResult


class Embedder(ABC):
    """Dense text embedder. Vectors are L2-normalised float32, shape (n, dim)."""

    name: str  # recorded in the index's build info; a mismatch refuses to open
    dim: int

    @abstractmethod
    def embed_queries(self, texts: list[str]) -> np.ndarray: ...

    @abstractmethod
    def embed_passages(self, texts: list[str]) -> np.ndarray: ...


class Retriever(ABC):
    """Answers a question with the passages of the fiches, on any backend."""

    @abstractmethod
    def search(
        self,
        query: str,
        *,
        k: int = 5,
        mode: SearchMode = SearchMode.HYBRID,
        filters: SearchFilters | None = None,
        passages_per_fiche: int = 3,
    ) -> SearchResult:
        """`k` distinct fiches (SearchResult.fiches), and the top passages
        (SearchResult.passages, chunk level) that the generator uses."""

    @abstractmethod
    def fiche(self, fiche_id: str) -> Fiche | None:
        """The stored fiche (metadata, Markdown, sections, legal references)."""

    def index_info(self) -> dict:
        """How the index was built (embedder, counts, snapshot date); {} when unknown."""
        return {}
