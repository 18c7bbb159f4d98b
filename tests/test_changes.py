"""Change detection and manifest files, on real fiches read from the fixture folder."""

from __future__ import annotations

import copy
import json

import pytest

from ingest.changes import ManifestError, compute_changes, load_manifest, save_manifest
from ingest.model import Failure, Fiche, Section
from ingest.sources import open_source


@pytest.fixture
def fiches(fiches_dir, ingest_settings) -> list[Fiche]:
    items = list(open_source(str(fiches_dir), ingest_settings).fiches())
    assert all(isinstance(i, Fiche) for i in items)
    return items


@pytest.fixture
def baseline(fiches):
    return compute_changes(fiches, {}).manifest


def edited(fiches, fiche_id, edit):
    result = copy.deepcopy(fiches)
    for fiche in result:
        if fiche.id == fiche_id:
            edit(fiche)
    return result


def test_first_run_adds_everything(fiches):
    changes = compute_changes(fiches, {})
    assert {f.id for f in changes.added} == {f.id for f in fiches}
    assert set(changes.manifest) == {f.id for f in fiches}
    assert changes.snapshot_date == max(f.date for f in fiches)
    assert not changes.is_empty


def test_unchanged_source_gives_an_empty_change_set(fiches, baseline):
    changes = compute_changes(copy.deepcopy(fiches), baseline)
    assert changes.is_empty
    assert sorted(changes.unchanged) == sorted(baseline)
    assert changes.manifest == baseline


def test_body_edit_is_an_update(fiches, baseline):
    def edit(fiche):
        fiche.markdown += "\n\nLe montant passe à 120 €."
        fiche.sections.append(Section(["Montant"], "Le montant passe à 120 €."))

    changes = compute_changes(edited(fiches, "F1775", edit), baseline)
    assert [f.id for f in changes.updated] == ["F1775"]
    assert changes.summary() == {
        "added": 0, "updated": 1, "metadata_only": 0, "unchanged": len(fiches) - 1, "deleted": 0, "failed": 0,
    }  # fmt: skip
    assert changes.manifest["F1775"].content_hash != baseline["F1775"].content_hash


def test_metadata_edit_is_payload_only(fiches, baseline):
    def edit(fiche):
        fiche.date = "2030-01-01"
        fiche.breadcrumb = [*fiche.breadcrumb, "Nouveau niveau"]

    changes = compute_changes(edited(fiches, "F33481", edit), baseline)
    assert [f.id for f in changes.metadata_only] == ["F33481"]
    assert not changes.updated and not changes.added
    assert changes.manifest["F33481"].date == "2030-01-01"
    assert changes.snapshot_date == "2030-01-01"


def test_removed_fiche_is_deleted(fiches, baseline):
    changes = compute_changes([f for f in fiches if f.id != "F31851"], baseline)
    assert changes.deleted == ["F31851"]
    assert "F31851" not in changes.manifest


def test_failed_fiche_is_kept_not_deleted(fiches, baseline):
    failure = Failure("data/particuliers/F1972.xml", "malformed XML: …", fiche_id="F1972")
    remaining = [f for f in fiches if f.id not in ("F1972", "F31851")]
    changes = compute_changes([*remaining, failure], baseline)
    assert changes.deleted == ["F31851"]  # really gone
    assert changes.kept == ["F1972"]  # failed this run: previous state kept
    assert changes.manifest["F1972"] == baseline["F1972"]
    assert changes.failed == [failure]
    assert changes.summary()["failed"] == 1


def test_a_failed_source_part_blocks_all_deletions(fiches, baseline):
    failure = Failure("https://example.org/asso/zip/vosdroits-latest.zip", "HTTP 404 Not Found")
    remaining = [f for f in fiches if f.id != "F34729"]
    changes = compute_changes(remaining, baseline, failures=[failure])
    assert changes.deleted == [] and changes.kept == ["F34729"]
    assert changes.manifest == baseline


def test_copies_of_an_id_merge_audiences(fiches):
    fiche = next(f for f in fiches if f.id == "F1972")
    copy_for_associations = copy.deepcopy(fiche)
    copy_for_associations.audiences = ["associations"]
    changes = compute_changes([fiche, copy_for_associations], {})
    assert len(changes.added) == 1
    assert "associations" in changes.added[0].audiences and "particuliers" in changes.added[0].audiences


def test_manifest_round_trip(baseline, tmp_path):
    path = tmp_path / "index" / "manifest.json"
    save_manifest(baseline, path)
    assert load_manifest(path) == baseline
    assert [p.name for p in path.parent.iterdir()] == ["manifest.json"]  # no temp file left


def test_missing_manifest_is_a_first_run(tmp_path):
    assert load_manifest(tmp_path / "absent.json") == {}


def test_bad_manifests_name_the_file(tmp_path):
    path = tmp_path / "manifest.json"
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(ManifestError, match="manifest.json: malformed JSON"):
        load_manifest(path)
    path.write_text(json.dumps({"format": 1, "fiches": {"F1": {"content": "x"}}}), encoding="utf-8")
    with pytest.raises(ManifestError, match="bad entry for F1"):
        load_manifest(path)
    path.write_text(json.dumps([1, 2]), encoding="utf-8")
    with pytest.raises(ManifestError, match="not a guichet manifest"):
        load_manifest(path)


def test_failed_save_leaves_no_partial_file(baseline, tmp_path):
    path = tmp_path / "manifest.json"
    path.mkdir()  # os.replace onto a folder fails after the temp file was written
    (path / "keep.txt").write_text("still here")
    with pytest.raises(OSError):
        save_manifest(baseline, path)
    assert [p.name for p in tmp_path.iterdir()] == ["manifest.json"]
    assert (path / "keep.txt").read_text() == "still here"
