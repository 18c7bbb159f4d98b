"""Reading documents (XML or xml-js JSON) from files, folders and zips into Fiches.

Every error becomes a `Failure` naming the file or zip member; nothing here raises
for one bad document.
"""

from __future__ import annotations

import html
import json
import logging
import multiprocessing
import re
import zipfile
import zlib
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import NamedTuple

from ingest.environment import usable_cpus
from ingest.metadata import clean_title
from ingest.model import Failure, Fiche, merge_audiences

log = logging.getLogger(__name__)

Titles = Mapping[str, str] | None  # fiche ID -> title, for links with no anchor text

# F1234, N19806, R1234…: the stem of a document file in both layouts.
DOCUMENT_ID = re.compile(r"^[A-Z]{1,3}\d+$")

# Codes used by DILA's zips and folder names, mapped to Fiche.audiences values.
# What reading a damaged or unusual zip member raises.
ZIP_ERRORS = (zipfile.BadZipFile, zlib.error, OSError, EOFError, RuntimeError, NotImplementedError)

AUDIENCE_CODES = {"part": "particuliers", "pro": "professionnels", "asso": "associations"}
_AUDIENCE_WORDS = {
    **{code: audience for code, audience in AUDIENCE_CODES.items()},
    **{audience: audience for audience in AUDIENCE_CODES.values()},
}


def audience_from_name(name: str) -> str | None:
    """'particuliers', 'part', 'vosdroits-pro.zip' → the audience; None when unknown."""
    for token in re.split(r"[^a-z]+", name.lower()):
        if token in _AUDIENCE_WORDS:
            return _AUDIENCE_WORDS[token]
    return None


def parse_xml(data: bytes, origin: str, audience: str | None, titles: Titles = None) -> Fiche | Failure:
    from ingest.tree import from_xml

    return _parse(lambda: from_xml(data), origin, audience, titles)


def parse_xmljs(data: bytes, origin: str, audience: str | None, titles: Titles = None) -> Fiche | Failure:
    from ingest.tree import MalformedDocument, from_xmljs

    def read():
        try:
            document = json.loads(data)
        except ValueError as exc:
            raise MalformedDocument(f"malformed JSON: {exc}") from exc
        return from_xmljs(document)

    return _parse(read, origin, audience, titles)


def _parse(read_root, origin: str, audience: str | None, titles: Titles) -> Fiche | Failure:
    from ingest.parse import parse_document

    fiche_id = document_id(origin)
    try:
        fiche = parse_document(read_root(), audience=audience, origin=origin, titles=titles)
    except Exception as exc:  # one bad document must not stop the run
        log.debug("cannot read %s", origin, exc_info=True)
        return Failure(origin, _describe(exc), fiche_id=fiche_id)
    if audience:
        merge_audiences(fiche, [audience])
    return fiche


def _describe(exc: Exception) -> str:
    from ingest.tree import MalformedDocument

    try:
        from ingest.parse import ParseError
    except ImportError:  # pragma: no cover - the parser module is part of the package
        ParseError = ()
    if isinstance(exc, (MalformedDocument, ParseError)):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"


def document_id(origin: str) -> str:
    """The fiche ID in a file name, zip member or URL ('…/F1234.xml' → 'F1234'), or ''."""
    stem = re.split(r"[/!\\]", origin.rstrip("/"))[-1].split(".")[0]
    return stem if DOCUMENT_ID.match(stem) else ""


def read_zip(path: Path, audience: str | None, titles: Titles = None) -> Iterator[Fiche | Failure]:
    """A DILA zip: flat XML files named after their ID (other members are skipped)."""
    yield from parse_all(zip_tasks(path, audience), titles)


def zip_tasks(path: Path, audience: str | None) -> Iterator[ParseTask | Failure]:
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        yield Failure(str(path), f"not a readable zip archive: {exc}")
        return
    with archive:
        skipped = 0
        for member in archive.infolist():
            name = member.filename.rsplit("/", 1)[-1]
            if member.is_dir() or not name.endswith(".xml") or not document_id(name):
                skipped += 1
                continue
            origin = f"{path}!{member.filename}"
            try:
                data = archive.read(member)
            except ZIP_ERRORS as exc:
                yield Failure(origin, f"corrupt zip member: {exc}", fiche_id=document_id(name))
                continue
            yield ParseTask(parse_xml, data, origin, audience)
        if skipped:
            log.info("%s: skipped %d members that are not documents", path, skipped)


def xml_folder_tasks(folder: Path, audience: str | None) -> list[ParseTask]:
    return [ParseTask(parse_xml, file, str(file), audience) for file in _xml_files(folder)]


def json_folder_tasks(folder: Path, audience: str | None) -> list[ParseTask | Failure]:
    """xml-js JSON files; when `index.json` exists it is the only authority (the npm
    package keeps stale files that it does not list)."""
    try:
        files = _json_files(folder)
    except ValueError as exc:
        return [Failure(str(folder / "index.json"), f"unreadable index: {exc}")]
    return [ParseTask(parse_xmljs, file, str(file), audience) for file in files]


def _xml_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.glob("*.xml") if document_id(p.name))


def _json_files(folder: Path) -> list[Path]:
    """The files index.json lists (missing ones included), else every <ID>.json."""
    index = folder / "index.json"
    if not index.exists():
        return sorted(p for p in folder.glob("*.json") if document_id(p.name))
    ids = json.loads(index.read_text(encoding="utf-8"))
    if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
        raise ValueError("expected a JSON list of IDs")
    return [folder / f"{fiche_id}.json" for fiche_id in ids]


def _read_file(file: Path, parse, audience: str | None, titles: Titles = None) -> Fiche | Failure:
    try:
        data = file.read_bytes()
    except OSError as exc:
        reason = "listed in index.json but missing" if isinstance(exc, FileNotFoundError) else str(exc)
        return Failure(str(file), reason, fiche_id=document_id(file.name))
    return parse(data, str(file), audience, titles)


# --- parsing on every core -------------------------------------------------------------
# A task: the parser, a file to read or the bytes already read, the origin and the
# audience. Parsing the whole corpus takes ~30 s on one core; the worker processes
# share it out and the results come back in the input order, so runs stay reproducible.
class ParseTask(NamedTuple):
    parse: Callable  # parse_xml or parse_xmljs
    source: Path | bytes
    origin: str
    audience: str | None


PARALLEL_MIN_TASKS = 200
_worker_titles: Titles = None




def _run_task(task: ParseTask, titles: Titles) -> Fiche | Failure:
    parse, source, origin, audience = task
    if isinstance(source, Path):
        return _read_file(source, parse, audience, titles)
    return parse(source, origin, audience, titles)


def _init_worker(titles: Titles) -> None:
    global _worker_titles
    _worker_titles = titles


def _run_in_worker(task: ParseTask) -> Fiche | Failure:
    return _run_task(task, _worker_titles)


def parse_all(tasks, titles: Titles, workers: int | None = None) -> Iterator[Fiche | Failure]:
    """Fiches (or Failures) for the tasks, in order; Failures among them pass through.
    One pool for all the tasks given: gather a source's tasks, then call this once.
    `workers`: processes (ingest.settings parse_workers), default the usable CPUs."""
    items = list(tasks)
    workers = (workers or usable_cpus()) if len(items) >= PARALLEL_MIN_TASKS else 1
    if workers < 2:
        for item in items:
            yield item if isinstance(item, Failure) else _run_task(item, titles)
        return
    todo = [item for item in items if not isinstance(item, Failure)]
    # forkserver: the workers do not inherit this process's threads (an embedder's pool).
    context = multiprocessing.get_context("forkserver")
    with ProcessPoolExecutor(workers, mp_context=context, initializer=_init_worker, initargs=(dict(titles or {}),)) as pool:
        results = pool.map(_run_in_worker, todo, chunksize=32)
        for item in items:
            yield item if isinstance(item, Failure) else next(results)


# First pass: the titles of every document, to label links whose anchor text is empty
# (the parser otherwise shows the bare ID). A regex, not a parse: a few seconds for the
# whole corpus.
_XML_TITLE = re.compile(rb"<dc:title>(.*?)</dc:title>", re.DOTALL)
_XMLJS_TITLE = re.compile(
    rb'"name":\s*"dc:title",\s*"children":\s*\[\s*\{\s*"type":\s*"text",\s*"text":\s*"((?:[^"\\]|\\.)*)"'
)


def title_in(data: bytes, form: str) -> str:
    """The dc:title of a raw XML ("xml") or xml-js JSON ("json") document, '' if none."""
    if form == "xml":
        match = _XML_TITLE.search(data)
        text = html.unescape(match.group(1).decode("utf-8", "replace")) if match else ""
    else:
        match = _XMLJS_TITLE.search(data)
        try:
            text = json.loads(b'"' + match.group(1) + b'"') if match else ""
        except ValueError:
            text = ""
    return clean_title(text)


def folder_titles(folder: Path) -> dict[str, str]:
    titles = {}
    try:
        files = [(p, "json") for p in _json_files(folder)] + [(p, "xml") for p in _xml_files(folder)]
    except ValueError:
        files = [(p, "xml") for p in _xml_files(folder)]
    for file, form in files:
        try:
            title = title_in(file.read_bytes(), form)
        except OSError:
            continue
        if title:
            titles[document_id(file.name)] = title
    return titles


def zip_titles(path: Path) -> dict[str, str]:
    titles = {}
    try:
        with zipfile.ZipFile(path) as archive:
            for member in archive.infolist():
                name = member.filename.rsplit("/", 1)[-1]
                if name.endswith(".xml") and document_id(name):
                    try:
                        title = title_in(archive.read(member), "xml")
                    except ZIP_ERRORS:
                        continue
                    if title:
                        titles[document_id(name)] = title
    except ZIP_ERRORS:
        pass  # reported when the documents are read
    return titles
