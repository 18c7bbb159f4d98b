"""What the fiches can never answer: the writer's own file, a local office's hours,
messages that ask nothing. Messages written for these tests."""

from datetime import date

import pytest

from generation.format import is_non_claim
from generation.message import parse_message
from generation.scope import ACTION, ADVICE, LOCAL_OFFICE, NEWER_LAW, NO_QUESTION, OWN_FILE, out_of_scope
from generation.service import DraftService
from generation.text import split_paragraph
from tests.fixtures.generation import PassageRetriever


def reason(message: str, snapshot: date | None = None):
    need = parse_message(message).needs[0]
    return out_of_scope(need, snapshot)


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
    "Bonjour, je n'arrive plus a me connecter a mon espace impots. Pourriez-vous reactiver mon compte ?",
    "J'ai fait une erreur dans mon adresse sur ma declaration. Vous pouvez la corriger svp ?",
    "Bonjour, j'ai commande un aspirateur qui n'est jamais arrive, pouvez-vous me rembourser ?",
    "J'ai passe l'entretien pour ma carte de resident en mars. Pouvez-vous me dire si c'est accepte ?",
])
def test_asking_the_administration_to_act_on_a_file_or_an_account(message):
    assert reason(message) == ACTION


@pytest.mark.parametrize("message", [
    "Mon employeur m'a licencie sans motif. Si je vais aux prud'hommes, est-ce que j'ai des chances de gagner ?",
    "J'ai 8 000 euros de cote, il vaut mieux un PEL ou une assurance vie ? Vous me conseillez quoi ?",
    "A votre avis je devrais accepter la proposition de mon assureur ?",
])
def test_advice_or_a_forecast_on_the_writer_s_case(message):
    assert reason(message) == ADVICE


def test_a_reform_dated_after_the_fiches():
    message = "Bonjour, avec la loi de 2024 sur le logement, mon proprietaire peut-il encore augmenter le loyer ?"
    found = reason(message, date(2020, 11, 12))
    assert found == NEWER_LAW.format(snapshot="12 novembre 2020", year=2024)
    assert reason(message, date(2025, 3, 1)) is None  # fiches newer than the law: answered
    assert reason(message) is None  # the index does not say its date


@pytest.mark.parametrize("message", [
    "Ma carte d'identite est perimee depuis mars 2022, puis-je voyager en Italie avec ?",
    "Pouvez-vous m'expliquer comment demander une aide au logement ?",
    "Vous pouvez me dire quels papiers il faut pour un passeport ?",
    "Est-ce que j'ai le droit de demander une rupture conventionnelle ?",
    "Depuis la loi de 2019 sur la fonction publique, un contractuel peut-il avoir une rupture conventionnelle ?",
])
def test_questions_that_look_like_them_but_ask_the_rules(message):
    assert reason(message, date(2020, 11, 12)) is None


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


class DatedRetriever(PassageRetriever):
    def index_info(self) -> dict:
        return {"snapshot_date": "2020-11-12"}


def test_a_draft_names_the_fiches_date_when_the_message_cites_a_newer_reform():
    draft = DraftService(DatedRetriever()).draft(
        "Bonjour, avec la reforme de 2023, la carte d'identite d'un mineur est-elle toujours gratuite ?"
    )
    assert draft.abstained
    assert "à jour au 12 novembre 2020" in draft.text and "2023" in draft.text
    assert draft.unanswered[0].reason == "out_of_scope"


@pytest.mark.parametrize("text", [OWN_FILE, LOCAL_OFFICE, NO_QUESTION, ACTION, ADVICE,
                                  NEWER_LAW.format(snapshot="12 novembre 2020", year=2023)])
def test_every_reason_is_service_text_that_the_verifier_does_not_flag(text):
    assert all(is_non_claim(span.text) for span in split_paragraph(text))
    assert not is_non_claim("Les fiches officielles indiquent que la carte est gratuite.")
