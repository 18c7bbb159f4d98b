"""What the fiches can never answer: the writer's own file, a local office's hours,
messages that ask nothing. Messages written for these tests."""

import pytest

from generation.message import parse_message
from generation.scope import LOCAL_OFFICE, NO_QUESTION, OWN_FILE, out_of_scope
from generation.service import DraftService
from tests.fixtures.generation import PassageRetriever


def reason(message: str):
    need = parse_message(message).needs[0]
    return out_of_scope(need)


@pytest.mark.parametrize("message", [
    "Bonjour, j'ai envoye ma demande de RSA il y a deux mois. Pouvez-vous me dire ou en est mon dossier ?",
    "Madame, j'ai depose ma demande de carte de sejour en mars, ma demande a-t-elle ete acceptee ?",
    "Bonjour, avez-vous bien recu mon dossier de bourse envoye lundi ?",
])
def test_the_state_of_the_writer_s_own_file(message):
    assert reason(message) == OWN_FILE


@pytest.mark.parametrize("message", [
    "Bonjour, quels sont les horaires d'ouverture de la CPAM de Lens ?",
    "La mairie de Vienne est-elle ouverte le samedi matin pour les passeports ?",
])
def test_a_local_office_s_hours(message):
    assert reason(message) == LOCAL_OFFICE


def test_thanks_or_a_complaint_without_question():
    assert reason("Bonjour, je voulais juste vous remercier pour votre reponse sur la carte grise. Bonne journee") \
        == NO_QUESTION
    assert reason("J'ai attendu trois heures a la prefecture, c'est honteux. Je tenais a le dire.") == NO_QUESTION


@pytest.mark.parametrize("message", [
    "Bonjour, quels documents faut-il pour un dossier de demande de RSA ?",
    "Mes horaires de travail ont change, mon employeur peut-il m'imposer le dimanche ?",
    "Comment suivre l'avancement d'une demande de passeport en ligne ?",
    "Je vous remercie par avance : peut-on deduire les frais de garde des impots ?",
])
def test_questions_the_fiches_answer_are_in_scope(message):
    assert reason(message) is None


def test_an_out_of_scope_question_abstains_with_its_reason_and_the_other_is_answered():
    draft = DraftService(PassageRetriever()).draft(
        "Bonjour, la carte d'identite d'un mineur est-elle gratuite ? "
        "Et pouvez-vous me dire ou en est mon dossier de passeport depose en mai ?"
    )
    assert not draft.abstained
    assert OWN_FILE in draft.text and "gratuite [" in draft.text
    assert not [s for s in draft.sentences if s.flagged]


def test_a_message_out_of_scope_as_a_whole_abstains_with_the_reason_only():
    draft = DraftService(PassageRetriever()).draft("Bonjour, quels sont les horaires d'ouverture de la CAF de Tours ?")
    assert draft.abstained and LOCAL_OFFICE in draft.text
    assert "Les fiches les plus proches" not in draft.text
