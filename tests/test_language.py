"""Language of queries and messages: foreign texts are named, French ones never flagged."""

import json
from pathlib import Path

import pytest

from retrieval.search import language
from retrieval.search.language import FRENCH_MARKERS, foreign_language, guess_language

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


def test_texts_too_short_to_judge_are_left_alone():
    assert guess_language("APL") is None and guess_language("what is RSA") is None
    assert guess_language("") is None and guess_language("1234 5678 ?!") is None
    assert guess_language("居留证") is None  # three letters of another script


def test_common_french_words_decide_without_the_model(monkeypatch):
    monkeypatch.setattr(language, "_identifier", None)
    monkeypatch.setattr(language, "_get_identifier", lambda: pytest.fail("the model was consulted"))
    assert not foreign_language("Comment faire une demande de carte grise pour mon fils ?")
    assert {"je", "vous", "comment"} <= FRENCH_MARKERS and not {"la", "de", "el"} & FRENCH_MARKERS
