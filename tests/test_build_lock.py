"""One index build at a time across processes: the database lock, the run history (CLI
runs included), 409 from any worker, and a child build that dies with its server.
Database tests run on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from api.app import create_app
from api.buildlock import BuildLock, BuildLocked
from api.cli import cli
from api.db import create_db_engine, migrate, session_factory, transaction
from api.models import BuildLockRow, ReindexRun, utcnow
from tests.fixtures.api import auth, make_key, post_at_once, server_env


@pytest.fixture
def sessions(database_url):
    engine = create_db_engine(database_url)
    migrate(engine)
    yield session_factory(engine)
    engine.dispose()


def test_a_second_owner_is_refused_until_the_first_releases(sessions):
    first, second = BuildLock(sessions), BuildLock(sessions)
    first.acquire("api")
    with pytest.raises(BuildLocked, match=f"started by api on {first.owner}"):
        second.acquire("cli")
    with pytest.raises(BuildLocked):
        first.acquire("api")  # not reentrant: a second build of the same worker waits too
    assert second.holder().owner == first.owner
    first.release()
    assert second.holder() is None
    second.acquire("cli")
    assert first.holder().origin == "cli"


def test_a_stale_heartbeat_loses_the_lock_and_the_old_holder_knows(sessions):
    first, second = BuildLock(sessions, stale_after_s=30), BuildLock(sessions, stale_after_s=30)
    first.acquire("api")
    with transaction(sessions) as session:
        session.execute(update(BuildLockRow).values(heartbeat_at=utcnow() - timedelta(seconds=31)))
    assert second.holder() is None
    second.acquire("cli")
    assert first.beat() is False, "the old holder's heartbeat finds the lock taken"
    assert second.beat() is True


def test_a_lock_of_a_dead_local_process_is_free_at_once(sessions):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    ghost = BuildLock(sessions, owner=f"{socket.gethostname()}:{dead.stdout.strip()}:feedbeef")
    ghost.acquire("cli")  # then the process was killed -9: its heartbeat is still fresh
    BuildLock(sessions).acquire("api")


def test_two_workers_asked_to_reindex_at_once_start_one_build(database_url, api_settings, api_retriever,
                                                              api_draft_service):
    release = threading.Event()

    def slow_ingest(source: str) -> dict:
        release.wait(30)
        return {"added": 1}

    settings = api_settings.model_copy(update={"database_url": database_url})
    workers = [create_app(settings, retriever=api_retriever, draft_service=api_draft_service,
                          ingest_runner=slow_ingest) for _ in range(2)]
    key = auth(make_key(workers[0], "admin"))
    clients = [TestClient(app) for app in workers]
    statuses = post_at_once(clients, "/api/reindex", key)
    assert sorted(statuses) == [202, 409]
    for client in clients:  # both workers see the build, whichever started it
        status = client.get("/api/index/status", headers=key).json()
        assert status["running"] is True and "already running" in status["build"]
    release.set()
    for app in workers:
        app.state.services.reindexer.wait(30)
    status = clients[1].get("/api/index/status", headers=key).json()
    assert status["running"] is False and [r["status"] for r in status["runs"]] == ["succeeded"]
    for app in workers:
        app.state.services.engine.dispose()


def test_a_cli_build_is_recorded_and_refused_while_the_api_builds(database_url, tmp_path, sessions):
    source = tmp_path / "empty-source"
    source.mkdir()
    runner = CliRunner()
    args = ["ingest", "--source", str(source), "--index-dir", str(tmp_path / "index"), "--embedder", "none",
            "--database-url", database_url]
    api_build = BuildLock(sessions)
    api_build.acquire("api")
    refused = runner.invoke(cli, args)
    assert refused.exit_code != 0 and "already running" in refused.output
    api_build.release()
    runner.invoke(cli, args)
    with sessions() as session:
        runs = session.scalars(select(ReindexRun)).all()
    assert [(r.origin, r.source) for r in runs] == [("cli", str(source))]
    assert runs[0].status in ("succeeded", "failed") and runs[0].finished_at is not None
    assert BuildLock(sessions).holder() is None, "the CLI released the lock"


def test_restarting_a_worker_keeps_another_workers_running_build(database_url, api_settings, api_retriever,
                                                                 api_draft_service):
    release = threading.Event()
    settings = api_settings.model_copy(update={"database_url": database_url})
    building = create_app(settings, retriever=api_retriever, draft_service=api_draft_service,
                          ingest_runner=lambda source: release.wait(30) and {})
    key = auth(make_key(building, "admin"))
    with TestClient(building) as client:
        run_id = client.post("/api/reindex", headers=key).json()["id"]
        restarted = create_app(settings, retriever=api_retriever, draft_service=api_draft_service)
        restarted.state.services.start()
        with restarted.state.services.sessions() as session:
            assert session.get(ReindexRun, run_id).status == "running", "not marked interrupted"
        release.set()
        building.state.services.reindexer.wait(30)
        restarted.state.services.engine.dispose()


class _SilentServer:
    """Accepts HTTP connections on 127.0.0.1 and never answers: a build that hangs."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}/particuliers/vosdroits/F1"
        self.held: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        deadline = time.monotonic() + 120
        self.sock.settimeout(1)
        while time.monotonic() < deadline:
            try:
                self.held.append(self.sock.accept()[0])
            except OSError:
                continue

    def close(self):
        for conn in self.held:
            conn.close()
        self.sock.close()


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:  # a thread may end between the listing and the read
            found += [int(p) for p in (task / "children").read_text().split()]
        except OSError:
            continue
    return found


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_text().replace("\0", " ")
    except OSError:
        return ""


def _wait_for(predicate, timeout_s: float = 30.0):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError("timed out")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat").read_text()
    return stat.split(")")[1].split()[0] != "Z"


@pytest.mark.parametrize("how", ["stop", "kill"])
def test_stopping_the_server_stops_its_child_build(how, api_settings, api_index_dir, tmp_path,
                                                   live_server_factory):
    silent = _SilentServer()
    try:
        env = server_env(api_settings, api_index_dir, GUICHET_REINDEX_SOURCE=f"crawl {silent.url}")
        server = live_server_factory(env)
        key = make_key(api_settings, "admin")
        assert httpx.post(f"{server.url}/api/reindex", headers=auth(key), timeout=10).status_code == 202
        # A child just forked may not have exec'd yet (empty or parent's cmdline): wait for the build
        # (multiprocessing's spawned interpreter; its resource tracker is another child).
        child = _wait_for(lambda: [pid for pid in _children(server.process.pid) if "spawn_main" in _cmdline(pid)])[0]
        if how == "stop":
            server.stop()
        else:
            server.kill()
        _wait_for(lambda: not _alive(child), 20)
    finally:
        silent.close()
    if how == "stop":  # a graceful stop records why the run ended and frees the lock
        engine = create_db_engine(api_settings.database_url)
        with session_factory(engine)() as session:
            run = session.scalars(select(ReindexRun)).one()
            assert run.status == "failed" and run.finished_at is not None
            assert session.get(BuildLockRow, "index").owner is None
        engine.dispose()
