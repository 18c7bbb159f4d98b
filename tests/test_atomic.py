"""Atomic index versions: a killed `guichet ingest` leaves the previous version serving,
the next run completes, and searchers keep answering while a version is built."""

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from retrieval.index.versions import EdgeIndex
from retrieval.search.retriever import IndexRetriever
from retrieval.types import SearchFilters, SearchMode

STAGES = ["begun", "deleted", "upserted", "before_publish", "published"]


def sample_files(folder: Path) -> list[Path]:
    files = [p for p in folder.rglob("*") if p.suffix in (".json", ".xml") and p.stem[:1] == "F"]
    return sorted(files, key=lambda p: p.name)


def make_source(sample: Path, target: Path, files: list[Path]) -> Path:
    """A source folder with a subset of the sample's files (same layout)."""
    shutil.rmtree(target, ignore_errors=True)
    for file in files:
        destination = target / file.parent.relative_to(sample) / file.name
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(file, destination)
    for folder in {f.parent for f in files}:
        if (folder / "index.json").exists():
            ids = [f.stem for f in files if f.parent == folder]
            (target / folder.relative_to(sample) / "index.json").write_text(json.dumps(ids))
    return target


@pytest.fixture(scope="module")
def sources(tmp_path_factory, sample_source_dir):
    """Two overlapping sources: A has fiches 0..11, B fiches 2..13 (two deleted, two added)."""
    files = sample_files(sample_source_dir)[:14]
    root = tmp_path_factory.mktemp("sources")
    return {
        "A": make_source(sample_source_dir, root / "A", files[:12]),
        "B": make_source(sample_source_dir, root / "B", files[2:]),
        "ids_only_in_A": [f.stem for f in files[:2]],
    }


def ingest(source: Path, index_dir: Path, crash_at: str | None = None, **popen) -> subprocess.Popen:
    env = {**os.environ, "GUICHET_EMBEDDER": "none"}
    env.pop("GUICHET_TEST_CRASH_AT", None)
    if crash_at:
        env["GUICHET_TEST_CRASH_AT"] = crash_at
    command = [sys.executable, "-m", "api.cli", "ingest", "--source", str(source), "--index-dir", str(index_dir)]
    return subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **popen)


def run(source, index_dir, crash_at=None) -> subprocess.CompletedProcess:
    process = ingest(source, index_dir, crash_at)
    out, err = process.communicate(timeout=300)
    return subprocess.CompletedProcess(process.args, process.returncode, out, err)


def serving(index_dir: Path) -> set[str]:
    """Opens the index as a new reader and returns the fiche IDs it serves."""
    retriever = IndexRetriever(EdgeIndex(index_dir), None, follow_updates=False)
    try:
        assert retriever.search("démarche", k=3, mode=SearchMode.BM25).fiches
        return {f["id"] for f in retriever.version.iter_fiches()}
    finally:
        retriever.close()


def test_a_crash_at_any_stage_leaves_the_previous_version_serving(tmp_path, sources):
    index_dir = tmp_path / "index"
    assert run(sources["A"], index_dir).returncode == 0
    current = "A"
    for stage in STAGES:
        before = serving(index_dir)
        target = "B" if current == "A" else "A"
        crashed = run(sources[target], index_dir, crash_at=stage)
        assert crashed.returncode == 137, crashed.stderr
        after = serving(index_dir)
        if stage == "published":  # the switch happened; only the clean-up was skipped
            assert after != before
            current = target
            continue
        assert after == before, stage
        rerun = run(sources[target], index_dir)
        assert rerun.returncode == 0, rerun.stderr
        assert serving(index_dir) != before
        current = target
    versions = sorted(int(p) for p in os.listdir(index_dir / "versions"))
    assert len(versions) <= 3 and versions[-1] == int((index_dir / "CURRENT").read_text())


def test_sigkill_at_random_times(tmp_path, sources):
    index_dir = tmp_path / "index"
    assert run(sources["A"], index_dir).returncode == 0
    rng = random.Random(1234)
    target = "B"
    for _ in range(2):
        before = serving(index_dir)
        process = ingest(sources[target], index_dir)
        time.sleep(rng.uniform(0.5, 4.0))
        process.send_signal(signal.SIGKILL)
        process.communicate()
        after = serving(index_dir)
        rerun = run(sources[target], index_dir)
        assert rerun.returncode == 0, rerun.stderr
        new = serving(index_dir)
        assert new != before
        assert after in (before, new)  # the old version or the complete new one, never a mix
        target = "A" if target == "B" else "B"


def test_a_searcher_keeps_answering_while_a_version_is_built(tmp_path, sources):
    index_dir = tmp_path / "index"
    assert run(sources["A"], index_dir).returncode == 0
    retriever = IndexRetriever(EdgeIndex(index_dir), None)  # follows new versions
    pinned = IndexRetriever(EdgeIndex(index_dir), None, follow_updates=False)
    gone = sources["ids_only_in_A"][0]
    only_gone = SearchFilters(fiche_ids=[gone])
    process = ingest(sources["B"], index_dir)
    answered = 0
    while process.poll() is None:
        result = retriever.search("démarche à effectuer", k=3, mode=SearchMode.BM25)
        assert result.fiches
        answered += 1
        time.sleep(0.05)
    assert process.returncode == 0, process.stderr.read()
    assert answered > 0
    title = pinned.fiche(gone).title
    assert retriever.search(title, k=3, mode=SearchMode.BM25, filters=only_gone).fiches == []
    assert retriever.version.number == 2 and retriever.fiche(gone) is None
    # A reader that keeps version 1 open still answers from it (the previous version is kept).
    assert pinned.version.number == 1 and pinned.fiche(gone) is not None
    title = pinned.fiche(gone).title
    assert pinned.search(title, k=3, mode=SearchMode.BM25, filters=only_gone).fiches
    retriever.close()
    pinned.close()


def test_a_second_build_waits_for_none_and_is_refused(tmp_path, sources):
    index_dir = tmp_path / "index"
    assert run(sources["A"], index_dir).returncode == 0
    from retrieval.errors import IndexBusy

    index = EdgeIndex(index_dir)
    with index.build_lock():
        busy = run(sources["B"], index_dir)
        assert busy.returncode != 0 and "another `guichet ingest`" in busy.stderr
    with pytest.raises(IndexBusy):
        with index.build_lock(), EdgeIndex(index_dir).build_lock():
            pass
