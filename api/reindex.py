"""Reindexing from the API: the same code as `guichet ingest`, one build at a time.

The default runner starts `guichet ingest --source <source>` as a child process (the
server's memory stays small and a crash there cannot take the server down); its JSON
summary (`--json`) is kept as the run's summary. Tests and embedders of the
app can pass another runner: a callable taking the source and returning a summary dict.

One build at a time holds across workers, processes and machines: every build takes the
database lock of api.buildlock, and every run, the CLI's included, is a row of
reindex_runs. The child is told (GUICHET_BUILD_OWNER) that its parent holds the lock
and records the run; it dies with the server (stop, or the parent's death on Linux).
"""

from __future__ import annotations

import ctypes
import json
import logging
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from contextlib import contextmanager

from sqlalchemy import select, update

from api.buildlock import BuildLock, BuildLocked
from api.db import transaction
from api.models import ReindexRun, utcnow

log = logging.getLogger(__name__)

IngestRunner = Callable[[str], dict]
OWNER_ENV = "GUICHET_BUILD_OWNER"


class ReindexBusy(RuntimeError):
    pass


class IngestFailed(RuntimeError):
    pass


def _die_with_parent() -> None:
    """In the child, before exec: SIGTERM when the thread that started it dies (Linux)."""
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:
        pass


class IngestProcess:
    """`guichet ingest --json` as a child process that can be stopped."""

    def __init__(self, env: dict[str, str], timeout_s: float = 6 * 3600):
        self.env = env
        self.timeout_s = timeout_s
        self._process: subprocess.Popen | None = None

    def __call__(self, source: str) -> dict:
        command = [sys.executable, "-m", "api.cli", "ingest", "--source", source, "--json"]
        self._process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                         env=self.env, preexec_fn=_die_with_parent)
        try:
            stdout, stderr = self._process.communicate(timeout=self.timeout_s)
        except subprocess.TimeoutExpired:
            self.stop()
            raise IngestFailed(f"guichet ingest ran past {self.timeout_s:g} s and was stopped") from None
        if self._process.returncode != 0:
            last_lines = " | ".join(stderr.strip().splitlines()[-3:])
            raise IngestFailed(f"guichet ingest exited with {self._process.returncode}: {last_lines[-500:]}")
        return _last_json_object(stdout)

    def stop(self) -> None:
        process = self._process
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)

def _last_json_object(output: str) -> dict:
    start = output.find("{")
    if start >= 0:
        try:
            value = json.loads(output[start:])
            if isinstance(value, dict):
                return value
        except ValueError:
            pass
    for line in reversed(output.strip().splitlines()):
        try:
            value = json.loads(line)
        except ValueError:
            continue
        if isinstance(value, dict):
            return value
    return {}


class Reindexer:
    def __init__(self, sessions, runner: IngestRunner | None = None, on_success: Callable[[], None] | None = None,
                 *, database_url: str | None = None):
        self.sessions = sessions
        self.lock = BuildLock(sessions)
        self._child = None if runner is not None else IngestProcess(self._child_env(database_url))
        self.runner = runner or self._child
        self.on_success = on_success
        self._thread_lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def _child_env(self, database_url: str | None) -> dict[str, str]:
        env = {**os.environ, OWNER_ENV: self.lock.owner}
        if database_url:
            env["GUICHET_DATABASE_URL"] = database_url
        return env

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
    Yields a dict to fill with the summary. Inside a reindex started by the API (which
    holds the lock and records the run) it does nothing."""
    from api.db import create_db_engine, migrate, session_factory

    if os.environ.get(OWNER_ENV):
        yield {}
        return
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
