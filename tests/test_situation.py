"""The citizen's situation read from a need, against the situation a fiche is written for."""

import pytest

from retrieval.search.situation import (
    MISMATCH_FACTOR,
    age_group_of_fiche,
    age_group_of_need,
    couple_of_fiche,
    couple_of_need,
    documents_of_need,
    is_labour_need,
    lives_abroad,
    missed_axes,
    notice_of_fiche,
    notice_of_need,
    request_of_fiche,
    request_of_need,
    residence_of_fiche,
    sector_of_fiche,
    sector_of_need,
    situation_of_need,
    with_situation,
)


@pytest.mark.parametrize("need, sector", [
    ("Je suis contractuel au service informatique d'une préfecture depuis 5 ans, ils sont obligés de me passer en CDI ?",
     "public"),
    ("Je suis fonctionnaire territoriale, combien de temps puis-je partir en disponibilité ?", "public"),
    ("Mon patron dit que les premiers jours d'arrêt ne seront pas payés, c'est normal ?", "private"),
    ("Je suis en CDI de serveur depuis mai, il peut me virer comme ça ?", "private"),
    ("Mon compagnon est décédé en janvier, il était retraité du privé. Puis-je toucher sa retraite ?", "private"),
    ("Je suis salariée dans le privé depuis mes 25 ans, quand pourrai-je partir ?", "private"),
    ("On me propose un poste dans une entreprise privée, je peux partir combien de temps ?", None),
    ("Combien coûte un passeport pour mon fils ?", None),
])
def test_the_sector_of_a_need_is_read_from_its_words(need, sector):
    assert sector_of_need(need) == sector


def test_the_first_fiches_written_for_the_other_sector_come_lower():
    head = {"F2": {"title": "Arrêt maladie d'un fonctionnaire : congé de maladie ordinaire"},
            "F1": {"title": "Arrêt maladie : indemnités journalières versées au salarié"},
            "F3": {"title": "Arrêt maladie : quelles démarches ?", "source": "service-public"}}
    ranking = [("F2", 0.050), ("F1", 0.048), ("F3", 0.047)]
    assert [f for f, _ in with_situation(ranking, head, {"sector": "private"})] == ["F1", "F3", "F2"]
    assert [f for f, _ in with_situation(ranking, head, {"sector": "public"})] == ["F2", "F3", "F1"]
    labour = {"title": "Les congés payés", "source": "travail-emploi"}
    assert sector_of_fiche(labour) == "private"  # the Code du travail's
    assert sector_of_fiche(head["F3"]) is None


@pytest.mark.parametrize("text, abroad", [
    ("Nous habitons au Canada depuis 2015.", True),
    ("Je suis expatriée à Dubaï.", True),
    ("Je vis à l'étranger depuis mon mariage.", True),
    ("Nous vivons ensemble a Bordeaux depuis le mariage.", False),
    ("On part a Rome avec ma fille pour la Toussaint.", False),  # a journey, not a home
    ("Je vis en couple depuis 3 ans.", False),
    ("J'habite en France depuis 2010.", False),
])
def test_a_need_says_whether_the_citizen_lives_abroad(text, abroad):
    assert lives_abroad(text) is abroad
    assert situation_of_need(text)["residence"] == ("abroad" if abroad else "france")


@pytest.mark.parametrize("title, residence", [
    ("Vote d'un Français installé à l'étranger", "abroad"),
    ("Deux étrangers vivant à l'étranger peuvent-ils se marier en France ?", "abroad"),
    ("Remboursement des soins à l'étranger (vacances ou séjour temporaire)", None),  # for those who live here
    ("Vote par procuration", None),
])
def test_a_fiche_is_for_those_who_live_abroad_when_its_title_says_so(title, residence):
    assert residence_of_fiche({"title": title}) == residence


@pytest.mark.parametrize("need, group", [
    ("Ma mère est hospitalisée à Alger, puis-je avoir un passeport en urgence ?", "adult"),
    ("Mon fils Ilyes a 4 mois, que faut-il pour son passeport ?", None),
    ("Ma fille née en 2008 peut-elle voyager seule ?", None),
])
def test_a_need_that_names_no_child_is_an_adult_s_own(need, group):
    assert age_group_of_need(need) == group


def test_a_fiche_for_minors_comes_lower_for_an_adult_s_own_need_and_each_missed_axis_counts():
    head = {"F1035": {"title": "Passeport en urgence : passeport temporaire pour un mineur"},
            "F1373": {"title": "Passeport en urgence : passeport temporaire pour un majeur"},
            "F16904": {"title": "Vote d'un Français installé à l'étranger, pour un mineur"}}
    assert age_group_of_fiche(head["F1035"]) == "minor" and age_group_of_fiche(head["F1373"]) is None
    ranking = [("F16904", 0.060), ("F1035", 0.050), ("F1373", 0.045), ("F9", 0.044)]
    need = situation_of_need("Ma mère est hospitalisée à Alger, puis-je avoir un passeport en urgence ?")
    rescored = dict(with_situation(ranking, head, need))
    assert [f for f, _ in with_situation(ranking, head, need)] == ["F1373", "F9", "F16904", "F1035"]
    assert rescored["F16904"] == pytest.approx(0.060 * MISMATCH_FACTOR ** 2)  # abroad and a minor's
    assert rescored["F9"] == 0.044  # not among the first fiches (no payload): kept
    parent = situation_of_need("Mon fils a 4 mois, peut-il avoir un passeport en urgence ?")
    for_parent = dict(with_situation(ranking, head, parent))
    assert for_parent["F1035"] == 0.050 and for_parent["F16904"] == pytest.approx(0.060 * MISMATCH_FACTOR)


@pytest.mark.parametrize("need, labour", [
    ("Mon contrat est de 35h mais on me fait faire 41h, mon responsable dit que c'est normal.", True),
    ("Une collègue dit que le 1er mai doit être payé double. Qui a raison ?", True),
    ("Je suis en CDI de serveur depuis mai, il peut me virer comme ça ?", True),
    ("Je suis fonctionnaire territoriale, combien de temps puis-je partir en disponibilité ?", False),  # public
    ("Mon passeport est périmé, puis-je en avoir un en urgence ?", False),
    ("Nous vendons notre maison, devons-nous payer un impôt sur la plus-value ?", False),
    # a benefit with a job told: the benefit's fiches, unless an employer or the sector is named
    ("Notre fils touche l'AAH et vient de trouver un petit boulot. Son salaire va être déduit ?", False),
    ("Je travaille à mi-temps, est-ce que je peux toucher la prime d'activité de la CAF ?", False),
    ("Mon employeur veut me mettre à la retraite à 65 ans, il en a le droit ?", True),
])
def test_a_need_about_work_in_the_private_sector_is_the_labour_sources_one(need, labour):
    assert is_labour_need(need) is labour


@pytest.mark.parametrize("need, kind", [
    ("Mon fils a 4 mois, que faut-il faire pour qu'il ait son propre passeport ?", "first"),
    ("Ma carte d'identité est périmée depuis mars, je dois la refaire ?", "renewal"),
    ("C'est la première fois que je demande un passeport.", "first"),
    ("Combien coûte un passeport ?", None),
])
def test_a_need_says_whether_it_is_a_first_request_or_a_renewal(need, kind):
    assert request_of_need(need) == kind


def test_a_renewal_fiche_comes_lower_for_a_first_request():
    head = {"F21092": {"title": "Renouvellement du passeport d'un mineur"},
            "F14930": {"title": "Passeport d'un mineur : première demande"}}
    assert request_of_fiche(head["F21092"]) == "renewal" and request_of_fiche(head["F14930"]) == "first"
    ranking = [("F21092", 0.050), ("F14930", 0.046)]
    need = situation_of_need("Mon bébé a 4 mois, comment lui faire faire un passeport ?")
    assert [f for f, _ in with_situation(ranking, head, need)] == ["F14930", "F21092"]
    renewal = situation_of_need("Le passeport de mon fils est périmé, comment le refaire ?")
    assert [f for f, _ in with_situation(ranking, head, renewal)] == ["F21092", "F14930"]


@pytest.mark.parametrize("need, couple", [
    ("Ma copine est enceinte de 7 mois, on n'est ni mariés ni pacsés.", "unmarried"),
    ("Je suis separée du papa (on n'etait pas mariés).", "unmarried"),
    ("Mon mari et moi attendons un enfant.", "married"),
    ("Nous attendons un enfant.", None),
])
def test_a_need_says_whether_the_couple_is_married_a_negation_first(need, couple):
    assert couple_of_need(need) == couple


def test_a_fiche_for_married_couples_comes_lower_for_an_unmarried_one():
    head = {"F15393": {"title": "Présomption de paternité (couple marié)"},
            "F887": {"title": "Reconnaissance d'un enfant (couple non marié)"}}
    assert couple_of_fiche(head["F15393"]) == "married" and couple_of_fiche(head["F887"]) == "unmarried"
    ranking = [("F15393", 0.050), ("F887", 0.046)]
    need = situation_of_need("On n'est ni mariés ni pacsés, dois-je faire une démarche pour être le père ?")
    assert [f for f, _ in with_situation(ranking, head, need)] == ["F887", "F15393"]


@pytest.mark.parametrize("need, notice", [
    ("Combien de temps de préavis je dois donner à mon proprio ? Je suis locataire depuis 2016.", "tenant"),
    ("Est-ce que je dois vraiment faire 3 mois de préavis ou il y a moyen de partir plus vite ?", "tenant"),
    ("Mon propriétaire vient de m'envoyer une lettre recommandée pour me dire qu'il vend l'appartement "
     "et que je dois partir à la fin du bail. Il a le droit de faire ça aussi tard ?", "landlord"),
    ("Je suis locataire et mon proprio garde ma caution, il a le droit ?", None),  # who the citizen is: no notice
])
def test_a_need_says_who_gives_the_leases_notice(need, notice):
    assert notice_of_need(need) == notice


def test_the_notice_fiche_of_the_one_who_gives_it_comes_first():
    head = {"F929": {"title": "Préavis et formalités du congé donné par le propriétaire (bailleur)"},
            "F1168": {"title": "Préavis et formalités du congé donné par le locataire"}}
    assert notice_of_fiche(head["F929"]) == "landlord" and notice_of_fiche(head["F1168"]) == "tenant"
    ranking = [("F929", 0.050), ("F1168", 0.046)]
    tenant = situation_of_need("Je viens de trouver un CDI à Lille. Combien de temps de préavis je dois donner à mon proprio ?")
    assert [f for f, _ in with_situation(ranking, head, tenant)] == ["F1168", "F929"]
    landlord = situation_of_need("Mon propriétaire m'a envoyé mon congé pour vendre, a-t-il respecté le délai ?")
    assert [f for f, _ in with_situation(list(reversed(ranking)), head, landlord)] == ["F929", "F1168"]


@pytest.mark.parametrize("need, documents", [
    ("On me demande une copie de mon bac, je l'ai perdu dans un déménagement. Comment en ravoir un ?", "diploma"),
    ("Ma CNI est périmée depuis mars, on part à Rome en avion.", "identity_card"),
    ("La banque peut-elle refuser mon permis de conduire comme pièce d'identité ? Je n'ai plus de carte d'identité.",
     "identity_card|driving_licence"),
    ("Faut-il un permis de construire pour une cabane de 12 m2 ?", None),  # a permit, not a document one carries
    ("Combien de temps pour déclarer la naissance de mon fils ?", None),
])
def test_the_documents_a_need_is_about_are_read_from_its_words(need, documents):
    assert documents_of_need(need) == documents


def test_the_first_fiches_about_another_document_come_lower():
    head = {"F1726": {"title": "Perte, vol ou détérioration de la carte grise : demande de duplicata"},
            "F10492": {"title": "Comment obtenir la copie d'un diplôme ?"},
            "F1": {"title": "Perte ou vol de papiers : quelles démarches ?"}}
    ranking = [("F1726", 0.050), ("F10492", 0.048), ("F1", 0.047)]
    need = "Je postule à un emploi et on me demande une copie de mon bac, je l'ai perdu. Comment en ravoir un ?"
    situation = situation_of_need(need)
    assert situation["document"] == "diploma"
    # a fiche naming no document is for any of them; one naming the need's among others fits
    assert [f for f, _ in with_situation(ranking, head, situation)] == ["F10492", "F1", "F1726"]
    assert missed_axes({"title": "Carte grise ou diplôme perdu"}, situation) == 0
