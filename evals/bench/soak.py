"""`guichet bench soak` (opt-in): sustained API load with a reindex (POST /api/reindex)
in the middle: errors, latency per phase, server memory growth after warm-up."""

from __future__ import annotations

import shutil
import threading
import time
from pathlib import Path

import click
import httpx

from evals.bench.api import bench_messages
from evals.bench.common import Target, emit, latency_figures
from evals.bench.server import ServerProcess, run_load, workdir
from evals.cli_support import progress

WARMUP_SHARE = 0.2  # memory is compared from the end of the first 20% of the run
REINDEX_WAIT_S = 900.0  # the reindex is a child of the server: let it end before stopping it
TARGETS = [
    Target("soak errors = 0", "errors", 0),
    Target("latency bounded: p99 ≤ 2000 ms", "p99_ms", 2000),
    Target("server RSS growth after warm-up ≤ 10%", "rss_growth_pct", 10),
]


class SoakWatch:
    """Samples RSS and fires the reindex once, half way through."""

    def __init__(self, server: ServerProcess, duration_s: float):
        self.server, self.duration_s = server, duration_s
        self.rss_after_warmup: float | None = None
        self.rss_end: float | None = None
        self.reindex_status: int | None = None
        self._fired = False

    def __call__(self, elapsed: float) -> None:
        rss = self.server.rss_mb()
        if self.rss_after_warmup is None and elapsed >= WARMUP_SHARE * self.duration_s:
            self.rss_after_warmup = rss
        self.rss_end = rss or self.rss_end
        if not self._fired and elapsed >= self.duration_s / 2:
            self._fired = True
            threading.Thread(target=self._reindex, daemon=True).start()

    def _reindex(self) -> None:
        progress("soak: POST /api/reindex")
        try:
            response = httpx.post(f"{self.server.url}/api/reindex", json={"confirm": True}, timeout=30,
                                  headers={"Authorization": f"Bearer {self.server.admin_key}"})
            self.reindex_status = response.status_code
        except httpx.HTTPError as exc:
            progress(f"soak: reindex request failed: {type(exc).__name__}")
            self.reindex_status = -1


def wait_for_reindex(server: ServerProcess) -> dict:
    """Poll GET /api/index/status until no reindex runs; the last run's status."""
    deadline = time.monotonic() + REINDEX_WAIT_S
    headers = {"Authorization": f"Bearer {server.admin_key}"}
    status: dict = {}
    while time.monotonic() < deadline:
        status = httpx.get(f"{server.url}/api/index/status", headers=headers, timeout=10).json()
        if not status.get("running"):
            break
        time.sleep(0.5)
    runs = status.get("runs") or [{}]
    return {"reindex_status": runs[0].get("status"), "reindex_error": runs[0].get("error")}


def run_soak(server: ServerProcess, messages: list[str], *, clients: int, duration_s: float) -> dict:
    watch = SoakWatch(server, duration_s)
    load = run_load(server.url, server.admin_key, messages, clients=clients, duration_s=duration_s, on_tick=watch)
    progress("soak: waiting for the reindex to end")
    reindex = wait_for_reindex(server) if watch.reindex_status == 202 else {}
    half = duration_s / 2
    before = [lat for lat, at in zip(load.latencies_ms, load.finished_at) if at < half]
    after = [lat for lat, at in zip(load.latencies_ms, load.finished_at) if at >= half]
    growth = None
    if watch.rss_after_warmup and watch.rss_end:
        growth = round(100 * (watch.rss_end - watch.rss_after_warmup) / watch.rss_after_warmup, 1)
    figures = {
        "clients": clients,
        "duration_s": round(load.elapsed_s, 2),
        "drafts": load.ok,
        "drafts_per_s": round(load.ok / load.elapsed_s, 2) if load.elapsed_s else 0.0,
        "errors": load.errors,
        **latency_figures("", load.latencies_ms),
        **latency_figures("before_reindex_", before),
        **latency_figures("after_reindex_", after),
        "reindex_http_status": watch.reindex_status,
        **reindex,
        "rss_after_warmup_mb": watch.rss_after_warmup,
        "rss_end_mb": watch.rss_end,
        "rss_growth_pct": growth,
        "error_examples": load.error_examples,
    }
    if load.errors:
        figures["server_errors"] = server.error_lines()
    return figures


@click.command("soak")
@click.option("--index-dir", type=click.Path(path_type=Path), default=None)
@click.option("--embedder", default="auto", show_default=True)
@click.option("--dataset", type=click.Path(path_type=Path), default=None)
@click.option("--reindex-source", default=None, help="Source the server reindexes (default GUICHET_REINDEX_SOURCE).")
@click.option("--clients", default=8, show_default=True)
@click.option("--duration", default=300.0, show_default=True)
@click.option("--json", "as_json", is_flag=True)
def command(index_dir, embedder, dataset, reindex_source, clients, duration, as_json) -> None:
    """Sustained load with a reindex half way: 0 errors, bounded latency, RSS growth ≤ 10%."""
    if clients < 1 or duration <= 0:
        raise click.BadParameter("--clients and --duration must be positive")
    from api.commands import command_settings

    messages = bench_messages(index_dir, embedder, dataset)
    extra = {"GUICHET_REINDEX_SOURCE": reindex_source} if reindex_source else {}
    with workdir() as tmp:
        # The reindex publishes a new version: work on a copy, the given index stays as it is.
        copy = Path(tmp) / "index"
        shutil.copytree(index_dir or command_settings().retrieval.index_dir, copy)
        with ServerProcess(copy, Path(tmp), extra) as server:
            figures = run_soak(server, messages, clients=clients, duration_s=duration)
    emit(figures, TARGETS, as_json=as_json, title=f"bench soak ({clients} clients, reindex half way)")
