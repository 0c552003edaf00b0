"""The Embedder protocol: every embedding backend (local ONNX, OpenAI-compatible, ...) implements it."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

Vectors = npt.NDArray[np.float32]


@runtime_checkable
class Embedder(Protocol):
    """Turns text into L2-normalised float32 vectors. Blocking: call it from a worker thread."""

    name: str  # stable id, stored with vectors so a model change is detected
    dimensions: int
    max_tokens: int

    def warm_up(self) -> None:
        """Load weights; constructors stay cheap."""

    def embed_documents(self, texts: list[str]) -> Vectors:
        """Vectors for passages, shape (len(texts), dimensions), rows L2-normalised."""

    def embed_query(self, text: str) -> Vectors:
        """Vector for one query, shape (dimensions,), L2-normalised."""

    def count_tokens(self, texts: list[str]) -> list[int]:
        """Number of model tokens in each text (without special tokens), for token-bounded chunking."""
