"""Answers from Claude through the official `anthropic` SDK (the seed's choice; ANTHROPIC_API_KEY)."""

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


class AnthropicGenerator:
    def __init__(
        self,
        *,
        api_key: str | None,
        model: str,
        base_url: str | None = None,
        timeout_s: float = 60.0,
        max_retries: int = 2,
        max_tokens: int = 600,
    ) -> None:
        import anthropic  # the `llm` extra; imported only when this provider is configured

        self._anthropic = anthropic
        self.client = anthropic.Anthropic(
            api_key=api_key, base_url=base_url, timeout=timeout_s, max_retries=max_retries
        )
        self.model = model
        self.max_tokens = max_tokens
        self.name = f"anthropic:{model}"

    def _request(self, question: str, sources: list[SearchHit], history: Sequence[Turn]) -> dict[str, Any]:
        return {
            "model": self.model,
            "system": SYSTEM,
            "messages": [
                *conversation(history),
                {"role": "user", "content": user_message(question, sources)},
            ],
            "max_tokens": self.max_tokens,  # (SDK 2.x no longer takes temperature for Messages)
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
            with self.client.messages.stream(**self._request(question, sources, history)) as stream:
                yield from relay(stream.text_stream)  # leaving the block closes the response
        except Exception as exc:
            raise sdk_error(self._anthropic, exc, self.client.base_url) from exc

    def standalone_query(self, question: str, history: Sequence[Turn]) -> str:
        if not conversation(history):
            return question
        reply = self._reply(
            model=self.model,
            system=REWRITE_SYSTEM,
            messages=[{"role": "user", "content": rewrite_message(question, history)}],
            max_tokens=REWRITE_MAX_TOKENS,
        )
        return standalone(reply, question)

    def _reply(self, **request: Any) -> str:
        """One whole (non-streamed) message's text."""
        try:
            message = self.client.messages.create(**request)
        except Exception as exc:
            raise sdk_error(self._anthropic, exc, self.client.base_url) from exc
        return "".join(block.text for block in message.content if block.type == "text")
