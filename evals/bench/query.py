"""`guichet bench query`: hybrid retrieval latency, query embedding included, against
the same queries on qdrant-client's local mode holding the same vectors."""

from __future__ import annotations

import random
import re
import tempfile
from pathlib import Path

import click

from evals.bench.common import Target, emit, latency_figures, ratio, timed_ms
from evals.cli_support import progress
from retrieval.types import SearchMode

TARGETS = [
    Target("hybrid query p50 ≤ 40 ms", "p50_ms", 40),
    Target("hybrid query p95 ≤ 80 ms", "p95_ms", 80),
]
WARMUP = 3
ENGINE_QUERIES = 50  # the engine-only comparison needs fewer queries (vectors are precomputed)


def questions_from_index(retriever, count: int, seed: int = 13) -> list[str]:
    """Queries built from the indexed corpus: fiche titles, descriptions' first sentence,
    "title : section heading" pairs; sorted, then a seeded sample (cycled if short)."""
    candidates: set[str] = set()
    for fiche_id in fiche_ids(retriever):
        fiche = retriever.fiche(fiche_id)
        if fiche is None or not fiche.is_content:
            continue
        candidates.add(fiche.title)
        if fiche.description:
            candidates.add(re.split(r"(?<=[.?!])\s", fiche.description.strip())[0][:200])
        for section in fiche.sections:
            if section.path:
                candidates.add(f"{fiche.title} : {section.path[-1].removeprefix('Cas : ')}")
    ordered = sorted(c for c in candidates if c.strip())
    if not ordered:
        raise click.ClickException("the index holds no content fiche to build queries from")
    rng = random.Random(seed)
    if len(ordered) >= count:
        return rng.sample(ordered, count)
    return [ordered[i % len(ordered)] for i in range(count)]


def fiche_ids(retriever) -> list[str]:
    return sorted(f["id"] for f in retriever.version.iter_fiches())


def copy_to_local_mode(retriever, path: Path):
    """A qdrant-client local-mode store (QdrantClient(path=…)) with the index's points."""
    import qdrant_edge as qe
    from qdrant_client import QdrantClient

    from retrieval.index.store import DENSE, SPARSE, TITLE_DENSE, TITLE_SPARSE, IndexPoint, ServerStore
    from retrieval.search.bm25 import SparseVec

    def sparse_of(vector):
        return None if vector is None else SparseVec(list(vector.indices), list(vector.values))

    def dense_of(vector):
        return None if vector is None or not dim else _array(vector)

    edge = retriever.version.store
    shard = edge._shard  # the Edge store has no public scroll with vectors
    dim = retriever.embedder.dim if retriever.embedder else None
    client = QdrantClient(path=str(path))
    store = ServerStore.create(client, "bench", dim)
    offset, points = None, []
    while True:
        records, offset = shard.scroll(qe.ScrollRequest(offset=offset, limit=256, with_payload=True, with_vector=True))
        for record in records:
            vectors = record.vector
            points.append(IndexPoint(
                record.payload["id"], dict(record.payload), sparse_of(vectors[SPARSE]), dense_of(vectors.get(DENSE)),
                sparse_of(vectors.get(TITLE_SPARSE)), dense_of(vectors.get(TITLE_DENSE)),
            ))
        if offset is None:
            break
    store.upsert(points)
    return client, store, len(points)


def _array(values):
    import numpy as np

    return np.asarray(values, dtype=np.float32)


def run_query_bench(retriever, queries: list[str], *, k: int = 5, baseline: bool = True) -> dict:
    if retriever.embedder is None:
        raise click.ClickException("the index has no dense vectors (built with --embedder none): hybrid needs them")
    for query in queries[:WARMUP]:
        retriever.search(query, k=k, mode=SearchMode.HYBRID)
    progress(f"query bench: {len(queries)} hybrid queries")
    results = [timed_ms(retriever.search, q, k=k, mode=SearchMode.HYBRID) for q in queries]
    figures = {"queries": len(queries), "k": k, **latency_figures("", [ms for ms, _ in results])}
    # Where the time goes, as the retriever reports it (query embedding, store queries, confidence).
    for stage in ("embed", "search", "confidence"):
        stage_ms = [r.timings_ms.get(stage, 0.0) for _, r in results]
        figures[f"{stage}_p50_ms"] = latency_figures("", stage_ms)["p50_ms"]
    if baseline:
        figures |= _baseline(retriever, queries, k)
        figures["speedup"] = ratio(figures["baseline_p50_ms"], figures["p50_ms"])
        figures["engine_speedup"] = ratio(figures["baseline_engine_p50_ms"], figures["engine_p50_ms"])
    return figures


def query_vectors(retriever, queries: list[str]) -> list[tuple]:
    from retrieval.search.retriever import clean_query

    vectors = []
    for query in queries:
        expanded = retriever.expander.expand(clean_query(query))
        vectors.append((retriever.bm25.embed_query(expanded), retriever.embedder.embed_queries([expanded])[0]))
    return vectors


def engine_latencies(store, vectors: list[tuple], k: int) -> list[float]:
    """The ranked lists of one hybrid search per question, vectors precomputed: the engines alone."""
    from retrieval.search.retriever import MIN_CANDIDATES, MODE_LISTS, ranked_lists

    limit = max(MIN_CANDIDATES, k * 12)
    names = MODE_LISTS[SearchMode.HYBRID]
    return [timed_ms(ranked_lists, store, names, sparse, dense, None, limit)[0] for sparse, dense in vectors]


def _baseline(retriever, queries: list[str], k: int) -> dict:
    with tempfile.TemporaryDirectory(prefix="guichet-bench-local-") as tmp:
        progress("query bench: copying the points into qdrant-client local mode")
        client, store, points = copy_to_local_mode(retriever, Path(tmp) / "qdrant")
        try:
            for query in queries[:WARMUP]:
                retriever.search_in(store, query, k=k)
            progress("query bench: baseline queries (local mode)")
            latencies = [timed_ms(retriever.search_in, store, q, k=k)[0] for q in queries]
            progress("query bench: engines alone (precomputed query vectors)")
            vectors = query_vectors(retriever, queries[:ENGINE_QUERIES])
            engine = engine_latencies(retriever.version.store, vectors, k)
            local_engine = engine_latencies(store, vectors, k)
        finally:
            client.close()
    return {
        "baseline": "qdrant-client local mode",
        "baseline_points": points,
        **latency_figures("baseline_", latencies),
        **latency_figures("engine_", engine),
        **latency_figures("baseline_engine_", local_engine),
    }


@click.command("query")
@click.option("--index-dir", type=click.Path(path_type=Path), default=None, help="Index (default GUICHET_INDEX_DIR).")
@click.option("--embedder", default="auto", show_default=True, help="Query embedder; auto = the index's own.")
@click.option("--dataset", type=click.Path(path_type=Path), default=None,
              help="Questions from a JSONL set (default: built from the indexed fiches).")
@click.option("--count", default=200, show_default=True, help="Number of queries.")
@click.option("--k", default=5, show_default=True)
@click.option("--no-baseline", is_flag=True, help="Skip the qdrant-client local-mode baseline.")
@click.option("--json", "as_json", is_flag=True)
def command(index_dir, embedder, dataset, count, k, no_baseline, as_json) -> None:
    """Hybrid query latency p50/p95/p99 (query embedding included) vs qdrant-client local mode."""
    from evals.cli_support import load_questions, open_retriever_or_fail

    if count < 1:
        raise click.BadParameter("must be at least 1", param_hint="--count")
    retriever = open_retriever_or_fail(index_dir, embedder)
    if dataset:
        questions = [q.question for q in load_questions(dataset)]
        queries = [questions[i % len(questions)] for i in range(count)]
    else:
        queries = questions_from_index(retriever, count)
    figures = run_query_bench(retriever, queries, k=k, baseline=not no_baseline)
    figures["chunks"] = retriever.build_info.get("chunks")
    figures["embedder"] = retriever.build_info.get("embedder")
    emit(figures, TARGETS, as_json=as_json, title="bench query (hybrid, query embedding included)")
