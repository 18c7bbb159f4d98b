"""French BM25 analysis: accents folded, stems shared, stopwords dropped."""

from retrieval.search.bm25 import Bm25Settings, FrenchBm25


def terms(vector) -> set[int]:
    return set(vector.indices)


def test_accents_and_case_are_folded():
    bm25 = FrenchBm25()
    assert terms(bm25.embed_query("Éligibilité à la PRÉFECTURE")) == terms(bm25.embed_query("eligibilite prefecture"))


def test_plural_and_singular_share_a_stem():
    bm25 = FrenchBm25()
    assert terms(bm25.embed_query("allocations familiales")) == terms(bm25.embed_query("allocation familiale"))


def test_stopwords_only_query_is_empty():
    assert FrenchBm25().embed_query("le la les de du des à qui").is_empty


def test_query_weights_are_one_and_documents_count_term_frequency():
    bm25 = FrenchBm25()
    query = bm25.embed_query("logement logement")
    assert query.values == [1.0]
    once = bm25.embed_document("aide au logement pour les étudiants")
    twice = bm25.embed_document("aide au logement pour les étudiants logement")
    index = query.indices[0]
    weight = lambda v: dict(zip(v.indices, v.values))[index]  # noqa: E731
    assert weight(twice) > weight(once) > 0


def test_different_words_do_not_collide():
    bm25 = FrenchBm25()
    assert not terms(bm25.embed_query("passeport")) & terms(bm25.embed_query("retraite"))


def test_settings_round_trip():
    settings = Bm25Settings(k=1.5, avg_len=150)
    assert Bm25Settings.from_dict(settings.to_dict() | {"unknown": 1}) == settings


def test_terms_keep_the_order_of_the_words_and_the_ids_of_the_sparse_vector():
    bm25 = FrenchBm25()
    terms = bm25.terms("La carte d'identité perdue")
    assert len(terms) == 3  # "la" and "d'" are stopwords
    assert set(terms) == set(bm25.embed_query("La carte d'identité perdue").indices)
    assert bm25.terms("perdue la carte d'identité") == [terms[2], terms[0], terms[1]]
    assert bm25.terms("cartes") == bm25.terms("carte")  # stemmed like the index
