"""The ingest-then-index pipeline: read a source, compute its changes against the
published index, embed and publish a new version. `guichet ingest`, the API's reindex
and `guichet bench index` all run this one function.

    summary = ingest_and_index("data/sample", settings.retrieval, settings.ingest)
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path

from ingest.settings import IngestSettings
from ingest.sources.base import ProgressCallback
from retrieval.settings import RetrievalSettings

Notify = Callable[[str], None]


def ingest_and_index(
    source_spec: str,
    settings: RetrievalSettings,
    ingest_settings: IngestSettings,
    *,
    embedder_spec: str | None = None,
    index_dir: Path | None = None,
    full: bool = False,
    dense_max_tokens: int | None = None,
    notify: Notify | None = None,
    read_progress: ProgressCallback | None = None,
) -> dict:
    """Apply `source_spec`'s changes to the index (a full rebuild with `full`, or when the
    index is in an older format) and return the run's summary. `notify` gets the
    notices meant for the operator (stderr by default), `read_progress` the reading's
    progress; the embedding's goes to stderr."""
    from ingest.pipeline import collect
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
    try:
        if not full and indexer.outdated():
            notify("the index was built in an older format: rebuilding it from scratch "
                   "(texts already embedded come from the embedding cache)")
            full = True
        previous = indexer.previous_manifest(full=full)
        source = open_source(source_spec, ingest_settings)
        read_started = time.monotonic()
        changes = collect(source, previous, progress=read_progress)
        read_s = time.monotonic() - read_started
        summary = indexer.apply(changes, full=full)
    finally:
        if cache is not None:
            cache.close()
    summary["source"] = source_spec
    summary["timings_s"] = {"read": round(read_s, 3), **summary["timings_s"],
                            "total": round(time.monotonic() - started, 3)}
    if summary.get("published"):
        _store_summary(index, summary)
    return summary


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
