"""parse_document: metadata and errors, on the bundled sample (real fiches) and on
broken hand-written documents."""

from __future__ import annotations

import json
import logging
import time

import pytest

from ingest.model import Fiche
from ingest.parse import ParseError, parse_document
from ingest.tree import from_xml, from_xmljs, to_xml

from .fixtures.ingest import to_xmljs


def test_whole_sample_parses_without_error(sample_documents, parsed_sample):
    assert len(parsed_sample) == len(sample_documents) > 500
    content = [f for f in parsed_sample.values() if f.is_content]
    assert 150 <= len(content) <= 250
    assert all(f.markdown.strip() for f in content)


def test_xml_and_xmljs_forms_give_the_same_fiche(sample_documents):
    for fiche_id in ("F16947", "F1343", "F34482", "R56465"):
        root, audiences = sample_documents[fiche_id]
        from_json = from_xmljs(json.loads(json.dumps({"elements": [to_xmljs(root)]})))
        reparsed = from_xml(to_xml(root))
        first = parse_document(root, audience=audiences[0])
        assert parse_document(from_json, audience=audiences[0]) == first
        assert parse_document(reparsed, audience=audiences[0]) == first


def test_metadata_of_an_information_fiche(parsed_sample):
    fiche = parsed_sample["F16947"]
    assert fiche.kind == "fiche" and fiche.is_content
    assert fiche.type == "Fiche Question-réponse"
    assert fiche.title == "Qu'est-ce qu'un enfant à charge pour les prestations familiales ?"
    assert fiche.description.startswith("Pour ouvrir droit aux prestations familiales")
    assert fiche.url == "https://www.service-public.fr/particuliers/vosdroits/F16947"
    assert len(fiche.date) == 10 and fiche.date[4] == "-" and fiche.date[7] == "-"
    assert fiche.audiences == ["particuliers"]
    assert fiche.breadcrumb[0] == "Accueil particuliers" and fiche.breadcrumb[-1] == fiche.title
    assert fiche.themes and fiche.subject
    assert fiche.origin == "particuliers/F16947.xml"


def test_legal_references_carry_legifrance_ids(parsed_sample):
    references = [r for f in parsed_sample.values() for r in f.legal_references]
    legifrance = [r for r in references if "legifrance.gouv.fr" in r.url]
    assert legifrance, "the sample cites Légifrance"
    with_id = [r for r in legifrance if r.legifrance_id]
    assert len(with_id) / len(legifrance) > 0.95
    for reference in with_id:
        assert reference.legifrance_id[:8] in reference.url.upper()
        assert reference.label


def test_links_services_related_questions_glossary(parsed_sample, sample_documents):
    fiche = parsed_sample["F1343"]
    root, _ = sample_documents["F1343"]
    targets = {e.get("LienPublication") for e in root.iter("LienInterne")}
    assert {link.target for link in fiche.internal_links} == targets
    assert all(link.label for link in fiche.internal_links)
    related = {e.get("ID") for e in root.elements("QuestionReponse")}
    assert related <= {link.target for link in fiche.related_questions}
    services = {e.get("ID") for e in root.iter("ServiceEnLigne")}
    assert {s.id for s in fiche.online_services} == services
    acronyms = [f.acronyms for f in parsed_sample.values() if f.acronyms]
    assert any("Caf" in a or "CAF" in a for a in acronyms)
    glossary = [f.glossary for f in parsed_sample.values() if f.glossary]
    assert glossary and all(term and text for g in glossary for term, text in g.items())


def test_documents_in_several_audiences(parsed_sample, sample_documents):
    shared = [i for i, (_, audiences) in sample_documents.items() if len(audiences) > 1]
    assert shared
    for fiche_id in shared:
        _, audiences = sample_documents[fiche_id]
        assert set(audiences) <= set(parsed_sample[fiche_id].audiences)


def test_service_cards_and_dossiers_parse(parsed_sample):
    card = parsed_sample["R56465"]
    assert card.kind == "service" and not card.is_content
    assert card.type == "Formulaire" and card.title.startswith("Formulaire 16062*01")
    dossier = parsed_sample["N31002"]
    assert dossier.kind == "dossier"
    assert {"F23503", "F13898", "F35381"} <= {link.target for link in dossier.internal_links}
    assert parsed_sample["N19804"].kind == "theme"


def test_round_trip_through_dict(parsed_sample):
    for fiche in list(parsed_sample.values())[:50]:
        assert Fiche.from_dict(json.loads(json.dumps(fiche.to_dict()))) == fiche


def _document(inner: str, attributes: str = 'ID="F1" type="Fiche"') -> str:
    return (
        f'<Publication xmlns:dc="http://purl.org/dc/elements/1.1/" {attributes}>'
        f"{inner}</Publication>"
    )


@pytest.mark.parametrize(
    ("xml", "message"),
    [
        ("<Rss><channel/></Rss>", "unknown root element <Rss>"),
        (_document("<dc:title>T</dc:title><Texte><Paragraphe>x</Paragraphe></Texte>", 'type="Fiche"'), "no ID"),
        (_document("<Texte><Paragraphe>x</Paragraphe></Texte>"), "F1 has no dc:title"),
        (_document("<dc:title>T</dc:title><Texte> </Texte>"), "F1 is empty"),
        (_document("<dc:title>T</dc:title>", 'ID="F 1; drop"'), "invalid fiche ID"),
    ],
)
def test_bad_documents_raise_a_clear_parse_error(xml, message):
    with pytest.raises(ParseError, match=message) as error:
        parse_document(from_xml(xml), origin="upload/x.xml")
    assert "upload/x.xml" in str(error.value)
    assert isinstance(error.value, ValueError)


def test_stray_markdown_markers_are_stripped_from_titles():
    fiche = parse_document(from_xml(_document("<dc:title>**Carte d'identité</dc:title><Texte><Paragraphe>x</Paragraphe></Texte>")))
    assert fiche.title == "Carte d'identité"


def test_not_an_element_is_refused():
    with pytest.raises(ParseError, match="expected an ingest.tree.Element"):
        parse_document("<Publication/>")  # type: ignore[arg-type]


def test_no_log_above_debug_on_real_fiches(sample_documents, caplog):
    """Parsing logs nothing above debug on real fiches."""
    root, audiences = sample_documents["F1343"]
    with caplog.at_level(logging.INFO, logger="ingest"):
        parse_document(root, audience=audiences[0])
    assert not caplog.records


def test_parsing_is_fast(sample_documents):
    started = time.perf_counter()
    for root, audiences in sample_documents.values():
        parse_document(root, audience=audiences[0])
    assert time.perf_counter() - started < 20
