"""Reindexing from the API: the same pipeline as `guichet ingest`, one build at a time.

The default runner runs `retrieval.index.pipeline.ingest_and_index` on the app's settings in
a child process (the server's memory stays small and a crash there cannot take the
server down) and keeps the summary it sends back as the run's summary. Tests and
embedders of the app can pass another runner: a callable taking the source and
returning a summary dict.

One build at a time holds across workers, processes and machines: every build takes the
database lock of api.buildlock, and every run, the CLI's included, is a row of
reindex_runs. The API's runs are recorded here, by the parent that holds the lock; the
child dies with the server (stop, or the parent's death on Linux).
"""

from __future__ import annotations

import ctypes
import logging
import multiprocessing
import os
import signal
import threading
from collections.abc import Callable
from contextlib import contextmanager

from sqlalchemy import select, update

from api.buildlock import BuildLock, BuildLocked
from api.db import transaction
from api.models import ReindexRun, utcnow
from api.settings import GuichetSettings, load_settings

log = logging.getLogger(__name__)

IngestRunner = Callable[[str], dict]


class ReindexBusy(RuntimeError):
    pass


class IngestFailed(RuntimeError):
    pass


def _die_with_parent(parent_pid: int) -> None:
    """In the child: SIGTERM when the thread that started it dies (Linux); at once if
    the parent died before the child got here."""
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:
        pass
    if os.getppid() != parent_pid:
        os._exit(1)


class IngestProcess:
    """`retrieval.index.pipeline.ingest_and_index` in a child process that can be stopped."""

    def __init__(self, settings: GuichetSettings, timeout_s: float = 6 * 3600):
        self.settings = settings
        self.timeout_s = timeout_s
        self._process = None

    def __call__(self, source: str) -> dict:
        context = multiprocessing.get_context("spawn")  # a fresh interpreter: no server threads or locks
        receiver, sender = context.Pipe(duplex=False)
        self._process = context.Process(target=_build_in_child, name="guichet-reindex", daemon=True,
                                        args=(source, self.settings.retrieval, self.settings.ingest, sender, os.getpid()))
        self._process.start()
        sender.close()
        try:
            if not receiver.poll(self.timeout_s):
                self.stop()
                raise IngestFailed(f"the build ran past {self.timeout_s:g} s and was stopped")
            outcome, value = receiver.recv()
        except EOFError:  # the child died without a word (killed, out of memory)
            self._process.join(10)
            raise IngestFailed(f"the build process exited with {self._process.exitcode}") from None
        finally:
            receiver.close()
        self._process.join(30)
        if outcome != "summary":
            raise IngestFailed(value)
        return value

    def stop(self) -> None:
        process = self._process
        if process is None or not process.is_alive():
            return
        process.terminate()
        process.join(10)
        if process.is_alive():
            process.kill()
            process.join(10)


def _build_in_child(source: str, retrieval_settings, ingest_settings, sender, parent_pid: int) -> None:
    """The child: the build, then its summary (or its error) sent to the parent."""
    _die_with_parent(parent_pid)
    from retrieval.index.pipeline import ingest_and_index

    try:
        summary = ingest_and_index(source, retrieval_settings, ingest_settings)
    except Exception as exc:  # reported to the parent, which records the run as failed
        sender.send(("error", f"{type(exc).__name__}: {exc}"))
    else:
        sender.send(("summary", summary))
    finally:
        sender.close()


class Reindexer:
    def __init__(self, sessions, runner: IngestRunner | None = None, on_success: Callable[[], None] | None = None,
                 *, settings: GuichetSettings | None = None):
        self.sessions = sessions
        self.lock = BuildLock(sessions)
        self._child = None if runner is not None else IngestProcess(settings or load_settings())
        self.runner = runner or self._child
        self.on_success = on_success
        self._thread_lock = threading.Lock()
        self._thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        """A build holds the lock, from this process or any other."""
        return self.lock.holder() is not None

    def mark_interrupted(self) -> None:
        """Runs left 'running' by a build that no longer holds the lock are failed runs."""
        holder = self.lock.holder()
        with transaction(self.sessions) as session:
            orphaned = update(ReindexRun).where(ReindexRun.status == "running")
            if holder is not None and holder.run_id is not None:
                orphaned = orphaned.where(ReindexRun.id != holder.run_id)
            session.execute(orphaned.values(status="failed", finished_at=utcnow(),
                                            error="interrupted: the build stopped before it finished"))

    def start(self, source: str, key_id: int | None) -> ReindexRun:
        with self._thread_lock:
            try:
                self.lock.acquire("api")
            except BuildLocked as exc:
                raise ReindexBusy(str(exc)) from exc
            try:
                run = start_run(self.sessions, source, "api", self.lock, key_id=key_id)
                self.lock.start_heartbeat()
                self._thread = threading.Thread(target=self._run, args=(run.id, source), name="reindex", daemon=True)
                self._thread.start()
            except BaseException:
                self.lock.release()
                raise
            return run

    def wait(self, timeout: float | None = None) -> None:
        thread = self._thread
        if thread is not None:
            thread.join(timeout)

    def stop(self) -> None:
        """Stop this process's build (the server is stopping): the child too."""
        if self._child is not None:
            self._child.stop()
        self.wait(30)

    def _run(self, run_id: int, source: str) -> None:
        try:
            summary = self.runner(source) or {}
        except Exception as exc:
            log.warning("reindex %s failed: %s", run_id, exc)
            finish_run(self.sessions, run_id, "failed", {}, f"{type(exc).__name__}: {exc}"[:2000])
            self.lock.release()
            return
        finish_run(self.sessions, run_id, "succeeded", summary, None)
        self.lock.release()
        if self.on_success is not None:
            self.on_success()


def start_run(sessions, source: str, origin: str, lock: BuildLock, key_id: int | None = None) -> ReindexRun:
    with transaction(sessions) as session:
        run = ReindexRun(key_id=key_id, source=source, status="running", summary={}, origin=origin,
                         owner=lock.owner)
        session.add(run)
        session.flush()
    lock.set_run(run.id)
    return run


def finish_run(sessions, run_id: int, status: str, summary: dict, error: str | None) -> None:
    with transaction(sessions) as session:
        run = session.get(ReindexRun, run_id)
        run.status, run.summary, run.error, run.finished_at = status, summary, error, utcnow()


@contextmanager
def recorded_build(database_url: str, source: str):
    """`guichet ingest` run by hand or by cron: the build lock and a reindex_runs row.
    Yields a dict to fill with the summary."""
    from api.db import create_db_engine, migrate, session_factory

    engine = create_db_engine(database_url)
    try:
        migrate(engine)
        sessions = session_factory(engine)
        lock = BuildLock(sessions)
        lock.acquire("cli")
        summary: dict = {}
        try:
            run = start_run(sessions, source, "cli", lock)
            lock.start_heartbeat()
            try:
                yield summary
            except BaseException as exc:
                finish_run(sessions, run.id, "failed", {}, f"{type(exc).__name__}: {exc}"[:2000])
                raise
            finish_run(sessions, run.id, "succeeded", summary, None)
        finally:
            lock.release()
    finally:
        engine.dispose()


def recent_runs(session, limit: int = 10) -> list[dict]:
    runs = session.scalars(select(ReindexRun).order_by(ReindexRun.id.desc()).limit(limit))
    return [
        {
            "id": run.id,
            "source": run.source,
            "status": run.status,
            "started_at": run.started_at.isoformat(),
            "finished_at": run.finished_at.isoformat() if run.finished_at else None,
            "summary": run.summary,
            "error": run.error,
            "origin": run.origin,
        }
        for run in runs
    ]
