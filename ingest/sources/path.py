"""A local path: a DILA zip, a folder of XML, or a folder of xml-js JSON (the npm
package's data/ folder), flat or with one subfolder per audience."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from ingest.model import AUDIENCES, Failure, Fiche
from ingest.sources.base import Source, SourceError
from ingest.sources.documents import (
    AUDIENCE_CODES,
    _read_file,
    audience_from_name,
    document_id,
    folder_titles,
    json_folder_tasks,
    parse_all,
    parse_xml,
    parse_xmljs,
    read_zip,
    xml_folder_tasks,
    zip_tasks,
    zip_titles,
)


class PathSource(Source):
    name = "path"

    def __init__(self, path: Path | str, parse_workers: int | None = None):
        self.path = Path(path)
        self.parse_workers = parse_workers
        if not self.path.exists():
            raise SourceError(f"{self.path}: no such file or folder")
        if self.path.is_dir() and not _folder_kinds(self.path) and _audience_folders(self.path / "data"):
            self.path = self.path / "data"  # an unpacked npm package: its data/ folder

    def documents(self) -> Iterator[Fiche | Failure]:
        if self.path.is_file():
            yield from self._read_file()
            return
        folders = _audience_folders(self.path)
        if folders:
            if not any(_folder_kinds(folder) for folder, _ in folders):
                raise SourceError(f"{self.path}: the audience folders hold no documents")
            folders = [(f, a) for f, a in folders if _folder_kinds(f)]  # an audience may be empty
        else:
            folders = [(self.path, audience_from_name(self.path.name))]
        titles = {}
        for folder, _ in folders:
            titles.update(corpus_titles(folder))
        tasks = [task for folder, audience in folders for task in folder_tasks(folder, audience)]
        yield from parse_all(tasks, titles, self.parse_workers)

    def _read_file(self) -> Iterator[Fiche | Failure]:
        audience = zip_audience(self.path)
        suffix = self.path.suffix.lower()
        if suffix == ".zip":
            yield from read_zip(self.path, audience, zip_titles(self.path))
        elif suffix == ".xml":
            yield _read_file(self.path, parse_xml, audience)
        elif suffix == ".json":
            yield _read_file(self.path, parse_xmljs, audience)
        else:
            raise SourceError(f"{self.path}: expected a .zip, .xml or .json file or a folder")


def _audience_folders(root: Path) -> list[tuple[Path, str]]:
    names = [*AUDIENCES, *AUDIENCE_CODES]
    found = [(root / name, audience_from_name(name)) for name in names if (root / name).is_dir()]
    return [(folder, audience) for folder, audience in found if audience]


def corpus_titles(folder: Path) -> dict[str, str]:
    titles = folder_titles(folder)
    for archive in sorted(folder.glob("*.zip")):
        titles.update(zip_titles(archive))
    return titles


def folder_tasks(folder: Path, audience: str | None) -> list:
    kinds = _folder_kinds(folder)
    if not kinds:
        raise SourceError(f"{folder}: no documents found (expected F1234.xml, F1234.json, index.json or .zip files)")
    tasks = []
    if "json" in kinds:
        tasks += json_folder_tasks(folder, audience)
    if "xml" in kinds:
        tasks += xml_folder_tasks(folder, audience)
    for archive in sorted(folder.glob("*.zip")):
        tasks += zip_tasks(archive, zip_audience(archive) or audience)
    return tasks


def _folder_kinds(folder: Path) -> set[str]:
    kinds = set()
    if (folder / "index.json").exists() or any(document_id(p.name) for p in folder.glob("*.json")):
        kinds.add("json")
    if any(document_id(p.name) for p in folder.glob("*.xml")):
        kinds.add("xml")
    if any(folder.glob("*.zip")):
        kinds.add("zip")
    return kinds


def zip_audience(path: Path) -> str | None:
    """From the file name, else the two nearest folders (DILA: part/zip/vosdroits-latest.zip)."""
    for name in (path.stem, path.parent.name, path.parent.parent.name):
        audience = audience_from_name(name)
        if audience:
            return audience
    return None
