"""The retrying HTTP client and the conditional downloader, against a real local server."""

from __future__ import annotations

import email.utils
import io
import time

import pytest

from ingest.http import CachedDownloader, CorruptDownload, HttpClient, HttpError, RetryPolicy
from tests.fixtures.sources import Reply


def client(timeout_s=1.0, retries=2, max_retry_after_s=2.0, waits=None):
    def sleep(seconds):
        if waits is not None:
            waits.append(seconds)
        time.sleep(seconds)

    policy = RetryPolicy(retries=retries, backoff_s=0.01, max_retry_after_s=max_retry_after_s)
    return HttpClient(timeout_s=timeout_s, retry=policy, sleep=sleep)


def test_429_waits_for_retry_after_then_succeeds(http_server):
    http_server.route("/a", Reply(429, "slow down", {"Retry-After": "1"}), Reply(200, "ok"))
    waits = []
    with client(waits=waits) as http:
        response = http.get(f"{http_server.url}/a")
    assert response.text == "ok"
    first, second = http_server.requests_to("/a")
    assert second.at - first.at >= 0.95
    assert waits == [1.0]


def test_retry_after_is_bounded(http_server):
    http_server.route("/a", Reply(429, "", {"Retry-After": "3600"}), Reply(200, "ok"))
    waits = []
    with client(max_retry_after_s=0.2, waits=waits) as http:
        assert http.get(f"{http_server.url}/a").text == "ok"
    assert waits == [0.2]


def test_500_is_retried_then_succeeds(http_server):
    http_server.route("/a", Reply(500, "boom"), Reply(503, "busy"), Reply(200, "ok"))
    with client(retries=2) as http:
        assert http.get(f"{http_server.url}/a").text == "ok"
    assert len(http_server.requests_to("/a")) == 3


def test_persistent_500_fails_naming_url_and_attempts(http_server):
    http_server.route("/a", Reply(500, "boom"))
    with client(retries=2) as http, pytest.raises(HttpError) as caught:
        http.get(f"{http_server.url}/a")
    assert f"{http_server.url}/a" in str(caught.value)
    assert "HTTP 500" in str(caught.value) and "3 attempts" in str(caught.value)
    assert caught.value.status == 500


def test_404_is_not_retried(http_server):
    with client(retries=3) as http, pytest.raises(HttpError) as caught:
        http.get(f"{http_server.url}/missing")
    assert caught.value.status == 404
    assert "HTTP 404" in str(caught.value) and "/missing" in str(caught.value)
    assert len(http_server.requests_to("/missing")) == 1


def test_timeout_fails_within_the_bound(http_server):
    http_server.route("/slow", Reply(200, "late", delay_s=3.0))
    started = time.monotonic()
    with client(timeout_s=0.3, retries=1) as http, pytest.raises(HttpError) as caught:
        http.get(f"{http_server.url}/slow")
    elapsed = time.monotonic() - started
    assert "timed out after 0.3 s" in str(caught.value) and "/slow" in str(caught.value)
    assert elapsed < 2.0  # two attempts of 0.3 s, not the server's 3 s


def test_cut_body_is_retried(http_server):
    http_server.route("/a", Reply(200, "x" * 1000, cut_after=10), Reply(200, "y" * 1000))
    sink = io.BytesIO()
    with client() as http:
        http.download(f"{http_server.url}/a", sink)
    assert sink.getvalue() == b"y" * 1000  # the partial first body was discarded


def test_conditional_get_uses_the_cache(http_server, tmp_path):
    http_server.route(
        "/f.bin",
        Reply(200, "v1", {"ETag": '"abc"', "Last-Modified": "Mon, 01 Jan 2024 00:00:00 GMT"}),
        Reply(304, "", {"ETag": '"abc"'}),
    )
    dest = tmp_path / "f.bin"
    with client() as http:
        downloader = CachedDownloader(http)
        first = downloader.fetch(f"{http_server.url}/f.bin", dest)
        second = downloader.fetch(f"{http_server.url}/f.bin", dest)
    assert first.fresh and not second.fresh
    assert dest.read_text() == "v1"
    revalidation = http_server.requests_to("/f.bin")[1].headers
    assert revalidation["If-None-Match"] == '"abc"'
    assert revalidation["If-Modified-Since"] == "Mon, 01 Jan 2024 00:00:00 GMT"


def test_invalid_download_keeps_the_previous_copy(http_server, tmp_path):
    http_server.route("/f.bin", Reply(200, "good", {"ETag": '"1"'}), Reply(200, "bad!", {"ETag": '"2"'}))

    def validate(path):
        if path.read_text() != "good":
            raise ValueError("checksum mismatch")

    dest = tmp_path / "f.bin"
    with client() as http:
        downloader = CachedDownloader(http)
        downloader.fetch(f"{http_server.url}/f.bin", dest, validate=validate)
        with pytest.raises(CorruptDownload) as caught:
            downloader.fetch(f"{http_server.url}/f.bin", dest, validate=validate)
    assert "checksum mismatch" in str(caught.value) and "/f.bin" in str(caught.value)
    assert dest.read_text() == "good"
    assert {p.name for p in tmp_path.iterdir()} == {"f.bin", "f.bin.http.json"}  # no partial file left
    # The validators of the good copy were kept: the next request revalidates it.
    assert http_server.requests_to("/f.bin")[1].headers["If-None-Match"] == '"1"'


def test_retry_after_as_an_http_date(http_server):
    when = email.utils.formatdate(time.time() + 2, usegmt=True)
    http_server.route("/a", Reply(429, "", {"Retry-After": when}), Reply(200, "ok"))
    waits = []
    with client(waits=waits) as http:
        assert http.get(f"{http_server.url}/a").text == "ok"
    assert len(waits) == 1 and 0.5 <= waits[0] <= 2.0  # HTTP dates have 1 s resolution; capped at 2 s
