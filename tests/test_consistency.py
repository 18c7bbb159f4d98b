"""What word overlap cannot see: negations, opposite words, another office, a condition
left out (generation.consistency), on sentences as the fiches write them."""

import io
from types import SimpleNamespace

import pytest

from generation.consistency import (
    ACTORS,
    RoleLexicon,
    derive_roles,
    missing_condition,
    opposite_conflict,
    polarity,
    polarity_conflict,
    role_conflict,
    write_roles,
)

SPAN = "Le stage ne vous permet pas de récupérer des points."


def test_negated_words_are_told_from_plain_ones():
    under, outside = polarity("Vous ne pouvez pas dépasser 3 mois de congé.")
    assert {"pouvez", "depasser"} <= under
    assert "conge" in outside and "pouvez" not in outside


def test_negative_subject_negates_the_verb():
    under, _ = polarity("Aucune démarche n'est nécessaire.")
    assert "est" in under


@pytest.mark.parametrize("claim", [
    "Le stage vous permet de récupérer des points.",  # negation removed
])
def test_a_negation_removed_is_a_conflict(claim):
    assert polarity_conflict(claim, SPAN)


def test_a_negation_added_is_a_conflict():
    assert polarity_conflict("La demande ne peut pas être faite en ligne.", "La demande peut être faite en ligne.")


@pytest.mark.parametrize("claim", [
    SPAN,
    "Ce stage ne permet pas de récupérer des points.",
    "Ce stage ne vous fait pas récupérer de points.",  # "pas" kept, other words
])
def test_same_polarity_is_no_conflict(claim):
    assert polarity_conflict(claim, SPAN) is None


@pytest.mark.parametrize("claim, span", [
    ("La visite médicale est obligatoire.", "La visite médicale est facultative."),
    ("Il est interdit de stationner sur le trottoir.", "Il est autorisé de stationner sur le trottoir."),
    ("Vous devez faire la demande après vos 18 ans.", "Vous devez faire la demande avant vos 18 ans."),
    ("Le titre est remis en mairie.", "Le titre est remis en préfecture."),
    ("La Caf verse l'allocation chaque mois.", "La CPAM verse l'allocation chaque mois."),
    # both parties are in the span: the claim names one of them in the other's place
    ("L'employeur remet à l'employeur une attestation.", "Le salarié remet à l'employeur une attestation."),
])
def test_an_opposite_word_or_another_actor_is_a_conflict(claim, span):
    assert opposite_conflict(claim, span)


@pytest.mark.parametrize("claim, span", [
    ("Le salarié remet à l'employeur une attestation.", "Le salarié remet à l'employeur une attestation."),
    ("L'employeur reçoit du salarié une attestation.", "Le salarié remet à l'employeur une attestation."),
    ("La carte est gratuite.", "La carte d'identité est gratuite, sauf en cas de perte."),
    ("Adressez-vous à la mairie.", "Vous pouvez vous adresser à la mairie ou à la préfecture."),
])
def test_same_words_in_another_order_are_no_conflict(claim, span):
    assert opposite_conflict(claim, span) is None


def test_a_condition_left_out_is_reported():
    sentence = "Si vous êtes salarié du secteur privé, vous avez droit à un congé de 5 jours."
    reason = missing_condition("Vous avez droit à un congé de 5 jours.", sentence)
    assert reason and "salarie du secteur prive" in reason


def test_a_trailing_exception_left_out_is_reported():
    sentence = "La carte d'identité est gratuite, sauf en cas de perte ou de vol."
    assert missing_condition("La carte d'identité est gratuite.", sentence)


@pytest.mark.parametrize("claim", [
    "Si vous êtes salarié du secteur privé, vous avez droit à un congé de 5 jours.",
    "Vous avez droit à un congé de 5 jours si vous êtes salarié du privé.",  # moved, reworded
])
def test_a_condition_kept_is_not_reported(claim):
    sentence = "Si vous êtes salarié du secteur privé, vous avez droit à un congé de 5 jours."
    assert missing_condition(claim, sentence) is None


def test_a_condition_moved_after_its_negation_is_no_false_flag():
    span = "Si le jugement en appel ne la satisfait pas, elle peut se pourvoir en cassation."
    assert polarity_conflict("Elle peut se pourvoir en cassation si le jugement en appel ne la satisfait pas.", span) is None


# -- roles derived from the corpus (generation/data/roles.tsv)

def test_a_swap_of_two_derived_roles_that_no_hand_list_names_is_a_conflict():
    listed = {actor for group in ACTORS for actor in group}
    assert not {"juge", "procureur", "banque", "assureur"} & listed
    assert role_conflict("Le procureur peut accorder un délai de grâce au débiteur.",
                         "Le juge peut accorder un délai de grâce au débiteur.")
    assert role_conflict("Vous devez déclarer le sinistre à votre banque dans les 5 jours.",
                         "Vous devez déclarer le sinistre à votre assureur dans les 5 jours.")


@pytest.mark.parametrize("claim, span", [
    # an acronym spelt out, or an expansion abbreviated (the corpus's acronyms)
    ("La caisse d'allocations familiales (Caf) verse l'aide chaque mois.", "La Caf verse l'aide chaque mois."),
    ("La Caf verse l'aide chaque mois.", "La caisse d'allocations familiales verse l'aide chaque mois."),
    # a broader name of the same office, and a generic one
    ("Le tribunal peut ordonner l'expulsion.", "Le tribunal judiciaire peut ordonner l'expulsion."),
    ("L'autorité compétente délivre le titre.", "La préfecture délivre le titre."),
    # the same roles, in another order
    ("Le salarié reçoit l'indemnité que lui verse l'employeur.", "L'employeur verse l'indemnité au salarié."),
])
def test_the_same_role_named_otherwise_is_no_conflict(claim, span):
    assert role_conflict(claim, span) is None


def test_roles_are_derived_from_office_contexts_office_names_and_acronyms():
    text = "Vous devez vous adresser auprès du greffier. " * 8 + "Le médiateur peut saisir le juge. " * 8
    fiche = SimpleNamespace(
        markdown=text, where_to_go=[SimpleNamespace(label="Greffier des référés (GDR)")],
        glossary={}, acronyms={"Cmed": "Médiateur de la consommation"},
    )
    roles = derive_roles([fiche])
    assert roles["greffier"] == ("specific", {"greffiers"})
    assert roles["greffier des referes"] == ("specific", {"gdr"})
    assert roles["mediateur de la consommation"] == ("specific", {"cmed"})
    assert "juge" not in roles  # too few contexts


def test_the_written_lexicon_reads_back(tmp_path):
    out = io.StringIO()
    write_roles({"greffier": ("specific", {"greffiers"}), "autorite": ("generic", set())}, "test", out)
    path = tmp_path / "roles.tsv"
    path.write_text(out.getvalue(), encoding="utf-8")
    lexicon = RoleLexicon.read(path)
    assert lexicon.atoms(["les", "greffiers", "et", "l", "autorite"]) == ["les", "@greffier", "et", "l", "@autorite"]
    assert lexicon.compatible("autorite", "greffier") and not lexicon.compatible("greffier", "juge")
