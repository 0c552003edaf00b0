"""The Generator protocol: turn a question and numbered sources into a cited answer."""

from __future__ import annotations

import collections.abc
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, TypeAlias

import numpy as np
import numpy.typing as npt

from citeline.answers.schemas import Turn
from citeline.retrieval.service import SearchHit


@dataclass(slots=True)
class GeneratedAnswer:
    text: str
    answerable: bool


AnswerEvents: TypeAlias = collections.abc.Generator[str | GeneratedAnswer, None, None]
"""What a generator streams: text deltas, then the whole GeneratedAnswer."""


class Generator(Protocol):
    """Sources are numbered from 1 in list order; the answer cites them as `[n]`. ``history`` holds the
    conversation's earlier turns, oldest first (empty for a single question)."""

    name: str

    def generate(
        self,
        question: str,
        sources: list[SearchHit],
        query_vector: npt.NDArray[np.float32],
        history: Sequence[Turn] = (),
    ) -> GeneratedAnswer: ...

    def stream(
        self,
        question: str,
        sources: list[SearchHit],
        query_vector: npt.NDArray[np.float32],
        history: Sequence[Turn] = (),
    ) -> AnswerEvents:
        """Text deltas as they are produced, then the whole GeneratedAnswer (whose text they add up to).
        Closing the iterator early (the client went away) stops the model."""
        ...

    def standalone_query(self, question: str, history: Sequence[Turn]) -> str:
        """A search query for a follow-up question that can be understood without the conversation
        (generators without a language model return the question)."""
        ...


def stream_whole(answer: GeneratedAnswer) -> AnswerEvents:
    """For generators that compose the answer at once: yield it sentence by sentence, then whole."""
    pieces = re.split(r"(?<=[.!?])\s+", answer.text)
    for index, piece in enumerate(pieces):
        yield piece if index == 0 else " " + piece
    yield answer
