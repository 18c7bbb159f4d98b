"""Search on an index version: BM25, dense or hybrid, grouped by fiche.

Hybrid fuses four ranked lists (passages and titles, by BM25 and dense vectors) with
reciprocal rank fusion at the fiche level: see retrieval.fusion.
"""

from __future__ import annotations

import threading
import time
from dataclasses import replace

import numpy as np

from ingest.model import Chunk, Fiche
from retrieval.base import Embedder, Retriever
from retrieval.bm25 import Bm25Settings, FrenchBm25, SparseVec
from retrieval.confidence import Calibration, calibration_for
from retrieval.language import FOREIGN_QUERY_NOTICE, foreign_language
from retrieval.errors import IndexNotFound
from retrieval.expansion import QueryExpander
from retrieval.fusion import best_chunks_by_fiche, rank_chunks, rank_fiches
from retrieval.indexer import check_build, embedder_name
from retrieval.store import DENSE, SPARSE, TITLE_DENSE, TITLE_SPARSE, Hit, VectorQuery, VectorStore
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
            check_build(info, self.embedder, self.index.location)
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
        self._maybe_follow()
        return self.search_in(
            self._version.store, query, k=k, mode=mode, filters=filters, passages_per_fiche=passages_per_fiche
        )

    def search_in(
        self,
        store: VectorStore,
        query: str,
        *,
        k: int = 5,
        mode: SearchMode = SearchMode.HYBRID,
        filters: SearchFilters | None = None,
        passages_per_fiche: int = 3,
    ) -> SearchResult:
        """`search` on a given store with this index's vectors (benchmarks compare engines)."""
        started = time.perf_counter()
        mode = SearchMode(mode)
        query = clean_query(query)
        k = max(1, min(int(k), MAX_K))
        per_fiche = max(1, int(passages_per_fiche))
        expanded = self.expander.expand(query)
        sparse = self.bm25.embed_query(expanded)
        dense = self._embed_query(expanded, mode)
        embedded = time.perf_counter()
        limit = max(MIN_CANDIDATES, k * per_fiche * 4)
        lists = ranked_lists(store, MODE_LISTS[mode], sparse, dense, filters, limit)
        if mode == SearchMode.HYBRID:
            fiches = fuse_by_fiche(store, lists, sparse, dense, filters, k, per_fiche)
        else:
            fiches = group_by_fiche(store, lists.get(MODE_LISTS[mode][0], []), k, per_fiche)
        passages = number_passages(fiches)
        searched = time.perf_counter()
        features = self._signals(store, lists, sparse, dense, filters)
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
            notices=query_notices(query),
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
            raise ValueError(
                f"mode {mode.value!r} needs dense vectors, but the index was built without "
                "an embedder (--embedder none): use mode 'bm25'"
            )
        return self.embedder.embed_queries([text])[0]

    def _signals(self, store, lists, sparse: SparseVec, dense, filters) -> dict[str, float]:
        """The confidence features: the passage BM25 list, and the top dense passage."""
        if SPARSE not in lists:
            lists = lists | ranked_lists(store, [SPARSE], sparse, None, filters, 25)
        features = bm25_features(lists.get(SPARSE, []), len(sparse.indices))
        if dense is not None:
            dense_hits = lists[DENSE]
            bm25_hits = lists.get(SPARSE, [])
            features["dense_top"] = dense_hits[0].score if dense_hits else 0.0
            features["agreement"] = float(
                bool(dense_hits and bm25_hits) and dense_hits[0].fiche_id == bm25_hits[0].fiche_id
            )
        return features


def query_notices(query: str) -> list[str]:
    foreign = foreign_language(query)
    return [FOREIGN_QUERY_NOTICE.format(language=foreign.name)] if foreign else []


MODE_LISTS = {
    SearchMode.BM25: (SPARSE,),
    SearchMode.DENSE: (DENSE,),
    SearchMode.HYBRID: (SPARSE, DENSE, TITLE_SPARSE, TITLE_DENSE),
}
PASSAGE_LISTS = (SPARSE, DENSE)


def ranked_lists(store, names, sparse: SparseVec, dense, filters, limit: int) -> dict[str, list[Hit]]:
    """Ranked hits by vector name (see retrieval.store), in one call to the engine.
    A query left with no words after stopwords (empty sparse vector) has no BM25
    lists; an index without dense vectors has no dense lists."""
    # BM25 query vectors weigh each term 1.0: the same vector queries titles and passages.
    vectors = {SPARSE: sparse, TITLE_SPARSE: sparse, DENSE: dense, TITLE_DENSE: dense}
    if sparse.is_empty:
        vectors[SPARSE] = vectors[TITLE_SPARSE] = None
    names = [name for name in names if vectors[name] is not None]
    queries = [VectorQuery(name, vectors[name], limit) for name in names]
    return dict(zip(names, store.search(queries, filters))) if queries else {}


def fuse_by_fiche(store, lists: dict[str, list[Hit]], sparse, dense, filters, k: int, per_fiche: int) -> list[FicheHit]:
    """The k best fiches by fiche-level RRF over all the lists, each with its best
    passages by RRF over the passage lists, scored fiche + passage (see retrieval.fusion)."""
    ranking = rank_fiches(list(lists.values()))[:k]
    chosen = [fiche_id for fiche_id, _ in ranking]
    groups = best_chunks_by_fiche(rank_chunks(_passage_lists(lists)), chosen, per_fiche)
    missing = [fiche_id for fiche_id, hits in groups.items() if not hits]
    if missing:  # found by their title only: their best passages, ranked after the listed ones
        within = replace(filters or SearchFilters(), fiche_ids=missing)
        extra = ranked_lists(store, PASSAGE_LISTS, sparse, dense, within, per_fiche * len(missing) * 4)
        after = max(len(hits) for hits in lists.values())
        groups |= best_chunks_by_fiche(rank_chunks(_passage_lists(extra), after), missing, per_fiche)
    return fiche_hits(
        store, [(fiche_id, score, [Hit(h.chunk_id, score + h.score) for h in groups[fiche_id]]) for fiche_id, score in ranking]
    )


def _passage_lists(lists: dict[str, list[Hit]]) -> list[list[Hit]]:
    return [lists[name] for name in PASSAGE_LISTS if name in lists]


def group_by_fiche(store, hits: list[Hit], k: int, per_fiche: int) -> list[FicheHit]:
    """The k best fiches of one ranked list (by their best chunk), with their best passages."""
    groups: dict[str, list[Hit]] = {}
    for hit in hits:  # hits come best first
        chosen = groups.setdefault(hit.fiche_id, [])
        if len(chosen) < per_fiche:
            chosen.append(hit)
    return fiche_hits(store, [(fiche_id, chosen[0].score, chosen) for fiche_id, chosen in list(groups.items())[:k]])


def fiche_hits(store, scored: list[tuple[str, float, list[Hit]]]) -> list[FicheHit]:
    """FicheHits of (fiche ID, score, its hits), with the payloads of those hits."""
    payloads = store.payloads([h.chunk_id for _, _, hits in scored for h in hits])
    results = []
    for fiche_id, score, hits in scored:
        # A server collection may change between two calls: drop what vanished.
        passages = [Passage(Chunk.from_payload(payloads[h.chunk_id]), h.score, 0) for h in hits if h.chunk_id in payloads]
        if passages:
            first = passages[0].chunk
            results.append(FicheHit(fiche_id, first.title, first.url, first.date, first.type, score, passages))
    return results


def clean_query(query: str) -> str:
    if not isinstance(query, str):
        raise ValueError("the query must be text")
    query = " ".join(query.split())
    if not query:
        raise ValueError("empty query: type a question")
    if len(query) > MAX_QUERY_CHARS:  # e-mails pasted whole: keep the beginning
        query = query[:MAX_QUERY_CHARS].rsplit(" ", 1)[0]
    return query


def number_passages(fiches: list[FicheHit]) -> list[Passage]:
    """The passages of the fiches, best first, ranked from 1."""
    passages = sorted((p for fiche in fiches for p in fiche.passages), key=lambda p: -p.score)
    for rank, passage in enumerate(passages, 1):
        passage.rank = rank
    return passages


def bm25_features(hits: list[Hit], query_terms: int) -> dict[str, float]:
    if not hits:
        return {"bm25_top": 0.0, "bm25_margin": 0.0}
    best: dict[str, float] = {}
    for hit in hits:
        best.setdefault(hit.fiche_id, hit.score)
    scores = list(best.values())
    top = scores[0]
    fifth = scores[4] if len(scores) > 4 else 0.0
    return {
        "bm25_top": top / max(1, query_terms),
        "bm25_margin": (top - fifth) / top if top > 0 else 0.0,
    }


def _ms(start: float, end: float) -> float:
    return round((end - start) * 1000, 2)
