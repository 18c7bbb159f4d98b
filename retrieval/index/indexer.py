"""Applies an ingest ChangeSet to the index as a new version, then switches to it."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict
from datetime import datetime, timezone

from ingest.changes import manifest_to_dict
from ingest.model import GUIDED_SEARCH, ChangeSet, Chunk, Fiche, Manifest
from retrieval.base import Embedder
from retrieval.embedding.embedders import EmbeddingCache, embed_cached, stderr_progress, truncate_tokens
from retrieval.errors import EmbedderMismatch
from retrieval.index.store import IndexPoint
from retrieval.index.versions import (
    BUILD_INFO,
    CHUNK_FORMAT,
    INDEX_FORMAT,
    IndexVersion,
    VersionedIndex,
    check_build,
    crash_point,
    embedder_name,
)
from retrieval.search.bm25 import TITLE_BM25, Bm25Settings, FrenchBm25
from retrieval.search.expansion import ambiguous_acronyms

# Chunk payload fields that come from fiche metadata (updated without re-embedding).
METADATA_FIELDS = ("url", "date", "type", "audiences", "themes", "source")

Chunker = Callable[[Fiche], list[Chunk]]


def default_chunker(fiche: Fiche) -> list[Chunk]:
    from ingest.chunking import chunk_fiche

    return chunk_fiche(fiche)


def has_title_field(chunk: Chunk) -> bool:
    """The first chunk of each fiche carries its title vectors, except a guided search's:
    it repeats the title of a fiche it routes to, and a title field of its own would rank
    the router above the content (index format 3)."""
    return chunk.index == 0 and chunk.type != GUIDED_SEARCH


def read_manifest(version: IndexVersion) -> Manifest:
    from ingest.changes import manifest_from_dict

    raw = version.read_meta("manifest")
    return manifest_from_dict(raw, origin=f"manifest of index version {version.number}") if raw else {}


class Indexer:
    """Builds or updates the index from change sets; each run publishes one version."""

    def __init__(
        self,
        index: VersionedIndex,
        embedder: Embedder | None,
        *,
        embedder_spec: str = "",
        cache: EmbeddingCache | None = None,
        chunker: Chunker = default_chunker,
        bm25_settings: Bm25Settings | None = None,
        dense_max_tokens: int = 256,
        show_progress: bool = True,
    ):
        self.index = index
        self.embedder = embedder
        self.embedder_spec = embedder_spec or embedder_name(embedder)
        self.cache = cache
        self.chunker = chunker
        self.bm25_settings = bm25_settings or Bm25Settings()
        self.bm25 = FrenchBm25(self.bm25_settings)
        self.title_bm25 = FrenchBm25(TITLE_BM25)
        self.dense_max_tokens = dense_max_tokens
        self.show_progress = show_progress

    def outdated(self) -> bool:
        """True when the published version was built in another index format, or with
        chunks of an older format (built before `chunk_format` was recorded: 1)."""
        number = self.index.current_number()
        if number is None:
            return False
        version = self.index.open_version(number)
        try:
            info = version.build_info()
            return info.get("format") != INDEX_FORMAT or info.get("chunk_format", 1) != CHUNK_FORMAT
        finally:
            version.close()

    def previous_manifest(self, full: bool = False) -> Manifest:
        """The manifest to compute the next ChangeSet against ({} for a full rebuild)."""
        number = self.index.current_number()
        if full or number is None:
            return {}
        version = self.index.open_version(number)
        try:
            check_build(version.build_info(), self.embedder, self.index.location)
            return read_manifest(version)
        finally:
            version.close()

    def apply(self, changes: ChangeSet, *, full: bool = False) -> dict:
        with self.index.build_lock():
            return self._apply(changes, full)

    def _apply(self, changes: ChangeSet, full: bool) -> dict:
        timings: dict[str, float] = {}
        clock = _Clock(timings)
        current = self.index.current_number()
        previous_info = self._previous_info(current) if current is not None and not full else None
        if previous_info is not None and changes.is_empty:
            return self._summary(changes, previous_info, timings, published=False)
        version = self.index.begin(self.embedder.dim if self.embedder else None, copy_current=previous_info is not None)
        try:
            clock.lap("prepare")
            crash_point("begun")
            self._remove(version, changes)
            crash_point("deleted")
            clock.lap("delete")
            chunks = [c for f in changes.added + changes.updated if f.is_content for c in self.chunker(f)]
            clock.lap("chunk")
            points, embedded = self._points(chunks, clock)
            crash_point("embedded")
            version.store.upsert(points)
            version.put_fiches([f.to_dict() for f in changes.added + changes.updated + changes.metadata_only])
            self._update_metadata(version, changes.metadata_only)
            crash_point("upserted")
            clock.lap("upsert")
            acronyms = collect_acronyms(version.iter_fiches())
            version.write_meta("acronyms", acronyms)
            texts = (f.get("markdown", "") for f in version.iter_fiches())
            version.write_meta("ambiguous_acronyms", ambiguous_acronyms(acronyms, texts))
            version.write_meta("manifest", manifest_to_dict(changes.manifest))
            if hasattr(version.store, "optimize"):
                version.store.optimize()
            clock.lap("optimize")
            info = self._build_info(version, changes, previous_info, len(chunks), embedded)
            summary = self._summary(changes, info, timings, published=True)
            version.write_meta("summary", summary)
            version.write_meta(BUILD_INFO, info)  # last: marks the version complete
            crash_point("before_publish")
            self.index.publish(version)
            crash_point("published")
            summary["garbage_collected"] = self.index.collect_garbage()
            clock.lap("publish")
            summary["timings_s"] = {k: round(v, 3) for k, v in timings.items()}
            return summary
        finally:
            version.close()

    def _previous_info(self, current: int) -> dict:
        version = self.index.open_version(current)
        try:
            info = version.build_info()
        finally:
            version.close()
        check_build(info, self.embedder, self.index.location)
        if Bm25Settings.from_dict(info.get("bm25", {})) != self.bm25_settings:
            raise EmbedderMismatch(
                f"the index at {self.index.location} uses other BM25 settings "
                f"({info.get('bm25')}): rebuild with `guichet ingest --full`"
            )
        return info

    def _remove(self, version: IndexVersion, changes: ChangeSet) -> None:
        stale = changes.deleted + [f.id for f in changes.updated]
        version.store.delete_fiches(stale)  # an updated fiche may now have fewer chunks
        version.delete_fiches(changes.deleted)

    def _points(self, chunks: list[Chunk], clock: _Clock) -> tuple[list[IndexPoint], int]:
        """Points with their passage vectors; the first chunk of each fiche also
        carries the title vectors (see retrieval.index.store)."""
        points = [IndexPoint(c.id, c.payload(), self.bm25.embed_document(c.text)) for c in chunks]
        firsts = [p for p, c in zip(points, chunks) if has_title_field(c)]
        titles = [p.payload["title"] for p in firsts]
        for point, title in zip(firsts, titles):
            point.title_sparse = self.title_bm25.embed_document(title)
        clock.lap("bm25")
        embedded = 0
        if self.embedder is not None and chunks:
            progress = stderr_progress(f"embedding ({self.embedder.name})", unit="chunks") if self.show_progress else None
            vectors, embedded = embed_cached(
                self.embedder,
                [c.text for c in chunks],
                self.cache,
                prepare=lambda text: truncate_tokens(self.embedder, text, self.dense_max_tokens),
                preparation=f"max_tokens={self.dense_max_tokens}",
                progress=progress,
            )
            title_vectors, _ = embed_cached(self.embedder, titles, self.cache, as_queries=True)
            for point, vector in zip(points, vectors):
                point.dense = vector
            for point, vector in zip(firsts, title_vectors):
                point.title_dense = vector
        clock.lap("embed")
        return points, embedded

    def _update_metadata(self, version: IndexVersion, fiches: list[Fiche]) -> None:
        for fiche in fiches:
            fields = {name: getattr(fiche, name) for name in METADATA_FIELDS}
            version.store.set_fiche_payload(fiche.id, fields)

    def _build_info(self, version, changes, previous_info, new_chunks, embedded) -> dict:
        snapshot = changes.snapshot_date or (previous_info or {}).get("snapshot_date", "")
        return {
            "format": INDEX_FORMAT,
            "chunk_format": CHUNK_FORMAT,
            "version": version.number,
            "embedder": embedder_name(self.embedder),
            "embedder_spec": self.embedder_spec,
            "dim": self.embedder.dim if self.embedder else 0,
            "dense_max_tokens": self.dense_max_tokens,
            "bm25": self.bm25_settings.to_dict(),
            "title_bm25": TITLE_BM25.to_dict(),
            "snapshot_date": snapshot,
            "fiches": len(changes.manifest),
            "sources": sorted({state.source for state in changes.manifest.values()}),
            "chunks": version.store.count(),
            "chunks_written": new_chunks,
            "chunks_embedded": embedded,
            "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "previous_version": (previous_info or {}).get("version"),
        }

    @staticmethod
    def _summary(changes: ChangeSet, info: dict, timings: dict, published: bool) -> dict:
        return {
            **changes.summary(),
            "failures": [asdict(f) for f in changes.failed[:50]],
            "version": info.get("version"),
            "published": published,
            "fiches": info.get("fiches"),
            "chunks": info.get("chunks"),
            # A run with nothing to do writes and embeds nothing (info is then the previous build's).
            "chunks_written": info.get("chunks_written", 0) if published else 0,
            "chunks_embedded": info.get("chunks_embedded", 0) if published else 0,
            "documents": changes.documents_read,
            "kinds": dict(changes.kinds),
            "embedder": info.get("embedder"),
            "timings_s": {k: round(v, 3) for k, v in timings.items()},
        }


def collect_acronyms(fiches) -> dict[str, str]:
    """Acronym -> expansion over all stored fiches (first seen wins, sorted by ID)."""
    acronyms: dict[str, str] = {}
    for fiche in fiches:
        for acronym, expansion in (fiche.get("acronyms") or {}).items():
            acronym = acronym.strip()
            if acronym and expansion and acronym not in acronyms:
                acronyms[acronym] = " ".join(expansion.split())
    return acronyms


class _Clock:
    def __init__(self, timings: dict[str, float]):
        self.timings = timings
        self._last = time.monotonic()

    def lap(self, stage: str) -> None:
        now = time.monotonic()
        self.timings[stage] = self.timings.get(stage, 0.0) + now - self._last
        self._last = now
