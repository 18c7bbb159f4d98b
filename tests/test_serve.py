"""`guichet serve` as a real process on 127.0.0.1: first start, readiness, kill -9 durability."""

from __future__ import annotations

import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from api.models import Feedback
from tests.fixtures.api import REPO, auth, free_port, make_key, server_env

MESSAGE = "Quel justificatif de domicile fournir pour la carte d'identité de mon fils mineur ?"


def test_serve_prints_the_url_and_the_first_admin_key_once(api_settings, api_index_dir, live_server_factory):
    env = server_env(api_settings, api_index_dir)
    server = live_server_factory(env)
    output = server.output()
    assert f"http://127.0.0.1:{server.port}/" in output
    keys = re.findall(r"gch_[\w-]{20,}", output)
    assert len(keys) == 1
    me = httpx.get(f"{server.url}/api/me", headers=auth(keys[0]))
    assert me.json()["role"] == "admin"
    ready = httpx.get(f"{server.url}/readyz")
    assert ready.status_code == 200, ready.text
    server.stop()
    again = live_server_factory(env)
    assert not re.findall(r"gch_[\w-]{20,}", again.output().split(f":{again.port}/")[-1])
    assert httpx.get(f"{again.url}/api/me", headers=auth(keys[0])).status_code == 200


def test_serve_without_port_listens_on_guichet_port(api_settings, api_index_dir, live_server_factory):
    """What `make run` does unless given PORT=…: GUICHET_PORT decides."""
    port = free_port()
    env = server_env(api_settings, api_index_dir, GUICHET_PORT=str(port))
    server = live_server_factory(env, argv=[sys.executable, "-m", "api.cli", "serve"], port=port)
    assert httpx.get(f"http://127.0.0.1:{port}/healthz").status_code == 200
    output = server.output()
    assert f"http://127.0.0.1:{port}/" in output
    # guichet is not on PATH after `make run`: the key command is given with its full path.
    assert f"{Path(sys.executable).parent / 'guichet'} keys create --role agent|content" in output


def test_make_passes_a_port_only_when_asked():
    dry_run = ["make", "-s", "-n", "-o", ".venv/.installed-run", "serve"]
    default = subprocess.run(dry_run, cwd=REPO, capture_output=True, text=True, check=True).stdout
    assert "guichet serve" in default and "--port" not in default
    chosen = subprocess.run([*dry_run, "PORT=8123"], cwd=REPO, capture_output=True, text=True, check=True).stdout
    assert "--port 8123" in chosen


def test_readyz_is_503_with_a_clear_message_without_an_index(api_settings, tmp_path, live_server_factory):
    env = server_env(api_settings, GUICHET_INDEX_DIR=str(tmp_path / "missing-index"), GUICHET_ADMIN_KEY="gch_" + "a" * 40)
    server = live_server_factory(env)
    ready = httpx.get(f"{server.url}/readyz")
    assert ready.status_code == 503
    assert ready.json()["checks"]["index"] and "Traceback" not in ready.text
    assert "gch_" + "a" * 40 not in server.output(), "an env key is never printed"
    assert httpx.get(f"{server.url}/api/me", headers=auth("gch_" + "a" * 40)).json()["role"] == "admin"


def test_acknowledged_feedback_survives_kill_9(api_settings, api_index_dir, live_server_factory):
    env = server_env(api_settings, api_index_dir)
    key = make_key(api_settings, "agent")
    server = live_server_factory(env)
    draft = httpx.post(f"{server.url}/api/drafts", json={"message": MESSAGE}, headers=auth(key), timeout=60)
    assert draft.status_code == 200, draft.text
    draft_id = draft.json()["id"]
    acknowledged: list[int] = []
    stop = threading.Event()

    def post_feedback(worker: int) -> None:
        with httpx.Client(base_url=server.url, headers=auth(key), timeout=5) as client:
            n = 0
            while not stop.is_set():
                n += 1
                try:
                    response = client.post(f"/api/drafts/{draft_id}/feedback",
                                           json={"rating": "up", "final_text": f"envoi {worker}-{n}"})
                except httpx.HTTPError:
                    return  # the server is gone
                if response.status_code == 201:
                    acknowledged.append(response.json()["id"])

    workers = [threading.Thread(target=post_feedback, args=(i,)) for i in range(3)]
    for worker in workers:
        worker.start()
    deadline = time.monotonic() + 30
    while len(acknowledged) < 60 and time.monotonic() < deadline:
        time.sleep(0.05)
    server.kill()  # SIGKILL while the clients are still writing
    stop.set()
    for worker in workers:
        worker.join(10)
    assert len(acknowledged) >= 20, "the load ran"

    engine = create_engine(api_settings.database_url)
    with Session(engine) as session:
        stored = set(session.scalars(select(Feedback.id)))
    engine.dispose()
    missing = set(acknowledged) - stored
    print(f"kill -9 under load: {len(acknowledged)} acknowledged feedback rows, {len(stored)} stored, "
          f"{len(missing)} lost")
    assert not missing, f"{len(missing)} acknowledged rows lost"

    restarted = live_server_factory(env)
    assert httpx.get(f"{restarted.url}/readyz").status_code == 200
    again = httpx.get(f"{restarted.url}/api/drafts/{draft_id}", headers=auth(key))
    assert again.status_code == 200 and again.json()["id"] == draft_id


def test_several_workers_share_the_index_and_the_database(api_settings, api_index_dir, live_server_factory):
    env = server_env(api_settings, api_index_dir, GUICHET_WORKERS="2", GUICHET_ADMIN_KEY="gch_" + "w" * 40)
    server = live_server_factory(env)
    deadline = time.monotonic() + 60
    while httpx.get(f"{server.url}/readyz").status_code != 200 and time.monotonic() < deadline:
        time.sleep(0.5)
    with open(f"/proc/{server.process.pid}/task/{server.process.pid}/children") as handle:
        assert len(handle.read().split()) >= 2, "one process per worker"
    key = make_key(api_settings, "agent")
    results: list[tuple[int, int]] = []

    def post_drafts():
        with httpx.Client(timeout=60) as client:
            for _ in range(4):
                posted = client.post(f"{server.url}/api/drafts", json={"message": MESSAGE}, headers=auth(key))
                read = 0
                if posted.status_code == 200:  # each draft is readable through any worker
                    read = client.get(f"{server.url}/api/drafts/{posted.json()['id']}", headers=auth(key)).status_code
                results.append((posted.status_code, read))

    threads = [threading.Thread(target=post_drafts) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [(200, 200)] * 16
