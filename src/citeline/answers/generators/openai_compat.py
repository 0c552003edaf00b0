"""Answers from any OpenAI-compatible chat API (OpenAI, vLLM, Ollama, llama.cpp, LM Studio) via the
official `openai` SDK, which also does the retries (429 with Retry-After, 5xx, timeouts)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from citeline.answers.generators.base import AnswerEvents, GeneratedAnswer
from citeline.answers.generators.remote import REWRITE_MAX_TOKENS, finished, relay, sdk_error
from citeline.answers.prompts import (
    REWRITE_SYSTEM,
    SYSTEM,
    conversation,
    rewrite_message,
    standalone,
    user_message,
)
from citeline.answers.schemas import Turn
from citeline.retrieval.service import SearchHit


class OpenAICompatibleGenerator:
    def __init__(
        self,
        *,
        base_url: str | None,
        api_key: str | None,
        model: str,
        timeout_s: float = 60.0,
        max_retries: int = 2,
        max_tokens: int = 600,
    ) -> None:
        import openai  # the `llm` extra; imported only when this provider is configured

        self._openai = openai
        self.client = openai.OpenAI(
            base_url=base_url, api_key=api_key or "not-needed", timeout=timeout_s, max_retries=max_retries
        )
        self.model = model
        self.max_tokens = max_tokens
        self.name = f"openai:{model}"

    def _request(self, question: str, sources: list[SearchHit], history: Sequence[Turn]) -> dict[str, Any]:
        return {
            "model": self.model,
            "messages": [
                {"role": "system", "content": SYSTEM},
                *conversation(history),
                {"role": "user", "content": user_message(question, sources)},
            ],
            "temperature": 0,
            "max_tokens": self.max_tokens,
        }

    def generate(
        self,
        question: str,
        sources: list[SearchHit],
        query_vector: npt.NDArray[np.float32],
        history: Sequence[Turn] = (),
    ) -> GeneratedAnswer:
        return finished(self._reply(**self._request(question, sources, history)))

    def stream(
        self,
        question: str,
        sources: list[SearchHit],
        query_vector: npt.NDArray[np.float32],
        history: Sequence[Turn] = (),
    ) -> AnswerEvents:
        try:
            chunks = self.client.chat.completions.create(
                **self._request(question, sources, history), stream=True
            )
            with chunks:  # closing the stream closes the HTTP response: a client disconnect stops the model
                deltas = (chunk.choices[0].delta.content or "" for chunk in chunks if chunk.choices)
                yield from relay(deltas)
        except Exception as exc:
            raise self._translate(exc) from exc

    def standalone_query(self, question: str, history: Sequence[Turn]) -> str:
        if not conversation(history):
            return question
        reply = self._reply(
            model=self.model,
            messages=[
                {"role": "system", "content": REWRITE_SYSTEM},
                {"role": "user", "content": rewrite_message(question, history)},
            ],
            temperature=0,
            max_tokens=REWRITE_MAX_TOKENS,
        )
        return standalone(reply, question)

    def _reply(self, **request: Any) -> str:
        """One whole (non-streamed) completion's text."""
        try:
            completion = self.client.chat.completions.create(**request)
        except Exception as exc:
            raise self._translate(exc) from exc
        return completion.choices[0].message.content or "" if completion.choices else ""

    def _translate(self, exc: Exception) -> Exception:
        return sdk_error(self._openai, exc, self.client.base_url)
