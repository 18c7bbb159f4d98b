"""chunk_fiche: sizes, breadcrumbs, boundaries and completeness, on the real fiches of
the bundled sample and on hand-written ones."""

from __future__ import annotations

import re
import statistics

import pytest

from ingest.chunking import BREADCRUMB_SEPARATOR, chunk_fiche, chunk_fiches, count_words
from ingest.model import Chunk, Fiche, Section


def body(chunk) -> str:
    return chunk.text.split("\n\n", 1)[1]


def words_of(text: str) -> list[str]:
    return re.findall(r"\w+", text)


def paragraph(n: int, word: str = "mot") -> str:
    return " ".join(f"{word}{i}" for i in range(n)) + "."


def fiche(sections: list[Section], description: str = "") -> Fiche:
    return Fiche(
        id="F42", type="Fiche d'information", title="Titre", description=description, url="https://x/F42",
        date="2020-01-01", audiences=["particuliers"], themes=["Travail"], sections=sections,
        markdown="\n\n".join(s.markdown for s in sections),
    )


@pytest.fixture(scope="session")
def sample_chunks(parsed_sample):
    return {f.id: chunk_fiche(f) for f in parsed_sample.values() if f.is_content}


def test_sizes_and_ids_on_the_sample(sample_chunks):
    chunks = [c for cs in sample_chunks.values() for c in cs]
    assert all(c.words <= 500 for c in chunks)
    sizes = [c.words for c in chunks]
    assert 250 <= statistics.median(sizes) <= 420
    for fiche_id, cs in sample_chunks.items():
        assert [c.id for c in cs] == [f"{fiche_id}#{i}" for i in range(len(cs))]
        assert all(c.words == count_words(body(c)) for c in cs)


def test_chunking_is_deterministic(parsed_sample, sample_chunks):
    for fiche_id in ("F1343", "F16947", "F34482"):
        assert chunk_fiche(parsed_sample[fiche_id]) == sample_chunks[fiche_id]


def test_every_body_word_is_in_a_chunk_in_order(parsed_sample, sample_chunks):
    for fiche_id, cs in sample_chunks.items():
        expected = words_of(parsed_sample[fiche_id].markdown)
        got = [w for c in cs for w in words_of(body(c))]
        # The description may be prepended to the first chunk; table headers repeat.
        assert set(expected) <= set(got), fiche_id
        assert len(got) >= len(expected)


def test_breadcrumb_line_and_payload(parsed_sample, sample_chunks):
    for fiche_id, cs in sample_chunks.items():
        fiche = parsed_sample[fiche_id]
        for c in cs:
            assert c.text.split("\n", 1)[0] == BREADCRUMB_SEPARATOR.join(c.breadcrumb)
            assert c.breadcrumb[0] == fiche.title
            assert (c.fiche_id, c.title, c.url, c.date, c.type) == (fiche.id, fiche.title, fiche.url, fiche.date, fiche.type)
            assert c.audiences == fiche.audiences and c.themes == fiche.themes


def test_description_opens_the_first_chunk(parsed_sample, sample_chunks):
    for fiche_id, cs in sample_chunks.items():
        description = parsed_sample[fiche_id].description
        if description:
            assert " ".join(words_of(description)) in " ".join(words_of(body(cs[0]))), fiche_id


def test_description_is_not_repeated_when_it_is_the_introduction():
    intro = "Le congé est accordé sous conditions."
    cs = chunk_fiche(fiche([Section([], intro)], description=intro))
    assert body(cs[0]) == intro


def test_small_fiche_is_one_chunk_and_headings_are_kept():
    sections = [Section([], "Intro."), Section(["A"], "## A\n\nTexte A."), Section(["B"], "## B\n\nTexte B.")]
    cs = chunk_fiche(fiche(sections, description="Résumé."))
    assert len(cs) == 1
    assert cs[0].text == "Titre\n\nRésumé.\n\nIntro.\n\n## A\n\nTexte A.\n\n## B\n\nTexte B."
    assert cs[0].breadcrumb == ["Titre"] and cs[0].section == ""


def test_large_chapters_split_along_cases_with_the_path_in_the_breadcrumb():
    sections = [
        Section(["Démarche"], "## Démarche\n\n" + paragraph(20)),
        Section(["Démarche", "Cas : En ligne"], "### Cas : En ligne\n\n" + paragraph(350, "web")),
        Section(["Démarche", "Cas : Par courrier"], "### Cas : Par courrier\n\n" + paragraph(350, "poste")),
    ]
    cs = chunk_fiche(fiche(sections))
    assert len(cs) == 2
    # The chapter's short intro is glued to its first case, under the chapter's path.
    assert cs[0].breadcrumb == ["Titre", "Démarche"]
    assert body(cs[0]).startswith("## Démarche") and "### Cas : En ligne" in body(cs[0])
    assert cs[1].breadcrumb == ["Titre", "Démarche", "Cas : Par courrier"]
    assert cs[1].text.startswith("Titre > Démarche > Cas : Par courrier\n\n### Cas : Par courrier")


def test_small_siblings_are_merged():
    sections = [Section([f"C{i}"], f"## C{i}\n\n" + paragraph(120)) for i in range(6)]
    cs = chunk_fiche(fiche(sections))
    assert len(cs) == 2
    assert all(c.breadcrumb == ["Titre"] for c in cs)
    assert [c.words for c in cs] == [363, 363]


def test_situations_never_share_a_chunk():
    sections = [
        Section(["Salarié"], "# Salarié\n\n" + paragraph(30)),
        Section(["Fonctionnaire"], "# Fonctionnaire\n\n" + paragraph(30)),
    ]
    cs = chunk_fiche(fiche(sections))
    assert [c.breadcrumb for c in cs] == [["Titre", "Salarié"], ["Titre", "Fonctionnaire"]]


def test_a_chunk_knows_the_fiche_s_situation_it_is_under_and_a_chapter_is_none():
    sections = [
        Section(["Logement vide"], "# Logement vide\n\n" + paragraph(30)),
        Section(["Logement vide", "Délais de préavis"], "## Délais de préavis\n\n" + paragraph(400)),
        Section(["Logement meublé"], "# Logement meublé\n\n" + paragraph(30)),
    ]
    cs = chunk_fiche(fiche(sections))
    assert {c.situation for c in cs} == {"Logement vide", "Logement meublé"}
    assert all(c.situation == c.breadcrumb[1] for c in cs)
    chapters = chunk_fiche(fiche([Section(["Calendrier"], "## Calendrier\n\n" + paragraph(30)),
                                  Section(["Ponts"], "## Ponts\n\n" + paragraph(30))]))
    assert [c.situation for c in chapters] == [""]  # chapters (H2) are not profiles
    assert Chunk.from_payload({k: v for k, v in cs[0].payload().items() if k != "situation"}).situation == ""


def test_long_table_is_split_with_its_header_repeated():
    header = "| Revenu | Montant |\n| --- | --- |"
    rows = [f"| tranche {i} de revenus annuels du foyer | {i} 000 € |" for i in range(150)]
    sections = [Section(["Barème"], "## Barème\n\n" + header + "\n" + "\n".join(rows))]
    cs = chunk_fiche(fiche(sections))
    assert len(cs) >= 3
    assert all(c.words <= 500 for c in cs)
    for c in cs:
        table = body(c)[body(c).index("| Revenu"):]
        assert table.startswith(header + "\n| tranche")
    found = [line for c in cs for line in body(c).split("\n") if line.startswith("| tranche")]
    assert found == rows


def test_long_paragraph_is_split_between_sentences():
    sentences = [f"Phrase numéro {i} avec quelques mots de plus pour la longueur." for i in range(120)]
    cs = chunk_fiche(fiche([Section([], " ".join(sentences))]))
    assert len(cs) >= 2 and all(c.words <= 500 for c in cs)
    assert all(body(c).endswith("longueur.") for c in cs)


def test_only_content_fiches_by_default(parsed_sample):
    chunks = chunk_fiches(parsed_sample.values())
    assert chunks and {c.fiche_id[0] for c in chunks} == {"F"}
    everything = chunk_fiches(parsed_sample.values(), content_only=False)
    assert {c.fiche_id[0] for c in everything} == {"F", "N", "R"}


def test_bad_sizes_are_refused():
    with pytest.raises(ValueError, match="min_words <= max_words"):
        chunk_fiche(fiche([Section([], "x")]), min_words=600, max_words=500)


def test_a_paragraph_starting_with_a_hash_is_not_a_heading():
    sections = [Section([], "#MeToo est un mouvement."), Section(["A"], "## A\n\n" + paragraph(600))]
    cs = chunk_fiche(fiche(sections))
    assert body(cs[0]).startswith("#MeToo est un mouvement.")
    assert all(c.words <= 500 for c in cs)
