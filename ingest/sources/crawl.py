"""An HTML crawler for service-public.fr fiche pages.

Polite and bounded: honours robots.txt (and its Crawl-delay), stays on the start
URL's host, waits `crawl_delay_s` between requests, stops after `crawl_max_pages`
pages or beyond `crawl_max_depth` links from the start, and follows only links whose
path matches `crawl_follow_pattern` (by default the "/vosdroits/" fiche pages). Resumable: the queue, the
visited URLs and the pages read so far are saved after every page under
<cache_dir>/crawl/<host>-<hash>/; a run started again after an interruption goes on
from there, and a finished crawl starts afresh.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from urllib.parse import urldefrag, urljoin, urlparse
from urllib.robotparser import RobotFileParser

import httpx
from bs4 import BeautifulSoup

from ingest.atomic import write_atomic
from ingest.http import HttpClient, HttpError
from ingest.model import Failure, Fiche
from ingest.settings import IngestSettings
from ingest.sources.base import Source, SourceError
from ingest.sources.html_page import fiche_id_from_url, parse_fiche_page

log = logging.getLogger(__name__)

SKIPPED_EXTENSIONS = (
    ".pdf", ".jpg", ".jpeg", ".png", ".gif", ".svg", ".zip", ".doc", ".docx", ".xls", ".odt", ".css", ".js",
)  # fmt: skip


@dataclass
class CrawlState:
    start_url: str
    queue: list[tuple[str, int]] = field(default_factory=list)  # (url, depth)
    visited: list[str] = field(default_factory=list)
    done: bool = False

    @classmethod
    def fresh(cls, start_url: str) -> CrawlState:
        return cls(start_url, queue=[(start_url, 0)])


class CrawlSource(Source):
    name = "crawl"

    def __init__(
        self,
        start_url: str,
        settings: IngestSettings,
        sleep: Callable[[float], None] = time.sleep,
    ):
        parsed = urlparse(start_url)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise SourceError(f"crawl: {start_url!r} is not an http(s) URL")
        self.start_url = urldefrag(start_url)[0]
        self.host = parsed.netloc.lower()
        self.settings = settings
        self._sleep = sleep
        self._last_response_end = 0.0
        self._delay = settings.crawl_delay_s
        self._follow = re.compile(settings.crawl_follow_pattern) if settings.crawl_follow_pattern else None
        digest = hashlib.sha1(self.start_url.encode()).hexdigest()[:10]
        self.state_dir = Path(settings.cache_dir) / "crawl" / f"{self.host.replace(':', '_')}-{digest}"

    @property
    def state_file(self) -> Path:
        return self.state_dir / "state.json"

    @property
    def results_file(self) -> Path:
        return self.state_dir / "pages.jsonl"

    def documents(self) -> Iterator[Fiche | Failure]:
        state = self._load_state()
        if state.visited:
            log.info("crawl: resuming (%d pages visited, %d queued)", len(state.visited), len(state.queue))
            yield from self._stored_results()
        else:
            self.state_dir.mkdir(parents=True, exist_ok=True)
            self.results_file.write_text("", encoding="utf-8")
        with HttpClient.from_settings(self.settings) as client:
            robots = self._robots(client)
            if isinstance(robots, Failure):
                yield robots
                return
            yield from self._crawl(client, robots, state)

    def _crawl(self, client: HttpClient, robots: RobotFileParser, state: CrawlState) -> Iterator[Fiche | Failure]:
        visited = set(state.visited)
        queued = {url for url, _ in state.queue}
        while state.queue and len(state.visited) < self.settings.crawl_max_pages:
            url, depth = state.queue.pop(0)
            queued.discard(url)
            if url in visited:
                continue
            visited.add(url)
            if not robots.can_fetch(self.settings.user_agent, url):
                log.info("crawl: %s disallowed by robots.txt", url)
                continue
            state.visited.append(url)
            result, links = self._fetch(client, url)
            if depth < self.settings.crawl_max_depth:
                for link in links:
                    if link not in visited and link not in queued:
                        state.queue.append((link, depth + 1))
                        queued.add(link)
            if result is not None:
                self._store_result(result)
            self._save_state(state)
            if result is not None:
                yield result
        state.done = True
        self._save_state(state)

    def _fetch(self, client: HttpClient, url: str) -> tuple[Fiche | Failure | None, list[str]]:
        try:
            response = self._polite_get(client, url)
        except HttpError as exc:
            return Failure(url, exc.reason, fiche_id=fiche_id_from_url(url)), []
        final_url = str(response.url)
        if urlparse(final_url).netloc.lower() != self.host:
            log.info("crawl: %s redirects off-site to %s, ignored", url, final_url)
            return None, []
        if "html" not in response.headers.get("Content-Type", "text/html"):
            return None, []
        html = response.text
        try:
            fiche = parse_fiche_page(html, url)
        except Exception as exc:  # one odd page must not stop the crawl
            return Failure(url, f"cannot read the page: {type(exc).__name__}: {exc}", fiche_id_from_url(url)), []
        return fiche, self._links(html, final_url)

    def _links(self, html: str, base: str) -> list[str]:
        links = []
        for anchor in BeautifulSoup(html, "lxml").find_all("a", href=True):
            url = urldefrag(urljoin(base, anchor["href"]))[0]
            parsed = urlparse(url)
            if parsed.scheme not in ("http", "https") or parsed.netloc.lower() != self.host:
                continue
            if parsed.path.lower().endswith(SKIPPED_EXTENSIONS):
                continue
            if self._follow and url != self.start_url and not self._follow.search(parsed.path):
                continue
            links.append(url)
        return links

    def _polite_get(self, client: HttpClient, url: str) -> httpx.Response:
        """GET `url` once the delay has passed since the previous response ended.

        Counting from the end of the last response, not from its request, keeps the host
        from ever seeing two requests closer than the delay, however slow it answers.
        """
        elapsed = time.monotonic() - self._last_response_end
        if self._last_response_end and elapsed < self._delay:
            self._sleep(self._delay - elapsed)
        try:
            return client.get(url)
        finally:
            self._last_response_end = time.monotonic()

    def _robots(self, client: HttpClient) -> RobotFileParser | Failure:
        parsed = urlparse(self.start_url)
        robots_url = f"{parsed.scheme}://{parsed.netloc}/robots.txt"
        robots = RobotFileParser(robots_url)
        try:
            robots.parse(self._polite_get(client, robots_url).text.splitlines())
        except HttpError as exc:
            if exc.status in (401, 403):
                robots.disallow_all = True
            elif exc.status is None or exc.status >= 500:
                return Failure(robots_url, f"cannot read robots.txt, not crawling: {exc.reason}")
            else:
                robots.allow_all = True  # no robots.txt: everything allowed
        robots.modified()
        delay = robots.crawl_delay(self.settings.user_agent)
        self._delay = max(self.settings.crawl_delay_s, float(delay or 0))
        return robots

    def _load_state(self) -> CrawlState:
        try:
            data = json.loads(self.state_file.read_text(encoding="utf-8"))
            state = CrawlState(
                start_url=data["start_url"],
                queue=[(url, int(depth)) for url, depth in data["queue"]],
                visited=list(data["visited"]),
                done=bool(data["done"]),
            )
        except FileNotFoundError:
            return CrawlState.fresh(self.start_url)
        except (ValueError, KeyError, TypeError) as exc:
            log.warning("crawl: unreadable state %s (%s), starting afresh", self.state_file, exc)
            return CrawlState.fresh(self.start_url)
        if state.done or state.start_url != self.start_url:
            return CrawlState.fresh(self.start_url)
        return state

    def _save_state(self, state: CrawlState) -> None:
        write_atomic(self.state_file, json.dumps(asdict(state), ensure_ascii=False))

    def _store_result(self, result: Fiche | Failure) -> None:
        record = {"fiche": result.to_dict()} if isinstance(result, Fiche) else {"failure": asdict(result)}
        with self.results_file.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")

    def _stored_results(self) -> Iterator[Fiche | Failure]:
        try:
            lines = self.results_file.read_text(encoding="utf-8").splitlines()
        except FileNotFoundError:
            return
        for line in lines:
            try:
                record = json.loads(line)
            except ValueError:
                continue  # a line cut by the interruption; the page is fetched again
            if "fiche" in record:
                yield Fiche.from_dict(record["fiche"])
            else:
                yield Failure(**record["failure"])
