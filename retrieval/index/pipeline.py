"""The ingest-then-index pipeline: read a source, compute its changes against the
published index, embed and publish a new version. `guichet ingest`, the API's reindex
and `guichet bench index` all run this one function.

    summary = ingest_and_index("data/sample", settings.retrieval, settings.ingest)
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from ingest.settings import IngestSettings
from ingest.sources.base import ProgressCallback
from retrieval.settings import RetrievalSettings

Notify = Callable[[str], None]


def ingest_and_index(
    source_spec: str | Sequence[str],
    settings: RetrievalSettings,
    ingest_settings: IngestSettings,
    *,
    embedder_spec: str | None = None,
    index_dir: Path | None = None,
    full: bool = False,
    dense_max_tokens: int | None = None,
    articles_spec: str | None = None,
    embeddings_from: Path | None = None,
    notify: Notify | None = None,
    read_progress: ProgressCallback | None = None,
) -> dict:
    """Apply the changes of `source_spec` (one spec or several: one index, deletions per
    source) to the index (a full rebuild with `full`, or when the index is in an older
    format) and return the run's summary. `articles_spec`: build the article store
    first (see article_store). `embeddings_from`: another index's embedding cache whose
    vectors are imported first (texts it holds are not embedded again). `notify` gets the notices meant for the operator (stderr
    by default), `read_progress` the reading's progress (default: one progress line per
    source); the embedding's goes to stderr."""
    from ingest.legi import ReferenceTally
    from ingest.pipeline import collect, fiches_per_source
    from ingest.sources import open_source
    from retrieval import open_index
    from retrieval.embedding.embedders import EmbeddingCache, make_embedder
    from retrieval.index.indexer import Indexer

    notify = notify or _to_stderr
    started = time.monotonic()
    spec = embedder_spec or settings.embedder
    embedder = make_embedder(spec, settings.model_cache_dir)
    index = open_index(settings, index_dir=index_dir)
    cache = EmbeddingCache(settings.embeddings_dir(index_dir) / "cache.sqlite") if embedder is not None else None
    indexer = Indexer(
        index,
        embedder,
        embedder_spec=spec,
        cache=cache,
        dense_max_tokens=settings.dense_max_tokens if dense_max_tokens is None else dense_max_tokens,
    )
    imported = 0
    try:
        if embeddings_from is not None and cache is not None:
            imported = cache.import_from(embeddings_from)
            notify(f"embeddings imported from {embeddings_from}: {imported} vectors")
        if not full and indexer.outdated():
            notify("the index was built in an older format (of the index or of its chunks): rebuilding it "
                   "from scratch (texts already embedded come from the embedding cache)")
            full = True
        previous = indexer.previous_manifest(full=full)
        specs = [source_spec] if isinstance(source_spec, str) else list(source_spec)
        sources = [open_source(spec, ingest_settings) for spec in specs]
        articles_started = time.monotonic()
        store = article_store(settings.articles_path(index_dir), articles_spec, ingest_settings, notify)
        articles_s = time.monotonic() - articles_started
        tally = ReferenceTally(store)
        read_started = time.monotonic()
        changes = collect(sources, previous, progress=read_progress or _progress_per_source(),
                          observe=tally if store.available else None)
        read_s = time.monotonic() - read_started
        summary = indexer.apply(changes, full=full)
    finally:
        if cache is not None:
            cache.close()
    summary["source"] = " + ".join(specs)
    if embeddings_from is not None:
        summary["embeddings_imported"] = imported
    summary["fiches_per_source"] = fiches_per_source(changes.manifest)
    summary["chunks_per_source"] = _chunks_per_source(index)
    if store.available:
        summary["articles"] = store.counts()
        summary.update(tally.summary())
    summary["timings_s"] = {"articles": round(articles_s, 3), "read": round(read_s, 3), **summary["timings_s"],
                            "total": round(time.monotonic() - started, 3)}
    if summary.get("published"):
        _store_summary(index, summary)
    return summary


def article_store(path: Path, spec: str | None, ingest_settings: IngestSettings, notify: Notify | None = None):
    """The article store beside the index, (re)built first when `spec` is given:
    "legi-data" (the npm package, cached) or legi-data's data/ folder."""
    from ingest.legi import ArticleStore, build_article_store
    from ingest.npm import NpmPackage

    if spec:
        if spec == "legi-data":
            data_dir = NpmPackage(ingest_settings, ingest_settings.legi_package, "legi-data").ensure_package() / "data"
        else:
            data_dir = Path(spec).expanduser()
            data_dir = data_dir / "data" if (data_dir / "data").is_dir() else data_dir
        build_article_store(data_dir, path, progress=notify or _to_stderr)
    return ArticleStore(path)


def _progress_per_source() -> ProgressCallback:
    from ingest.pipeline import read_progress

    lines: dict[str, ProgressCallback] = {}

    def report(event) -> None:
        lines.setdefault(event.source, read_progress(event.source))(event)

    return report


def _chunks_per_source(index) -> dict[str, int]:
    """Chunks of the published version per source (payloads without one: service-public)."""
    from ingest.model import DEFAULT_SOURCE
    from retrieval.errors import IndexFailure

    try:
        version = index.open_current()
    except IndexFailure:
        return {}
    try:
        counts: dict[str, int] = {}
        for fiche in version.iter_fiches():
            key = fiche.get("source") or DEFAULT_SOURCE
            counts[key] = counts.get(key, 0) + version.store.count(fiche["id"])
        return {name: count for name, count in sorted(counts.items()) if count}
    finally:
        version.close()


def _store_summary(index, summary: dict) -> None:
    """The final summary (with read time and total) replaces the one written in the build."""
    from ingest.atomic import write_json_atomic
    from retrieval.index.versions import EdgeIndex

    if isinstance(index, EdgeIndex):
        path = index.versions_dir / str(summary["version"]) / "summary.json"
        if path.parent.exists():
            write_json_atomic(path, summary)


def _to_stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)
