"""Retrieval: the Qdrant index (embedded Edge or a server) and hybrid search.

    from retrieval import open_retriever
    retriever = open_retriever(settings)    # RetrievalSettings (api.settings.load_settings().retrieval)
    result = retriever.search("Comment obtenir les APL ?", k=5)
"""

from __future__ import annotations

from pathlib import Path

from retrieval.settings import RetrievalSettings


def open_index(settings: RetrievalSettings | None = None, *, index_dir: Path | None = None):
    """The versioned index: a Qdrant server when GUICHET_QDRANT_URL is set, else Edge."""
    from retrieval.index.versions import EdgeIndex, ServerIndex

    settings = settings or RetrievalSettings()
    if settings.qdrant_url and index_dir is None:
        key = settings.qdrant_api_key.get_secret_value() if settings.qdrant_api_key else None
        return ServerIndex.connect(settings.qdrant_url, key, settings.qdrant_collection, settings.qdrant_timeout_s)
    return EdgeIndex(Path(index_dir or settings.index_dir))


def open_retriever(
    settings: RetrievalSettings | None = None,
    *,
    index_dir: Path | None = None,
    embedder=None,
    embedder_spec: str | None = None,
):
    """An IndexRetriever on the published index version.

    The embedder comes from `embedder`, else `embedder_spec`, else settings.embedder;
    the spec "auto" uses the one the index was built with.
    Raises retrieval.errors.IndexNotFound / IndexCorrupt / EmbedderMismatch /
    IndexUnavailable with a message that says what to do.
    """
    from retrieval.embedding.embedders import make_embedder
    from retrieval.search.retriever import IndexRetriever

    settings = settings or RetrievalSettings()
    index = open_index(settings, index_dir=index_dir)
    if embedder is None:
        spec = embedder_spec or settings.embedder
        if spec == "auto":
            spec = _built_spec(index)
        embedder = make_embedder(spec, settings.model_cache_dir)
    from ingest.legi import ArticleStore

    retriever = IndexRetriever(index, embedder)
    retriever.articles = ArticleStore(settings.articles_path(index_dir))  # opened on first lookup
    return retriever


def _built_spec(index) -> str:
    version = index.open_current()
    try:
        return version.build_info().get("embedder_spec") or "none"
    finally:
        version.close()


__all__ = ["RetrievalSettings", "open_index", "open_retriever"]
