"""The DILA source: official zips over HTTP, served by a real local server."""

from __future__ import annotations

from ingest.model import Failure, Fiche
from ingest.sources import open_source
from ingest.sources.dila import DilaSource
from tests.fixtures.sources import Reply, audience_zip

ZIP_PATH = "/vdd/3.3/{code}/zip/vosdroits-latest.zip"


def serve_zips(http_server, fiches_dir, tmp_path, etag=True):
    for code, audience in (("part", "particuliers"), ("pro", "professionnels"), ("asso", "associations")):
        data = audience_zip(fiches_dir, audience, tmp_path / "served" / f"{code}.zip").read_bytes()
        headers = {"ETag": f'"{code}-1"'} if etag else {"Last-Modified": "Mon, 01 Jan 2024 00:00:00 GMT"}
        http_server.route(ZIP_PATH.format(code=code), Reply(200, data, headers), Reply(304, "", headers))


def dila(http_server, ingest_settings):
    ingest_settings.dila_base_url = f"{http_server.url}/vdd/3.3"
    return open_source("dila", ingest_settings)


def split(items):
    fiches = [i for i in items if isinstance(i, Fiche)]
    return {f.id: f for f in fiches}, [i for i in items if isinstance(i, Failure)]


def test_reads_the_three_zips_and_merges_audiences(http_server, ingest_settings, fiches_dir, tmp_path):
    serve_zips(http_server, fiches_dir, tmp_path)
    fiches, failures = split(list(dila(http_server, ingest_settings).fiches()))
    assert failures == []
    assert set(fiches) == {"F1972", "F1775", "F33481", "F34344", "F31851", "F34729"}
    assert fiches["F34344"].audiences == ["particuliers", "professionnels"]
    assert "associations" in fiches["F34729"].audiences
    assert fiches["F1972"].origin.endswith("vosdroits-latest.zip!F1972.xml")


def test_second_run_revalidates_without_downloading(http_server, ingest_settings, fiches_dir, tmp_path):
    serve_zips(http_server, fiches_dir, tmp_path)
    first, _ = split(list(dila(http_server, ingest_settings).fiches()))
    cached = DilaSource(ingest_settings).zip_path("part")
    mtime = cached.stat().st_mtime_ns
    second, failures = split(list(dila(http_server, ingest_settings).fiches()))
    assert failures == [] and set(second) == set(first)
    part_requests = http_server.requests_to(ZIP_PATH.format(code="part"))
    assert len(part_requests) == 2
    assert part_requests[1].headers["If-None-Match"] == '"part-1"'
    assert cached.stat().st_mtime_ns == mtime  # 304: the cached zip was not rewritten


def test_last_modified_is_used_when_there_is_no_etag(http_server, ingest_settings, fiches_dir, tmp_path):
    serve_zips(http_server, fiches_dir, tmp_path, etag=False)
    list(dila(http_server, ingest_settings).fiches())
    list(dila(http_server, ingest_settings).fiches())
    again = http_server.requests_to(ZIP_PATH.format(code="pro"))[1].headers
    assert again["If-Modified-Since"] == "Mon, 01 Jan 2024 00:00:00 GMT"
    assert "If-None-Match" not in again


def test_404_is_a_failure_naming_the_url_and_the_rest_goes_on(http_server, ingest_settings, fiches_dir, tmp_path):
    serve_zips(http_server, fiches_dir, tmp_path)
    http_server.routes.pop(ZIP_PATH.format(code="asso"))
    fiches, failures = split(list(dila(http_server, ingest_settings).fiches()))
    assert len(failures) == 1
    assert failures[0].origin.endswith(ZIP_PATH.format(code="asso")) and "HTTP 404" in failures[0].error
    assert http_server.url not in failures[0].error  # the origin names the URL, once
    assert failures[0].fiche_id == ""  # a whole audience is missing: no deletion may follow
    assert "F1972" in fiches and "F34729" not in fiches


def test_truncated_zip_keeps_the_previous_download(http_server, ingest_settings, fiches_dir, tmp_path):
    serve_zips(http_server, fiches_dir, tmp_path)
    list(dila(http_server, ingest_settings).fiches())
    good = DilaSource(ingest_settings).zip_path("part").read_bytes()
    http_server.route(ZIP_PATH.format(code="part"), Reply(200, good[: len(good) // 2], {"ETag": '"part-2"'}))

    fiches, failures = split(list(dila(http_server, ingest_settings).fiches()))

    assert len(failures) == 1
    assert "part/zip/vosdroits-latest.zip" in failures[0].origin
    assert "not a valid zip" in failures[0].error and "previous" in failures[0].error
    assert DilaSource(ingest_settings).zip_path("part").read_bytes() == good
    assert {"F1972", "F1775", "F33481"} <= set(fiches)  # read from the previous good zip


def test_truncated_first_download_is_a_clear_failure(http_server, ingest_settings, fiches_dir, tmp_path):
    serve_zips(http_server, fiches_dir, tmp_path)
    data = (tmp_path / "served" / "pro.zip").read_bytes()
    http_server.route(ZIP_PATH.format(code="pro"), Reply(200, data[:-40]))
    fiches, failures = split(list(dila(http_server, ingest_settings).fiches()))
    assert len(failures) == 1 and "not a valid zip" in failures[0].error
    assert not DilaSource(ingest_settings).zip_path("pro").exists()
    assert "F31851" not in fiches and "F1972" in fiches


def test_429_then_500_then_success(http_server, ingest_settings, fiches_dir, tmp_path):
    serve_zips(http_server, fiches_dir, tmp_path)
    data = (tmp_path / "served" / "part.zip").read_bytes()
    http_server.route(
        ZIP_PATH.format(code="part"), Reply(429, "", {"Retry-After": "1"}), Reply(500, "oops"), Reply(200, data)
    )
    fiches, failures = split(list(dila(http_server, ingest_settings).fiches()))
    assert failures == [] and "F1972" in fiches
    requests = http_server.requests_to(ZIP_PATH.format(code="part"))
    assert len(requests) == 3 and requests[1].at - requests[0].at >= 0.95


def test_timeout_is_a_failure_within_the_bound(http_server, ingest_settings, fiches_dir, tmp_path):
    serve_zips(http_server, fiches_dir, tmp_path)
    http_server.route(ZIP_PATH.format(code="asso"), Reply(200, "late", delay_s=5))
    ingest_settings.http_timeout_s = 0.3
    ingest_settings.http_retries = 1
    fiches, failures = split(list(dila(http_server, ingest_settings).fiches()))
    assert len(failures) == 1 and "timed out after 0.3 s" in failures[0].error
    assert "asso/zip/vosdroits-latest.zip" in failures[0].origin
    assert "F1972" in fiches
