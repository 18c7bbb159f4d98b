"""The real HTTP server in a subprocess (`guichet serve` on 127.0.0.1) and a bounded
load generator in this process: N client threads for a duration or a request cap."""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import click
import httpx

from evals.bench.common import rss_mb

REPO = Path(__file__).resolve().parents[2]
READY_TIMEOUT_S = 120.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ServeProcess:
    """`python -m api.cli serve` (or another argv) in a subprocess on 127.0.0.1, its
    output in a log file, started when `ready_path` answers 200."""

    ready_path = "/readyz"

    def __init__(self, env: dict[str, str], port: int, log_path: Path, argv: list[str] | None = None):
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.env = env
        self.log_path = log_path
        self.argv = argv or [sys.executable, "-m", "api.cli", "serve", "--host", "127.0.0.1", "--port", str(port)]
        self.process: subprocess.Popen | None = None
        self.startup_s: float | None = None

    def start(self, timeout_s: float = READY_TIMEOUT_S):
        started = time.monotonic()
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(self.argv, cwd=REPO, env=self.env, stdout=log, stderr=subprocess.STDOUT)
        while time.monotonic() - started < timeout_s:
            if self.process.poll() is not None:
                raise self.failure(f"the server exited with {self.process.returncode}: {self.log_tail()}")
            try:
                if httpx.get(f"{self.url}{self.ready_path}", timeout=1).status_code == 200:
                    self.startup_s = round(time.monotonic() - started, 2)
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        self.stop()
        raise self.failure(f"the server was not ready after {timeout_s:g} s: {self.log_tail()}")

    def failure(self, text: str) -> Exception:
        return RuntimeError(text)

    def output(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def log_tail(self, chars: int = 1500) -> str:
        return self.output()[-chars:]

    def kill(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait(15)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


class ServerProcess(ServeProcess):
    """The benchmarks' server: a free port, its own SQLite file, an admin key from
    GUICHET_ADMIN_KEY, and no rate limit in the way of the load."""

    def __init__(self, index_dir: Path | None, workdir: Path, extra_env: dict[str, str] | None = None):
        self.admin_key = "gch_bench_" + secrets.token_hex(16)
        env = {k: v for k, v in os.environ.items() if k != "GUICHET_ADMIN_KEY"}
        env.update({
            "GUICHET_DATABASE_URL": f"sqlite:///{workdir / 'bench.db'}",
            "GUICHET_ADMIN_KEY": self.admin_key,
            "GUICHET_RATE_LIMIT_PER_MINUTE": "100000000",
            "PYTHONUNBUFFERED": "1",
        })
        if index_dir is not None:
            env["GUICHET_INDEX_DIR"] = str(Path(index_dir).resolve())
        env.update(extra_env or {})
        super().__init__(env, free_port(), workdir / "server.log")

    def failure(self, text: str) -> Exception:
        return click.ClickException(text)

    def error_lines(self, limit: int = 5) -> list[str]:
        """The server's ERROR log lines (the API logs exception types, never message text)."""
        lines = [line.strip() for line in self.output().splitlines() if "ERROR" in line]
        return lines[:limit]

    def rss_mb(self) -> float | None:
        return rss_mb(self.process.pid) if self.process else None


@dataclass
class LoadResult:
    latencies_ms: list[float] = field(default_factory=list)
    finished_at: list[float] = field(default_factory=list)  # seconds since the load began
    errors: int = 0
    error_examples: list[str] = field(default_factory=list)
    elapsed_s: float = 0.0

    @property
    def ok(self) -> int:
        return len(self.latencies_ms)


def run_load(url: str, key: str, messages: list[str], *, clients: int, duration_s: float,
             max_requests: int = 0, on_tick=None) -> LoadResult:
    """`clients` threads post drafts round-robin until `duration_s` (or `max_requests`)."""
    result = LoadResult()
    lock = threading.Lock()
    counter = iter(range(10**12))
    started = time.monotonic()
    deadline = started + duration_s

    def client() -> None:
        with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {key}"}, timeout=30) as http:
            while time.monotonic() < deadline:
                with lock:
                    number = next(counter)
                if max_requests and number >= max_requests:
                    return
                body = {"message": messages[number % len(messages)], "format": "short"}
                sent = time.perf_counter()
                try:
                    response = http.post("/api/drafts", json=body)
                    failure = None if response.status_code == 200 else f"HTTP {response.status_code}"
                except httpx.HTTPError as exc:
                    failure = type(exc).__name__
                elapsed_ms = (time.perf_counter() - sent) * 1000
                with lock:
                    if failure:
                        result.errors += 1
                        if len(result.error_examples) < 5:
                            result.error_examples.append(failure)
                    else:
                        result.latencies_ms.append(elapsed_ms)
                        result.finished_at.append(time.monotonic() - started)

    threads = [threading.Thread(target=client, daemon=True) for _ in range(clients)]
    for thread in threads:
        thread.start()
    while any(t.is_alive() for t in threads):
        if on_tick:
            on_tick(time.monotonic() - started)
        for thread in threads:
            thread.join(timeout=0.5)
    result.elapsed_s = time.monotonic() - started
    return result


def workdir():
    return tempfile.TemporaryDirectory(prefix="guichet-bench-api-")
