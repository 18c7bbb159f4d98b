"""`guichet eval …` and `guichet bench …` (registered as plugins in pyproject.toml)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from evals.cli_support import comma_list, load_questions, open_retriever_or_fail, print_json, progress
from evals.datasets import restrict_to

GATE_FAILED_EXIT = 3


def _index_shown(index_dir: Path | None, retriever) -> str:
    """The index searched, as given or as configured (a report never says None)."""
    from evals.runtime import shown_path

    location = index_dir or getattr(getattr(retriever, "index", None), "location", "")
    return shown_path(location) if location else "the configured index"


def _embedder_shown(embedder: str, retriever) -> str:
    """`auto` with the embedder it resolved to (the index's own)."""
    if embedder != "auto":
        return embedder
    built = (retriever.index_info() or {}).get("embedder")
    return f"the index's own ({built})" if built else "the index's own"


def read_baseline(path: Path | None, benchmark: str, gate_metric: str | None) -> dict | None:
    """The baseline result, read before the run so that a bad file fails fast."""
    from evals.report import BaselineError, load_baseline

    if gate_metric and not path:
        raise click.UsageError("--gate needs --baseline")
    if not path:
        return None
    try:
        return load_baseline(path, benchmark)
    except BaselineError as exc:
        raise click.ClickException(str(exc)) from exc


def finish(result: dict, *, as_json: bool, report: Path | None, baseline_result: dict | None,
           gate_metric: str | None, max_drop: float, table) -> None:
    """Compare with the baseline, write the report, print; exit 3 when the gate fails."""
    from evals.report import BaselineError, gate, write_report

    outcome = None
    if baseline_result is not None and gate_metric:
        try:
            outcome = gate(result, baseline_result, gate_metric, max_drop)
        except BaselineError as exc:
            raise click.ClickException(str(exc)) from exc
        if outcome:
            result["gate"] = {"metric": outcome.metric, "max_drop": max_drop, "passed": outcome.passed,
                              "failures": outcome.failures}
    if report:
        paths = write_report(result, report, baseline=baseline_result, gate_outcome=outcome)
        progress(f"report: {paths['html']}")
    if as_json:
        print_json(result)
    else:
        table(result)
        if outcome:
            click.echo(f"gate {outcome.metric} (max drop {max_drop}): {'passed' if outcome.passed else 'FAILED'}")
            for failure in outcome.failures:
                click.echo(f"  {failure}")
    if outcome and not outcome.passed:
        sys.exit(GATE_FAILED_EXIT)


def baseline_options(command):
    command = click.option("--max-drop", type=float, default=0.02, show_default=True,
                           help="Largest drop of the gate metric tolerated.")(command)
    command = click.option("--gate", "gate_metric", default=None,
                           help="Metric that must not drop, e.g. hit@5 (all modes) or hybrid/hit@5.")(command)
    command = click.option("--baseline", type=click.Path(path_type=Path), default=None,
                           help="A previous result.json (or --json output) to compare with.")(command)
    return command


@click.group("eval")
def eval_group() -> None:
    """Measure retrieval and drafts on question sets; build sets from the corpus."""


@eval_group.command("build-sets")
@click.option("--source", required=True, help="Corpus to derive questions from (as for `guichet ingest --source`).")
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path))
@click.option("--seed", default=13, show_default=True, help="Seed of the per-kind samples.")
@click.option("--max-per-kind", default=0, show_default=True, help="Sample at most N questions per kind (0: all).")
def build_sets_command(source: str, out_dir: Path, seed: int, max_per_kind: int) -> None:
    """Write titles.jsonl (leaky), labels.jsonl and uncovered.jsonl derived from SOURCE."""
    from evals.build_sets import build_sets, write_sets
    from evals.corpus import CorpusError, read_documents

    try:
        documents = read_documents(source, progress=progress)
    except CorpusError as exc:
        raise click.ClickException(str(exc)) from exc
    built = build_sets(documents, seed=seed, max_per_kind=max_per_kind)
    paths = write_sets(built, out_dir)
    (out_dir / "build-info.json").write_text(json.dumps(
        {"source": source, "seed": seed, "max_per_kind": max_per_kind, "counts": built.counts()}, indent=1))
    for kind, count in built.counts().items():
        click.echo(f"{kind:18} {count:6}")
    click.echo(f"written: {', '.join(str(p) for p in paths.values())}")


@eval_group.command("retrieval")
@click.option("--dataset", required=True, type=click.Path(path_type=Path), help="JSONL question set.")
@click.option("--index-dir", type=click.Path(path_type=Path), default=None, help="Index folder (default GUICHET_INDEX_DIR).")
@click.option("--embedder", default="auto", show_default=True, help="Query embedder spec; auto = the index's own.")
@click.option("--modes", default="bm25,dense,hybrid", show_default=True, callback=comma_list(str))
@click.option("--k", "ks", default="1,3,5,10", show_default=True, callback=comma_list(int))
@click.option("--only-indexed", is_flag=True, help="Keep only the questions whose gold fiches are all in the index.")
@click.option("--limit", default=0, help="Evaluate the first N questions only (0: all).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object on stdout.")
@click.option("--report", type=click.Path(file_okay=False, path_type=Path), default=None, help="Write a report here.")
@click.option("--reader", type=click.Choice(["rules", "llm"]), default=None,
              help="Who reads e-mail rows (`message`): rules, or the LLM (GUICHET_LLM_BASE_URL). Default: the settings'.")
@baseline_options
def retrieval_command(dataset, index_dir, embedder, modes, ks, only_indexed, limit, as_json, report, reader, baseline,
                      gate_metric, max_drop) -> None:
    """hit@k, recall@k, MRR@10, nDCG@10, answer-span recall@k and latency, per mode."""
    from evals.retrieval_eval import evaluate_retrieval
    from evals.runtime import draft_service, snapshot
    from retrieval.types import SearchMode

    try:
        search_modes = [SearchMode(m) for m in modes]
    except ValueError as exc:
        raise click.BadParameter(f"{exc}; choose among bm25, dense, hybrid", param_hint="--modes") from exc
    if not ks or min(ks) < 1:
        raise click.BadParameter("k values must be positive integers", param_hint="--k")
    questions = load_questions(dataset)
    baseline_result = read_baseline(baseline, "retrieval", gate_metric)
    retriever = open_retriever_or_fail(index_dir, embedder)
    questions, dropped = _select(questions, retriever, only_indexed, limit)
    service = draft_service(retriever, reader=_checked_reader(reader))

    def understand(message: str, mode, k: int):
        return service.understand(message, mode=mode, k=k)

    result = {"benchmark": "retrieval"}
    result |= evaluate_retrieval(retriever, questions, modes=search_modes, ks=ks, progress=progress,
                                 understand=understand)
    result["config"] = snapshot(dataset=dataset, index_dir=_index_shown(index_dir, retriever),
                                embedder=_embedder_shown(embedder, retriever), reader=service.settings.reader, only_indexed=only_indexed,
                                dropped_not_indexed=dropped, limit=limit, index=retriever.index_info())
    finish(result, as_json=as_json, report=report, baseline_result=baseline_result, gate_metric=gate_metric, max_drop=max_drop,
           table=_retrieval_table)


def _checked_reader(reader: str | None) -> str | None:
    from api.commands import command_settings

    if reader == "llm" and not command_settings().llm.configured:
        raise click.ClickException("--reader llm needs an endpoint: set GUICHET_LLM_BASE_URL")
    return reader


def _select(questions, retriever, only_indexed: bool, limit: int):
    from evals.runtime import known_fiches

    dropped = 0
    if only_indexed:
        known = known_fiches(retriever, {g for q in questions for g in q.gold})
        kept = restrict_to(questions, known)
        dropped = len(questions) - len(kept)
        questions = kept
        if not questions:
            raise click.ClickException("no question of the set has its gold fiches in this index")
    return (questions[:limit] if limit else questions), dropped


def _retrieval_table(result: dict) -> None:
    names = ["hit@1", "hit@5", "recall@5", "mrr@10", "ndcg@10", "span_recall@5", "latency_p50_ms", "latency_p95_ms"]
    names = [n for n in names if n in next(iter(result["metrics"].values()))]
    click.echo(f"{result['questions']} questions")
    click.echo("mode    " + "".join(f"{n:>16}" for n in names))
    for mode, figures in result["metrics"].items():
        click.echo(f"{mode:8}" + "".join(f"{_cell(figures.get(n)):>16}" for n in names))


def _cell(value) -> str:
    if value is None:
        return "—"
    return f"{value:.3f}" if isinstance(value, float) else str(value)


@eval_group.command("drafts")
@click.option("--dataset", required=True, type=click.Path(path_type=Path), help="JSONL question set (covered).")
@click.option("--uncovered", type=click.Path(path_type=Path), default=None,
              help="JSONL set the corpus does not answer (abstention positives).")
@click.option("--mode", type=click.Choice(["extractive", "llm"]), default="extractive", show_default=True)
@click.option("--index-dir", type=click.Path(path_type=Path), default=None)
@click.option("--embedder", default="auto", show_default=True)
@click.option("--only-indexed", is_flag=True, help="Keep only the questions whose gold fiches are all in the index.")
@click.option("--limit", default=0, help="Draft the first N covered questions only (0: all).")
@click.option("--judge/--no-judge", default=None,
              help="LLM-judge faithfulness (default: on when GUICHET_LLM_BASE_URL is set).")
@click.option("--json", "as_json", is_flag=True)
@click.option("--report", type=click.Path(file_okay=False, path_type=Path), default=None)
@click.option("--reader", type=click.Choice(["rules", "llm"]), default=None,
              help="Who reads the messages: rules, or the LLM (GUICHET_LLM_BASE_URL). Default: the settings'.")
@baseline_options
def drafts_command(dataset, uncovered, mode, index_dir, embedder, only_indexed, limit, judge, as_json, report,
                   reader, baseline, gate_metric, max_drop) -> None:
    """Citation coverage and validity, support rate, span recall, abstention, latency."""
    from api.commands import command_settings
    from evals.drafts_eval import evaluate_drafts
    from evals.judge import LLMJudge
    from evals.runtime import draft_service, snapshot
    from generation.types import DraftFormat, DraftMode

    questions = load_questions(dataset)
    negatives = load_questions(uncovered) if uncovered else []
    with_gold = [q.id for q in negatives if q.gold]
    if with_gold:
        raise click.ClickException(f"{uncovered}: questions of the uncovered set must have an empty gold list; "
                                   f"{len(with_gold)} have one (first: {with_gold[0]!r})")
    baseline_result = read_baseline(baseline, "drafts", gate_metric)
    llm_settings = command_settings().llm
    if mode == "llm" and not llm_settings.configured:
        raise click.ClickException("--mode llm needs an endpoint: set GUICHET_LLM_BASE_URL")
    if judge and not llm_settings.configured:
        raise click.ClickException("--judge needs an endpoint: set GUICHET_LLM_BASE_URL")
    retriever = open_retriever_or_fail(index_dir, embedder)
    questions, dropped = _select(questions, retriever, only_indexed, limit)
    service = draft_service(retriever, llm_settings, reader=_checked_reader(reader))
    judge_client = LLMJudge(llm_settings) if (judge is None and llm_settings.configured) or judge else None

    def draft(message: str):
        return service.draft(message, mode=DraftMode(mode), format=DraftFormat.SHORT, audience=None)

    result = {"benchmark": "drafts"}
    try:
        result |= evaluate_drafts(draft, questions, negatives, judge=judge_client, progress=progress)
    finally:
        if judge_client:
            judge_client.close()
    result["config"] = snapshot(dataset=dataset, uncovered=uncovered, mode=mode, reader=service.settings.reader,
                                index_dir=_index_shown(index_dir, retriever),
                                embedder=_embedder_shown(embedder, retriever), only_indexed=only_indexed, dropped_not_indexed=dropped,
                                limit=limit, llm_model=llm_settings.model if llm_settings.configured else None,
                                index=retriever.index_info())
    finish(result, as_json=as_json, report=report, baseline_result=baseline_result, gate_metric=gate_metric, max_drop=max_drop,
           table=_drafts_table)


def _drafts_table(result: dict) -> None:
    click.echo(f"{result['questions']} covered + {result['uncovered_questions']} uncovered questions")
    for name, value in result["metrics"].items():
        click.echo(f"{name:24} {_cell(value):>10}")
    for source, counts in result.get("cited_sources", {}).items():
        click.echo(f"cited {source:18} {counts['drafts']:>4} drafts, {counts['fiches']} fiches")
    if "judge" in result:
        click.echo(f"{'judge faithfulness':24} {_cell(result['judge']['faithfulness']):>10}")


@eval_group.command("verify")
@click.option("--index-dir", type=click.Path(path_type=Path), default=None, help="Index folder (default GUICHET_INDEX_DIR).")
@click.option("--embedder", default="auto", show_default=True, help="Embedder of the semantic check; auto = the index's own.")
@click.option("--count", "per_kind", default=200, show_default=True, type=click.IntRange(min=1),
              help="Sentences per kind (correct ones and each kind of error).")
@click.option("--seed", default=13, show_default=True, help="Seed of the sampled sentences and injected errors.")
@click.option("--semantic/--no-semantic", default=True, show_default=True,
              help="Semantic support with the embedder (as the draft service does by default).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object on stdout.")
@click.option("--report", type=click.Path(file_okay=False, path_type=Path), default=None, help="Write a report here.")
@baseline_options
def verify_command(index_dir, embedder, per_kind, seed, semantic, as_json, report, baseline, gate_metric, max_drop) -> None:
    """How often the verifier catches injected errors, and flags correct sentences."""
    from api.commands import command_settings
    from evals.runtime import snapshot
    from evals.verify_bench import run_verify_benchmark

    baseline_result = read_baseline(baseline, "verify", gate_metric)
    retriever = open_retriever_or_fail(index_dir, embedder)
    if semantic and retriever.embedder is None:
        raise click.ClickException("--semantic needs an index built with an embedder (or pass --no-semantic)")
    min_support = command_settings().generation.min_support
    result = run_verify_benchmark(retriever, per_kind=per_kind, seed=seed, semantic=semantic,
                                  min_support=min_support, progress=progress)
    result["config"] = snapshot(index_dir=index_dir, embedder=embedder, count=per_kind, seed=seed,
                                semantic=semantic, min_support=min_support, index=retriever.index_info())
    finish(result, as_json=as_json, report=report, baseline_result=baseline_result, gate_metric=gate_metric,
           max_drop=max_drop, table=_verify_table)


def _verify_table(result: dict) -> None:
    click.echo(f"{'kind':16} {'flagged':>8} {'total':>6} {'rate':>7}  target")
    for kind, figures in result["kinds"].items():
        flagged = figures.get("caught", figures.get("flagged"))
        target_key = kind if kind in result["targets"] else f"false_flags_{kind}"
        target = result["targets"].get(target_key)
        met = result["met"].get(target_key)
        bound = "≤" if target_key.startswith("false") else "≥"
        mark = "" if target is None else f"{bound} {target:.2f} {'ok' if met else 'MISSED'}"
        click.echo(f"{kind:16} {flagged:>8} {figures['total']:>6} {figures['rate']:>7.3f}  {mark}")
        for part in ("within_lists", "beyond_lists"):
            if part in figures:
                share = figures[part]
                click.echo(f"  {part:14} {share['caught']:>8} {share['total']:>6} {_cell(share['rate']):>7}")
    metrics = result["metrics"]
    click.echo(f"suggested the right passage for {_cell(metrics['suggestion_wrong_passage'])} of wrong_passage; "
               f"per sentence p50 {_cell(metrics['latency_p50_ms'])} ms, p95 {_cell(metrics['latency_p95_ms'])} ms")


@click.group("bench")
def bench_group() -> None:
    """Performance benchmarks: index build, query latency, drafts, HTTP API, soak."""


def _register_bench_commands() -> None:
    from evals.bench import api, drafts, index, query, soak

    for module in (index, query, drafts, api, soak):
        bench_group.add_command(module.command)


_register_bench_commands()
