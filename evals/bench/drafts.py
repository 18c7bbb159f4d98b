"""`guichet bench drafts`: extractive draft latency, end to end, in-process."""

from __future__ import annotations

from pathlib import Path

import click

from evals.bench.common import Target, emit, latency_figures, timed_ms
from evals.cli_support import progress

TARGETS = [Target("extractive draft p95 ≤ 300 ms", "p95_ms", 300)]
WARMUP = 2


def run_drafts_bench(service, messages: list[str]) -> dict:
    from generation.types import DraftFormat, DraftMode

    def draft(message: str):
        return service.draft(message, mode=DraftMode.EXTRACTIVE, format=DraftFormat.EMAIL)

    for message in messages[:WARMUP]:
        draft(message)
    progress(f"drafts bench: {len(messages)} extractive drafts")
    latencies, abstained, errors = [], 0, 0
    for message in messages:
        try:
            elapsed, result = timed_ms(draft, message)
        except Exception:  # counted; a benchmark reports failures instead of stopping
            errors += 1
            continue
        latencies.append(elapsed)
        abstained += int(result.abstained)
    return {"drafts": len(latencies), "abstained": abstained, "errors": errors, **latency_figures("", latencies)}


@click.command("drafts")
@click.option("--index-dir", type=click.Path(path_type=Path), default=None)
@click.option("--embedder", default="auto", show_default=True)
@click.option("--dataset", type=click.Path(path_type=Path), default=None,
              help="Messages from a JSONL set (default: built from the indexed fiches).")
@click.option("--count", default=100, show_default=True)
@click.option("--json", "as_json", is_flag=True)
def command(index_dir, embedder, dataset, count, as_json) -> None:
    """Extractive draft latency p50/p95/p99 in-process (retrieval, drafting, verification)."""
    from evals.bench.query import questions_from_index
    from evals.cli_support import load_questions, open_retriever_or_fail
    from evals.runtime import draft_service

    if count < 1:
        raise click.BadParameter("must be at least 1", param_hint="--count")
    retriever = open_retriever_or_fail(index_dir, embedder)
    if dataset:
        questions = [q.message or q.question for q in load_questions(dataset)]  # e-mails drafted whole
        messages = [questions[i % len(questions)] for i in range(count)]
    else:
        messages = questions_from_index(retriever, count)
    figures = run_drafts_bench(draft_service(retriever), messages)
    emit(figures, TARGETS, as_json=as_json, title="bench drafts (extractive, in-process)")
