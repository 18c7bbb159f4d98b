"""npm packages of data fetched by name with `npm pack` and cached, one extracted
version at a time, under <cache_dir>/<cache_name>/<version>/. A cached copy of the
registry's current version is not downloaded again; offline (or when the registry
cannot be reached) the newest cached version is read."""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path

from ingest.settings import IngestSettings
from ingest.sources.base import SourceError

log = logging.getLogger(__name__)

VIEW_TIMEOUT_S = 120
PACK_TIMEOUT_S = 900
COMPLETE_MARKER = ".complete"
_VERSION = re.compile(r"^[0-9A-Za-z.+-]+$")


class NpmPackage:
    """One npm package's data folder, downloaded on demand and cached."""

    def __init__(self, settings: IngestSettings, package: str, cache_name: str, npm: str = "npm"):
        self.settings = settings
        self.package = package
        self.npm = npm
        self.cache = Path(settings.cache_dir) / cache_name

    def ensure_package(self) -> Path:
        """The extracted package folder of the version to read, downloading it if needed."""
        cached = self.cached_versions()
        if self.settings.offline:
            if not cached:
                raise SourceError(f"offline and no cached copy of {self.package} under {self.cache}")
            return self._package_dir(cached[-1])
        try:
            version = self.latest_version()
        except SourceError as exc:
            if not cached:
                raise
            log.warning("%s; reading the cached version %s", exc, cached[-1])
            return self._package_dir(cached[-1])
        if version not in cached:
            self._download(version)
            self._prune(keep=version)
        else:
            log.info("%s@%s: cached copy is current", self.package, version)
        return self._package_dir(version)

    def cached_versions(self) -> list[str]:
        """Complete cached versions, oldest first."""
        if not self.cache.is_dir():
            return []
        versions = [p.name for p in self.cache.iterdir() if (p / COMPLETE_MARKER).exists()]
        return sorted(versions, key=_version_key)

    def latest_version(self) -> str:
        output = self._npm(["view", self.package, "version", "--json"], VIEW_TIMEOUT_S, cwd=None)
        try:
            version = json.loads(output)
        except ValueError:
            version = output.strip()
        if isinstance(version, list):  # a range that matches several versions
            version = version[-1]
        if not isinstance(version, str) or not _VERSION.match(version):
            raise SourceError(f"npm view {self.package}: unexpected answer {output[:200]!r}")
        return version

    def _download(self, version: str) -> None:
        self.cache.mkdir(parents=True, exist_ok=True)
        log.info("downloading %s@%s with npm pack…", self.package, version)
        with tempfile.TemporaryDirectory(dir=self.cache, prefix=".download-") as tmp:
            work = Path(tmp)
            output = self._npm(["pack", "--silent", f"{self.package}@{version}"], PACK_TIMEOUT_S, cwd=work)
            tarball = work / output.strip().splitlines()[-1].strip()
            if not tarball.is_file():
                raise SourceError(f"npm pack {self.package}@{version}: no tarball {tarball.name!r} produced")
            extracted = work / "extracted"
            _extract(tarball, extracted)
            if not (extracted / "package" / "data").is_dir():
                raise SourceError(f"{self.package}@{version}: the package has no data/ folder")
            (extracted / COMPLETE_MARKER).write_text(version, encoding="utf-8")
            target = self.cache / version
            if target.exists():  # an incomplete earlier attempt
                shutil.rmtree(target)
            os.replace(extracted, target)
        log.info("%s@%s downloaded to %s", self.package, version, target)

    def _prune(self, keep: str) -> None:
        for version in self.cached_versions():
            if version != keep:
                shutil.rmtree(self.cache / version, ignore_errors=True)

    def _package_dir(self, version: str) -> Path:
        return self.cache / version / "package"

    def _network_options(self) -> list[str]:
        return _network_options_for(self.settings)

    def _npm(self, args: list[str], timeout: float, cwd: Path | None) -> str:
        command = [self.npm, *args, *self._network_options()]
        if self.settings.npm_registry:
            command.append(f"--registry={self.settings.npm_registry}")
        try:
            done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=timeout)
        except FileNotFoundError as exc:
            raise SourceError(f"{self.npm} not found: install Node.js/npm or use a local path source") from exc
        except subprocess.TimeoutExpired as exc:
            raise SourceError(f"{' '.join(command)}: timed out after {timeout:g} s") from exc
        if done.returncode != 0:
            detail = (done.stderr or done.stdout).strip().splitlines()[-3:]
            raise SourceError(f"{' '.join(command)} failed ({done.returncode}): {' '.join(detail)}")
        return done.stdout


def _network_options_for(settings: IngestSettings) -> list[str]:
    """npm's own retries follow the HTTP settings (npm's defaults wait minutes)."""
    backoff_ms = max(1, int(settings.http_backoff_s * 1000))
    return [
        f"--fetch-retries={settings.http_retries}",
        f"--fetch-timeout={int(settings.http_timeout_s * 1000)}",
        f"--fetch-retry-mintimeout={backoff_ms}",
        f"--fetch-retry-maxtimeout={backoff_ms * 8}",
        "--update-notifier=false",
    ]


def _extract(tarball: Path, dest: Path) -> None:
    try:
        with tarfile.open(tarball) as archive:
            archive.extractall(dest, filter="data")
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise SourceError(f"{tarball.name}: cannot extract ({exc})") from exc


def _version_key(version: str) -> tuple:
    return tuple(int(p) if p.isdigit() else 0 for p in re.split(r"[.+-]", version))
