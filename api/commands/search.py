"""`guichet search`: the fiches and passages that answer a question."""

from __future__ import annotations

import json
from pathlib import Path

import click

from ingest.model import AUDIENCES

MODES = ["bm25", "dense", "hybrid"]


@click.command("search")
@click.argument("question")
@click.option("--k", type=click.IntRange(1, 100), default=5, show_default=True, help="Number of fiches.")
@click.option("--mode", type=click.Choice(MODES), default="hybrid", show_default=True)
@click.option("--audience", type=click.Choice(AUDIENCES), default=None)
@click.option("--type", "fiche_type", default=None, help="Publication type, e.g. \"Fiche d'information\".")
@click.option("--theme", default=None)
@click.option("--passages", type=click.IntRange(1, 10), default=2, show_default=True,
              help="Passages shown per fiche.")
@click.option("--index-dir", type=click.Path(path_type=Path), default=None)
@click.option("--embedder", "embedder_spec", default=None,
              help="Must match the index ('auto': the one it was built with).")
@click.option("--json", "as_json", is_flag=True, help="Print the SearchResult as JSON.")
def search(question, k, mode, audience, fiche_type, theme, passages, index_dir, embedder_spec, as_json):
    """Search the index for QUESTION."""
    from api.commands import command_settings
    from retrieval import open_retriever
    from retrieval.errors import IndexFailure
    from retrieval.types import SearchFilters, SearchMode

    settings = command_settings()
    try:
        retriever = open_retriever(settings.retrieval, index_dir=index_dir, embedder_spec=embedder_spec)
        result = retriever.search(
            question, k=k, mode=SearchMode(mode),
            filters=SearchFilters(audience=audience, type=fiche_type, theme=theme),
            passages_per_fiche=passages,
        )
    except (IndexFailure, ValueError) as exc:
        raise click.ClickException(str(exc)) from exc
    if as_json:
        click.echo(json.dumps(result.to_dict(), ensure_ascii=False, indent=1))
    else:
        click.echo(format_result(result))


def format_result(result, excerpt_chars: int = 300) -> str:
    lines = []
    if result.expanded_query != result.query:
        lines.append(f"query expanded: {result.expanded_query}")
    lines.append(f"confidence {result.confidence:.2f} · {result.mode.value} · {result.timings_ms.get('total', 0):.0f} ms")
    lines.extend(f"! {notice}" for notice in result.notices)
    if not result.fiches:
        lines.append("no fiche found")
    for number, hit in enumerate(result.fiches, 1):
        lines.append("")
        lines.append(f"{number}. {hit.title} [{hit.fiche_id}] · {hit.type} · mis à jour le {hit.date}")
        lines.append(f"   {hit.url}")
        for passage in hit.passages:
            body = " ".join(passage.text.split("\n", 1)[-1].split())
            excerpt = body[:excerpt_chars] + ("…" if len(body) > excerpt_chars else "")
            lines.append(f"   > {passage.chunk.section or hit.title} (score {passage.score:.3f})")
            lines.append(f"     {excerpt}")
    return "\n".join(lines)
