"""Small abstract bases of retrieval: embedders and retrievers."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence

import numpy as np

from ingest.model import Chunk, Fiche
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

    articles = None  # the article store beside the index (ingest.legi.ArticleStore), if any

    @property
    def dense(self) -> bool:
        """Whether it can search dense vectors (False: a BM25-only index)."""
        return True

    @property
    def default_mode(self) -> SearchMode:
        """Hybrid, or BM25 where there are no dense vectors (an index built with --embedder none)."""
        return SearchMode.HYBRID if self.dense else SearchMode.BM25

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

    def search_many(
        self,
        needs: Sequence[Sequence[str]],
        *,
        k: int = 5,
        mode: SearchMode = SearchMode.HYBRID,
        filters: SearchFilters | None = None,
        passages_per_fiche: int = 3,
    ) -> list[SearchResult]:
        """One result per need, from its formulations (several phrasings of one question,
        main one first). This default searches the main one; an index fuses them all."""
        return [
            self.search(formulations[0], k=k, mode=mode, filters=filters, passages_per_fiche=passages_per_fiche)
            for formulations in needs
        ]

    @abstractmethod
    def fiche(self, fiche_id: str) -> Fiche | None:
        """The stored fiche (metadata, Markdown, sections, legal references)."""

    def chunks(self, fiche_id: str) -> list[Chunk]:
        """The fiche's chunks in order ([] where the backend cannot list them)."""
        return []

    def index_info(self) -> dict:
        """How the index was built (embedder, counts, snapshot date); {} when unknown."""
        return {}
