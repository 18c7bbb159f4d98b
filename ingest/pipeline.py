"""The ingest run: read a source, compare with the previous manifest, report.

    changes = collect(open_source("data/sample"), load_manifest(path), progress=StderrProgress())
    print(format_summary(changes))
    save_summary(changes, "ingest-summary.json", source="data/sample")

The index (retrieval) applies the ChangeSet and stores `changes.manifest`.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import TextIO

from ingest.changes import compute_changes
from ingest.atomic import write_atomic
from ingest.model import ChangeSet, Manifest
from ingest.sources.base import ProgressCallback, ReadProgress, Source, SourceError


def collect(source: Source, previous: Manifest, progress: ProgressCallback | None = None) -> ChangeSet:
    """Read every document of `source` and compute the changes against `previous`.

    A run that read no fiche at all while the previous manifest had some is refused
    (SourceError) rather than turned into a deletion of everything."""
    changes = compute_changes(source.fiches(progress=progress), previous)
    if previous and not changes.manifest:
        reasons = "; ".join(f.error for f in changes.failed[:3]) or "the source is empty"
        raise SourceError(f"{source.name}: no fiche read ({reasons}); refusing to delete {len(previous)} fiches")
    return changes


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


class StderrProgress:
    """A progress line: rewritten in place on a terminal, every `every` documents otherwise."""

    def __init__(self, stream: TextIO | None = None, every: int = 1000, min_interval_s: float = 0.2):
        self.stream = stream or sys.stderr
        self.every = every
        self.min_interval_s = min_interval_s
        self._last = 0.0
        self._tty = self.stream.isatty()

    def __call__(self, event: ReadProgress) -> None:
        line = f"{event.source}: {event.read} documents read, {event.failed} failed"
        if event.done:
            self.stream.write(("\r" if self._tty else "") + line + "\n")
        elif self._tty:
            now = time.monotonic()
            if now - self._last >= self.min_interval_s:
                self._last = now
                self.stream.write("\r" + line)
        elif event.read % self.every == 0:
            self.stream.write(line + "\n")
        self.stream.flush()
