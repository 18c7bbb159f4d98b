"""Retrieval benchmark: fiche-level ranking figures and answer-span recall, per mode.

Fiche-level figures use `SearchResult.fiches` order; span recall@k looks for the
gold answer spans in the first k passages of `SearchResult.passages`.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from evals.datasets import Question
from evals.metrics import calibration, hit_at_k, mean, percentiles, ranking_metrics, span_recall
from retrieval.base import Retriever
from retrieval.types import SearchMode, SearchResult

DEFAULT_KS = (1, 3, 5, 10)
RANKING_DEPTH = 10  # MRR@10 and nDCG@10 need ten fiches whatever the k asked for
SNIPPET_CHARS = 240
# SearchResult.confidence estimates the chance that a gold fiche is in the top 5
# (retrieval/dev/calibrate.py fits it so); its calibration is measured against that event.
CONFIDENCE_K = 5

Progress = Callable[[str], None]
# Reads a message and searches each of its needs, as drafts do (DraftService.understand).
UnderstandFn = Callable[[str, SearchMode, int], tuple[list, list[SearchResult]]]
FIRST_QUESTION, LATER_QUESTION = "e-mail: 1st question", "e-mail: later question"


@dataclass
class QuestionOutcome:
    id: str
    question: str
    kind: str
    gold: list[str]
    mode: str
    ranked: list[str]
    figures: dict[str, float]
    latency_ms: float
    confidence: float = 0.0
    top: list[dict] = field(default_factory=list)  # what was retrieved (for the worst-questions table)
    error: str = ""
    need: dict = field(default_factory=dict)  # message rows: the need it was searched with
    needs_read: int = 0  # message rows: how many questions the reading found

    def to_dict(self) -> dict:
        return dict(self.__dict__)


def evaluate_retrieval(
    retriever: Retriever,
    questions: Sequence[Question],
    *,
    modes: Sequence[SearchMode] = (SearchMode.BM25, SearchMode.DENSE, SearchMode.HYBRID),
    ks: Sequence[int] = DEFAULT_KS,
    progress: Progress | None = None,
    understand: UnderstandFn | None = None,
) -> dict:
    """Run every question in every mode; returns the result object `--json` prints.

    A row with a `message` is read and searched through `understand` (the drafts'
    reading), its first question scored on the first need, the next ones on the next
    needs (kinds FIRST_QUESTION / LATER_QUESTION); without `understand`, on `question`."""
    ks = sorted(set(ks))
    answerable = [q for q in questions if q.gold]
    with_spans = sum(1 for q in answerable if q.answers)
    outcomes: dict[str, list[QuestionOutcome]] = {}
    for mode in modes:
        outcomes[mode.value] = _run_mode(retriever, answerable, mode, ks, progress, understand)
    return {
        "questions": sum(len(_scored_golds(q, understand)) for q in answerable),
        "rows": len(answerable),
        "skipped_without_gold": len(questions) - len(answerable),
        "questions_with_spans": with_spans,
        "modes": [m.value for m in modes],
        "ks": ks,
        "metrics": {mode: aggregate(items, ks, with_spans > 0) for mode, items in outcomes.items()},
        "by_kind": {mode: by_kind(items) for mode, items in outcomes.items()},
        "calibration": {mode: confidence_calibration(items) for mode, items in outcomes.items()},
        "per_question": [o.to_dict() for items in outcomes.values() for o in items],
    }


def _run_mode(retriever, questions, mode, ks, progress, understand=None) -> list[QuestionOutcome]:
    """Every question in one mode; a mode that fails on its first question (e.g. dense
    on a BM25-only index) stops there instead of failing every question."""
    outcomes = []
    _warm_up(retriever, questions, mode)
    for number, question in enumerate(_progress(questions, mode, progress)):
        if question.message and understand is not None:
            ran = _run_message(understand, question, mode, ks)
        else:
            ran = [_run_one(retriever, question, mode, ks)]
        outcomes.extend(ran)
        if number == 0 and ran and all(o.error for o in ran):  # an e-mail gives one outcome per question
            if progress:
                progress(f"{mode.value}: unavailable ({ran[0].error})")
            break
    return outcomes


def _warm_up(retriever, questions, mode) -> None:
    """One untimed query first: the first one of a process loads models and caches, and
    its latency (seconds, not milliseconds) would flatten the histogram of the others."""
    if questions:
        try:
            retriever.search(questions[0].question, k=1, mode=mode)
        except Exception:  # the timed run reports what fails, question by question
            pass


def _scored_golds(question: Question, understand: UnderstandFn | None) -> list[int]:
    """The positions of the golds a row is scored on: each non-empty gold of an e-mail
    read through `understand`, else the row's `gold` alone."""
    if question.message and understand is not None:
        return [j for j, gold in enumerate(question.golds) if gold]
    return [0]


def _progress(questions: Sequence[Question], mode: SearchMode, progress: Progress | None):
    for number, question in enumerate(questions, start=1):
        if progress and (number == 1 or number % 50 == 0 or number == len(questions)):
            progress(f"{mode.value}: {number}/{len(questions)}")
        yield question


def _run_one(retriever: Retriever, question: Question, mode: SearchMode, ks: list[int]) -> QuestionOutcome:
    depth = max(RANKING_DEPTH, *ks)
    start = time.perf_counter()
    try:
        result = retriever.search(question.question, k=depth, mode=mode)
    except Exception as exc:  # one failing question must not sink the run; it is counted
        return QuestionOutcome(
            question.id, question.question, question.kind, question.gold, mode.value, [],
            {}, (time.perf_counter() - start) * 1000, error=f"{type(exc).__name__}: {exc}",
        )
    latency_ms = (time.perf_counter() - start) * 1000
    ranked = [hit.fiche_id for hit in result.fiches]
    figures = ranking_metrics(ranked, question.gold, ks)
    if question.answers:
        for k in ks:
            figures[f"span_recall@{k}"] = span_recall(question.answers, [p.text for p in result.passages[:k]])
    return QuestionOutcome(
        question.id, question.question, question.kind, question.gold, mode.value, ranked[:depth],
        figures, latency_ms, result.confidence, _top(result),
    )


def _run_message(understand: UnderstandFn, question: Question, mode: SearchMode, ks: list[int]) -> list[QuestionOutcome]:
    """One outcome per gold question of an e-mail: the j-th gold on the j-th need read
    (the last need when the reading found fewer)."""
    depth = max(RANKING_DEPTH, *ks)
    start = time.perf_counter()
    labels = question.labels
    try:
        needs, results = understand(question.message, mode, depth)
    except Exception as exc:  # counted as an error, for every question of the e-mail
        elapsed = (time.perf_counter() - start) * 1000
        return [
            QuestionOutcome(_row_id(question, j), labels[j], _message_kind(j), question.golds[j], mode.value, [], {},
                            elapsed, error=f"{type(exc).__name__}: {exc}")
            for j in _scored_golds(question, understand)
        ]
    latency_ms = (time.perf_counter() - start) * 1000
    outcomes = []
    for j, gold in enumerate(question.golds):
        if not gold:
            continue
        index = min(j, len(results) - 1)
        result = results[index]
        ranked = [hit.fiche_id for hit in result.fiches]
        figures = ranking_metrics(ranked, gold, ks)
        if j == 0 and question.answers:
            for k in ks:
                figures[f"span_recall@{k}"] = span_recall(question.answers, [p.text for p in result.passages[:k]])
        outcomes.append(QuestionOutcome(
            _row_id(question, j), labels[j], _message_kind(j), gold, mode.value, ranked[:depth], figures,
            latency_ms / max(1, len(results)), result.confidence, _top(result),
            need=needs[index].to_dict(), needs_read=len(needs),
        ))
    return outcomes


def _row_id(question: Question, j: int) -> str:
    return question.id if j == 0 else f"{question.id}#q{j + 1}"


def _message_kind(j: int) -> str:
    return FIRST_QUESTION if j == 0 else LATER_QUESTION


def _top(result: SearchResult, count: int = 3) -> list[dict]:
    return [
        {
            "fiche_id": p.fiche_id,
            "title": p.chunk.title,
            "section": p.chunk.section,
            "score": round(float(p.score), 4),
            "snippet": " ".join(p.text.split())[:SNIPPET_CHARS],
        }
        for p in result.passages[:count]
    ]


def aggregate(outcomes: Sequence[QuestionOutcome], ks: Sequence[int], spans: bool) -> dict:
    """Means over the questions that ran; latency percentiles; span recall only over
    the questions that have spans (None when the set has none)."""
    ok = [o for o in outcomes if not o.error]
    if outcomes and not ok:
        return {"questions": 0, "errors": len(outcomes), "error": outcomes[0].error}
    figures: dict[str, float | int | None] = {}
    for k in ks:
        figures[f"hit@{k}"] = mean(o.figures[f"hit@{k}"] for o in ok)
        figures[f"recall@{k}"] = mean(o.figures[f"recall@{k}"] for o in ok)
    figures["mrr@10"] = mean(o.figures["mrr@10"] for o in ok)
    figures["ndcg@10"] = mean(o.figures["ndcg@10"] for o in ok)
    for k in ks:
        with_span = [o.figures[f"span_recall@{k}"] for o in ok if f"span_recall@{k}" in o.figures]
        figures[f"span_recall@{k}"] = mean(with_span) if spans and with_span else None
    reliability = confidence_calibration(ok)
    figures["confidence_ece"] = reliability["ece"]
    figures["confidence_brier"] = reliability["brier"]
    latencies = percentiles([o.latency_ms for o in ok])
    figures.update({f"latency_{name}_ms": round(value, 2) for name, value in latencies.items()})
    figures["questions"] = len(ok)
    figures["errors"] = len(outcomes) - len(ok)
    return figures


def confidence_calibration(outcomes: Sequence[QuestionOutcome]) -> dict:
    """ECE, Brier score and reliability table of the confidence against a hit in the top
    CONFIDENCE_K fiches."""
    ok = [o for o in outcomes if not o.error]
    return calibration([o.confidence for o in ok], [hit_at_k(o.ranked, o.gold, CONFIDENCE_K) for o in ok])


def by_kind(outcomes: Sequence[QuestionOutcome]) -> dict[str, dict]:
    groups: dict[str, list[QuestionOutcome]] = defaultdict(list)
    for outcome in outcomes:
        if not outcome.error:
            groups[outcome.kind or "all"].append(outcome)
    table = {}
    for kind, items in sorted(groups.items()):
        names = [n for n in items[0].figures if n.startswith("hit@")] + ["mrr@10", "ndcg@10"]
        table[kind] = {"questions": len(items), **{n: mean(o.figures[n] for o in items) for n in names}}
    return table


def first_gold_rank(row: dict) -> int | None:
    """The rank (1-based) of the first gold fiche in a question's ranking; None: missed."""
    return next((i for i, fiche_id in enumerate(row["ranked"], 1) if fiche_id in row["gold"]), None)


def worst_questions(result: dict, mode: str, count: int = 10) -> list[dict]:
    """The questions of `mode` whose first gold fiche ranks lowest: misses first, then by
    rank, worst first (ties: id); questions with their gold first are not listed."""
    rows = [r for r in result["per_question"] if r["mode"] == mode and not r["error"]]
    rows = [r for r in rows if first_gold_rank(r) != 1]
    rows.sort(key=lambda r: (first_gold_rank(r) is not None, -(first_gold_rank(r) or 0), r["id"]))
    return rows[:count]

