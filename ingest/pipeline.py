"""The ingest run: read a source, compare with the previous manifest, report.

    changes = collect(open_source("data/sample"), load_manifest(path), progress=read_progress("data/sample"))
    print(format_summary(changes))
    save_summary(changes, "ingest-summary.json", source="data/sample")

The index (retrieval) applies the ChangeSet and stores `changes.manifest`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TextIO

from ingest.atomic import write_atomic
from ingest.changes import compute_changes
from ingest.model import DEFAULT_SOURCE, ChangeSet, Failure, Fiche, Manifest, count_kinds
from ingest.progress import Progress
from ingest.sources.base import ProgressCallback, ReadProgress, Source, SourceError


def collect(
    source: Source | Sequence[Source],
    previous: Manifest,
    progress: ProgressCallback | None = None,
    observe: Callable[[Fiche], None] | None = None,
) -> ChangeSet:
    """Read every document of `source` (or of each source, in order) and compute the
    changes against `previous`; `observe` sees each fiche read. Deletions are per
    source: the fiches of a source not read this run are kept.

    A source that read no fiche at all while the previous manifest had some of its
    fiches is refused (SourceError) rather than turned into a deletion of them all."""
    sources = [source] if isinstance(source, Source) else list(source)
    read: dict[str, int] = {}
    failures: list[Failure] = []
    documents: dict[str, int] = {}
    kinds: dict[str, int] = {}

    def counted(event: ReadProgress) -> None:
        documents[event.source] = event.read
        if progress is not None:
            progress(event)

    def items() -> Iterator[Fiche | Failure]:
        for one in sources:
            read.setdefault(one.publisher, 0)
            for item in one.fiches(progress=counted):
                if isinstance(item, Failure):
                    failures.append(item)
                    yield item
                    continue
                read[item.source] = read.get(item.source, 0) + 1
                count_kinds(kinds, item)
                if observe is not None:
                    observe(item)
                yield item

    changes = compute_changes(items(), previous, sources=set(read) | {s.publisher for s in sources})
    changes.documents_read, changes.kinds = sum(documents.values()), kinds
    for one in sources:
        had = sum(1 for state in previous.values() if (state.source or DEFAULT_SOURCE) == one.publisher)
        if had and not read.get(one.publisher) and changes.deleted:
            reasons = "; ".join(f.error for f in failures[:3]) or "the source is empty"
            raise SourceError(f"{one.name}: no fiche read ({reasons}); refusing to delete {had} fiches")
    return changes


def summarize(changes: ChangeSet, **context) -> dict:
    """A JSON-ready report: counts, snapshot date, failures (origin + error)."""
    return {
        **context,
        "summary": changes.summary(),
        "kept": len(changes.kept),
        "fiches": len(changes.manifest),
        "content_fiches": sum(1 for fiche_id in changes.manifest if fiche_id.startswith("F")),
        "fiches_per_source": fiches_per_source(changes.manifest),
        "snapshot_date": changes.snapshot_date,
        "failures": [{"origin": f.origin, "error": f.error} for f in changes.failed],
    }


def fiches_per_source(manifest: Manifest) -> dict[str, int]:
    counts: dict[str, int] = {}
    for state in manifest.values():
        key = state.source or DEFAULT_SOURCE
        counts[key] = counts.get(key, 0) + 1
    return dict(sorted(counts.items()))


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
