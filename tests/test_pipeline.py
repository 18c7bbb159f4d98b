"""The ingest run end to end on files: read, compare with the saved manifest, report."""

from __future__ import annotations

import io
import json
import shutil

import pytest

from ingest.changes import load_manifest, save_manifest
from ingest.pipeline import collect, format_summary, read_progress, save_summary
from ingest.progress import Progress
from ingest.sources import SourceError, open_source


@pytest.fixture
def corpus(fiches_dir, tmp_path):
    """A writable copy of the fixture fiches."""
    return shutil.copytree(fiches_dir, tmp_path / "corpus")


def run(corpus, settings, manifest_path, progress=None):
    changes = collect(open_source(str(corpus), settings), load_manifest(manifest_path), progress=progress)
    save_manifest(changes.manifest, manifest_path)
    return changes


def rewrite(path, old, new):
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")


def test_incremental_runs(corpus, ingest_settings, tmp_path):
    manifest = tmp_path / "manifest.json"
    first = run(corpus, ingest_settings, manifest)
    assert first.summary()["added"] == 6 and not first.failed

    assert run(corpus, ingest_settings, manifest).is_empty

    rewrite(corpus / "particuliers" / "F1775.xml", "exercées depuis", "assurées depuis")  # description
    rewrite(corpus / "professionnels" / "F31851.xml", "modified 2020-06-05", "modified 2021-03-01")
    (corpus / "associations" / "F34729.xml").unlink()
    changes = run(corpus, ingest_settings, manifest)
    assert [f.id for f in changes.updated] == ["F1775"]
    assert [f.id for f in changes.metadata_only] == ["F31851"]
    assert changes.deleted == ["F34729"]
    assert changes.snapshot_date == "2021-03-01"
    assert sorted(load_manifest(manifest)) == sorted(["F1972", "F1775", "F33481", "F34344", "F31851"])


def test_a_document_that_breaks_is_kept_and_reported(corpus, ingest_settings, tmp_path):
    manifest = tmp_path / "manifest.json"
    run(corpus, ingest_settings, manifest)
    before = load_manifest(manifest)["F33481"]
    (corpus / "particuliers" / "F33481.xml").write_text("<Publication ID='F33481'>", encoding="utf-8")

    changes = run(corpus, ingest_settings, manifest)

    assert changes.deleted == [] and changes.kept == ["F33481"]
    assert [f.fiche_id for f in changes.failed] == ["F33481"]
    assert load_manifest(manifest)["F33481"] == before
    text = format_summary(changes)
    assert "1 failed" in text and "F33481.xml: malformed XML" in text and "1 fiches kept" in text


def test_an_unreadable_source_deletes_nothing(corpus, ingest_settings, tmp_path):
    manifest = tmp_path / "manifest.json"
    run(corpus, ingest_settings, manifest)
    broken = tmp_path / "part.zip"
    broken.write_bytes(b"PK\x03\x04 cut")
    changes = collect(open_source(str(broken), ingest_settings), load_manifest(manifest))
    assert changes.deleted == [] and len(changes.kept) == 6
    assert changes.manifest == load_manifest(manifest)


def test_an_empty_source_cannot_delete_everything(corpus, ingest_settings, tmp_path):
    manifest = tmp_path / "manifest.json"
    run(corpus, ingest_settings, manifest)
    empty = tmp_path / "data" / "particuliers"
    empty.mkdir(parents=True)
    (empty / "index.json").write_text("[]", encoding="utf-8")
    with pytest.raises(SourceError, match="refusing to delete 6 fiches"):
        collect(open_source(str(empty.parent), ingest_settings), load_manifest(manifest))


def test_progress_reports_documents_and_failures(corpus, ingest_settings, tmp_path):
    (corpus / "particuliers" / "F42.xml").write_text("not xml", encoding="utf-8")
    events = []
    run(corpus, ingest_settings, tmp_path / "manifest.json", progress=events.append)
    assert [e.read for e in events[:-1]] == list(range(1, 9))  # 7 fixture files + F42
    last = events[-1]
    assert last.done and last.read == 8 and last.failed == 1 and last.source == "path"


def test_read_progress_in_a_log_is_one_line_at_the_end_of_a_short_read(corpus, ingest_settings, tmp_path):
    stream = io.StringIO()  # not a terminal: plain lines, no carriage return
    run(corpus, ingest_settings, tmp_path / "manifest.json", progress=read_progress("path", stream))
    assert "\r" not in stream.getvalue()
    lines = stream.getvalue().splitlines()
    assert len(lines) == 1 and lines[0].startswith("reading path: 7 documents, in ")


class FakeClock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def test_progress_in_a_log_prints_one_line_every_interval():
    stream, clock = io.StringIO(), FakeClock()
    progress = Progress("embedding", total=100, unit="chunks", stream=stream, interval_s=5, clock=clock)
    for done in range(1, 100):
        clock.now = done * 0.2  # 20 s in all: lines at 5, 10, 15 s
        progress.update(done)
    progress.finish(100)
    lines = stream.getvalue().split("\n")
    assert "\r" not in stream.getvalue() and lines[-1] == ""
    assert lines[:3] == ["embedding: 25/100 chunks (25%), 5.0/s, ETA 15s",
                         "embedding: 50/100 chunks (50%), 5.0/s, ETA 10s",
                         "embedding: 75/100 chunks (75%), 5.0/s, ETA 5s"]
    assert lines[3] == "embedding: 100/100 chunks (100%), in 20s" and len(lines) == 5


def test_progress_on_a_terminal_is_one_live_bar():
    stream, clock = io.StringIO(), FakeClock()
    progress = Progress("ONNX export", total=4, unit="steps", stream=stream, tty=True, clock=clock)
    for done in range(1, 4):
        clock.now = done
        progress.update(done)
    clock.now = 4
    progress.finish(4)
    output = stream.getvalue()
    assert output.count("\n") == 1 and output.endswith("in 4s\x1b[K\n")
    assert "\rONNX export: [############------------] 2/4 steps (50%)" in output
def test_summary_is_stored_as_json(corpus, ingest_settings, tmp_path):
    (corpus / "particuliers" / "F42.xml").write_text("not xml", encoding="utf-8")
    changes = run(corpus, ingest_settings, tmp_path / "manifest.json")
    path = tmp_path / "summary.json"
    save_summary(changes, path, source=str(corpus))
    report = json.loads(path.read_text(encoding="utf-8"))
    assert report["summary"] == changes.summary()
    assert report["summary"]["added"] == 6 and report["summary"]["failed"] == 1
    assert report["fiches"] == 6 and report["content_fiches"] == 6
    assert report["source"] == str(corpus)
    assert report["failures"][0]["origin"].endswith("F42.xml")
