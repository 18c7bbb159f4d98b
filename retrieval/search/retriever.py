"""Search on an index version: BM25, dense or hybrid, grouped by fiche.

Hybrid fuses four ranked lists (passages and titles, by BM25 and dense vectors) with
reciprocal rank fusion at the fiche level: see retrieval.search.fusion.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from typing import TypeVar

import numpy as np

from ingest.model import DEFAULT_SOURCE, LABOUR_SOURCES, Chunk, Fiche
from retrieval.base import Embedder, Retriever
from retrieval.errors import IndexNotFound, InvalidQuery
from retrieval.index.store import DENSE, SPARSE, TITLE_DENSE, TITLE_SPARSE, Hit, VectorQuery, VectorStore
from retrieval.index.versions import EdgeIndex, IndexVersion, VersionedIndex, check_build, embedder_name
from retrieval.search.bm25 import Bm25Settings, FrenchBm25, SparseVec
from retrieval.search.confidence import Calibration, calibration_for
from retrieval.search.expansion import QueryExpander, everyday_lexicon
from retrieval.search.fusion import best_chunks_by_fiche, fiche_order, rank_chunks, rank_fiches, rrf_scores
from retrieval.search.language import FOREIGN_QUERY_NOTICE, foreign_language
from retrieval.search.situation import is_labour_need, situation_of_need, with_situation
from retrieval.types import FicheHit, Passage, SearchFilters, SearchMode, SearchResult

T = TypeVar("T")
MAX_QUERY_CHARS = 2000
OPEN_ATTEMPTS = 5  # versions published while one is being opened
MAX_K = 100
MIN_CANDIDATES = 50
# Weight of each ranked list in the fiche-level fusion (1.0 when absent). On natural
# questions the dense passage list is the most reliable, the BM25 title list the least
# (it matches any title sharing two words): measured on restated e-mail questions, the
# corpus-derived labels and PIAF (README, "Measured figures"). The dense title list is
# weighed low too: a question embeds close to a title phrased as a question whatever its
# subject, so at full weight it put the Q-R fiches ("Peut-on… ?", "Qu'est-ce que… ?")
# first for questions they do not answer (a Q-R fiche was first for 19 of the 50
# e-mails whose gold was not).
#
# The title phrase list (with_title_phrases) reranks the fused first fiches of a message's
# need by the pairs of adjacent words their title shares with it: "carte d'identité" and
# "carte grise" share "carte" for BM25, not a phrase.
TITLE_PHRASE = "title_phrase"
LIST_WEIGHTS: dict[str, float] = {DENSE: 2.0, TITLE_SPARSE: 0.5, TITLE_DENSE: 0.25, TITLE_PHRASE: 1.0}
PHRASE_CANDIDATES = 20
PHRASE_MAX_SHARE = 0.5
# A life-event guide ("Je crée une association", "Je pars de chez mes parents") routes to
# the fiches that answer: among a message need's first fiches it comes after them unless
# well ahead (first for 5 of the 80 development e-mails' first questions, right once).
GUIDE_TYPE = "Fiche Comment faire si"
GUIDE_FACTOR = 0.7
# In a search of both the labour sources and service-public.fr (a work question, see
# labour_filter), a labour fiche's passages weigh LABOUR_PASSAGE_WEIGHT: the travail-emploi
# fiches are long guides (6.7 chunks a fiche, service-public's 1.7), one of which has a
# passage close to any work question, and they came before the service-public fiche that
# answers ("Les congés payés", "Le CDD" for the 1st of May; the short cdtn answers, weighed
# or not, change nothing). Damping every fiche by its chunk count instead cost the
# service-public fiches (their long reference fiches answer more often than the short Q-R
# ones). Measured on the development e-mails (README, "Labour-law sources").
LABOUR_PASSAGE_WEIGHT = 0.65
TITLE_MATCH_CANDIDATES = 3
TITLE_MATCH_JACCARD = 0.8


class IndexSnapshot:
    """One published version and what is derived from it (statistics, expander,
    calibration), built whole before it is used and never changed after. Requests hold
    it while they run; a retired snapshot closes when the last of them lets it go."""

    def __init__(self, version: IndexVersion, stamp, embedder: Embedder | None, calibration: Calibration | None):
        info = version.build_info()
        self.version, self.stamp, self.build_info = version, stamp, info
        self.bm25 = FrenchBm25(Bm25Settings.from_dict(info.get("bm25", {})))
        self.expander = QueryExpander(
            version.read_meta("acronyms", {}) or {}, version.read_meta("ambiguous_acronyms", []) or [],
            everyday_lexicon(),
        )
        self.calibration = calibration or calibration_for(embedder_name(embedder))
        self.bm25_calibration = calibration or calibration_for("none")
        self.sources = frozenset(info["sources"]) if "sources" in info else sources_in_manifest(version)
        self._users = 0
        self._retired = False
        self._lock = threading.Lock()

    def hold(self) -> None:
        with self._lock:
            self._users += 1

    def let_go(self) -> None:
        with self._lock:
            self._users -= 1
            close = self._retired and self._users == 0
        if close:
            self.version.close()

    def retire(self) -> None:
        with self._lock:
            self._retired = True
            close = self._users == 0
        if close:
            self.version.close()

    @property
    def users(self) -> int:
        return self._users


def sources_in_manifest(version: IndexVersion) -> frozenset[str]:
    """The sources of a version built before its build info recorded them."""
    manifest = version.read_meta("manifest", {}) or {}
    return frozenset(entry.get("source", DEFAULT_SOURCE) for entry in manifest.get("fiches", {}).values())


class IndexRetriever(Retriever):
    """A Retriever on the published version of a VersionedIndex (Edge or server).

    It keeps its version open while new ones are built; with `follow_updates`, it
    switches to a newly published version at the next search: the Edge pointer file is
    checked on every request, a server's alias at most every `follow_interval_s`.
    """

    articles = None  # ingest.legi.ArticleStore beside the index (set by open_retriever)

    def __init__(
        self,
        index: VersionedIndex,
        embedder: Embedder | None,
        *,
        follow_updates: bool = True,
        calibration: Calibration | None = None,
        follow_interval_s: float = 1.0,
    ):
        self.index = index
        self.embedder = embedder
        self.follow_updates = follow_updates
        self.follow_interval_s = follow_interval_s
        self._calibration = calibration
        self._lock = threading.Lock()
        self._snapshot: IndexSnapshot | None = None
        self._checked_at = time.monotonic()
        with self._lock:
            self._open_current()

    # -- opening and following versions

    @property
    def dense(self) -> bool:
        return self.embedder is not None

    def _current_stamp(self):
        if isinstance(self.index, EdgeIndex):
            return self.index.pointer_stamp()
        return self.index.current_number()

    def _open_current(self) -> None:
        """Open the published version as a new snapshot and swap it in (holding _lock).
        A version collected while it was being opened (newer ones were published
        meanwhile) is given up for the newest one."""
        for attempt in range(1, OPEN_ATTEMPTS + 1):
            stamp = self._current_stamp()
            version = None
            try:
                version = self.index.open_current()
                check_build(version.build_info(), self.embedder, self.index.location)
                snapshot = IndexSnapshot(version, stamp, self.embedder, self._calibration)
                break
            except Exception:
                if version is not None:
                    version.close()
                if attempt == OPEN_ATTEMPTS or self._current_stamp() == stamp:
                    raise
        old, self._snapshot = self._snapshot, snapshot
        if old is not None:
            old.retire()

    def _maybe_follow(self, force: bool = False) -> None:
        if not self.follow_updates:
            return
        if not (force or isinstance(self.index, EdgeIndex)):
            now = time.monotonic()
            if now - self._checked_at < self.follow_interval_s:
                return
            self._checked_at = now
        stamp = self._current_stamp()
        if stamp is not None and stamp != self._snapshot.stamp:
            with self._lock:
                if self._current_stamp() != self._snapshot.stamp:
                    self._open_current()

    @contextmanager
    def _held(self) -> Iterator[IndexSnapshot]:
        """The current snapshot, held for one request (never closed under it)."""
        self._maybe_follow()
        with self._lock:
            snapshot = self._snapshot
            if snapshot is None:
                raise IndexNotFound(f"the retriever on {self.index.location} is closed")
            snapshot.hold()
        try:
            yield snapshot
        finally:
            snapshot.let_go()

    def _on_current(self, work: Callable[[IndexSnapshot], T]) -> T:
        """`work` on the current snapshot, held while it runs. A server store keeps the
        previous version only: a request on a version that two newer ones replaced while
        it ran (its collections collected) runs again on the newest, up to OPEN_ATTEMPTS
        times; a failure on the published version is raised as it is."""
        for _ in range(OPEN_ATTEMPTS - 1):
            with self._held() as snapshot:
                try:
                    return work(snapshot)
                except Exception:
                    if not self.follow_updates or self._current_stamp() in (None, snapshot.stamp):
                        raise
            self._maybe_follow(force=True)
        with self._held() as snapshot:
            return work(snapshot)

    @property
    def snapshot(self) -> IndexSnapshot:
        return self._snapshot

    @property
    def version(self) -> IndexVersion:
        return self._snapshot.version

    @property
    def build_info(self) -> dict:
        return self._snapshot.build_info

    @property
    def bm25(self) -> FrenchBm25:
        return self._snapshot.bm25

    @property
    def expander(self) -> QueryExpander:
        return self._snapshot.expander

    @property
    def calibration(self) -> Calibration:
        return self._snapshot.calibration

    @property
    def bm25_calibration(self) -> Calibration:
        return self._snapshot.bm25_calibration

    def index_info(self) -> dict:
        return dict(self.build_info)

    def check(self) -> None:
        """Raise IndexUnavailable (or IndexNotFound) when the index cannot answer now:
        a Qdrant server that stopped answering, an Edge pointer gone, or the version in
        use removed (after following the published one)."""
        if self.index.current_number() is None:
            raise IndexNotFound(f"no published index version at {self.index.location}")
        self._maybe_follow(force=True)
        version = self._snapshot.version
        if not version.exists():
            raise IndexNotFound(f"index version {version.number} in use at {self.index.location} was removed")

    def close(self) -> None:
        with self._lock:
            snapshot, self._snapshot = self._snapshot, None
        if snapshot is not None:
            snapshot.retire()

    # -- Retriever

    def fiche(self, fiche_id: str) -> Fiche | None:
        data = self._on_current(lambda snapshot: snapshot.version.get_fiche(fiche_id))
        return Fiche.from_dict(data) if data else None

    def chunks(self, fiche_id: str) -> list[Chunk]:
        payloads = self._on_current(lambda snapshot: snapshot.version.store.chunk_payloads(fiche_id))
        return [Chunk.from_payload(p) for p in payloads]

    def search(
        self,
        query: str,
        *,
        k: int = 5,
        mode: SearchMode = SearchMode.HYBRID,
        filters: SearchFilters | None = None,
        passages_per_fiche: int = 3,
    ) -> SearchResult:
        return self.search_many([[query]], k=k, mode=mode, filters=filters, passages_per_fiche=passages_per_fiche)[0]

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
        return self._on_current(lambda snapshot: self._search_needs(
            snapshot, store, [[query]], k=k, mode=mode, filters=filters, passages_per_fiche=passages_per_fiche)[0])

    def search_many(
        self,
        needs: Sequence[Sequence[str]],
        *,
        k: int = 5,
        mode: SearchMode = SearchMode.HYBRID,
        filters: SearchFilters | None = None,
        passages_per_fiche: int = 3,
    ) -> list[SearchResult]:
        """One SearchResult per need, each fusing the ranked lists of all its
        formulations (RRF on fiches, as within one search); the query vectors of every
        formulation are embedded in one call. The first formulation is the need's main
        query: it gives the result's `query` and the confidence signals."""
        return self._on_current(lambda snapshot: self._search_needs(
            snapshot, snapshot.version.store, needs, k=k, mode=mode, filters=filters,
            passages_per_fiche=passages_per_fiche))

    def _search_needs(self, snapshot, store, needs, *, k, mode, filters, passages_per_fiche) -> list[SearchResult]:
        started = time.perf_counter()
        mode = SearchMode(mode)
        needs = [[clean_query(q) for q in formulations] for formulations in needs]
        if not all(needs):
            raise InvalidQuery("empty query: type a question")
        k = max(1, min(int(k), MAX_K))
        per_fiche = max(1, int(passages_per_fiche))
        # A message's need (several formulations) is not given the acronyms spelt out: the
        # situation names them as context ("j'ai commencé un CDI de serveur"), and their
        # long expansions ("contrat de travail à durée indéterminée") put every contract
        # fiche first. Measured on the development e-mails (README, "Measured figures").
        expanded = [[snapshot.expander.expand(q, acronyms=not is_message_need(formulations)) for q in formulations]
                    for formulations in needs]
        dense = self._embed_queries([q for formulations in expanded for q in formulations], mode)
        embedded = time.perf_counter()
        results, offset = [], 0
        for queries, texts in zip(needs, expanded):
            vectors = dense[offset : offset + len(texts)] if dense is not None else [None] * len(texts)
            offset += len(texts)
            results.append(self._search_one(snapshot, store, queries, texts, vectors, k, mode, filters, per_fiche))
        done = time.perf_counter()
        for result in results:  # the embedding call is shared: each result reports it
            result.timings_ms = {"embed": _ms(started, embedded), **result.timings_ms,
                                 "total": _ms(started, done)}
        return results

    def _search_one(self, snapshot, store, queries, texts, vectors, k, mode, filters, per_fiche) -> SearchResult:
        started = time.perf_counter()
        filters = labour_filter(filters, snapshot.sources, queries[0])
        sparse = [snapshot.bm25.embed_query(text) for text in texts]
        limit = max(MIN_CANDIDATES, k * per_fiche * 4)
        lists = ranked_lists_many(store, MODE_LISTS[mode], list(zip(sparse, vectors)), filters, limit)
        if mode == SearchMode.HYBRID:
            first = title_match(store, lists[0], sparse[0], snapshot.bm25)
            # A message's need (several formulations) is long and noisy: its phrases and
            # what it says of the citizen (retrieval.search.situation) pick between the
            # fiches its words match. A typed question needs no such help (measured:
            # phrases cost the restated questions and labels their first place).
            message_need = is_message_need(queries)
            phrases = word_pairs(snapshot.bm25, queries[0]) if message_need else None
            situation = situation_of_need(queries[0]) if message_need else None
            fiches = fuse_by_fiche(store, lists, sparse[0], vectors[0], filters, k, per_fiche, first,
                                   phrases=phrases, bm25=snapshot.bm25, situation=situation,
                                   guides_after=message_need, sources_mixed=mixes_sources(snapshot.sources, filters))
        elif len(lists) == 1:
            fiches = group_by_fiche(store, lists[0].get(MODE_LISTS[mode][0], []), k, per_fiche)
        else:
            fiches = fuse_by_fiche(store, lists, sparse[0], vectors[0], filters, k, per_fiche)
        passages = number_passages(fiches)
        searched = time.perf_counter()
        # The best-matching formulation speaks for the need: a long situation lowers the
        # similarity of the main query even when the question alone matches well.
        signals = [self._signals(store, named, s, d, filters) for named, s, d in zip(lists, sparse, vectors)]
        features = max(signals, key=lambda f: (f.get("dense_top", 0.0), f.get("bm25_top", 0.0)))
        if mode == SearchMode.HYBRID:
            features |= fusion_features(lists, fiches[0].fiche_id if fiches else None)
        calibration = snapshot.bm25_calibration if mode == SearchMode.BM25 else snapshot.calibration
        confidence = calibration.probability(features) if fiches else 0.0
        done = time.perf_counter()
        return SearchResult(
            query=queries[0],
            mode=mode,
            passages=passages,
            fiches=fiches,
            confidence=round(confidence, 4),
            expanded_query=texts[0],
            signals={name: round(value, 4) for name, value in features.items()},
            notices=query_notices(queries[0]),
            timings_ms={"search": _ms(started, searched), "confidence": _ms(searched, done)},
        )

    def _embed_queries(self, texts: list[str], mode: SearchMode) -> np.ndarray | None:
        if mode == SearchMode.BM25:
            return None  # BM25 answers alone, and its confidence uses the BM25-only model
        if self.embedder is None:
            raise InvalidQuery(
                f"mode {mode.value!r} needs dense vectors, but the index was built without "
                "an embedder (--embedder none): use mode 'bm25'"
            )
        return self.embedder.embed_queries(texts)

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


def is_message_need(formulations: Sequence[str]) -> bool:
    """Several formulations: a need read from a message (generation.reading), not a query
    typed in a search box."""
    return len(formulations) > 1


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
    """Ranked hits by vector name (see retrieval.index.store), in one call to the engine."""
    return ranked_lists_many(store, names, [(sparse, dense)], filters, limit)[0]


def ranked_lists_many(store, names, queries: list[tuple[SparseVec, object]], filters,
                      limit: int) -> list[dict[str, list[Hit]]]:
    """`ranked_lists` for several (sparse, dense) query vectors (the formulations of a
    need), all in one call to the engine. A query left with no words after stopwords
    (empty sparse vector) has no BM25 lists; an index without dense vectors has no
    dense lists."""
    requests, owners = [], []
    for index, (sparse, dense) in enumerate(queries):
        # BM25 query vectors weigh each term 1.0: the same vector queries titles and passages.
        vectors = {SPARSE: sparse, TITLE_SPARSE: sparse, DENSE: dense, TITLE_DENSE: dense}
        if sparse.is_empty:
            vectors[SPARSE] = vectors[TITLE_SPARSE] = None
        for name in names:
            if vectors[name] is not None:
                requests.append(VectorQuery(name, vectors[name], limit))
                owners.append((index, name))
    found: list[dict[str, list[Hit]]] = [{} for _ in queries]
    for (index, name), hits in zip(owners, store.search(requests, filters) if requests else []):
        found[index][name] = hits
    return found


def fuse_by_fiche(store, lists: list[dict[str, list[Hit]]], sparse, dense, filters, k: int, per_fiche: int,
                  first: str | None = None, phrases: set[tuple[int, int]] | None = None,
                  bm25: FrenchBm25 | None = None, situation: dict[str, str] | None = None,
                  guides_after: bool = False, sources_mixed: bool = False) -> list[FicheHit]:
    """The k best fiches by fiche-level RRF over all the lists (of every formulation of
    the query), each with its best passages by RRF over the passage lists, scored
    fiche + passage (see retrieval.search.fusion). `sparse` / `dense`: the main query's vectors;
    `first`: a fiche put first whatever its fused rank (a title match); `phrases`: the
    main query's word pairs (word_pairs), which rerank the first fiches by their title;
    `situation`: the need's (situation_of_need: its sector, residence…), which lowers
    the first fiches written for another one; `guides_after`: life-event guides among the
    first fiches lowered (with_guides_after); `sources_mixed`: the search may find both
    the labour sources' fiches and others' (with_labour_passages_weighed)."""
    every = [hits for named in lists for hits in named.values()]
    weights = [LIST_WEIGHTS.get(name, 1.0) for named in lists for name in named]
    ranking = rank_fiches(every, weights)
    if (phrases and bm25 is not None) or situation or guides_after or sources_mixed:
        head = head_payloads(store, ranking, every)
        if sources_mixed:
            passage_lists = [(named[name], LIST_WEIGHTS.get(name, 1.0)) for named in lists
                             for name in PASSAGE_LISTS if name in named]
            ranking = with_labour_passages_weighed(ranking, head, passage_lists)
        if phrases and bm25 is not None:
            ranking = with_title_phrases(ranking, head, phrases, bm25)
        if situation:
            ranking = with_situation(ranking, head, situation)
        if guides_after:
            ranking = with_guides_after(ranking, head)
    ranking = put_first(ranking, first)[:k]
    chosen = [fiche_id for fiche_id, _ in ranking]
    passage_lists = [hits for named in lists for hits in _passage_lists(named)]
    groups = best_chunks_by_fiche(rank_chunks(passage_lists), chosen, per_fiche)
    missing = [fiche_id for fiche_id, hits in groups.items() if not hits]
    if missing:  # found by their title only: their best passages, ranked after the listed ones
        within = replace(filters or SearchFilters(), fiche_ids=missing)
        extra = ranked_lists(store, PASSAGE_LISTS, sparse, dense, within, per_fiche * len(missing) * 4)
        after = max((len(hits) for hits in every), default=0)
        groups |= best_chunks_by_fiche(rank_chunks(_passage_lists(extra), after), missing, per_fiche)
    return fiche_hits(
        store, [(fiche_id, score, [Hit(h.chunk_id, score + h.score) for h in groups[fiche_id]]) for fiche_id, score in ranking]
    )


def title_match(store, lists: dict[str, list[Hit]], query: SparseVec, bm25: FrenchBm25) -> str | None:
    """The fiche whose title the query repeats (near) word for word, if any: among the
    best BM25 title hits, the one whose title terms and the query's overlap by
    TITLE_MATCH_JACCARD or more."""
    if query.is_empty:
        return None
    hits = lists.get(TITLE_SPARSE, [])[:TITLE_MATCH_CANDIDATES]
    payloads = store.payloads([h.chunk_id for h in hits]) if hits else {}
    wanted = set(query.indices)
    for hit in hits:
        title = set(bm25.embed_document(payloads.get(hit.chunk_id, {}).get("title", "")).indices)
        if title and len(wanted & title) / len(wanted | title) >= TITLE_MATCH_JACCARD:
            return hit.fiche_id
    return None


def word_pairs(bm25: FrenchBm25, text: str) -> set[tuple[int, int]]:
    """The pairs of adjacent terms of a text (stopwords left out): its phrases."""
    terms = bm25.terms(text)
    return set(zip(terms, terms[1:]))


def head_payloads(store, ranking: list[tuple[str, float]], every: list[list[Hit]]) -> dict[str, dict]:
    """A payload (title, source…) of each of the first PHRASE_CANDIDATES fiches of a
    ranking, best first: any of their chunks found by the lists carries them."""
    head = [fiche_id for fiche_id, _ in ranking[:PHRASE_CANDIDATES]]
    any_chunk: dict[str, str] = {}
    for hits in every:
        for hit in hits:
            any_chunk.setdefault(hit.fiche_id, hit.chunk_id)
    payloads = store.payloads([any_chunk[f] for f in head if f in any_chunk])
    return {f: payloads.get(any_chunk.get(f, ""), {}) for f in head}


def with_title_phrases(ranking: list[tuple[str, float]], head: dict[str, dict],
                       phrases: set[tuple[int, int]], bm25: FrenchBm25) -> list[tuple[str, float]]:
    """`ranking` with one more list fused in: among its first fiches (`head`, best first,
    head_payloads), those whose title shares a phrase with the query, most shared first."""
    place = {fiche_id: index for index, fiche_id in enumerate(head)}
    pairs = {f: word_pairs(bm25, payload.get("title", "")) & phrases for f, payload in head.items()}
    # A phrase most of these titles share ("casier judiciaire" for every casier fiche)
    # tells none of them apart.
    frequency = Counter(pair for found in pairs.values() for pair in found)
    telling = {pair for pair, count in frequency.items() if count <= len(head) * PHRASE_MAX_SHARE}
    shared = {f: len(found & telling) for f, found in pairs.items() if found & telling}
    if not shared:
        return ranking
    phrase_list = sorted(shared, key=lambda f: (-shared[f], place[f]))
    bonus = rrf_scores([phrase_list], weights=[LIST_WEIGHTS[TITLE_PHRASE]])
    rescored = [(fiche_id, score + bonus.get(fiche_id, 0.0)) for fiche_id, score in ranking]
    return sorted(rescored, key=lambda item: -item[1])


def with_guides_after(ranking: list[tuple[str, float]], head: dict[str, dict]) -> list[tuple[str, float]]:
    """`ranking` with the life-event guides among its first fiches (`head`) scored
    ×GUIDE_FACTOR: the fiches they route to answer the question."""
    rescored = [(fiche_id, score * GUIDE_FACTOR if head.get(fiche_id, {}).get("type", "").startswith(GUIDE_TYPE)
                 else score) for fiche_id, score in ranking]
    return sorted(rescored, key=lambda item: -item[1])


def with_labour_passages_weighed(ranking: list[tuple[str, float]], head: dict[str, dict],
                                 passage_lists: list[tuple[list[Hit], float]]) -> list[tuple[str, float]]:
    """`ranking` with what the passage lists (hits, weight) gave each labour fiche among
    its first fiches (`head`) weighed LABOUR_PASSAGE_WEIGHT, when other sources' fiches
    are among them too."""
    labour = {fiche_id for fiche_id, payload in head.items() if payload.get("source") in LABOUR_SOURCES}
    if not labour or labour == set(head):
        return ranking
    given = rrf_scores([fiche_order(hits) for hits, _ in passage_lists], weights=[w for _, w in passage_lists])
    rescored = [(fiche_id, score - (1 - LABOUR_PASSAGE_WEIGHT) * given.get(fiche_id, 0.0) if fiche_id in labour
                 else score) for fiche_id, score in ranking]
    return sorted(rescored, key=lambda item: -item[1])


def mixes_sources(sources: frozenset[str], filters: SearchFilters | None) -> bool:
    """A search may find both labour fiches and others': the index holds both and the
    filters name no one source."""
    return not (filters and filters.source) and bool(sources & LABOUR_SOURCES) and bool(sources - LABOUR_SOURCES)


def labour_filter(filters: SearchFilters | None, sources: frozenset[str], need: str) -> SearchFilters | None:
    """The filters a need is searched with: a need that is not about work (is_labour_need)
    searches the index's one source other than the labour ones, when the index has both
    and the filters name no source or fiches. Measured on the development e-mails: with
    the labour fiches in every search, their long fiches ("Le contrat à durée déterminée
    (CDD)") outranked the service-public.fr fiches for passports and taxes too."""
    if filters is not None and (filters.source or filters.fiche_ids):
        return filters
    others = sources - LABOUR_SOURCES
    if len(others) != 1 or others == sources or is_labour_need(need):
        return filters
    return replace(filters or SearchFilters(), source=next(iter(others)))


def put_first(ranking: list[tuple[str, float]], fiche_id: str | None) -> list[tuple[str, float]]:
    if fiche_id is None or (ranking and ranking[0][0] == fiche_id):
        return ranking
    top = ranking[0][1] if ranking else 0.0
    return [(fiche_id, top + 1e-6)] + [item for item in ranking if item[0] != fiche_id]


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
        raise InvalidQuery("the query must be text")
    query = " ".join(query.split())
    if not query:
        raise InvalidQuery("empty query: type a question")
    if len(query) > MAX_QUERY_CHARS:  # e-mails pasted whole: keep the beginning
        query = query[:MAX_QUERY_CHARS].rsplit(" ", 1)[0]
    return query


def number_passages(fiches: list[FicheHit]) -> list[Passage]:
    """The passages of the fiches, best first, ranked from 1."""
    passages = sorted((p for fiche in fiches for p in fiche.passages), key=lambda p: -p.score)
    for rank, passage in enumerate(passages, 1):
        passage.rank = rank
    return passages


def fusion_features(lists: list[dict[str, list[Hit]]], top_fiche: str | None) -> dict[str, float]:
    """How much the ranked lists (of every formulation) agree: the share whose first
    fiche is the fused first, and whose top 3 hold it (robust to long, noisy queries)."""
    every = [fiche_order(hits) for named in lists for hits in named.values() if hits]
    if not every or top_fiche is None:
        return {"lists_first": 0.0, "lists_top3": 0.0}
    return {
        "lists_first": sum(order[0] == top_fiche for order in every) / len(every),
        "lists_top3": sum(top_fiche in order[:3] for order in every) / len(every),
    }


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
