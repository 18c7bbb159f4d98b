"""Search on the real sample index: modes, grouping, filters, expansion, confidence."""

import json

import pytest

from ingest.model import GUIDED_SEARCH
from retrieval.dev.calibrate import OUT_OF_SCOPE
from retrieval.index.store import DENSE, SPARSE, TITLE_SPARSE, Hit
from retrieval.index.versions import EdgeIndex
from retrieval.search.fusion import RRF_K, rank_fiches
from retrieval.search.retriever import (
    LABOUR_PASSAGE_WEIGHT,
    LIST_WEIGHTS,
    MAX_QUERY_CHARS,
    MODE_LISTS,
    IndexRetriever,
    fuse_by_fiche,
    head_payloads,
    mixes_sources,
    ranked_lists,
    title_match,
    with_guides_after,
    with_labour_passages_weighed,
    with_title_phrases,
    word_pairs,
)
from retrieval.types import SearchFilters, SearchMode


@pytest.fixture(scope="module")
def qr_fiches(sample_fiches):
    """Question-réponse fiches: their title is a citizen's question."""
    fiches = [f for f in sample_fiches if f.is_content and f.type.startswith("Fiche Question")]
    if len(fiches) < 5:
        pytest.skip("the sample has too few Question-réponse fiches")
    return fiches[:30]


def hit_rate(retriever, fiches, mode, k):
    found = 0
    for fiche in fiches:
        result = retriever.search(fiche.title, k=k, mode=mode)
        found += fiche.id in [f.fiche_id for f in result.fiches]
    return found / len(fiches)


@pytest.mark.parametrize(("mode", "k", "minimum"), [("bm25", 3, 0.9), ("hybrid", 3, 0.9), ("dense", 5, 0.6)])
def test_each_mode_finds_question_fiches_by_their_question(sample_retriever, qr_fiches, mode, k, minimum):
    assert hit_rate(sample_retriever, qr_fiches, SearchMode(mode), k) >= minimum


def test_a_guided_search_never_outranks_content_on_its_own_title(sample_retriever, sample_fiches):
    guides = [f for f in sample_fiches if f.type == GUIDED_SEARCH]
    assert guides
    for guide in guides:
        result = sample_retriever.search(guide.title, k=10)
        assert result.fiches[0].type != GUIDED_SEARCH, (guide.title, [f.fiche_id for f in result.fiches])


def test_a_query_in_another_language_is_searched_with_a_notice(sample_retriever):
    english = sample_retriever.search("How do I get an identity card for my child?", k=3)
    assert english.fiches and english.notices == [
        "La question semble rédigée en anglais : les fiches sont en français et la recherche "
        "par mots-clés ne s'applique pas ; vérifiez la pertinence des passages retrouvés."
    ]
    assert english.to_dict()["notices"] == english.notices
    assert sample_retriever.search("carte d'identité pour mon enfant", k=3).notices == []


def test_results_are_grouped_by_fiche(sample_retriever):
    result = sample_retriever.search("carte d'identité perdue que faire", k=4, passages_per_fiche=2)
    ids = [f.fiche_id for f in result.fiches]
    assert len(ids) == 4 == len(set(ids))
    assert all(1 <= len(f.passages) <= 2 for f in result.fiches)
    assert all(p.fiche_id == f.fiche_id for f in result.fiches for p in f.passages)
    assert [f.score for f in result.fiches] == sorted((f.score for f in result.fiches), reverse=True)
    assert [p.rank for p in result.passages] == list(range(1, len(result.passages) + 1))
    assert [p.score for p in result.passages] == sorted((p.score for p in result.passages), reverse=True)
    assert sorted(p.chunk.id for p in result.passages) == sorted(p.chunk.id for f in result.fiches for p in f.passages)
    for fiche in result.fiches:
        assert [p.score for p in fiche.passages] == sorted((p.score for p in fiche.passages), reverse=True)
    first = result.fiches[0]
    assert first.url.startswith("https://www.service-public.fr/") and first.date and first.title


def test_hybrid_fuses_passage_and_title_lists_by_fiche(sample_retriever, qr_fiches):
    fiche = qr_fiches[0]
    result = sample_retriever.search(fiche.title, k=5)
    assert result.fiches[0].fiche_id == fiche.id
    # Four lists of at most weight/(60+1) each: a fiche first everywhere scores the sum of the weights / 61.
    weights = sum(LIST_WEIGHTS.get(name, 1.0) for name in MODE_LISTS[SearchMode.HYBRID])
    assert result.fiches[0].score == pytest.approx(weights / 61, rel=0.05)
    assert all(p.score > result.fiches[0].score for p in result.fiches[0].passages)


def test_a_fiche_found_by_its_title_alone_gets_its_best_passages(sample_retriever, qr_fiches):
    fiche = qr_fiches[1]
    store = sample_retriever.version.store
    sparse = sample_retriever.bm25.embed_query(fiche.title)
    dense = sample_retriever.embedder.embed_queries([fiche.title])[0]
    lists = ranked_lists(store, MODE_LISTS[SearchMode.HYBRID], sparse, dense, None, 50)
    for name in (SPARSE, DENSE):  # as if no passage of the fiche had matched
        lists[name] = [h for h in lists[name] if h.fiche_id != fiche.id]
    fiches = fuse_by_fiche(store, [lists], sparse, dense, None, k=100, per_fiche=2)
    found = next(f for f in fiches if f.fiche_id == fiche.id)
    assert 1 <= len(found.passages) <= 2
    assert all(p.fiche_id == fiche.id for p in found.passages)
    # In each passage list, they rank after every listed passage.
    after = max(len(hits) for hits in lists.values())
    assert max(p.score - found.score for p in found.passages) <= 2 / (RRF_K + after + 1) + 1e-12


def test_audience_and_type_filters(sample_retriever, sample_fiches):
    audiences = {a for f in sample_fiches for a in f.audiences}
    audience = "professionnels" if "professionnels" in audiences else sorted(audiences)[0]
    result = sample_retriever.search("déclaration et paiement", k=5, filters=SearchFilters(audience=audience))
    assert result.fiches
    assert all(audience in p.chunk.audiences for p in result.passages)
    kind = "Fiche Question-réponse"
    typed = sample_retriever.search("déclaration et paiement", k=5, mode=SearchMode.BM25, filters=SearchFilters(type=kind))
    assert typed.fiches and {f.type for f in typed.fiches} == {kind}
    only = sample_retriever.search("déclaration", k=5, filters=SearchFilters(fiche_ids=[typed.fiches[0].fiche_id]))
    assert [f.fiche_id for f in only.fiches] == [typed.fiches[0].fiche_id]


def test_known_acronyms_are_expanded(sample_retriever, sample_index_dir):
    acronyms = json.loads((sample_index_dir / "versions" / "1" / "acronyms.json").read_text())
    if not acronyms:
        pytest.skip("no acronym in the sample")
    acronym, expansion = sorted(acronyms.items(), key=lambda item: (-len(item[0]), item[0]))[0]
    result = sample_retriever.search(f"Qu'est-ce que le {acronym} ?", k=3)
    assert result.query == f"Qu'est-ce que le {acronym} ?"
    assert expansion in result.expanded_query
    plain = sample_retriever.search("Bonjour, je voudrais un renseignement", k=3)
    assert plain.expanded_query == plain.query


def test_a_messages_need_gets_the_everyday_words_but_not_the_acronyms_spelt_out(sample_retriever, sample_index_dir):
    acronyms = json.loads((sample_index_dir / "versions" / "1" / "acronyms.json").read_text())
    if not acronyms:
        pytest.skip("no acronym in the sample")
    acronym, expansion = sorted(acronyms.items(), key=lambda item: (-len(item[0]), item[0]))[0]
    need = f"Mon proprio garde ma caution, est-ce normal ? J'ai un {acronym} depuis mai."
    typed, message = sample_retriever.search_many([[need], [need, f"proprio caution {acronym}"]], k=3)
    assert expansion in typed.expanded_query
    assert expansion not in message.expanded_query  # context in a situation, not the subject
    assert "dépôt de garantie" in message.expanded_query


def test_empty_query_is_refused(sample_retriever):
    for query in ("", "   \n\t "):
        with pytest.raises(ValueError, match="empty query"):
            sample_retriever.search(query)


def test_huge_query_is_capped(sample_retriever):
    result = sample_retriever.search("renouvellement du passeport " * 5000, k=3)
    assert len(result.query) <= MAX_QUERY_CHARS and result.fiches


def test_query_in_another_language_still_answers(sample_retriever):
    result = sample_retriever.search("How can I renew my identity card or passport?", k=3)
    assert len(result.fiches) == 3 and 0.0 <= result.confidence <= 1.0


def test_stopwords_only_bm25_query_returns_nothing(sample_retriever):
    result = sample_retriever.search("le la les de", mode=SearchMode.BM25)
    assert result.fiches == [] and result.confidence == 0.0


def test_confidence_separates_answered_from_out_of_scope_questions(sample_retriever, qr_fiches):
    inside = [sample_retriever.search(f.title, k=5).confidence for f in qr_fiches[:15]]
    outside = [sample_retriever.search(q, k=5).confidence for q in OUT_OF_SCOPE[:15]]
    assert all(0.0 <= c <= 1.0 for c in inside + outside)
    assert sum(inside) / len(inside) > sum(outside) / len(outside) + 0.3


def test_signals_and_timings_are_reported(sample_retriever):
    result = sample_retriever.search("allocation logement étudiant", k=3)
    assert {"bm25_top", "bm25_margin", "dense_top", "agreement"} <= set(result.signals)
    assert result.timings_ms["total"] > 0
    data = result.to_dict()
    assert data["mode"] == "hybrid" and len(data["fiches"]) == 3


def test_bm25_only_index_refuses_dense_modes(sample_bm25_index_dir):
    retriever = IndexRetriever(EdgeIndex(sample_bm25_index_dir), None)
    assert retriever.search("passeport", mode=SearchMode.BM25).fiches
    for mode in (SearchMode.DENSE, SearchMode.HYBRID):
        with pytest.raises(ValueError, match="without an embedder"):
            retriever.search("passeport", mode=mode)
    retriever.close()


def test_acronyms_that_are_also_words_need_capitals():
    from retrieval.search.expansion import QueryExpander, ambiguous_acronyms

    acronyms = {"PAS": "Prêt d'accession sociale", "APL": "Aide personnalisée au logement", "DE": "Demandeur d'emploi"}
    ambiguous = ambiguous_acronyms(acronyms, ["Vous ne pouvez pas cumuler l'APL et le PAS."])
    assert ambiguous == ["PAS"]
    expander = QueryExpander(acronyms, ambiguous)
    assert expander.expand("je n'ai pas d'apl") == "je n'ai pas d'apl (Aide personnalisée au logement)"
    assert "Prêt d'accession sociale" in expander.expand("un PAS pour acheter")
    assert expander.expand("demande de logement") == "demande de logement"
    assert "Demandeur d'emploi" in expander.expand("inscrit comme DE")


def test_exact_title_fiche_comes_first_in_hybrid_for_every_content_fiche(sample_retriever, sample_fiches):
    titles: dict[str, list[str]] = {}
    for fiche in sample_fiches:
        titles.setdefault(fiche.title, []).append(fiche.id)
    unique = [f for f in sample_fiches if f.is_content and len(titles[f.title]) == 1 and f.type != GUIDED_SEARCH]
    missed = [f.title for f in unique if sample_retriever.search(f.title, k=5).fiches[0].fiche_id != f.id]
    assert missed == []


def test_title_match_is_put_first_even_when_fusion_ranks_it_lower(sample_retriever, qr_fiches):
    fiche = qr_fiches[2]
    store = sample_retriever.version.store
    sparse = sample_retriever.bm25.embed_query(fiche.title)
    dense = sample_retriever.embedder.embed_queries([fiche.title])[0]
    lists = ranked_lists(store, MODE_LISTS[SearchMode.HYBRID], sparse, dense, None, 50)
    for name in (SPARSE, DENSE):  # the passages lists no longer find it
        lists[name] = [h for h in lists[name] if h.fiche_id != fiche.id]
    fused = fuse_by_fiche(store, [lists], sparse, dense, None, k=5, per_fiche=2)
    first = title_match(store, lists, sparse, sample_retriever.bm25)
    assert first == fiche.id
    guaranteed = fuse_by_fiche(store, [lists], sparse, dense, None, k=5, per_fiche=2, first=first)
    assert guaranteed[0].fiche_id == fiche.id and guaranteed[0].passages
    assert [f.fiche_id for f in guaranteed[1:]] == [f.fiche_id for f in fused if f.fiche_id != fiche.id][:4]


def test_a_long_query_that_merely_contains_a_title_is_no_title_match(sample_retriever, qr_fiches):
    fiche = qr_fiches[0]
    query = f"{fiche.title} Mon voisin fait du bruit la nuit et mon propriétaire ne répond pas à mes courriers."
    store = sample_retriever.version.store
    sparse = sample_retriever.bm25.embed_query(query)
    lists = ranked_lists(store, MODE_LISTS[SearchMode.HYBRID], sparse, None, None, 50)
    assert title_match(store, lists, sparse, sample_retriever.bm25) is None


class CountingEmbedder:
    """The real embedder, counting its calls."""

    def __init__(self, embedder):
        self.embedder, self.calls = embedder, []
        self.name, self.dim = embedder.name, embedder.dim

    def embed_queries(self, texts):
        self.calls.append(list(texts))
        return self.embedder.embed_queries(texts)

    def embed_passages(self, texts):
        return self.embedder.embed_passages(texts)


def test_search_many_embeds_every_formulation_of_every_need_in_one_call(sample_index_dir, default_embedder):
    counting = CountingEmbedder(default_embedder)
    retriever = IndexRetriever(EdgeIndex(sample_index_dir), counting)
    try:
        needs = [["Quel est le prix d'une carte d'identité ?", "carte identité prix"],
                 ["Comment déclarer une naissance ?"]]
        results = retriever.search_many(needs, k=3)
        assert len(counting.calls) == 1 and len(counting.calls[0]) == 3
        assert [r.query for r in results] == [needs[0][0], needs[1][0]]
        alone = retriever.search(needs[1][0], k=3)
        assert [f.fiche_id for f in results[1].fiches] == [f.fiche_id for f in alone.fiches]
        assert {"lists_first", "lists_top3", "dense_top"} <= set(results[0].signals)
    finally:
        retriever.close()


def test_a_second_formulation_lifts_the_fiche_it_finds(sample_retriever, qr_fiches):
    fiche = qr_fiches[3]
    noisy = "Bonjour, j'ai une question sur ma situation familiale et mes démarches."

    def rank(result):
        ranked = [f.fiche_id for f in result.fiches]
        return ranked.index(fiche.id) if fiche.id in ranked else len(ranked)

    fused = sample_retriever.search_many([[noisy, fiche.title]], k=30)[0]
    alone = sample_retriever.search(noisy, k=30)
    assert rank(fused) < rank(alone)
    assert fused.query == noisy  # the main formulation names the result


def test_everyday_words_bring_the_fiches_words_into_the_query():
    from retrieval.search.expansion import EverydayLexicon, QueryExpander, everyday_lexicon

    expander = QueryExpander({}, [], everyday_lexicon())
    expanded = expander.expand("Mon proprio garde ma caution et je me suis fait flashée")
    assert "dépôt de garantie" in expanded and "bailleur" in expanded and "contrôle automatisé" in expanded
    assert expander.expand("Ma carte d'identité est-elle gratuite ?") == "Ma carte d'identité est-elle gratuite ?"
    lexicon = EverydayLexicon.parse("ct\tcontrôle technique\n")
    assert lexicon.expansions("le CT de ma voiture") == ["contrôle technique"]
    assert lexicon.expansions("le contact de ma voiture") == []  # whole words only
    with pytest.raises(ValueError, match="everyday_words.tsv:1"):
        EverydayLexicon.parse("caution sans tabulation")


def test_a_title_that_repeats_a_phrase_of_the_message_moves_up_one_that_all_share_does_not(sample_retriever):
    store, bm25 = sample_retriever.version.store, sample_retriever.bm25
    # "justificatif de domicile" is in two of the three titles; "carte grise" in one.
    ranking = [("F31847", 0.050), ("F33052", 0.049), ("F1028", 0.048)]
    every = [[Hit(f"{fiche_id}#0", score) for fiche_id, score in ranking]]
    message = "Quel justificatif de domicile pour la carte grise de la voiture que je viens d'acheter ?"
    reranked = with_title_phrases(ranking, head_payloads(store, ranking, every), word_pairs(bm25, message), bm25)
    assert [fiche_id for fiche_id, _ in reranked] == ["F1028", "F31847", "F33052"]
    shared_by_most = "Je cherche quel justificatif de domicile fournir pour ma demande."
    assert with_title_phrases(ranking, head_payloads(store, ranking, every), word_pairs(bm25, shared_by_most), bm25) == ranking


def test_a_life_event_guide_comes_after_the_fiches_it_routes_to_unless_well_ahead():
    head = {"F3109": {"type": "Fiche Comment faire si", "title": "Je crée une association"},
            "F1119": {"type": "Fiche Question-réponse", "title": "Combien coûte la création d'une association ?"},
            "F33": {"type": "Fiche Question-réponse", "title": "Un dossier de déclaration peut-il être refusé ?"}}
    near = with_guides_after([("F3109", 0.10), ("F1119", 0.09), ("F33", 0.05)], head)
    assert [fiche_id for fiche_id, _ in near] == ["F1119", "F3109", "F33"]
    ahead = with_guides_after([("F3109", 0.20), ("F1119", 0.09)], head)
    assert ahead[0][0] == "F3109"  # well ahead: still first
    assert with_guides_after([("F1119", 0.09), ("F33", 0.05)], head) == [("F1119", 0.09), ("F33", 0.05)]


def test_a_long_labour_guide_weighs_less_by_its_passages_beside_a_service_public_fiche():
    # "J'ai travaillé le 1er mai…": the CDD guide has a passage close to any work question.
    head = {"TE-article108282": {"source": "travail-emploi", "title": "Le contrat à durée déterminée (CDD)"},
            "F2405": {"source": "service-public", "title": "Jours fériés et ponts dans le secteur privé"}}
    passages = [[Hit("TE-article108282#3", 9.0), Hit("F2405#0", 8.0)], [Hit("TE-article108282#7", 0.9), Hit("F2405#1", 0.8)]]
    titles = [[Hit("F2405#0", 5.0), Hit("TE-article108282#0", 4.0)]]
    weights = [1.0, LIST_WEIGHTS[DENSE], LIST_WEIGHTS[TITLE_SPARSE]]
    ranking = rank_fiches(passages + titles, weights)
    assert ranking[0][0] == "TE-article108282"
    weighed = with_labour_passages_weighed(ranking, head, list(zip(passages, weights[:2])))
    assert [fiche_id for fiche_id, _ in weighed] == ["F2405", "TE-article108282"]
    given = 1.0 / (RRF_K + 1) + LIST_WEIGHTS[DENSE] / (RRF_K + 1)
    assert dict(weighed)["TE-article108282"] == pytest.approx(dict(ranking)["TE-article108282"]
                                                              - (1 - LABOUR_PASSAGE_WEIGHT) * given)
    assert dict(weighed)["F2405"] == dict(ranking)["F2405"]
    # Among labour fiches only, nothing to weigh them against.
    labour_only = {"TE-article108282": head["TE-article108282"], "TE-article107747": {"source": "travail-emploi"}}
    assert with_labour_passages_weighed(ranking, labour_only, list(zip(passages, weights[:2]))) == ranking


def test_a_search_mixes_sources_when_the_index_holds_both_and_no_source_is_asked():
    both = frozenset({"service-public", "travail-emploi", "cdtn"})
    assert mixes_sources(both, None) and mixes_sources(both, SearchFilters(audience="particuliers"))
    assert not mixes_sources(both, SearchFilters(source="service-public"))
    assert not mixes_sources(frozenset({"service-public"}), None)
    assert not mixes_sources(frozenset({"travail-emploi", "cdtn"}), None)


def test_a_typed_question_is_not_reranked_by_phrases_a_message_need_is(sample_retriever):
    message = ["Quel justificatif de domicile pour la carte grise de la voiture que je viens d'acheter ?",
               "justificatif domicile carte grise voiture acheter"]
    typed = sample_retriever.search(message[0], k=5)
    alone = sample_retriever.search_many([message[:1]], k=5)[0]
    assert [f.fiche_id for f in typed.fiches] == [f.fiche_id for f in alone.fiches]
    need = sample_retriever.search_many([message], k=5)[0]
    assert need.fiches[0].fiche_id == "F1028"
