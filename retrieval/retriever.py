"""Search on an index version: BM25, dense or hybrid (RRF), grouped by fiche."""

from __future__ import annotations

import threading
import time

import numpy as np

from ingest.model import Chunk, Fiche
from retrieval.base import Embedder, Retriever
from retrieval.bm25 import Bm25Settings, FrenchBm25, SparseVec
from retrieval.confidence import Calibration, calibration_for
from retrieval.errors import IndexNotFound
from retrieval.expansion import QueryExpander
from retrieval.indexer import check_embedder, embedder_name
from retrieval.store import Hit
from retrieval.types import FicheHit, Passage, SearchFilters, SearchMode, SearchResult
from retrieval.versions import EdgeIndex, IndexVersion, VersionedIndex

MAX_QUERY_CHARS = 2000
MAX_K = 100
MIN_CANDIDATES = 50


class IndexRetriever(Retriever):
    """A Retriever on the published version of a VersionedIndex (Edge or server).

    It keeps its version open while new ones are built; with `follow_updates`, it
    switches to a newly published version at the next search.
    """

    def __init__(
        self,
        index: VersionedIndex,
        embedder: Embedder | None,
        *,
        follow_updates: bool = True,
        calibration: Calibration | None = None,
    ):
        self.index = index
        self.embedder = embedder
        self.follow_updates = follow_updates
        self._calibration = calibration
        self._lock = threading.Lock()
        self._version: IndexVersion | None = None
        self._stamp = None
        self._open_current()

    # -- opening and following versions

    def _open_current(self) -> None:
        stamp = self.index.pointer_stamp() if isinstance(self.index, EdgeIndex) else None
        version = self.index.open_current()
        try:
            info = version.build_info()
            check_embedder(info, self.embedder, self.index.location)
        except Exception:
            version.close()
            raise
        old = self._version
        self._version, self._stamp, self.build_info = version, stamp, info
        self.bm25 = FrenchBm25(Bm25Settings.from_dict(info.get("bm25", {})))
        self.expander = QueryExpander(
            version.read_meta("acronyms", {}) or {}, version.read_meta("ambiguous_acronyms", []) or []
        )
        self.calibration = self._calibration or calibration_for(embedder_name(self.embedder))
        self.bm25_calibration = self._calibration or calibration_for("none")
        if old is not None:
            old.close()

    def _maybe_follow(self) -> None:
        if not (self.follow_updates and isinstance(self.index, EdgeIndex)):
            return
        stamp = self.index.pointer_stamp()
        if stamp is not None and stamp != self._stamp:
            with self._lock:
                if self.index.pointer_stamp() != self._stamp:
                    self._open_current()

    @property
    def version(self) -> IndexVersion:
        return self._version

    def index_info(self) -> dict:
        return dict(self.build_info)

    def check(self) -> None:
        """Raise IndexUnavailable (or IndexNotFound) when the index cannot answer now:
        a Qdrant server that stopped answering, an Edge pointer gone."""
        if self.index.current_number() is None:
            raise IndexNotFound(f"no published index version at {self.index.location}")

    def close(self) -> None:
        if self._version is not None:
            self._version.close()
            self._version = None

    # -- Retriever

    def fiche(self, fiche_id: str) -> Fiche | None:
        self._maybe_follow()
        data = self._version.get_fiche(fiche_id)
        return Fiche.from_dict(data) if data else None

    def chunks(self, fiche_id: str) -> list[Chunk]:
        return [Chunk.from_payload(p) for p in self._version.store.chunk_payloads(fiche_id)]

    def search(
        self,
        query: str,
        *,
        k: int = 5,
        mode: SearchMode = SearchMode.HYBRID,
        filters: SearchFilters | None = None,
        passages_per_fiche: int = 3,
    ) -> SearchResult:
        started = time.perf_counter()
        mode = SearchMode(mode)
        query = clean_query(query)
        k = max(1, min(int(k), MAX_K))
        passages_per_fiche = max(1, int(passages_per_fiche))
        self._maybe_follow()
        version = self._version
        expanded = self.expander.expand(query)
        sparse = self.bm25.embed_query(expanded)
        dense = self._embed_query(expanded, mode)
        embedded = time.perf_counter()
        limit = max(MIN_CANDIDATES, k * passages_per_fiche * 4)
        hits = self._query(version, mode, sparse, dense, filters, limit)
        fiches, passages = group_by_fiche(hits, k, passages_per_fiche)
        searched = time.perf_counter()
        features = self._signals(version, mode, sparse, dense, filters, hits)
        calibration = self.bm25_calibration if mode == SearchMode.BM25 else self.calibration
        confidence = calibration.probability(features) if fiches else 0.0
        done = time.perf_counter()
        return SearchResult(
            query=query,
            mode=mode,
            passages=passages,
            fiches=fiches,
            confidence=round(confidence, 4),
            expanded_query=expanded,
            signals={name: round(value, 4) for name, value in features.items()},
            timings_ms={
                "embed": _ms(started, embedded),
                "search": _ms(embedded, searched),
                "confidence": _ms(searched, done),
                "total": _ms(started, done),
            },
        )

    def _embed_query(self, text: str, mode: SearchMode) -> np.ndarray | None:
        if mode == SearchMode.BM25:
            return None  # BM25 answers alone, and its confidence uses the BM25-only model
        if self.embedder is None:
            if mode != SearchMode.BM25:
                raise ValueError(
                    f"mode {mode.value!r} needs dense vectors, but the index was built without "
                    "an embedder (--embedder none): use mode 'bm25'"
                )
            return None
        return self.embedder.embed_queries([text])[0]

    @staticmethod
    def _query(version, mode, sparse: SparseVec, dense, filters, limit) -> list[Hit]:
        if mode == SearchMode.BM25 and sparse.is_empty:
            return []  # only stopwords or no letters: nothing to match lexically
        if mode == SearchMode.HYBRID and sparse.is_empty:
            mode = SearchMode.DENSE
        return version.store.query(mode=mode, sparse=sparse, dense=dense, filters=filters, limit=limit)

    def _signals(self, version, mode, sparse, dense, filters, hits) -> dict[str, float]:
        bm25_hits = hits if mode == SearchMode.BM25 else self._query(version, SearchMode.BM25, sparse, None, filters, 25)
        features = bm25_features(bm25_hits, len(sparse.indices))
        if dense is not None:
            dense_hits = hits if mode == SearchMode.DENSE else self._query(version, SearchMode.DENSE, sparse, dense, filters, 5)
            features["dense_top"] = dense_hits[0].score if dense_hits else 0.0
            features["agreement"] = float(
                bool(dense_hits and bm25_hits) and dense_hits[0].payload["fiche_id"] == bm25_hits[0].payload["fiche_id"]
            )
        return features


def clean_query(query: str) -> str:
    if not isinstance(query, str):
        raise ValueError("the query must be text")
    query = " ".join(query.split())
    if not query:
        raise ValueError("empty query: type a question")
    if len(query) > MAX_QUERY_CHARS:  # e-mails pasted whole: keep the beginning
        query = query[:MAX_QUERY_CHARS].rsplit(" ", 1)[0]
    return query


def group_by_fiche(hits: list[Hit], k: int, per_fiche: int) -> tuple[list[FicheHit], list[Passage]]:
    """The k best fiches (by their best chunk) with their best passages, and the
    chunk-level passages of those fiches, best first."""
    groups: dict[str, list[Hit]] = {}
    for hit in hits:  # hits come best first
        fiche_hits = groups.setdefault(hit.payload["fiche_id"], [])
        if len(fiche_hits) < per_fiche:
            fiche_hits.append(hit)
    chosen = list(groups.items())[:k]
    selected = sorted((h for _, fh in chosen for h in fh), key=lambda h: -h.score)
    passages = [Passage(Chunk.from_payload(h.payload), h.score, rank) for rank, h in enumerate(selected, 1)]
    by_chunk = {p.chunk.id: p for p in passages}
    fiches = []
    for fiche_id, fiche_hits in chosen:
        first = fiche_hits[0].payload
        fiches.append(
            FicheHit(
                fiche_id=fiche_id,
                title=first["title"],
                url=first["url"],
                date=first["date"],
                type=first["type"],
                score=fiche_hits[0].score,
                passages=[by_chunk[h.payload["id"]] for h in fiche_hits],
            )
        )
    return fiches, passages


def bm25_features(hits: list[Hit], query_terms: int) -> dict[str, float]:
    if not hits:
        return {"bm25_top": 0.0, "bm25_margin": 0.0}
    best: dict[str, float] = {}
    for hit in hits:
        best.setdefault(hit.payload["fiche_id"], hit.score)
    scores = list(best.values())
    top = scores[0]
    fifth = scores[4] if len(scores) > 4 else 0.0
    return {
        "bm25_top": top / max(1, query_terms),
        "bm25_margin": (top - fifth) / top if top > 0 else 0.0,
    }


def _ms(start: float, end: float) -> float:
    return round((end - start) * 1000, 2)
