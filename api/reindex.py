"""Reindexing from the API: the same code as `guichet ingest`, one run at a time.

The default runner starts `guichet ingest --source <source>` as a child process (the
server's memory stays small and a crash there cannot take the server down); its JSON
summary (`--json`) is kept as the run's summary. Tests and embedders of the
app can pass another runner: a callable taking the source and returning a summary dict.
"""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import threading
from collections.abc import Callable

from sqlalchemy import select, update

from api.db import transaction
from api.models import ReindexRun, utcnow

log = logging.getLogger(__name__)

IngestRunner = Callable[[str], dict]


class ReindexBusy(RuntimeError):
    pass


class IngestFailed(RuntimeError):
    pass


def run_ingest_subprocess(source: str, timeout_s: float = 6 * 3600) -> dict:
    command = [sys.executable, "-m", "api.cli", "ingest", "--source", source, "--json"]
    completed = subprocess.run(command, capture_output=True, text=True, timeout=timeout_s)
    if completed.returncode != 0:
        last_lines = " | ".join(completed.stderr.strip().splitlines()[-3:])
        raise IngestFailed(f"guichet ingest exited with {completed.returncode}: {last_lines[-500:]}")
    return _last_json_object(completed.stdout)


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
    def __init__(self, sessions, runner: IngestRunner | None = None, on_success: Callable[[], None] | None = None):
        self.sessions = sessions
        self.runner = runner or run_ingest_subprocess
        self.on_success = on_success
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def mark_interrupted(self) -> None:
        """Runs left 'running' by a stopped server are failed runs."""
        with transaction(self.sessions) as session:
            session.execute(
                update(ReindexRun).where(ReindexRun.status == "running")
                .values(status="failed", finished_at=utcnow(), error="interrupted: the server stopped")
            )

    def start(self, source: str, key_id: int | None) -> ReindexRun:
        with self._lock:
            if self.running:
                raise ReindexBusy("a reindex is already running")
            with transaction(self.sessions) as session:
                run = ReindexRun(key_id=key_id, source=source, status="running", summary={})
                session.add(run)
                session.flush()
            self._thread = threading.Thread(target=self._run, args=(run.id, source), name="reindex", daemon=True)
            self._thread.start()
            return run

    def wait(self, timeout: float | None = None) -> None:
        thread = self._thread
        if thread is not None:
            thread.join(timeout)

    def _run(self, run_id: int, source: str) -> None:
        try:
            summary = self.runner(source) or {}
        except Exception as exc:
            log.warning("reindex %s failed: %s", run_id, exc)
            self._finish(run_id, "failed", {}, f"{type(exc).__name__}: {exc}"[:2000])
            return
        self._finish(run_id, "succeeded", summary, None)
        if self.on_success is not None:
            self.on_success()

    def _finish(self, run_id: int, status: str, summary: dict, error: str | None) -> None:
        with transaction(self.sessions) as session:
            run = session.get(ReindexRun, run_id)
            run.status, run.summary, run.error, run.finished_at = status, summary, error, utcnow()


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
        }
        for run in runs
    ]
