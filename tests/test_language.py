"""Language of queries and messages: foreign texts are named, French ones never flagged."""

import json
from pathlib import Path

import pytest

from retrieval.search import language
from retrieval.search.language import foreign_language, guess_language

FOREIGN = [
    ("How do I renew my passport?", "anglais"),
    ("Hello, I would like to know how to get a residence permit in France. Thank you", "anglais"),
    ("Wie beantrage ich Kindergeld für mein Kind?", "allemand"),
    ("¿Cómo puedo renovar mi permiso de residencia en Francia?", "espagnol"),
    ("Come posso rinnovare la carta d'identità?", "italien"),
    ("Bom dia, gostaria de saber como renovar o meu cartão de residência", "portugais"),
    ("كيف أجدد جواز سفري", "arabe"),
    ("如何申请居留证", "chinois"),
    ("Как продлить вид на жительство?", "russe"),
    ("Pasaportumu nasıl yenileyebilirim?", "turc"),
    ("Bonjour, I need help with my CAF file please", "anglais"),  # a French greeting is not enough
    ("Dzień dobry, chcę złożyć wniosek o zasiłek", "polonais"),
    ("Bună ziua, am nevoie de ajutor pentru alocații", "roumain"),
    ("Xin chào, tôi cần giúp đỡ về thẻ cư trú", "vietnamien"),
    ("Goedendag, ik wil mijn verblijfsvergunning verlengen", "néerlandais"),
    # Romance languages share "la", "de", "el" with French: still named.
    ("Com puc demanar la targeta de residència per als meus fills?", "catalan"),
    ("Necesito la tarjeta de residencia de mi hija, ¿dónde se pide?", "espagnol"),
    ("Es el permiso de conducir de mi padre", "espagnol"),
    ("La domanda per la carta di soggiorno del mio figlio", "italien"),
    ("Preciso de ajuda com a declaração de impostos do meu pai", "portugais"),
]


@pytest.mark.parametrize(("text", "name"), FOREIGN)
def test_foreign_texts_are_named(text, name):
    guess = foreign_language(text)
    assert guess is not None and guess.name == name
    assert guess.french_probability < language.FRENCH_FLOOR


def test_french_questions_and_labels_of_the_fiches_are_never_flagged(sample_fiches):
    texts = {f.title for f in sample_fiches} | {q.label for f in sample_fiches for q in f.related_questions}
    flagged = [t for t in texts if foreign_language(t)]
    assert len(texts) > 500 and flagged == []


def test_french_citizen_messages_are_never_flagged():
    lines = (Path(__file__).parent / "data" / "pii_messages.jsonl").read_text(encoding="utf-8").splitlines()
    messages = [json.loads(line)["message"] for line in lines]
    assert [m for m in messages if foreign_language(m)] == []
    # Written without any of the common French words, French is still recognised by the model.
    assert guess_language("Renouvellement passeport personne majeure étranger").code == "fr"


@pytest.mark.parametrize("text", [
    "Allocation logement étudiant", "Renouvellement titre de séjour", "Perte permis conduire points",
    "Aide juridictionnelle avocat commis office", "Chômage partiel indemnisation salariés",
    "Taxe foncière exonération retraités", "Ma question concerne la demande de RSA",
    "Aide au logement : est-il possible de cumuler ?",
    # French with some English in it: French is present, no alarm.
    "Je ne parle pas bien français, I need help with CAF",
])
def test_french_keywords_without_common_words_are_recognised(text):
    guess = guess_language(text)
    assert guess is not None and guess.code == "fr" and not guess.foreign


@pytest.mark.parametrize("text", [
    "APL", "what is RSA", "", "1234 5678 ?!", "Cure thermale", "BCG (tuberculose)", "Congé parental",
    "I lost my ID card", "ok merci", "Hello",
    "居留证",  # three letters of another script
])
def test_texts_too_short_to_judge_are_left_alone(text):
    assert guess_language(text) is None and foreign_language(text) is None


def test_short_foreign_texts_are_judged_from_four_letters_of_another_script():
    assert foreign_language("Прошу помочь с документами").name == "russe"
    assert foreign_language("كيف أجدد").name == "arabe"


def test_a_short_english_query_with_some_french_likelihood_is_not_flagged():
    guess = guess_language("lost passport urgent help")
    assert guess.code == "en" and not guess.foreign  # judged, but not sure enough to alarm


def test_common_french_words_decide_without_the_model(monkeypatch):
    monkeypatch.setattr(language, "_identifier", None)
    monkeypatch.setattr(language, "_get_identifier", lambda: pytest.fail("the model was consulted"))
    assert guess_language("Comment faire une demande de carte grise pour mon fils ?").code == "fr"
    assert guess_language("Merci de me dire si mon fils peut toucher les APL").code == "fr"
    # One common word is not enough: the model is asked.
    with pytest.raises(pytest.fail.Exception, match="consulted"):
        guess_language("Demande de carte grise, véhicule neuf acheté en Belgique")
