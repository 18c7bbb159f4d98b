"""DILA's official zips ("Vos droits et démarches", one per audience) over HTTP(S).

Conditional GET against the cached copy; a download that is not a valid zip is
rejected and the previous good copy is read instead (with a Failure saying so).
"""

from __future__ import annotations

import logging
import zipfile
from collections.abc import Iterator
from pathlib import Path

from ingest.http import CachedDownloader, HttpClient, HttpError
from ingest.model import Failure, Fiche
from ingest.settings import IngestSettings
from ingest.sources.base import Source
from ingest.sources.documents import AUDIENCE_CODES, ZIP_ERRORS, parse_all, zip_tasks, zip_titles

log = logging.getLogger(__name__)

ZIP_NAME = "vosdroits-latest.zip"


def check_zip(path: Path) -> None:
    """Raise if the file is not a complete zip (truncated, corrupt member…)."""
    try:
        with zipfile.ZipFile(path) as archive:
            bad = archive.testzip()
    except ZIP_ERRORS as exc:
        raise ValueError(f"not a valid zip archive: {exc}") from exc
    if bad is not None:
        raise ValueError(f"corrupt zip member {bad}")


class DilaSource(Source):
    name = "dila"

    def __init__(self, settings: IngestSettings, audiences: dict[str, str] | None = None):
        self.settings = settings
        self.audiences = audiences or AUDIENCE_CODES  # zip code -> audience
        self.cache = Path(settings.cache_dir) / "dila"

    def url(self, code: str) -> str:
        return f"{self.settings.dila_base_url.rstrip('/')}/{code}/zip/{ZIP_NAME}"

    def zip_path(self, code: str) -> Path:
        return self.cache / code / ZIP_NAME

    def documents(self) -> Iterator[Fiche | Failure]:
        zips: list[tuple[Path, str]] = []
        with HttpClient.from_settings(self.settings) as client:
            downloader = CachedDownloader(client)
            for code, audience in self.audiences.items():
                path = self._download(downloader, code)
                if isinstance(path, Failure):
                    yield path
                    path = self.zip_path(code) if self.zip_path(code).exists() else None
                if path is not None:
                    zips.append((path, audience))
        titles = {}
        for path, _ in zips:
            titles.update(zip_titles(path))
        yield from parse_all([task for path, audience in zips for task in zip_tasks(path, audience)], titles,
                             self.settings.parse_workers)

    def _download(self, downloader: CachedDownloader, code: str) -> Path | Failure:
        url = self.url(code)
        log.info("fetching %s", url)
        try:
            download = downloader.fetch(url, self.zip_path(code), validate=check_zip)
        except HttpError as exc:
            kept = " (reading the previous download)" if self.zip_path(code).exists() else ""
            log.warning("%s%s", exc, kept)
            return Failure(url, f"{exc.reason}{kept}")
        log.info("%s: %s", url, "downloaded" if download.fresh else "not modified, using the cache")
        return download.path
