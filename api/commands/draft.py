"""`guichet draft`: a sourced reply draft to a citizen's message."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from ingest.model import AUDIENCES


@click.command("draft")
@click.argument("text", required=False)
@click.option("--file", "file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Read the message from this file ('-' for standard input is TEXT '-').")
@click.option("--format", "draft_format", type=click.Choice(["email", "short"]), default="email",
              show_default=True)
@click.option("--llm", "use_llm", is_flag=True,
              help="Write with the LLM of GUICHET_LLM_BASE_URL (extractive fallback on failure).")
@click.option("--audience", type=click.Choice(AUDIENCES), default=None)
@click.option("--k", type=click.IntRange(1, 20), default=None, help="Fiches retrieved per question.")
@click.option("--index-dir", type=click.Path(path_type=Path), default=None)
@click.option("--embedder", "embedder_spec", default=None,
              help="Must match the index ('auto': the one it was built with).")
@click.option("--json", "as_json", is_flag=True, help="Print the Draft as JSON (sentences, verdicts, sources).")
def draft(text, file, draft_format, use_llm, audience, k, index_dir, embedder_spec, as_json):
    """Draft a reply to TEXT (or --file), citing the fiches; every sentence is checked."""
    from api.commands import command_settings
    from generation.message import MessageError
    from generation.service import DraftService
    from generation.types import DraftFormat, DraftMode
    from retrieval import open_retriever
    from retrieval.errors import IndexFailure

    message = _read_message(text, file)
    settings = command_settings()
    try:
        retriever = open_retriever(settings.retrieval, index_dir=index_dir, embedder_spec=embedder_spec)
        service = DraftService(retriever, settings.llm, settings=settings.generation)
        result = service.draft(
            message,
            mode=DraftMode.LLM if use_llm else DraftMode.EXTRACTIVE,
            format=DraftFormat(draft_format),
            audience=audience,
            k=k,
        )
    except MessageError as exc:
        raise click.BadParameter(str(exc), param_hint="TEXT / --file") from exc
    except (IndexFailure, ValueError) as exc:
        raise click.ClickException(str(exc)) from exc
    if as_json:
        click.echo(json.dumps(result.to_dict(), ensure_ascii=False, indent=1))
    else:
        click.echo(format_draft(result))


def _read_message(text: str | None, file: Path | None) -> str:
    if text and file:
        raise click.UsageError("give the message as TEXT or with --file, not both")
    if file is not None:
        return file.read_bytes().decode("utf-8", errors="replace")
    if text == "-":
        return sys.stdin.read()
    if not text:
        raise click.UsageError("give the message as TEXT, '-' for standard input, or --file")
    return text


def format_draft(result) -> str:
    """The draft, then (short format) its sources, the notices and the flagged sentences
    (on the agent's terminal)."""
    from generation.format import render_sources
    from generation.types import DraftFormat

    lines = [result.text]
    if result.format == DraftFormat.SHORT and result.sources:  # beside the text to paste, not in it
        lines.extend(["", render_sources(result.sources)])
    if result.notices:
        lines.append("")
        lines.extend(f"! {notice}" for notice in result.notices)
    flagged = [s for s in result.sentences if s.flagged]
    lines.append("")
    lines.append(
        f"-- {result.mode.value}, {len(result.sentences)} phrases vérifiées, {len(flagged)} signalées"
        f", confiance {result.confidence:.2f}{', abstention' if result.abstained else ''}"
        f", {result.timings_ms.get('total_ms', 0):.0f} ms"
    )
    for sentence in flagged:
        lines.append(f"   [{sentence.verdict.value}] {sentence.text[:120]} — {sentence.reason}")
    return "\n".join(lines)
