"""Rendering of the body to Markdown, element by element, on hand-written documents
shaped like the official XML (the golden tests cover real fiches)."""

from __future__ import annotations

import logging

import pytest

NBSP = "\u00a0"


def publication(body: str, *, extra: str = "", fiche_id: str = "F9001", type_: str = "Fiche d'information") -> str:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<Publication xmlns:dc="http://purl.org/dc/elements/1.1/" ID="{fiche_id}" type="{type_}"
  spUrl="https://www.service-public.fr/particuliers/vosdroits/{fiche_id}">
<dc:title>Fiche de test</dc:title><dc:description>Résumé de test.</dc:description>
<dc:date>modified 2020-06-15</dc:date>
{extra}
<Texte>{body}</Texte>
</Publication>"""


@pytest.fixture
def render(parse_xml):
    def run(body: str, **options) -> str:
        return parse_xml(publication(body, **options)).markdown

    return run


def test_whitespace_and_non_breaking_spaces_are_collapsed(render):
    md = render(f"<Paragraphe>\n\t\tUn   montant{NBSP}de 10{NBSP}000{NBSP}€\n  par an.  </Paragraphe>")
    assert md == "Un montant de 10 000 € par an."


def test_exponent_and_index_attach_without_space(render):
    md = render("<Paragraphe>Le 1 <Exposant>er</Exposant> janvier, CO<Indice>2</Indice> et m\n<Exposant>2</Exposant>.</Paragraphe>")
    assert md == "Le 1er janvier, CO2 et m2."


def test_emphasis_citation_variable_and_values(render):
    md = render(
        "<Paragraphe>Il faut <MiseEnEvidence> au moins 3 mois </MiseEnEvidence>, "
        "écrire <Citation>lu et approuvé</Citation> puis <Variable>nom du bénéficiaire</Variable> "
        "soit <Valeur>1 539,42 €</Valeur>.</Paragraphe>"
    )
    assert md == "Il faut **au moins 3 mois**, écrire « lu et approuvé » puis [nom du bénéficiaire] soit 1 539,42 €."


def test_links_keep_their_anchor_text_and_are_collected(parse_xml):
    fiche = parse_xml(publication(
        '<Paragraphe>Voir <LienInterne LienPublication="F123" type="Fiche d\'information">le congé</LienInterne>'
        ' et <LienExterne URL="https://www.example.gouv.fr/x">le site</LienExterne> .</Paragraphe>'
    ))
    assert fiche.markdown == "Voir le congé et le site."
    assert [(link.label, link.target) for link in fiche.internal_links] == [("le congé", "F123")]
    assert [(link.label, link.target) for link in fiche.external_links] == [("le site", "https://www.example.gouv.fr/x")]


def test_empty_internal_link_takes_the_known_title_else_the_id(parse_xml):
    body = '<Paragraphe>Voir <LienInterne LienPublication="F555" type="Fiche"/> et <LienInterne LienPublication="F777" type="Fiche"/>.</Paragraphe>'
    with_titles = parse_xml(publication(body), titles={"F555": "Allocation de rentrée scolaire"})
    assert with_titles.markdown == "Voir Allocation de rentrée scolaire et F777."
    # A title named inside the document itself (here a related question) is used too.
    local = parse_xml(publication(body, extra='<QuestionReponse ID="F777" audience="Particuliers">Qui peut voter ?</QuestionReponse>'))
    assert local.markdown == "Voir F555 et Qui peut voter ?."


def test_nested_bullet_and_numbered_lists(render):
    md = render(
        '<Liste type="numero"><Item><Paragraphe>Remplir</Paragraphe>'
        '<Liste type="puce"><Item><Paragraphe>en ligne</Paragraphe></Item><Item><Paragraphe>sur papier</Paragraphe></Item></Liste>'
        '</Item><Item><Paragraphe>Envoyer</Paragraphe></Item></Liste>'
    )
    assert md == "1. Remplir\n   - en ligne\n   - sur papier\n2. Envoyer"


def test_table_with_merged_cells_is_expanded(render):
    md = render(
        "<Tableau><Titre>Plafonds</Titre><Colonne/><Colonne/><Colonne/>"
        '<Rangée type="header"><Cellule fusionVerticale="2"><Paragraphe>Foyer</Paragraphe></Cellule>'
        '<Cellule fusionHorizontale="2"><Paragraphe>Montant</Paragraphe></Cellule></Rangée>'
        '<Rangée type="header"><Cellule><Paragraphe>Paris</Paragraphe></Cellule><Cellule><Paragraphe>Province</Paragraphe></Cellule></Rangée>'
        '<Rangée type="normal"><Cellule fusionVerticale="2"><Paragraphe>1 personne</Paragraphe></Cellule>'
        "<Cellule><Paragraphe>10 €</Paragraphe></Cellule><Cellule><Paragraphe>8 €</Paragraphe></Cellule></Rangée>"
        '<Rangée type="normal"><Cellule><Paragraphe>11 €</Paragraphe></Cellule><Cellule><Paragraphe>9 | 7 €</Paragraphe></Cellule></Rangée>'
        "</Tableau>"
    )
    assert md == (
        "**Plafonds**\n\n"
        "| Foyer | Montant — Paris | Montant — Province |\n"
        "| --- | --- | --- |\n"
        "| 1 personne | 10 € | 8 € |\n"
        "| 1 personne | 11 € | 9 \\| 7 € |"
    )


def test_table_without_header_row_gets_an_empty_header(render):
    md = render('<Tableau><Rangée type="normal"><Cellule><Paragraphe>a</Paragraphe></Cellule><Cellule><Paragraphe>b</Paragraphe></Cellule></Rangée></Tableau>')
    assert md == "|  |  |\n| --- | --- |\n| a | b |"


@pytest.mark.parametrize(
    ("element", "label"), [("ANoter", "À noter"), ("ASavoir", "À savoir"), ("Attention", "Attention"), ("Rappel", "Rappel")]
)
def test_callouts(render, element, label):
    md = render(f"<{element}><Paragraphe>premier point</Paragraphe><Liste type=\"puce\"><Item><Paragraphe>x</Paragraphe></Item></Liste></{element}>")
    assert md == f"> **{label}** : premier point\n>\n> - x"


def test_callout_title_overrides_the_default_label(render):
    md = render("<ANoter><Titre>Exemple</Titre><Paragraphe>un cas</Paragraphe></ANoter>")
    assert md == "> **Exemple** : un cas"


def test_structure_headings_and_section_paths(parse_xml):
    fiche = parse_xml(publication(
        "<Paragraphe>Intro.</Paragraphe>"
        "<Chapitre><Titre><Paragraphe>Conditions</Paragraphe></Titre><Paragraphe>Texte A.</Paragraphe>"
        "<SousChapitre><Titre><Paragraphe>Âge</Paragraphe></Titre>"
        '<BlocCas affichage="onglet"><Cas><Titre>Vous êtes majeur</Titre><Paragraphe>Texte B.</Paragraphe>'
        '<BlocCas affichage="radio"><Cas><Titre>En ligne</Titre><Paragraphe>Texte C.</Paragraphe></Cas></BlocCas>'
        "</Cas></BlocCas></SousChapitre>"
        "<Paragraphe>Texte D.</Paragraphe></Chapitre>"
    ))
    assert fiche.markdown == (
        "Intro.\n\n## Conditions\n\nTexte A.\n\n### Âge\n\n#### Cas : Vous êtes majeur\n\nTexte B.\n\n"
        "##### Cas : En ligne\n\nTexte C.\n\nTexte D."
    )
    assert [s.path for s in fiche.sections] == [
        [],
        ["Conditions"],
        ["Conditions", "Âge"],
        ["Conditions", "Âge", "Cas : Vous êtes majeur"],
        ["Conditions", "Âge", "Cas : Vous êtes majeur", "Cas : En ligne"],
        ["Conditions"],  # content after a sub-section goes back to the chapter
    ]
    assert "\n\n".join(s.markdown for s in fiche.sections) == fiche.markdown


def test_situations_are_top_level_sections(parse_xml):
    xml = publication("").replace(
        "<Texte></Texte>",
        '<ListeSituations affichage="onglet"><Situation><Titre>Salarié</Titre><Texte><Chapitre><Titre><Paragraphe>Durée</Paragraphe></Titre>'
        "<Paragraphe>5 jours.</Paragraphe></Chapitre></Texte></Situation>"
        "<Situation><Titre>Fonctionnaire</Titre><Texte><Paragraphe>3 jours.</Paragraphe></Texte></Situation></ListeSituations>",
    )
    fiche = parse_xml(xml)
    assert fiche.markdown == "# Salarié\n\n## Durée\n\n5 jours.\n\n# Fonctionnaire\n\n3 jours."
    assert [s.path for s in fiche.sections] == [["Salarié"], ["Salarié", "Durée"], ["Fonctionnaire"]]


def test_conditions_are_dropped_and_conditioned_content_kept(render):
    md = render(
        '<FragmentConditionne><Condition><ou><estVrai var="T1"/><estVrai var="T2"/></ou></Condition>'
        "<Paragraphe>Visible pour tous.</Paragraphe></FragmentConditionne>"
        '<BlocCas affichage="radio"><Cas><Titre>En ligne</Titre><Condition><estVrai var="T3"/></Condition><Paragraphe>Oui.</Paragraphe></Cas></BlocCas>'
    )
    assert md == "Visible pour tous.\n\n## Cas : En ligne\n\nOui."


def test_where_to_go_and_online_services_inline(parse_xml):
    fiche = parse_xml(publication(
        '<BlocCas affichage="onglet"><Cas><Titre>Sur place</Titre>'
        '<OuSAdresser ID="R2" sve="non" type="Local personnalisé sur SP"><Titre>Préfecture</Titre><PivotLocal>prefecture</PivotLocal>'
        '<RessourceWeb URL="http://www.interieur.gouv.fr/Prefectures"/></OuSAdresser>'
        '<ServiceEnLigne ID="R15764" URL="https://www.service-public.fr/simulateur/calcul/11530" numerocerfa="11530*08" type="Formulaire">'
        "<Titre>Demande au juge</Titre></ServiceEnLigne></Cas></BlocCas>"
    ))
    assert fiche.markdown == (
        "## Cas : Sur place\n\nOù s'adresser : Préfecture\n\nFormulaire : Demande au juge (cerfa n° 11530*08)"
    )
    assert fiche.where_to_go[0].label == "Préfecture"
    assert fiche.where_to_go[0].target == "http://www.interieur.gouv.fr/Prefectures"
    service = fiche.online_services[0]
    assert (service.id, service.kind, service.cerfa, service.title) == ("R15764", "Formulaire", "11530*08", "Demande au juge")


def test_dated_warning_opens_the_body(parse_xml):
    fiche = parse_xml(publication(
        "<Paragraphe>Corps.</Paragraphe>",
        extra='<Avertissement ID="R1" date="2020-09-25"><Titre>Report</Titre><Texte><Paragraphe>Les visites sont reportées.</Paragraphe></Texte></Avertissement>',
    ))
    assert fiche.markdown == "> **Avertissement du 2020-09-25** : Report\n>\n> Les visites sont reportées.\n\nCorps."
    assert fiche.warnings == ["2020-09-25 — Report : Les visites sont reportées."]


def test_unknown_element_keeps_its_text_and_logs(render, caplog):
    with caplog.at_level(logging.DEBUG, logger="ingest"):
        md = render("<NouvelElement><Paragraphe>Texte conservé</Paragraphe></NouvelElement><Paragraphe>x <Inconnu>y</Inconnu> z</Paragraphe>")
    assert md == "Texte conservé\n\nx y z"
    assert any("NouvelElement" in r.getMessage() for r in caplog.records)
    assert any("Inconnu" in r.getMessage() for r in caplog.records)


def test_guided_search_renders_option_paths_to_target_fiches(parse_xml):
    xml = publication("", type_="Recherche guidée").replace(
        "<Texte></Texte>",
        "<Problematiques><Problematique><Titre><Paragraphe>Permis perdu en France</Paragraphe></Titre>"
        "<Branche><Titre><Paragraphe>Catégorie B</Paragraphe></Titre><Aide><Paragraphe>aide ignorée</Paragraphe></Aide>"
        '<SiSelectionne><affecteVrai var="T1"/></SiSelectionne>'
        "<Branche><Titre><Paragraphe>Moins de 3 ans</Paragraphe></Titre>"
        '<LienInterne LienPublication="F1727" type="Fiche"/></Branche></Branche></Problematique></Problematiques>',
    )
    fiche = parse_xml(xml, titles={"F1727": "Perte du permis de conduire"})
    assert fiche.markdown == "## Permis perdu en France\n\n- Catégorie B > Moins de 3 ans → Perte du permis de conduire (F1727)"
    assert fiche.internal_links[0].target == "F1727"


def test_nested_emphasis_is_bold_once(render):
    md = render("<Paragraphe>Il faut <MiseEnEvidence><MiseEnEvidence>plus de 40 m</MiseEnEvidence><Exposant>2</Exposant></MiseEnEvidence> au sol.</Paragraphe>")
    assert md == "Il faut **plus de 40 m2** au sol."
