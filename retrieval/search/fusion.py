"""Reciprocal rank fusion of the ranked lists of a hybrid search, at the fiche level.

A hybrid search asks four questions of the index: which passages match the words
(BM25) and the meaning (dense), and which fiche titles match the words and the
meaning. Results are grouped by fiche, so the lists are fused on fiches: a fiche's
rank in a list is the rank of its best chunk among the fiches of that list, and its
score is the sum of 1 / (RRF_K + rank) over the lists (Cormack et al., 2009). Qdrant's
own RRF fuses points; here the title lists hold one point per fiche (the first
chunk), and the evidence they bring is about the whole fiche, not that chunk.

A passage's score is its fiche's fused score plus its chunk's fused score over the
passage lists: the passages of a fiche keep their own order, and a strong passage of
the second fiche can come before a weak one of the first.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from retrieval.index.store import Hit

RRF_K = 60


def rrf_scores(ranked_keys: Sequence[Sequence[str]], k: int = RRF_K,
               weights: Sequence[float] | None = None) -> dict[str, float]:
    """Fused score of each key over lists of keys, each best first and without repeats;
    `weights` (one per list, default 1) scale each list's contribution."""
    scores: dict[str, float] = defaultdict(float)
    for index, keys in enumerate(ranked_keys):
        weight = weights[index] if weights is not None else 1.0
        for rank, key in enumerate(keys, 1):
            scores[key] += weight / (k + rank)
    return scores


def fiche_order(hits: list[Hit]) -> list[str]:
    """Fiche IDs in the order of their best chunk."""
    return list(dict.fromkeys(hit.fiche_id for hit in hits))


def rank_fiches(lists: Sequence[list[Hit]], weights: Sequence[float] | None = None) -> list[tuple[str, float]]:
    """(fiche ID, fused score), best first; ties keep the order of first appearance."""
    scores = rrf_scores([fiche_order(hits) for hits in lists], weights=weights)
    return sorted(scores.items(), key=lambda item: -item[1])


def rank_chunks(lists: Sequence[list[Hit]], after: int = 0) -> list[Hit]:
    """The chunks of the lists once each, with their fused score, best first.
    `after`: ranks start after that many places (lists searched after the first ones)."""
    scores = rrf_scores([[hit.chunk_id for hit in hits] for hits in lists], k=RRF_K + after)
    return [Hit(chunk_id, score) for chunk_id, score in sorted(scores.items(), key=lambda item: -item[1])]


def best_chunks_by_fiche(chunks: list[Hit], fiche_ids: Sequence[str], per_fiche: int) -> dict[str, list[Hit]]:
    """Up to `per_fiche` chunks (best first) of each of these fiches."""
    wanted = set(fiche_ids)
    groups: dict[str, list[Hit]] = {fiche_id: [] for fiche_id in fiche_ids}
    for hit in chunks:
        if hit.fiche_id in wanted and len(groups[hit.fiche_id]) < per_fiche:
            groups[hit.fiche_id].append(hit)
    return groups
