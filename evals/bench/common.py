"""What the benchmarks share: timing, memory, targets, table and JSON output."""

from __future__ import annotations

import json
import resource
import time
from collections.abc import Callable
from dataclasses import dataclass

import click

from evals.metrics import percentiles


@dataclass
class Target:
    """`key` must be <= (or >= with at_least) `limit`; shown as pass/fail in the table."""

    label: str
    key: str
    limit: float
    at_least: bool = False

    def check(self, figures: dict) -> bool | None:
        value = figures.get(self.key)
        if not isinstance(value, (int, float)):
            return None
        return value >= self.limit if self.at_least else value <= self.limit


def timed_ms(function: Callable, *args, **kwargs) -> tuple[float, object]:
    start = time.perf_counter()
    value = function(*args, **kwargs)
    return (time.perf_counter() - start) * 1000, value


def latency_figures(prefix: str, values_ms: list[float]) -> dict[str, float]:
    """{"p50_ms": …, "p95_ms": …, "p99_ms": …} (prefix "baseline_" → "baseline_p50_ms")."""
    return {f"{prefix}{name}_ms": round(value, 2) for name, value in percentiles(values_ms).items()}


def own_peak_rss_mb() -> float:
    """Peak resident memory of this process (Linux reports kilobytes)."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def rss_mb(pid: int) -> float | None:
    """Current resident memory of a process and its children (server workers), from /proc
    (None when unreadable)."""
    own = _own_rss_mb(pid)
    if own is None:
        return None
    return round(own + sum(rss_mb(child) or 0.0 for child in _children(pid)), 1)


def _children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children", encoding="ascii") as handle:
            return [int(child) for child in handle.read().split()]
    except OSError:
        return []


def _own_rss_mb(pid: int) -> float | None:
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("VmRSS:"):
                    return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        return None
    return None


def ratio(numerator: float | None, denominator: float | None) -> float | None:
    if not numerator or not denominator:
        return None
    return round(numerator / denominator, 2)


def emit(figures: dict, targets: list[Target], *, as_json: bool, title: str) -> None:
    """`--json`: one object on stdout (targets as `target_<key>_pass`); else a table."""
    checks = {t.key: t.check(figures) for t in targets}
    if as_json:
        out = dict(figures)
        for target in targets:
            out[f"target_{target.key}_pass"] = checks[target.key]
        click.echo(json.dumps(out, ensure_ascii=False))
        return
    click.echo(title)
    width = max(len(k) for k in figures) + 2
    for key, value in figures.items():
        shown = f"{value:.2f}" if isinstance(value, float) else str(value)
        click.echo(f"  {key:<{width}}{shown}")
    if targets:
        click.echo("targets")
        for target in targets:
            verdict = {True: "pass", False: "FAIL", None: "n/a"}[checks[target.key]]
            sign = "≥" if target.at_least else "≤"
            click.echo(f"  {target.label:<40} {target.key} {sign} {target.limit:g}: {verdict}")

