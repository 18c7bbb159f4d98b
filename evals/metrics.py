"""Metric arithmetic: pure functions on ranked IDs, texts and counts.

Relevance is binary (a fiche is in the gold list or not); `gold` order is kept for
reports only. Every function returns a float in [0, 1] unless it says otherwise.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable, Sequence

import numpy as np


def hit_at_k(ranked: Sequence[str], gold: Iterable[str], k: int) -> float:
    gold = set(gold)
    return 1.0 if any(item in gold for item in ranked[:k]) else 0.0


def recall_at_k(ranked: Sequence[str], gold: Iterable[str], k: int) -> float:
    gold = set(gold)
    if not gold:
        return 0.0
    return len(gold & set(ranked[:k])) / len(gold)


def mrr_at_k(ranked: Sequence[str], gold: Iterable[str], k: int = 10) -> float:
    gold = set(gold)
    for rank, item in enumerate(ranked[:k], start=1):
        if item in gold:
            return 1.0 / rank
    return 0.0


def ndcg_at_k(ranked: Sequence[str], gold: Iterable[str], k: int = 10) -> float:
    gold = set(gold)
    if not gold:
        return 0.0
    dcg = sum(1.0 / math.log2(rank + 1) for rank, item in enumerate(ranked[:k], start=1) if item in gold)
    ideal = sum(1.0 / math.log2(rank + 1) for rank in range(1, min(len(gold), k) + 1))
    return dcg / ideal


def dedupe(items: Iterable[str]) -> list[str]:
    """Keep the first occurrence of each item, in order (fiche IDs of ranked passages)."""
    seen: set[str] = set()
    return [x for x in items if not (x in seen or seen.add(x))]


_SPACES = re.compile(r"\s+")
_EMPHASIS = re.compile(r"[*_`]")
_MARKUP = re.compile(r"[#>|]")
_SPACE_BEFORE_PUNCTUATION = re.compile(r"\s+(?=[.,;:!?])")
_QUOTES = str.maketrans({"’": "'", "‘": "'", "«": '"', "»": '"', "“": '"', "”": '"', "–": "-", "—": "-"})


def normalise(text: str) -> str:
    """Case, whitespace (non-breaking included, and before punctuation), apostrophes and
    Markdown marks don't count: "fixé à **62 ans**." reads "fixé à 62 ans."."""
    text = unicodedata.normalize("NFKC", text).translate(_QUOTES)
    text = _MARKUP.sub(" ", _EMPHASIS.sub("", text))
    return _SPACE_BEFORE_PUNCTUATION.sub("", _SPACES.sub(" ", text)).strip().casefold()


def span_recall(spans: Sequence[str], texts: Iterable[str]) -> float:
    """Share of the answer spans found verbatim (after normalisation) in one of the texts."""
    if not spans:
        return 0.0
    haystacks = [normalise(t) for t in texts]
    found = sum(1 for span in spans if any(normalise(span) in h for h in haystacks))
    return found / len(spans)


def percentiles(values: Sequence[float], qs: Sequence[int] = (50, 95, 99)) -> dict[str, float]:
    """{"p50": …, "p95": …} with linear interpolation; empty input gives NaN-free zeros."""
    if not len(values):
        return {f"p{q}": 0.0 for q in qs}
    array = np.asarray(values, dtype=float)
    return {f"p{q}": float(np.percentile(array, q)) for q in qs}


def precision_recall(predicted: Sequence[bool], actual: Sequence[bool]) -> tuple[float, float]:
    """Precision and recall of the positive class (0.0 when a denominator is zero)."""
    if len(predicted) != len(actual):
        raise ValueError("predicted and actual must have the same length")
    tp = sum(1 for p, a in zip(predicted, actual) if p and a)
    predicted_pos = sum(1 for p in predicted if p)
    actual_pos = sum(1 for a in actual if a)
    precision = tp / predicted_pos if predicted_pos else 0.0
    recall = tp / actual_pos if actual_pos else 0.0
    return precision, recall


def calibration(probabilities: Sequence[float], outcomes: Sequence[float], bins: int = 10) -> dict:
    """How well probabilities match 0/1 outcomes: expected calibration error (the mean
    gap between confidence and hit rate over equal-width bins, weighted by their size),
    Brier score, and the reliability table (bins with at least one value)."""
    if len(probabilities) != len(outcomes):
        raise ValueError("probabilities and outcomes must have the same length")
    if not len(probabilities):
        return {"ece": 0.0, "brier": 0.0, "bins": []}
    p, y = np.asarray(probabilities, dtype=float), np.asarray(outcomes, dtype=float)
    index = np.minimum((p * bins).astype(int), bins - 1)
    table, ece = [], 0.0
    for b in range(bins):
        members = index == b
        if not members.any():
            continue
        confidence, rate = float(p[members].mean()), float(y[members].mean())
        ece += members.sum() / len(p) * abs(confidence - rate)
        table.append({"low": b / bins, "high": (b + 1) / bins, "count": int(members.sum()),
                      "mean_confidence": confidence, "hit_rate": rate})
    return {"ece": float(ece), "brier": float(np.mean((p - y) ** 2)), "bins": table}


def mean(values: Iterable[float]) -> float:
    values = list(values)
    return float(sum(values) / len(values)) if values else 0.0


def ranking_metrics(ranked: Sequence[str], gold: Sequence[str], ks: Sequence[int]) -> dict[str, float]:
    """The per-question fiche-level figures: hit@k, recall@k per k, MRR@10, nDCG@10."""
    figures: dict[str, float] = {}
    for k in ks:
        figures[f"hit@{k}"] = hit_at_k(ranked, gold, k)
        figures[f"recall@{k}"] = recall_at_k(ranked, gold, k)
    figures["mrr@10"] = mrr_at_k(ranked, gold, 10)
    figures["ndcg@10"] = ndcg_at_k(ranked, gold, 10)
    return figures
