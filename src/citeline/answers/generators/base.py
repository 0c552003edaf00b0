"""The Generator protocol: turn a question and numbered sources into a cited answer."""

from __future__ import annotations

import re
from collections.abc import Iterator
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

    def stream(
        self, question: str, sources: list[SearchHit], query_vector: npt.NDArray[np.float32]
    ) -> Iterator[str | GeneratedAnswer]:
        """Text deltas as they are produced, then the whole GeneratedAnswer (whose text they add up to)."""
        ...


def stream_whole(answer: GeneratedAnswer) -> Iterator[str | GeneratedAnswer]:
    """For generators that compose the answer at once: yield it sentence by sentence, then whole."""
    pieces = re.split(r"(?<=[.!?])\s+", answer.text)
    for index, piece in enumerate(pieces):
        yield piece if index == 0 else " " + piece
    yield answer
