"""Reading an e-mail into search needs: each question with the situation it depends on.

The messages are written for these tests the way citizens write (no accents, situation
first, follow-ups, several questions); none comes from the evaluation sets.
"""

import pytest

from generation.message import parse_message
from generation.reading import (
    citizen_age,
    formulations,
    is_question,
    keyword_query,
    lives_abroad,
    question_kind,
    question_kinds,
    read_needs,
    unwrapped_lines,
)
from generation.types import Need


def needs_of(message: str):
    return parse_message(message).needs


def test_the_question_is_searched_with_the_situation_told_before_it():
    needs = needs_of(
        "Bonjour,\nMon mari est decede en mars. Nous etions maries depuis 30 ans et il travaillait dans le prive.\n"
        "Est ce que je peux toucher une partie de sa retraite ?\nMerci\nJosette Martin"
    )
    assert len(needs) == 1
    need = needs[0]
    assert need.question == "Est ce que je peux toucher une partie de sa retraite ?"
    assert any("decede" in s for s in need.situation)
    assert need.query.startswith(need.question) and "maries depuis 30 ans" in need.query


def test_a_follow_up_without_words_of_its_own_is_read_with_the_sentence_before():
    needs = needs_of("Bonjour, on voudrait se marier dans la commune de ma grand-mere ou on n'habite pas. "
                     "C'est possible ? Merci, Paul")
    assert len(needs) == 1
    assert needs[0].question.startswith("on voudrait se marier dans la commune")
    assert needs[0].question.endswith("C'est possible ?")


def test_a_follow_up_right_after_a_question_joins_it_instead_of_making_a_new_need():
    needs = needs_of("Bonjour\nJe suis algerien et j'ai un permis algerien. Je pourrai conduire combien de temps "
                     "en France avec ? Qu'est ce que je dois faire ?\nCordialement")
    assert len(needs) == 1
    assert "Qu'est ce que je dois faire ?" in needs[0].question


def test_several_questions_stay_apart_each_with_the_opening_situation():
    needs = needs_of(
        "bonjour\nje suis locataire d'un studio a Tours depuis 2019.\n"
        "Mon proprio ne m'a pas rendu ma caution, il a le droit de la garder ?\n"
        "Autre question, est ce que je peux demander l'APL pour mon nouvel appartement ?\nmerci"
    )
    assert [n.question[:20] for n in needs] == ["Mon proprio ne m'a p", "Autre question, est "]
    assert all("je suis locataire d'un studio a Tours depuis 2019." in n.situation for n in needs)


def test_duplicated_questions_are_kept_once():
    needs = needs_of("Bonjour, mon employeur ne me paie plus depuis 2 mois. Quels sont mes recours ? "
                     "Je ne sais plus quoi faire. Quels sont mes recours ?")
    assert len(needs) == 1


def test_a_request_without_question_mark_is_a_question():
    needs = needs_of("Madame, Monsieur,\nJe voudrais connaitre la procedure pour inscrire mon fils a la cantine.\n"
                     "Bien cordialement,\nM. Roux")
    assert [n.question for n in needs] == ["Je voudrais connaitre la procedure pour inscrire mon fils a la cantine."]


def test_an_indirect_question_is_a_question_and_what_was_told_before_it_its_situation():
    needs = needs_of("Bonjour,\nNous vendons la maison ou nous habitons depuis 2006. Le notaire parle de plus-value "
                     "mais nous ne savons pas si nous allons devoir payer un impot sur la difference. Nous partons en "
                     "location ensuite.\nMerci")
    assert [n.question for n in needs] == ["Le notaire parle de plus-value mais nous ne savons pas si nous allons "
                                           "devoir payer un impot sur la difference."]
    assert needs[0].situation == ["Nous vendons la maison ou nous habitons depuis 2006."]
    assert is_question("Je me demande comment faire la demande de bourse.")
    assert not is_question("Je ne sais pas quoi penser de tout ça.")  # not a question: no "si", "comment"…


@pytest.mark.parametrize("greeting", ["bonjour", "BONJOUR", "Bjr", "Bonsoir madame, monsieur,", "bonjour,"])
def test_greetings_in_any_case_are_not_questions_nor_situation(greeting):
    needs = needs_of(f"{greeting} j'ai perdu mon permis de conduire hier. Que dois-je faire pour en avoir un nouveau ?")
    assert len(needs) == 1
    assert needs[0].situation == ["j'ai perdu mon permis de conduire hier."]
    assert "bonjour" not in needs[0].query.lower() and "bjr" not in needs[0].query.lower()


def test_closings_and_signatures_are_dropped_even_on_the_question_line():
    needs = needs_of("Bonjour, je vends ma voiture de 2009. Le controle technique est-il obligatoire ? "
                     "Merci. Gerard Dupuis")
    assert [n.question for n in needs] == ["Le controle technique est-il obligatoire ?"]
    assert all("Gerard" not in s for s in needs[0].situation)


def test_a_new_point_without_question_mark_is_a_need_of_its_own():
    needs = needs_of(
        "Bonjour\nJe suis serveur en CDI. Mon patron ne me paie pas le dimanche en plus, c'est normal ?\n"
        "En plus on fait souvent 45 heures par semaine et les heures en plus ne sont pas majorees.\n"
        "Derniere chose, puis-je refuser de travailler le 1er mai ?"
    )
    assert len(needs) == 3
    assert needs[1].question.startswith("En plus on fait souvent 45 heures")


def test_a_statement_opening_like_a_question_word_is_not_a_question():
    assert not is_question("Quand je vais a la mairie, on me dit de revenir plus tard.")
    assert is_question("Comment faire pour changer de nom")
    assert is_question("Merci de m'indiquer les pieces a fournir.")


def test_without_any_question_the_whole_message_is_the_need():
    needs = read_needs("J'ai perdu mon permis de conduire dans le train hier soir.")
    assert [n.question for n in needs] == ["J'ai perdu mon permis de conduire dans le train hier soir."]


def test_more_questions_than_allowed_are_merged_into_the_last():
    message = " ".join(f"Question {word} sur la taxe fonciere des residences ?" for word in
                       ("premiere", "deuxieme", "troisieme", "quatrieme", "cinquieme"))
    needs = parse_message(message, max_questions=3).needs
    assert len(needs) == 3 and "cinquieme" in needs[2].question


def test_formulations_add_the_deciding_words_and_the_question_alone_when_it_stands_alone():
    need = needs_of("Je suis etudiant a Lyon. Est-ce que je peux avoir l'APL pour une colocation ?")[0]
    assert formulations(need) == [need.query, "APL colocation etudiant", need.question]
    short = needs_of("Mon fils a perdu son passeport. Comment on fait ?")[0]
    assert formulations(short) == [short.query, "fils perdu passeport"]  # "Comment on fait ?" alone says nothing


def test_lines_a_mail_client_wrapped_are_read_as_the_sentences_they_cut():
    wrapped = ("Je suis locataire d'un appartement vide a Nantes depuis 2016 et je viens de trouver un\n"
               "CDI a Lille qui commence le mois prochain. Combien de temps de preavis je dois donner a\n"
               "mon proprio ?\nEt pour ma caution, il a combien de temps pour me la rendre ?\nMerci d'avance\nPaul")
    first, second = needs_of(wrapped)
    assert first.question == "Combien de temps de preavis je dois donner a mon proprio ?"
    assert first.situation == ["Je suis locataire d'un appartement vide a Nantes depuis 2016 et je viens de trouver "
                               "un CDI a Lille qui commence le mois prochain."]
    # Short lines, lines ending a sentence and list items stay lines of their own.
    assert unwrapped_lines("Bonjour\non m'a vole mon sac au marché samedi, bref plus de carte\n- la carte\n- le permis") \
        == ["Bonjour", "on m'a vole mon sac au marché samedi, bref plus de carte", "- la carte", "- le permis"]
    assert unwrapped_lines("depuis mon divorce je n'arrive plus a payer mes credits\nmerci d'avance") \
        == ["depuis mon divorce je n'arrive plus a payer mes credits", "merci d'avance"]


def test_a_follow_up_question_is_searched_with_its_own_deciding_words():
    first, follow_up = needs_of("Nous venons de demenager de Nantes a Angers. Sur ma carte d'identite il y a "
                                "toujours l'ancienne adresse, est ce que je dois la refaire ? Et pour la voiture, "
                                "est ce que je dois changer la carte grise ?")
    assert follow_up.situation == ["Nous venons de demenager de Nantes a Angers."]
    # The story stays in the main formulation; the deciding words are the question's.
    assert formulations(follow_up, follow_up=True)[:2] == [follow_up.query, "voiture changer carte grise"]
    assert formulations(first, follow_up=False)[1] == "carte identite ancienne adresse refaire venons demenager"


def test_deciding_words_leave_out_names_places_dates_and_masked_data():
    need = needs_of("Bonjour, [NOM_1] ma fille part a Rome pour la Toussaint le 3 mars avec sa CNI perimee. "
                    "Peut-elle voyager ?")[0]
    assert keyword_query(need) == "voyager fille part CNI perimee"


@pytest.mark.parametrize("question, kind", [
    ("J'ai combien de temps pour changer l'adresse de ma carte grise ?", "duration"),
    ("Ca coute combien de refaire un passeport ?", "amount"),
    ("Je dois m'adresser a qui pour mon acte de naissance ?", "place"),
    ("Comment faire une demande de bourse ?", "procedure"),
    ("Est-ce que mon employeur peut refuser mon conge parental ?", "permission"),
    ("Ma fille est nee en 2003.", "other"),
    ("Mon proprietaire a le droit de trainer autant pour me rendre ma caution ?", "duration"),
    ("Il peut me prevenir aussi tard ?", "duration"),
    ("Est-ce que la mairie peut refuser mon dossier ?", "permission"),
    # "qu'est-ce que" asks what something is, "est-ce que" whether one may
    ("Médecine du travail : qu'est-ce que le suivi individuel renforcé ?", "other"),
    ("Qu'est ce qu'une main courante ?", "other"),
    ("Est ce qu'on peut refuser l'heritage ?", "permission"),
])
def test_question_kinds(question, kind):
    assert question_kind(question) == kind


@pytest.mark.parametrize("question, kinds", [
    ("Comment je l'obtiens et ça prend combien de temps ?", ["duration", "procedure"]),
    ("Comment on fait et est ce que c'est payant ?", ["amount", "procedure"]),
    ("Qu'est-ce que je dois faire et où ?", ["place", "procedure"]),
    ("On a combien de temps et ou faut il aller ?", ["duration", "place"]),
    ("Est-ce que je peux annuler et jusqu'à quand ?", ["duration"]),
    ("Est-ce qu'on peut quand meme faire payer les obseques avec son argent ?", ["permission"]),
    ("Combien de temps je peux partir au maximum ?", ["duration"]),
])
def test_every_ask_of_a_question_is_read(question, kinds):
    assert question_kinds(question) == kinds


def test_a_line_opening_with_thanks_that_goes_on_to_ask_is_not_a_closing():
    needs = needs_of("Bonjour,\nJe suis retraite depuis 2019.\nMerci pour votre reponse de la semaine derniere, "
                     "mais j'ai une autre question : puis-je cumuler ma pension avec un emploi ?\nCordialement\nLuc")
    assert [n.question for n in needs] == ["Merci pour votre reponse de la semaine derniere, mais j'ai une autre "
                                           "question : puis-je cumuler ma pension avec un emploi ?"]


@pytest.mark.parametrize("situation, age", [
    (["J'ai 73 ans et des problemes de dos."], 73),
    (["Je suis veuve, j'ai 78 ans et je vis seule."], 78),
    (["Je suis âgée de 66 ans."], 66),
    (["Ma CNI a ete faite en 2012 (j'avais 34 ans)."], None),  # then, not now
    (["Mon fils a 15 ans."], None),  # someone else's
    (["J'ai 2 enfants de 3 et 5 ans."], None),
])
def test_the_citizen_s_own_age_is_read_from_the_present_first_person_only(situation, age):
    assert citizen_age(Need(question="Suis-je concerné ?", situation=situation)) == age


@pytest.mark.parametrize("situation, abroad", [
    (["Nous habitons au Canada depuis 2015."], True),
    (["Je suis expatriée à Dubaï."], True),
    (["Je vis à l'étranger depuis mon mariage."], True),
    (["Nous vivons ensemble a Bordeaux depuis le mariage."], False),
    (["On part a Rome avec ma fille pour la Toussaint."], False),  # a journey, not a home
    (["Je vis en couple depuis 3 ans."], False),
    (["J'habite en France depuis 2010."], False),
])
def test_the_citizen_lives_in_france_unless_they_say_they_live_abroad(situation, abroad):
    assert lives_abroad(Need(question="Que dois-je faire ?", situation=situation)) is abroad


@pytest.mark.parametrize("question, kind", [
    ("Que faut il faire pour qu'il ait son propre passeport ?", "procedure"),
    ("Que dois je faire pour le renouveler ?", "procedure"),
    ("Puis je partir avant la fin du préavis ?", "permission"),
    ("Peut on refuser l'héritage ?", "permission"),
])
def test_questions_without_their_hyphens_are_read_like_with_them(question, kind):
    assert question_kind(question) == kind
