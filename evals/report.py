"""Reports of a benchmark run: Markdown and HTML (jinja2) with PNG plots, the result
JSON beside them, and the comparison with a baseline run (deltas and a gate).

A run result is the object `guichet eval retrieval|drafts --json` prints, with
`benchmark` ("retrieval" or "drafts") and `config` (what was run, on which index).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import jinja2
import matplotlib

matplotlib.use("Agg")  # no display; must precede pyplot
import matplotlib.pyplot as plt

TEMPLATES = Path(__file__).parent / "templates"
WORST_COUNT = 10


class BaselineError(ValueError):
    """The baseline file is missing, not JSON, or not a result of the same benchmark."""


@dataclass
class GateOutcome:
    metric: str
    max_drop: float
    failures: list[str]  # "hybrid hit@5: 0.900 → 0.850 (-0.050)"

    @property
    def passed(self) -> bool:
        return not self.failures


# -- baseline comparison ------------------------------------------------------------

def metric_tables(result: dict) -> dict[str, dict]:
    """{group: {metric: value}}: one group per mode for retrieval, one ("drafts") else."""
    if result.get("benchmark") == "retrieval":
        return result["metrics"]
    return {result.get("benchmark", "drafts"): result["metrics"]}


def load_baseline(path: str | Path, benchmark: str) -> dict:
    path = Path(path)
    try:
        baseline = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise BaselineError(f"{path}: no such baseline file") from exc
    except json.JSONDecodeError as exc:
        raise BaselineError(f"{path}: not valid JSON ({exc.msg}, line {exc.lineno})") from exc
    if not isinstance(baseline, dict) or "metrics" not in baseline:
        raise BaselineError(f"{path}: not a guichet eval result (no 'metrics')")
    if baseline.get("benchmark", benchmark) != benchmark:
        raise BaselineError(f"{path}: a {baseline.get('benchmark')} result, not a {benchmark} one")
    return baseline


def deltas(current: dict, baseline: dict) -> dict[str, dict[str, float]]:
    """current - baseline for every numeric metric present in both runs."""
    table: dict[str, dict[str, float]] = {}
    base_tables = metric_tables(baseline)
    for group, figures in metric_tables(current).items():
        before = base_tables.get(group, {})
        table[group] = {
            name: value - before[name]
            for name, value in figures.items()
            if _number(value) and _number(before.get(name))
        }
    return table


def gate(current: dict, baseline: dict, metric: str, max_drop: float) -> GateOutcome:
    """Fails when `metric` (e.g. "hit@5", or "hybrid/hit@5" for one mode) dropped by
    more than `max_drop` in any group present in both runs."""
    group_filter, _, name = metric.rpartition("/")
    current_tables, base_tables = metric_tables(current), metric_tables(baseline)
    failures, compared = [], 0
    for group, figures in current_tables.items():
        if group_filter and group != group_filter:
            continue
        now, before = figures.get(name), base_tables.get(group, {}).get(name)
        if not (_number(now) and _number(before)):
            continue
        compared += 1
        if before - now > max_drop + 1e-12:
            failures.append(f"{group} {name}: {before:.3f} → {now:.3f} ({now - before:+.3f})")
    if not compared:
        raise BaselineError(f"metric {metric!r} is in neither run or not comparable")
    return GateOutcome(metric, max_drop, failures)


def _number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


# -- plots --------------------------------------------------------------------------

def plot_retrieval(result: dict, out_dir: Path) -> dict[str, str]:
    plots = {}
    ks, metrics = result["ks"], result["metrics"]
    fig, ax = plt.subplots(figsize=(6, 4))
    metrics = {mode: figures for mode, figures in metrics.items() if "recall@1" in figures or f"recall@{ks[0]}" in figures}
    for mode, figures in metrics.items():
        ax.plot(ks, [figures[f"recall@{k}"] for k in ks], marker="o", label=f"{mode} recall@k")
    ax.set_xlabel("k (fiches)")
    ax.set_ylabel("recall@k")
    ax.set_ylim(0, 1.02)
    ax.set_xticks(ks)
    ax.grid(alpha=0.3)
    ax.legend()
    plots["recall_at_k"] = _save(fig, out_dir / "recall_at_k.png")

    rows = [r for r in result["per_question"] if not r["error"] and r["top"]]
    fig, axes = plt.subplots(1, max(1, len(metrics)), figsize=(4 * max(1, len(metrics)), 3.5), squeeze=False)
    for ax, mode in zip(axes[0], metrics):
        hits = [r["top"][0]["score"] for r in rows if r["mode"] == mode and r["figures"]["mrr@10"] == 1.0]
        misses = [r["top"][0]["score"] for r in rows if r["mode"] == mode and r["figures"]["mrr@10"] < 1.0]
        ax.hist([hits, misses], bins=20, label=["gold first", "gold not first"], stacked=True)
        ax.set_title(f"{mode}: top-1 passage score")
        ax.legend(fontsize="small")
    plots["score_distribution"] = _save(fig, out_dir / "score_distribution.png")

    if result.get("calibration"):  # results written before calibration was measured have none
        tables = {mode: result["calibration"][mode] for mode in metrics if mode in result["calibration"]}
        plots["reliability"] = _reliability_diagram(tables, out_dir / "reliability.png")
    latencies = {m: [r["latency_ms"] for r in result["per_question"] if r["mode"] == m and not r["error"]] for m in metrics}
    plots["latency"] = _latency_histogram(latencies, out_dir / "latency.png")
    return plots


def _reliability_diagram(tables: dict[str, dict], path: Path) -> str:
    """Hit rate against mean confidence per bin, one line per mode; on the diagonal
    the confidence is calibrated. Marker area follows the number of questions."""
    fig, ax = plt.subplots(figsize=(6, 5))
    ax.plot([0, 1], [0, 1], linestyle="--", color="grey", linewidth=1, label="calibrated")
    for mode, table in tables.items():
        bins = table["bins"]
        if not bins:
            continue
        total = sum(b["count"] for b in bins)
        line, = ax.plot([b["mean_confidence"] for b in bins], [b["hit_rate"] for b in bins], marker="",
                        label=f"{mode} (ECE {table['ece']:.3f})")
        ax.scatter([b["mean_confidence"] for b in bins], [b["hit_rate"] for b in bins],
                   s=[20 + 400 * b["count"] / total for b in bins], color=line.get_color(), alpha=0.6)
    ax.set_xlabel("confidence (mean per bin)")
    ax.set_ylabel("share of questions with a gold fiche in the top 5")
    ax.set_xlim(0, 1.02)
    ax.set_ylim(0, 1.02)
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small", loc="lower right")
    return _save(fig, path)


def plot_drafts(result: dict, out_dir: Path) -> dict[str, str]:
    rows = [r for r in result["per_question"] if not r["error"]]
    plots = {"latency": _latency_histogram({"drafts": [r["latency_ms"] for r in rows]}, out_dir / "latency.png")}
    fig, ax = plt.subplots(figsize=(6, 4))
    covered = [r["confidence"] for r in rows if r["covered"]]
    uncovered = [r["confidence"] for r in rows if not r["covered"]]
    ax.hist([covered, uncovered], bins=20, range=(0, 1), label=["covered", "uncovered"])
    ax.set_xlabel("draft confidence")
    ax.set_ylabel("questions")
    ax.legend()
    plots["confidence"] = _save(fig, out_dir / "confidence.png")
    fig, ax = plt.subplots(figsize=(6, 4))
    support = [r["supported"] / r["claims"] for r in rows if r["claims"] and not r["abstained"]]
    ax.hist(support, bins=10, range=(0, 1))
    ax.set_xlabel("share of supported claim sentences per draft")
    ax.set_ylabel("drafts")
    plots["support"] = _save(fig, out_dir / "support.png")
    return plots


def plot_verify(result: dict, out_dir: Path) -> dict[str, str]:
    """The rate of each kind against its target, then one panel per kind: its verdicts."""
    kinds = result["kinds"]
    names = list(kinds)
    fig, ax = plt.subplots(figsize=(8, 4))
    errors = [name not in result["false_flags"] for name in names]
    ax.bar(names, [kinds[n]["rate"] for n in names], color=["tab:green" if e else "tab:red" for e in errors])
    for i, name in enumerate(names):
        target = result["targets"].get(name, result["targets"].get(f"false_flags_{name}"))
        if target is not None:
            ax.hlines(target, i - 0.4, i + 0.4, colors="black", linestyles="dashed")
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("share flagged")
    ax.set_title("green: errors caught · red: correct sentences flagged · dashes: targets", fontsize=9)
    ax.tick_params(axis="x", rotation=45)
    plots = {"caught": _save(fig, out_dir / "caught.png")}
    columns = 4
    rows = math.ceil(len(names) / columns)
    fig, axes = plt.subplots(rows, columns, figsize=(3.2 * columns, 2.4 * rows), squeeze=False)
    for ax, name in zip(axes.flat, names):
        verdicts = kinds[name]["verdicts"]
        ax.barh(list(verdicts), list(verdicts.values()))
        ax.set_title(f"{name} ({kinds[name]['rate']:.2f})", fontsize=9)
        ax.tick_params(labelsize=7)
    for ax in list(axes.flat)[len(names):]:
        ax.axis("off")
    plots["verdicts"] = _save(fig, out_dir / "verdicts.png")
    plots["latency"] = _latency_histogram({"sentences": [r["latency_ms"] for r in result["per_case"]]},
                                          out_dir / "latency.png")
    return plots


def _latency_histogram(latencies: dict[str, list[float]], path: Path) -> str:
    fig, ax = plt.subplots(figsize=(6, 4))
    for name, values in latencies.items():
        if values:
            ax.hist(values, bins=30, alpha=0.6, label=name)
    ax.set_xlabel("latency (ms)")
    ax.set_ylabel("requests")
    ax.legend()
    return _save(fig, path)


def _save(fig, path: Path) -> str:
    fig.tight_layout()
    fig.savefig(path, format="png", dpi=90)
    plt.close(fig)
    return path.name


# -- rendering ----------------------------------------------------------------------

def write_report(result: dict, out_dir: str | Path, *, baseline: dict | None = None, gate_outcome: GateOutcome | None = None) -> dict[str, Path]:
    """Write result.json, report.md, report.html and the PNG plots into `out_dir`."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    benchmark = result["benchmark"]
    plotters = {"retrieval": plot_retrieval, "verify": plot_verify}
    plots = plotters.get(benchmark, plot_drafts)(result, out_dir)
    context = {
        "result": result,
        "benchmark": benchmark,
        "config": config_rows(result.get("config", {})),
        "saturated": result["benchmark"] == "retrieval" and saturated(metric_tables(result)),
        "plots": plots,
        "tables": metric_tables(result),
        "metric_names": list(dict.fromkeys(n for t in metric_tables(result).values() for n in t)),
        "deltas": deltas(result, baseline) if baseline else None,
        "gate": gate_outcome,
        "worst": _worst(result),
        "fmt": _fmt,
        "emails_mode": EMAILS_MODE,
        "emails": _emails(result),
        "gold_rank": _gold_rank,
    }
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=jinja2.select_autoescape(["html"]),
        trim_blocks=True, lstrip_blocks=True, undefined=jinja2.StrictUndefined,
    )
    paths = {"json": out_dir / "result.json", "markdown": out_dir / "report.md", "html": out_dir / "report.html"}
    paths["json"].write_text(json.dumps(result, ensure_ascii=False, indent=1), encoding="utf-8")
    paths["markdown"].write_text(environment.get_template("report.md.j2").render(**context), encoding="utf-8")
    paths["html"].write_text(environment.get_template("report.html.j2").render(**context), encoding="utf-8")
    return paths | {name: out_dir / file for name, file in plots.items()}


def _worst(result: dict) -> dict[str, list[dict]]:
    if result["benchmark"] == "verify":
        return {}  # the report lists the misses and false flags of each kind instead
    if result["benchmark"] == "retrieval":
        from evals.retrieval_eval import worst_questions

        return {mode: worst_questions(result, mode, WORST_COUNT) for mode in result["metrics"]}
    rows = [r for r in result["per_question"] if r["covered"] and not r["error"]]
    rows.sort(key=lambda r: (not r["abstained"], r["supported"] / r["claims"] if r["claims"] else 0.0, r["id"]))
    return {"drafts": rows[:WORST_COUNT]}


EMAILS_MODE = "hybrid"


def _emails(result: dict) -> list[dict]:
    """Rows of e-mails (sets with a `message` field): one per gold question in the
    retrieval report (hybrid mode, else the first mode), one per e-mail for drafts."""
    rows = result.get("per_question", [])
    if result["benchmark"] == "retrieval":
        modes = result.get("modes", [])
        mode = EMAILS_MODE if EMAILS_MODE in modes else (modes[0] if modes else "")
        return [r for r in rows if r.get("need") and r["mode"] == mode]
    return [r for r in rows if r.get("needs")]


def _gold_rank(row: dict) -> str:
    from evals.retrieval_eval import first_gold_rank

    rank = first_gold_rank(row)
    return str(rank) if rank else "—"


def config_rows(config: dict, prefix: str = "") -> list[tuple[str, str]]:
    """The configuration as (setting, value) rows for a person: nested settings one row
    each ("index · embedder"), unset values said so, lists joined."""
    rows = []
    for key, value in config.items():
        name = f"{prefix}{key.replace('_', ' ')}"
        if isinstance(value, dict):
            rows += config_rows(value, f"{name} · ") if value else [(name, "—")]
        elif value is None:
            rows.append((name, "default"))
        elif isinstance(value, (list, tuple)):
            rows.append((name, ", ".join(str(v) for v in value) or "—"))
        else:
            rows.append((name, _fmt(value)))
    return rows


SCORE_PREFIXES = ("hit@", "recall@", "mrr", "ndcg")


def saturated(tables: dict[str, dict]) -> bool:
    """True when every mode scores 1.000 on every ranking metric: the set tells nothing apart."""
    scores = [value for table in tables.values() for name, value in table.items()
              if name.startswith(SCORE_PREFIXES) and isinstance(value, float)]
    return bool(scores) and all(value >= 1.0 for value in scores)


def _fmt(value, delta: bool = False) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:+d}" if delta else str(value)
    if isinstance(value, float):
        return f"{value:+.3f}" if delta else f"{value:.3f}"
    return str(value)
