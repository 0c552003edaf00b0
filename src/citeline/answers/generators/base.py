"""The Generator protocol: turn a question and numbered sources into a cited answer."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np
import numpy.typing as npt

from citeline.retrieval.service import SearchHit


@dataclass(slots=True)
class GeneratedAnswer:
    text: str
    answerable: bool


class Generator(Protocol):
    """Sources are numbered from 1 in list order; the answer cites them as `[n]`."""

    name: str

    def generate(
        self, question: str, sources: list[SearchHit], query_vector: npt.NDArray[np.float32]
    ) -> GeneratedAnswer: ...
