"""The ingest run: read a source, compare with the previous manifest, report.

    changes = collect(open_source("data/sample"), load_manifest(path), progress=read_progress("data/sample"))
    print(format_summary(changes))
    save_summary(changes, "ingest-summary.json", source="data/sample")

The index (retrieval) applies the ChangeSet and stores `changes.manifest`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TextIO

from ingest.changes import compute_changes
from ingest.http import write_atomic
from ingest.model import ChangeSet, Fiche, Manifest, count_kinds
from ingest.progress import Progress
from ingest.sources.base import ProgressCallback, ReadProgress, Source, SourceError


def collect(source: Source, previous: Manifest, progress: ProgressCallback | None = None) -> ChangeSet:
    """Read every document of `source` and compute the changes against `previous`.

    A run that read no fiche at all while the previous manifest had some is refused
    (SourceError) rather than turned into a deletion of everything."""
    documents = 0

    def counted(event: ReadProgress) -> None:
        nonlocal documents
        documents = event.read
        if progress is not None:
            progress(event)

    fiches = _kinds_counted(source.fiches(progress=counted), kinds := {})
    changes = compute_changes(fiches, previous)
    changes.documents_read, changes.kinds = documents, kinds
    if previous and not changes.manifest:
        reasons = "; ".join(f.error for f in changes.failed[:3]) or "the source is empty"
        raise SourceError(f"{source.name}: no fiche read ({reasons}); refusing to delete {len(previous)} fiches")
    return changes


def _kinds_counted(items, kinds: dict[str, int]):
    """The items as they are, counting the fiches of each kind (ingest.model.fiche_kind)."""
    for item in items:
        if isinstance(item, Fiche):
            count_kinds(kinds, item)
        yield item


def summarize(changes: ChangeSet, **context) -> dict:
    """A JSON-ready report: counts, snapshot date, failures (origin + error)."""
    return {
        **context,
        "summary": changes.summary(),
        "kept": len(changes.kept),
        "fiches": len(changes.manifest),
        "content_fiches": sum(1 for fiche_id in changes.manifest if fiche_id.startswith("F")),
        "snapshot_date": changes.snapshot_date,
        "failures": [{"origin": f.origin, "error": f.error} for f in changes.failed],
    }


def format_summary(changes: ChangeSet, max_failures: int = 20) -> str:
    counts = changes.summary()
    lines = [
        "ingest: " + ", ".join(f"{count} {name.replace('_', '-')}" for name, count in counts.items()),
        f"  {len(changes.manifest)} fiches in the manifest, snapshot of {changes.snapshot_date or 'unknown date'}",
    ]
    if changes.kept:
        lines.append(f"  {len(changes.kept)} fiches kept as they were (not read this run, not deleted)")
    for failure in changes.failed[:max_failures]:
        lines.append(f"  failed: {failure.origin}: {failure.error}")
    if len(changes.failed) > max_failures:
        lines.append(f"  … and {len(changes.failed) - max_failures} more failures")
    return "\n".join(lines)


def save_summary(changes: ChangeSet, path: Path | str, **context) -> dict:
    report = summarize(changes, **context)
    write_atomic(Path(path), json.dumps(report, ensure_ascii=False, indent=2))
    return report


def read_progress(source_name: str, stream: TextIO | None = None, **options) -> ProgressCallback:
    """Reading a source's documents as one Progress line (a live bar on a terminal, a
    line every few seconds in a log; see ingest.progress)."""
    progress = Progress(f"reading {source_name}", unit="documents", stream=stream, **options)

    def report(event: ReadProgress) -> None:
        detail = f"{event.failed} failed" if event.failed else ""
        if event.done:
            progress.finish(event.read, detail=detail)
        else:
            progress.update(event.read, detail=detail)

    return report
