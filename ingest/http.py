"""A small retrying HTTP client (httpx) and a conditional, validated downloader.

Retries: transport errors (timeouts, refused or cut connections), HTTP 429 and 5xx,
with exponential backoff; a 429's Retry-After (seconds or HTTP date) is honoured up
to `max_retry_after_s`. Other 4xx (404…) fail at once. Every error names the URL.

`timeout_s` bounds each network step (connect, each read of the body), not a whole
download: a large zip may take longer than the timeout as long as bytes keep coming.
"""

from __future__ import annotations

import email.utils
import json
import logging
import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx

from ingest.atomic import write_atomic

log = logging.getLogger(__name__)


class HttpError(Exception):
    """A request failed for good (after retries when they apply)."""

    def __init__(self, url: str, message: str, status: int | None = None):
        super().__init__(f"{url}: {message}")
        self.url = url
        self.reason = message  # without the URL, for messages that already name it
        self.status = status


class CorruptDownload(HttpError):
    """The body arrived but is not valid (truncated or corrupt archive…)."""


@dataclass
class RetryPolicy:
    retries: int = 4  # attempts after the first one
    backoff_s: float = 1.0  # first wait; doubles each retry
    max_backoff_s: float = 30.0
    max_retry_after_s: float = 60.0  # a longer Retry-After is cut to this

    def backoff(self, attempt: int) -> float:
        return min(self.backoff_s * (2**attempt), self.max_backoff_s)

    def retry_after(self, header: str | None, attempt: int) -> float:
        seconds = _parse_retry_after(header)
        if seconds is None:
            return self.backoff(attempt)
        return min(max(seconds, 0.0), self.max_retry_after_s)


def _parse_retry_after(header: str | None) -> float | None:
    if not header:
        return None
    header = header.strip()
    if header.isdigit():
        return float(header)
    try:
        when = email.utils.parsedate_to_datetime(header)
    except (TypeError, ValueError):
        return None
    return when.timestamp() - time.time()


class HttpClient:
    """GET with retries. Use as a context manager or call `close()`."""

    def __init__(
        self,
        *,
        timeout_s: float = 30.0,
        retry: RetryPolicy | None = None,
        user_agent: str = "guichet",
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.timeout_s = timeout_s
        self.retry = retry or RetryPolicy()
        self._sleep = sleep
        self._client = httpx.Client(
            timeout=httpx.Timeout(timeout_s),
            follow_redirects=True,
            headers={"User-Agent": user_agent},
        )

    @classmethod
    def from_settings(cls, settings) -> HttpClient:
        return cls(
            timeout_s=settings.http_timeout_s,
            retry=RetryPolicy(
                retries=settings.http_retries,
                backoff_s=settings.http_backoff_s,
                max_retry_after_s=settings.http_max_retry_after_s,
            ),
            user_agent=settings.user_agent,
        )

    def __enter__(self) -> HttpClient:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self._client.close()

    def get(self, url: str, headers: dict[str, str] | None = None) -> httpx.Response:
        """GET and read the body. Returns 2xx and 304 responses; raises HttpError otherwise."""
        return self._request(url, headers or {}, sink=None)

    def download(self, url: str, sink, headers: dict[str, str] | None = None) -> httpx.Response:
        """GET streaming a 200 body into the binary file object `sink` (rewound on retry)."""
        return self._request(url, headers or {}, sink=sink)

    def _request(self, url: str, headers: dict[str, str], sink) -> httpx.Response:
        attempts = self.retry.retries + 1
        for attempt in range(attempts):
            last = attempt == attempts - 1
            try:
                with self._client.stream("GET", url, headers=headers) as response:
                    if response.status_code == 429 or response.status_code >= 500:
                        reason = f"HTTP {response.status_code} {response.reason_phrase}".strip()
                        if last:
                            raise HttpError(url, f"{reason} after {attempts} attempts", response.status_code)
                        wait = self._wait_for(response, attempt)
                        log.warning("%s: %s, retrying in %.1f s", url, reason, wait)
                        self._sleep(wait)
                        continue
                    if response.status_code >= 400:
                        reason = f"HTTP {response.status_code} {response.reason_phrase}".strip()
                        raise HttpError(url, reason, response.status_code)
                    self._read_body(response, sink)
                    return response
            except httpx.TimeoutException as exc:
                message = f"timed out after {self.timeout_s:g} s ({type(exc).__name__})"
            except httpx.TransportError as exc:
                message = f"{type(exc).__name__}: {exc}"
            if last:
                raise HttpError(url, f"{message}; gave up after {attempts} attempts")
            wait = self.retry.backoff(attempt)
            log.warning("%s: %s, retrying in %.1f s", url, message, wait)
            self._sleep(wait)
        raise AssertionError("unreachable")

    def _wait_for(self, response: httpx.Response, attempt: int) -> float:
        if response.status_code == 429:
            return self.retry.retry_after(response.headers.get("Retry-After"), attempt)
        return self.retry.backoff(attempt)

    @staticmethod
    def _read_body(response: httpx.Response, sink) -> None:
        if sink is None or response.status_code != 200:
            response.read()
            return
        sink.seek(0)
        sink.truncate()
        for block in response.iter_bytes(1 << 16):
            sink.write(block)
        sink.flush()


@dataclass
class Download:
    path: Path
    fresh: bool  # False: the server said 304 Not Modified, the cached copy was kept


class CachedDownloader:
    """Downloads a URL to a file with conditional GET; the previous good copy survives
    any failure. Validators (ETag, Last-Modified) are cached beside the file in
    `<file>.http.json`."""

    def __init__(self, client: HttpClient):
        self.client = client

    def fetch(self, url: str, dest: Path, validate: Callable[[Path], None] | None = None) -> Download:
        dest.parent.mkdir(parents=True, exist_ok=True)
        validators = self._load_validators(dest) if dest.exists() else {}
        headers = {}
        if validators.get("etag"):
            headers["If-None-Match"] = validators["etag"]
        if validators.get("last_modified"):
            headers["If-Modified-Since"] = validators["last_modified"]
        fd, tmp_name = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".part")
        tmp = Path(tmp_name)
        try:
            with os.fdopen(fd, "wb") as sink:
                response = self.client.download(url, sink, headers=headers)
            if response.status_code == 304:
                return Download(dest, fresh=False)
            if validate is not None:
                try:
                    validate(tmp)
                except Exception as exc:
                    raise CorruptDownload(url, f"invalid download ({exc}); previous copy kept") from exc
            os.replace(tmp, dest)
            self._save_validators(dest, url, response)
            return Download(dest, fresh=True)
        finally:
            tmp.unlink(missing_ok=True)

    @staticmethod
    def _meta_path(dest: Path) -> Path:
        return dest.with_name(dest.name + ".http.json")

    def _load_validators(self, dest: Path) -> dict:
        try:
            return json.loads(self._meta_path(dest).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}

    def _save_validators(self, dest: Path, url: str, response: httpx.Response) -> None:
        meta = {
            "url": url,
            "etag": response.headers.get("ETag"),
            "last_modified": response.headers.get("Last-Modified"),
            "downloaded_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        }
        write_atomic(self._meta_path(dest), json.dumps(meta, indent=2))
