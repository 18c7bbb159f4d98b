"""Fiche-level reciprocal rank fusion (retrieval.search.fusion)."""

import pytest

from retrieval.index.store import Hit
from retrieval.search.fusion import RRF_K, best_chunks_by_fiche, fiche_order, rank_chunks, rank_fiches, rrf_scores


def hits(*chunk_ids: str) -> list[Hit]:
    """Hits best first; a chunk ID is "<fiche>#<index>"."""
    return [Hit(c, 1.0 / (i + 1)) for i, c in enumerate(chunk_ids)]


def test_a_hit_knows_its_fiche_from_its_chunk_id():
    assert Hit("F1234#12", 0.5).fiche_id == "F1234"


def test_rrf_scores_sum_reciprocal_ranks():
    scores = rrf_scores([["a", "b"], ["b", "c"]])
    assert scores["a"] == pytest.approx(1 / (RRF_K + 1))
    assert scores["b"] == pytest.approx(1 / (RRF_K + 2) + 1 / (RRF_K + 1))
    assert scores["c"] == pytest.approx(1 / (RRF_K + 2))


def test_a_fiche_ranks_by_its_best_chunk_in_each_list():
    assert fiche_order(hits("F1#3", "F2#0", "F1#0", "F3#1")) == ["F1", "F2", "F3"]


def test_fiche_ranking_pools_evidence_from_different_chunks():
    # F1 is second in both passage lists through two different chunks, and first by its
    # title; F2 is first in both passage lists through one chunk, and absent by title.
    bm25 = hits("F2#4", "F1#0", "F3#0")
    dense = hits("F2#4", "F1#2", "F3#0")
    title_bm25 = hits("F1#0", "F3#0")
    title_dense = hits("F1#0", "F2#0")
    ranking = rank_fiches([bm25, dense, title_bm25, title_dense])
    assert [fiche for fiche, _ in ranking] == ["F1", "F2", "F3"]
    assert ranking[0][1] == pytest.approx(2 / (RRF_K + 2) + 2 / (RRF_K + 1))


def test_chunks_are_fused_once_each_with_their_payload():
    ranked = rank_chunks([hits("F1#0", "F2#1"), hits("F2#1", "F1#5")])
    assert [h.chunk_id for h in ranked] == ["F2#1", "F1#0", "F1#5"]
    assert ranked[0].score == pytest.approx(1 / (RRF_K + 2) + 1 / (RRF_K + 1))


def test_chunks_searched_afterwards_rank_after_the_listed_ones():
    listed = rank_chunks([hits("F1#0")])
    later = rank_chunks([hits("F2#0")], after=50)
    assert later[0].score == pytest.approx(1 / (RRF_K + 51))
    assert later[0].score < listed[-1].score


def test_best_chunks_are_kept_per_chosen_fiche():
    ranked = rank_chunks([hits("F1#0", "F2#1", "F1#1", "F1#2", "F3#0")])
    groups = best_chunks_by_fiche(ranked, ["F1", "F2", "F4"], per_fiche=2)
    assert {f: [h.chunk_id for h in hs] for f, hs in groups.items()} == {
        "F1": ["F1#0", "F1#1"], "F2": ["F2#1"], "F4": [],
    }
