"""A calibrated confidence that the top results answer the query (0..1).

A logistic function of retrieval signals:
  bm25_top      top BM25 score divided by the number of query terms
  bm25_margin   (top - 5th distinct-fiche BM25 score) / top
  dense_top     top cosine similarity of the dense search (0 without an embedder)
  agreement     1 when BM25 and dense rank the same fiche first (0 without an embedder)

Weights are fitted by retrieval/calibrate.py on question sets derived from the corpus
itself (editors' related-question labels → their fiche as positives when the fiche is
in the top 5, and a fixed list of out-of-scope questions as negatives), never on the
evaluation sets. One model per embedder family; "none" is the BM25-only model.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field


@dataclass
class Calibration:
    weights: dict[str, float]
    bias: float
    fitted_on: str = ""
    metrics: dict[str, float] = field(default_factory=dict)

    def probability(self, features: dict[str, float]) -> float:
        z = self.bias + sum(w * features.get(name, 0.0) for name, w in self.weights.items())
        return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))


# Fitted by `python -m retrieval.calibrate` (see that module); values pasted here.
CALIBRATIONS: dict[str, Calibration] = {
    "none": Calibration(
        weights={"bm25_top": 1.0, "bm25_margin": 2.0},
        bias=-3.0,
        fitted_on="placeholder",
    ),
    "multilingual-e5-small": Calibration(
        weights={"bm25_top": 0.5, "bm25_margin": 1.0, "dense_top": 20.0, "agreement": 1.0},
        bias=-17.0,
        fitted_on="placeholder",
    ),
}


def calibration_for(embedder: str) -> Calibration:
    if embedder in CALIBRATIONS:
        return CALIBRATIONS[embedder]
    if "e5" in embedder and "multilingual-e5-small" in CALIBRATIONS:
        return CALIBRATIONS["multilingual-e5-small"]
    return CALIBRATIONS["none"]  # other embedders: their cosine scale is unknown
