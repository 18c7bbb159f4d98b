"""Draft benchmark: how well drafts are grounded in the passages they cite.

Deterministic figures come from the verifier's verdicts on each sentence
(`Draft.sentences`); the LLM judge (optional) is reported apart.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from evals.datasets import Question
from evals.judge import JudgeError, LLMJudge
from evals.metrics import mean, percentiles, precision_recall, span_recall
from generation.text import strip_citations
from generation.types import Draft, SentenceCheck, Verdict

DraftFn = Callable[[str], Draft]
Progress = Callable[[str], None]


@dataclass
class DraftOutcome:
    id: str
    question: str
    kind: str
    gold: list[str]
    covered: bool  # the corpus answers it (non-empty gold)
    abstained: bool = False
    latency_ms: float = 0.0
    claims: int = 0
    cited_claims: int = 0
    citations: int = 0
    valid_citations: int = 0
    supported: int = 0
    unsupported_numbers: int = 0
    cited_gold: bool = False
    span_recall_cited: float | None = None
    span_recall_draft: float | None = None
    judged: int = 0
    entailed: int = 0
    confidence: float = 0.0
    flagged: list[str] = field(default_factory=list)
    error: str = ""
    cited_later_gold: list[bool] = field(default_factory=list)  # e-mails: per later question
    needs: list[dict] = field(default_factory=list)  # e-mails: what the reading understood
    cited_sources: dict[str, int] = field(default_factory=dict)  # source -> fiches this draft cites
    text: str = ""  # the draft, for reading it (reports)

    def to_dict(self) -> dict:
        return dict(self.__dict__)


def claim_sentences(draft: Draft) -> list[SentenceCheck]:
    return [s for s in draft.sentences if s.verdict != Verdict.NOT_A_CLAIM]


def measure_draft(question: Question, draft: Draft, latency_ms: float) -> DraftOutcome:
    claims = claim_sentences(draft)
    numbers = {c.number for c in draft.citations}
    cited_numbers = [n for s in claims for n in s.citations]
    cited_fiches = {c.passage.fiche_id for c in draft.citations}
    outcome = DraftOutcome(
        question.id, question.question, question.kind, question.gold, bool(question.gold),
        abstained=draft.abstained,
        latency_ms=latency_ms,
        claims=len(claims),
        cited_claims=sum(1 for s in claims if s.citations),
        citations=len(cited_numbers),
        valid_citations=sum(1 for n in cited_numbers if n in numbers),
        supported=sum(1 for s in claims if s.verdict == Verdict.SUPPORTED),
        unsupported_numbers=sum(len(s.unsupported_numbers) for s in claims),
        cited_gold=bool(cited_fiches & set(question.gold)),
        confidence=draft.confidence,
        flagged=[s.text for s in claims if s.flagged][:5],
        cited_later_gold=[bool(cited_fiches & set(gold)) for gold in question.golds[1:] if gold],
        needs=[n.to_dict() for n in draft.needs] if question.message else [],
        cited_sources=dict(Counter(s.source for s in draft.sources)),
        text=draft.text,
    )
    if question.answers:
        outcome.span_recall_cited = span_recall(question.answers, [c.passage.text for c in draft.citations])
        # The [n] markers are layout: a span cut by its citation is still in the draft.
        outcome.span_recall_draft = span_recall(question.answers, [strip_citations(draft.text)])
    return outcome


def judge_draft(judge: LLMJudge, draft: Draft, outcome: DraftOutcome) -> None:
    """Ask the judge about each cited claim sentence (uncited ones count as not entailed)."""
    passages = {c.number: c.passage.text for c in draft.citations}
    for sentence in claim_sentences(draft):
        texts = [passages[n] for n in sentence.citations if n in passages]
        entailed = bool(texts) and judge.entailed(sentence.text, texts)
        outcome.judged += 1
        outcome.entailed += int(entailed)


def evaluate_drafts(
    draft_fn: DraftFn,
    questions: Sequence[Question],
    uncovered: Sequence[Question] = (),
    *,
    judge: LLMJudge | None = None,
    progress: Progress | None = None,
) -> dict:
    """Draft every question (covered, then uncovered); returns the `--json` object."""
    everything = [q for q in questions if q.gold] + [q for q in uncovered if not q.gold]
    outcomes: list[DraftOutcome] = []
    judge_errors: list[str] = []
    for number, question in enumerate(everything, start=1):
        if progress and (number == 1 or number % 20 == 0 or number == len(everything)):
            progress(f"drafts: {number}/{len(everything)}")
        outcome = _draft_one(draft_fn, question)
        if judge is not None and outcome.draft is not None and not outcome.draft.abstained:
            try:
                judge_draft(judge, outcome.draft, outcome.result)
            except JudgeError as exc:
                judge_errors.append(f"{question.id}: {exc}")
        outcomes.append(outcome.result)
    result = {
        "questions": sum(1 for o in outcomes if o.covered),
        "uncovered_questions": sum(1 for o in outcomes if not o.covered),
        "metrics": aggregate(outcomes),
        "cited_sources": cited_sources(outcomes),
        "abstention_curve": abstention_curve(outcomes),
        "per_question": [o.to_dict() for o in outcomes],
    }
    if judge is not None:
        result["judge"] = judge_summary(outcomes, judge_errors)
    return result


@dataclass
class _Drafted:
    result: DraftOutcome
    draft: Draft | None


def _draft_one(draft_fn: DraftFn, question: Question) -> _Drafted:
    start = time.perf_counter()
    try:
        draft = draft_fn(question.message or question.question)
    except Exception as exc:  # counted as an error; the run goes on
        outcome = DraftOutcome(question.id, question.question, question.kind, question.gold, bool(question.gold))
        outcome.error = f"{type(exc).__name__}: {exc}"
        return _Drafted(outcome, None)
    return _Drafted(measure_draft(question, draft, (time.perf_counter() - start) * 1000), draft)


def aggregate(outcomes: Sequence[DraftOutcome]) -> dict:
    ok = [o for o in outcomes if not o.error]
    answered = [o for o in ok if o.covered and not o.abstained]
    claims = sum(o.claims for o in answered)
    citations = sum(o.citations for o in answered)
    precision, recall = precision_recall([o.abstained for o in ok], [not o.covered for o in ok])
    cited_spans = [o.span_recall_cited for o in answered if o.span_recall_cited is not None]
    draft_spans = [o.span_recall_draft for o in answered if o.span_recall_draft is not None]
    figures = {
        "citation_coverage": sum(o.cited_claims for o in answered) / claims if claims else 0.0,
        "citation_validity": sum(o.valid_citations for o in answered) / citations if citations else 0.0,
        "support_rate": sum(o.supported for o in answered) / claims if claims else 0.0,
        "unsupported_numbers": sum(o.unsupported_numbers for o in answered),
        "cited_gold_rate": mean(1.0 if o.cited_gold else 0.0 for o in answered),
        "cited_later_gold_rate": _later_gold_rate(answered),
        "span_recall_cited": mean(cited_spans) if cited_spans else None,
        "span_recall_draft": mean(draft_spans) if draft_spans else None,
        "abstention_precision": precision,
        "abstention_recall": recall,
        "abstained_covered": sum(1 for o in ok if o.covered and o.abstained),
        "abstained_uncovered": sum(1 for o in ok if not o.covered and o.abstained),
        "claims": claims,
        "drafts": len(ok),
        "errors": len(outcomes) - len(ok),
    }
    figures.update({f"latency_{n}_ms": round(v, 2) for n, v in percentiles([o.latency_ms for o in ok]).items()})
    return figures


def cited_sources(outcomes: Sequence[DraftOutcome]) -> dict[str, dict[str, int]]:
    """Per source (a key of ingest.model.SOURCES), over the answered covered questions:
    `drafts` citing at least one of its fiches, `fiches` cited in all (a fiche counted once
    per draft). Beside `metrics`, not in it: counts, not rates a gate would compare."""
    summary: dict[str, dict[str, int]] = {}
    for outcome in outcomes:
        if outcome.error or outcome.abstained or not outcome.covered:
            continue
        for source, fiches in outcome.cited_sources.items():
            entry = summary.setdefault(source, {"drafts": 0, "fiches": 0})
            entry["drafts"] += 1
            entry["fiches"] += fiches
    return dict(sorted(summary.items()))


def _later_gold_rate(answered: Sequence[DraftOutcome]) -> float | None:
    """Share of the later questions of e-mails whose gold fiche the draft cites."""
    later = [cited for o in answered for cited in o.cited_later_gold]
    return mean(1.0 if cited else 0.0 for cited in later) if later else None


def abstention_curve(outcomes: Sequence[DraftOutcome], thresholds=(0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7)) -> list[dict]:
    """Abstention precision/recall if drafts abstained below each confidence threshold:
    what to read when recalibrating GUICHET_GENERATION_MIN_CONFIDENCE."""
    ok = [o for o in outcomes if not o.error]
    curve = []
    for threshold in thresholds:
        precision, recall = precision_recall([o.confidence < threshold for o in ok], [not o.covered for o in ok])
        curve.append({"threshold": threshold, "precision": round(precision, 4), "recall": round(recall, 4)})
    return curve


def judge_summary(outcomes: Sequence[DraftOutcome], errors: list[str]) -> dict:
    judged = sum(o.judged for o in outcomes)
    return {
        "faithfulness": sum(o.entailed for o in outcomes) / judged if judged else None,
        "judged_sentences": judged,
        "errors": len(errors),
        "error_examples": errors[:5],
    }
