"""Types produced by retrieval: passages, fiche hits and result sets."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import Enum

from ingest.model import Chunk


class SearchMode(str, Enum):
    BM25 = "bm25"
    DENSE = "dense"
    HYBRID = "hybrid"


@dataclass
class SearchFilters:
    audience: str | None = None  # particuliers | professionnels | associations
    type: str | None = None  # Publication@type
    theme: str | None = None
    fiche_ids: list[str] | None = None  # restrict to these fiches
    source: str | None = None  # a key of ingest.model.SOURCES


@dataclass
class Passage:
    """A retrieved chunk with its score and rank (1-based) in the result set."""

    chunk: Chunk
    score: float
    rank: int

    @property
    def fiche_id(self) -> str:
        return self.chunk.fiche_id

    @property
    def text(self) -> str:
        return self.chunk.text

    def to_dict(self) -> dict:
        return {"score": self.score, "rank": self.rank, **self.chunk.payload()}


@dataclass
class FicheHit:
    """A fiche in a grouped result set, with its best passages (best first)."""

    fiche_id: str
    title: str
    url: str
    date: str
    type: str
    score: float
    passages: list[Passage]

    def to_dict(self) -> dict:
        data = asdict(self)
        data["passages"] = [p.to_dict() for p in self.passages]
        return data


@dataclass
class SearchResult:
    query: str
    mode: SearchMode
    passages: list[Passage]  # chunk level, best first
    fiches: list[FicheHit]  # grouped by fiche, best first
    # Calibrated probability that the top results answer the query (0..1).
    confidence: float
    expanded_query: str = ""  # the query after glossary / acronym expansion
    timings_ms: dict[str, float] = field(default_factory=dict)
    # The retrieval signals the confidence is computed from (bm25_top, dense_top…).
    signals: dict[str, float] = field(default_factory=dict)
    notices: list[str] = field(default_factory=list)  # French, for the agent (e.g. a foreign query)

    def to_dict(self) -> dict:
        return {
            "query": self.query,
            "mode": self.mode.value,
            "expanded_query": self.expanded_query,
            "confidence": self.confidence,
            "fiches": [f.to_dict() for f in self.fiches],
            "passages": [p.to_dict() for p in self.passages],
            "timings_ms": self.timings_ms,
            "signals": self.signals,
            "notices": self.notices,
        }
