"""What the app runs on: settings, database, rate limiter, retriever and draft service.

The retriever and the draft service can be injected (tests, other front ends); else they
are opened from the environment on start-up. A failure to open leaves the app up, with
/readyz reporting why, so an operator sees it instead of a crash loop.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from api.db import checkpoint, create_db_engine, migrate, session_factory, transaction
from api.ratelimit import RateLimiter
from api.records import PurgeReport, purge_expired_text
from api.reindex import Reindexer
from api.settings import GuichetSettings
from retrieval.settings import RetrievalSettings

log = logging.getLogger(__name__)


def default_open_retriever(settings: RetrievalSettings):
    from retrieval import open_retriever  # provided by the retrieval package
    from retrieval.embedding.embedders import make_embedder
    from retrieval.search.language import load_identifier

    embedder = make_embedder(settings.embedder, settings.model_cache_dir)
    # The model loads (a few seconds) while the index opens, and before the first
    # agent's request rather than during it.
    warm_up = threading.Thread(target=lambda: embedder and embedder.embed_queries(["bonjour"]), daemon=True)
    warm_up.start()
    # Needed only for questions that are not plainly French: readiness does not wait for it.
    threading.Thread(target=load_identifier, daemon=True).start()
    try:
        return open_retriever(settings, embedder=embedder)
    finally:
        warm_up.join()


def default_draft_service_factory(settings: GuichetSettings):
    from generation.service import DraftService

    return lambda retriever: DraftService(retriever, settings.llm, settings=settings.generation)


class Services:
    """`settings`: the whole root; `self.settings` is its api section (what routes read)."""

    def __init__(
        self,
        settings: GuichetSettings,
        *,
        retriever=None,
        draft_service=None,
        open_retriever: Callable[[], Any] | None = None,
        draft_service_factory: Callable[[Any], Any] | None = None,
        ingest_runner: Callable[[str], dict] | None = None,
    ):
        self.config = settings
        self.settings = settings.api
        self.engine = create_db_engine(self.settings.database_url)
        self.sessions = session_factory(self.engine)
        self.limiter = RateLimiter(self.settings.rate_limit_per_minute)
        self._open_retriever = open_retriever or (
            None if retriever is not None else lambda: default_open_retriever(settings.retrieval))
        self._draft_service_factory = draft_service_factory or (
            None if draft_service is not None else default_draft_service_factory(settings)
        )
        self.retriever = retriever
        self._owns_retriever = retriever is None  # an injected one is closed by its owner
        self.draft_service = draft_service
        self.retriever_error: str | None = None
        self._lock = threading.Lock()
        self._last_purge: float | None = None
        self._started = False
        self.reindexer = Reindexer(self.sessions, ingest_runner, on_success=self._after_reindex, settings=settings)

    def start(self) -> None:
        """Migrate the database, fail interrupted runs, open the index (once)."""
        if self._started:
            return
        self._started = True
        migrate(self.engine)
        self.reindexer.mark_interrupted()
        self.purge_if_due()
        if self.settings.admin_key is not None:
            from api.auth import sync_env_admin_key

            with transaction(self.sessions) as session:
                sync_env_admin_key(session, self.settings.admin_key.get_secret_value())
        if self.retriever is None:
            self.reload_retriever()

    def reload_retriever(self) -> None:
        """(Re)open the index, e.g. after a reindex; keeps the old one if opening fails."""
        if self._open_retriever is None:
            return
        try:
            retriever = self._open_retriever()
        except Exception as exc:  # reported by /readyz; the message names the cause
            log.warning("cannot open the index (%s): run `guichet ingest` first; /readyz reports it", exc)
            with self._lock:
                self.retriever_error = f"{type(exc).__name__}: {exc}"
            return
        with self._lock:
            self.retriever, self.retriever_error = retriever, None
            if self._draft_service_factory is not None:
                self.draft_service = None  # rebuilt on the new retriever

    def purge_if_due(self, every_s: float = 3600.0) -> PurgeReport | None:
        """Remove texts past the retention period, at most once per `every_s` seconds."""
        now = time.monotonic()
        if self._last_purge is not None and now - self._last_purge < every_s:
            return None
        return self.purge_now()

    def purge_now(self) -> PurgeReport:
        self._last_purge = time.monotonic()
        with transaction(self.sessions) as session:
            report = purge_expired_text(session, self.settings.retention_days)
        if report.drafts or report.feedback:
            checkpoint(self.engine)
            log.info("retention purge: texts removed from %d drafts and %d feedback rows",
                     report.drafts, report.feedback)
        return report

    def _after_reindex(self) -> None:
        # An open IndexRetriever follows newly published index versions by itself; an
        # index that could not be opened before (first ingest) is opened now.
        if self.retriever is None:
            self.reload_retriever()

    def get_draft_service(self):
        with self._lock:
            if self.draft_service is None and self.retriever is not None and self._draft_service_factory:
                self.draft_service = self._draft_service_factory(self.retriever)
            return self.draft_service

    def close(self) -> None:
        self.reindexer.stop()  # a build this server started does not outlive it
        closer = getattr(self.retriever, "close", None) if self._owns_retriever else None
        if callable(closer):
            try:
                closer()
            except Exception:  # closing must not mask the shutdown
                log.exception("closing the retriever failed")
        self.engine.dispose()
