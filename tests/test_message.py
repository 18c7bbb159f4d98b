"""Reading citizens' messages: cleaning, question extraction, limits, odd input."""

import pytest

from generation.message import MessageError, extract_questions, parse_message

THREE_QUESTIONS = """Bonjour,

Je suis maman de deux enfants et je viens de déménager à Nantes.
Je voudrais savoir si je peux toucher l'allocation de rentrée scolaire pour mon fils de 16 ans.
Quel est le montant pour un enfant de 11 ans ? Par ailleurs, pouvez-vous me dire comment faire
une carte d'identité pour ma fille ?

Merci d'avance pour votre aide,
Jeanne Martin
06 12 34 56 78
"""


def test_questions_and_requests_are_extracted_without_greeting_or_signature():
    parsed = parse_message(THREE_QUESTIONS)
    assert len(parsed.questions) == 3
    assert parsed.questions[0].startswith("Je voudrais savoir si je peux toucher l'allocation")
    assert parsed.questions[1] == "Quel est le montant pour un enfant de 11 ans ?"
    assert "carte d'identité pour ma fille ?" in parsed.questions[2]
    assert "Bonjour" not in parsed.text
    assert "Merci d'avance" not in parsed.text and "06 12 34 56 78" not in parsed.text


@pytest.mark.parametrize("greeting", ["Bonjour,", "Bonjour Madame la Directrice,", "Madame, Monsieur,", "bonjour à vous !"])
def test_a_greeting_line_is_dropped(greeting):
    assert parse_message(f"{greeting}\nQuel justificatif faut-il ?").text == "Quel justificatif faut-il ?"


def test_a_line_that_opens_with_a_greeting_and_tells_the_situation_is_kept():
    parsed = parse_message("Bonjour, mon fils a 16 ans et il est au lycée.\n\nQuel justificatif faut-il pour sa carte ?")
    assert parsed.text.startswith("mon fils a 16 ans et il est au lycée.")
    assert parsed.needs[0].situation == ["mon fils a 16 ans et il est au lycée."]


def test_quoted_reply_is_dropped():
    message = (
        "Bonjour,\nEst-ce que le congé de maternité dure 16 semaines ?\nCordialement\n\n"
        "Le 12 mars 2024 à 10:02, Service Accueil a écrit :\n> Quelle est votre question ?\n> Bien à vous"
    )
    parsed = parse_message(message)
    assert parsed.questions == ["Est-ce que le congé de maternité dure 16 semaines ?"]
    assert "Quelle est votre question" not in parsed.text


def test_indirect_requests_without_question_mark():
    parsed = parse_message("Bonjour. Merci de m'indiquer les pièces à fournir pour un passeport. Bonne journée")
    assert parsed.questions == ["Merci de m'indiquer les pièces à fournir pour un passeport."]


def test_short_follow_up_question_gets_the_previous_sentence_as_context():
    questions = extract_questions("Mon fils a 17 ans et il est apprenti. Et combien ?")
    assert questions == ["Mon fils a 17 ans et il est apprenti. Et combien ?"]


def test_without_any_question_the_whole_cleaned_message_is_used():
    parsed = parse_message("Bonjour,\nJ'ai perdu mon permis de conduire dans le train hier soir.\nCordialement,\nLuc")
    assert parsed.questions == ["J'ai perdu mon permis de conduire dans le train hier soir."]


def test_questions_are_capped_and_the_rest_is_kept_in_the_last_one():
    message = " ".join(f"Question numéro {i} sur les impôts locaux ?" for i in range(1, 6))
    questions = parse_message(message, max_questions=3).questions
    assert len(questions) == 3
    assert "numéro 5" in questions[2] and "numéro 3" in questions[2]


@pytest.mark.parametrize("empty", ["", "   \n\t ", "\x00\x01\x02"])
def test_empty_message_is_a_clear_error(empty):
    with pytest.raises(MessageError, match="empty"):
        parse_message(empty)


def test_message_without_words_is_an_error():
    with pytest.raises(MessageError, match="no words"):
        parse_message("🙂🙂 ??? !!!")


def test_long_message_is_truncated_with_a_french_notice():
    message = "Comment obtenir une aide au logement ? " + "bla " * 5000
    parsed = parse_message(message, max_chars=500)
    assert parsed.truncated
    assert len(parsed.text) <= 500
    assert parsed.notices == ["Le message dépassait 500 caractères : seuls les 500 premiers ont été analysés."]
    assert parsed.questions[0] == "Comment obtenir une aide au logement ?"


@pytest.mark.parametrize(
    "message",
    [
        "Hello, how can I renew my residence permit? Thanks",
        "مرحبا، كيف يمكنني تجديد بطاقة الإقامة؟",
        "Bonjour 👋🏽 je voudrais savoir si j'ai droit à la prime d'activité 🙏 merci !!",
        b"Bonjour \xff\xfe je voudrais savoir \x00 le montant du RSA ?",
        "Bonjour\r\n\r\nQuel est le délai\u200b pour\u00a0un passeport ?\r\n",
        "?" * 3 + "a",
    ],
)
def test_any_text_is_read_without_crashing(message):
    parsed = parse_message(message)
    assert parsed.questions and all(q.strip() for q in parsed.questions)
    assert "\x00" not in parsed.text


def test_binary_bytes_are_decoded_with_replacement():
    parsed = parse_message(b"Quel est le montant du RSA \xff ?")
    assert parsed.questions == ["Quel est le montant du RSA \ufffd ?"]
