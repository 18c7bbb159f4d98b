"""Choosing the abstention threshold (GenerationSettings.min_confidence).

The retriever's SearchResult.confidence is meant to be a calibrated probability that
the top results answer the question (retrieval/dev/calibrate.py fits it). The default
threshold, 0.5, answers when that is more likely than not. To recalibrate on the
deployed index, run questions that the fiches answer and questions they do not
(written for the purpose, never the evaluation sets) through the retriever, and pick
the lowest threshold that keeps wrongly answered out-of-scope questions under a rate:

    from generation.abstention import choose_threshold, confidences
    threshold = choose_threshold(confidences(retriever, in_scope),
                                 confidences(retriever, out_of_scope), max_false_answers=0.1)

then set GUICHET_GENERATION_MIN_CONFIDENCE to it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from generation.reading import formulations, read_needs
from generation.types import Need
from retrieval.base import Retriever


@dataclass
class ThresholdChoice:
    threshold: float
    answered: float  # share of in-scope questions answered at that threshold
    false_answers: float  # share of out-of-scope questions answered anyway


def confidences(retriever: Retriever, questions: list[str], k: int = 5) -> list[float]:
    """The confidence a draft would see for each question (or message): read into its
    first need and searched with that need's formulations, as drafts do."""
    mode = retriever.default_mode
    found = []
    for question in questions:
        need = (read_needs(question) or [Need(question=question)])[0]
        found.append(retriever.search_many([formulations(need)], k=k, mode=mode)[0].confidence)
    return found


def choose_threshold(in_scope: list[float], out_of_scope: list[float], *, max_false_answers: float = 0.1) -> ThresholdChoice:
    """The lowest threshold whose share of answered out-of-scope questions is at most
    `max_false_answers` (answering as many in-scope questions as that allows)."""
    if not in_scope or not out_of_scope:
        raise ValueError("need confidences of both in-scope and out-of-scope questions")
    candidates = sorted({0.0, *in_scope, *(c + 1e-6 for c in out_of_scope)})
    for candidate in candidates:
        threshold = math.ceil(candidate * 10_000) / 10_000  # a readable setting, never lower
        false_answers = sum(c >= threshold for c in out_of_scope) / len(out_of_scope)
        if false_answers <= max_false_answers:
            answered = sum(c >= threshold for c in in_scope) / len(in_scope)
            return ThresholdChoice(threshold, answered, false_answers)
    raise AssertionError("unreachable: above every out-of-scope confidence nothing is answered")
