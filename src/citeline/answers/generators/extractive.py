"""Offline answers: the sentences of the top sources that best answer the question, each cited.

Each candidate sentence is scored by cosine similarity to the question (the same embedding model
as retrieval) blended with the share of the question's content words it contains. If the best
score is below ``min_score`` the answer says the documents don't say, and ``answerable`` is false.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from citeline.answers.citations import strip_document_markers
from citeline.answers.generators.base import AnswerEvents, GeneratedAnswer, stream_whole
from citeline.answers.schemas import Turn
from citeline.embeddings.base import Embedder
from citeline.retrieval.lexical import STOPWORDS
from citeline.retrieval.service import SearchHit

NOT_FOUND = "The documents don't say. None of the retrieved passages answers this question."

# A sentence ends at . ! ? followed by space and an upper-case letter, digit or quote, or at a newline.
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"')\]]*\s+(?=[A-Z0-9\"'(\[])|\n+")
_ABBREVIATIONS = re.compile(
    r"\b(?:e\.g|i\.e|et al|etc|vs|Fig|Figs|Eq|No|Dr|Mr|Mrs|Ms|Prof|St|approx)\.$", re.I
)
_WORD = re.compile(r"[a-z0-9]+")


@dataclass(slots=True)
class Candidate:
    source: int  # 1-based source number
    position: int  # order inside the source
    text: str
    score: float = 0.0


def split_sentences(text: str) -> list[str]:
    """Split prose into sentences without breaking after common abbreviations."""
    pieces: list[str] = []
    start = 0
    for match in _SENTENCE_END.finditer(text):
        piece = text[start : match.start()]
        if match.group(0).strip("\n") and _ABBREVIATIONS.search(piece):
            continue  # "e.g. Foo": not a sentence end
        pieces.append(piece)
        start = match.end()
    pieces.append(text[start:])
    return [p.strip() for p in pieces if p.strip()]


def content_terms(text: str) -> set[str]:
    """Lower-cased words minus stopwords, with a plural 's' folded so 'vaccines' meets 'vaccine'."""
    terms = set()
    for word in _WORD.findall(text.lower()):
        if word in STOPWORDS or len(word) < 2:
            continue
        terms.add(word[:-1] if len(word) > 3 and word.endswith("s") and not word.endswith("ss") else word)
    return terms


class ExtractiveGenerator:
    """Picks up to ``max_sentences`` cited sentences; refuses when the best is weaker than ``min_score``."""

    name = "extractive"

    def __init__(
        self,
        embedder: Embedder,
        *,
        min_score: float = 0.40,
        max_sentences: int = 3,
        semantic_weight: float = 0.7,
        min_words: int = 4,
    ) -> None:
        self.embedder = embedder
        self.min_score = min_score
        self.max_sentences = max_sentences
        self.semantic_weight = semantic_weight
        self.min_words = min_words

    def candidates(self, sources: list[SearchHit]) -> list[Candidate]:
        found: list[Candidate] = []
        for number, hit in enumerate(sources, start=1):
            for position, sentence in enumerate(split_sentences(strip_document_markers(hit.text))):
                if len(sentence.split()) >= self.min_words:
                    found.append(Candidate(number, position, sentence))
        return found

    def score(
        self, question: str, candidates: list[Candidate], query_vector: npt.NDArray[np.float32]
    ) -> None:
        if not candidates:
            return
        vectors = self.embedder.embed_documents([c.text for c in candidates])
        cosine = vectors @ np.asarray(query_vector, dtype=np.float32)
        wanted = content_terms(question)
        for candidate, cos in zip(candidates, cosine, strict=True):
            overlap = len(wanted & content_terms(candidate.text)) / len(wanted) if wanted else 0.0
            candidate.score = self.semantic_weight * float(cos) + (1 - self.semantic_weight) * overlap

    def generate(
        self,
        question: str,
        sources: list[SearchHit],
        query_vector: npt.NDArray[np.float32],
        history: Sequence[Turn] = (),
    ) -> GeneratedAnswer:
        """The answer quotes the sources, so earlier turns don't change it."""
        candidates = self.candidates(sources)
        self.score(question, candidates, query_vector)
        ranked = sorted(candidates, key=lambda c: (-c.score, c.source, c.position))
        if not ranked or ranked[0].score < self.min_score:
            return GeneratedAnswer(text=NOT_FOUND, answerable=False)
        best = ranked[0].score
        floor = max(self.min_score, best * 0.85)
        chosen: list[Candidate] = []
        seen_text: set[str] = set()
        for candidate in ranked:
            if len(chosen) == self.max_sentences or candidate.score < floor:
                break
            key = " ".join(candidate.text.lower().split())
            if key in seen_text:  # the same sentence in an overlapping chunk
                continue
            seen_text.add(key)
            chosen.append(candidate)
        chosen.sort(key=lambda c: (c.source, c.position))
        return GeneratedAnswer(text=" ".join(cite(c.text, c.source) for c in chosen), answerable=True)

    def stream(
        self,
        question: str,
        sources: list[SearchHit],
        query_vector: npt.NDArray[np.float32],
        history: Sequence[Turn] = (),
    ) -> AnswerEvents:
        return stream_whole(self.generate(question, sources, query_vector))

    def standalone_query(self, question: str, history: Sequence[Turn]) -> str:
        """Without a language model there is no safe rewrite: the question is searched as asked."""
        return question


def cite(sentence: str, number: int) -> str:
    """Put ` [n]` before the sentence's final punctuation: 'It rains [2].'"""
    sentence = sentence.strip().rstrip(":;,")
    if sentence and sentence[-1] in ".!?":
        return f"{sentence[:-1]} [{number}]{sentence[-1]}"
    return f"{sentence} [{number}]."
