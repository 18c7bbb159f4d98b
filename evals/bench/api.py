"""`guichet bench api`: drafts/s and latency through the real HTTP server under N
concurrent clients, against 1 client (the baseline), errors counted."""

from __future__ import annotations

from pathlib import Path

import click

from evals.bench.common import Target, emit, latency_figures, ratio
from evals.bench.server import ServerProcess, run_load, workdir
from evals.cli_support import progress

TARGETS = [
    Target("API ≥ 20 drafts/s with 8 clients", "drafts_per_s", 20, at_least=True),
    Target("API p95 ≤ 500 ms", "p95_ms", 500),
    Target("API errors = 0", "errors", 0),
    Target("serving RSS ≤ 1.5 GB", "server_peak_rss_mb", 1536),
    Target("start-up to ready ≤ 5 s", "startup_s", 5),
]


def bench_messages(index_dir: Path | None, embedder: str, dataset: Path | None, count: int = 200) -> list[str]:
    from evals.bench.query import questions_from_index
    from evals.cli_support import load_questions, open_retriever_or_fail

    if dataset:
        return [q.question for q in load_questions(dataset)]
    retriever = open_retriever_or_fail(index_dir, embedder)
    try:
        return questions_from_index(retriever, count)
    finally:
        retriever.close()


class PeakRss:
    """Samples the server's resident memory while the load runs."""

    def __init__(self, server: ServerProcess):
        self.server = server
        self.peak = 0.0

    def __call__(self, _elapsed: float) -> None:
        value = self.server.rss_mb()
        if value:
            self.peak = max(self.peak, value)


def run_api_bench(server: ServerProcess, messages: list[str], *, clients: int, duration_s: float,
                  baseline_duration_s: float, max_requests: int = 0) -> dict:
    rss = PeakRss(server)
    run_load(server.url, server.admin_key, messages, clients=1, duration_s=min(2.0, duration_s), max_requests=5)
    progress(f"api bench: {clients} clients for {duration_s:g} s")
    load = run_load(server.url, server.admin_key, messages, clients=clients, duration_s=duration_s,
                    max_requests=max_requests, on_tick=rss)
    progress(f"api bench: baseline, 1 client for {baseline_duration_s:g} s")
    single = run_load(server.url, server.admin_key, messages, clients=1, duration_s=baseline_duration_s,
                      max_requests=max_requests, on_tick=rss)
    figures = {
        "clients": clients,
        "duration_s": round(load.elapsed_s, 2),
        "requests": load.ok + load.errors,
        "drafts_per_s": round(load.ok / load.elapsed_s, 2) if load.elapsed_s else 0.0,
        **latency_figures("", load.latencies_ms),
        "errors": load.errors,
        "baseline_clients": 1,
        "baseline_drafts_per_s": round(single.ok / single.elapsed_s, 2) if single.elapsed_s else 0.0,
        **latency_figures("baseline_", single.latencies_ms),
        "baseline_errors": single.errors,
        "startup_s": server.startup_s,
        "server_peak_rss_mb": rss.peak or None,
    }
    figures["speedup"] = ratio(figures["drafts_per_s"], figures["baseline_drafts_per_s"])
    if load.error_examples or single.error_examples:
        figures["error_examples"] = sorted(set(load.error_examples + single.error_examples))
        figures["server_errors"] = server.error_lines()
    return figures


@click.command("api")
@click.option("--index-dir", type=click.Path(path_type=Path), default=None, help="Index the server opens.")
@click.option("--embedder", default="auto", show_default=True, help="Embedder used to build default messages.")
@click.option("--dataset", type=click.Path(path_type=Path), default=None, help="Messages from a JSONL set.")
@click.option("--clients", default=8, show_default=True)
@click.option("--duration", default=60.0, show_default=True, help="Seconds of load with N clients.")
@click.option("--baseline-duration", default=None, type=float, help="Seconds with 1 client (default: --duration).")
@click.option("--max-requests", default=0, show_default=True, help="Cap on requests per phase (0: none).")
@click.option("--workers", type=click.IntRange(1, 64), default=None,
              help="Server processes (`guichet serve --workers`; default GUICHET_WORKERS or 1).")
@click.option("--json", "as_json", is_flag=True)
def command(index_dir, embedder, dataset, clients, duration, baseline_duration, max_requests, workers,
            as_json) -> None:
    """Drafts/s and latency through `guichet serve` on 127.0.0.1, N clients vs 1."""
    if clients < 1 or duration <= 0:
        raise click.BadParameter("--clients and --duration must be positive")
    messages = bench_messages(index_dir, embedder, dataset)
    with workdir() as tmp:
        extra_env = {"GUICHET_WORKERS": str(workers)} if workers else None
        with ServerProcess(index_dir, Path(tmp), extra_env) as server:
            figures = run_api_bench(server, messages, clients=clients, duration_s=duration,
                                    baseline_duration_s=baseline_duration or duration, max_requests=max_requests)
            figures["workers"] = int(server.env.get("GUICHET_WORKERS", "1"))
    emit(figures, TARGETS, as_json=as_json, title=f"bench api ({clients} clients vs 1, loopback)")
