"""What the hosted-model generators share: turning their SDKs' errors into Citeline's typed errors.

The `openai` and `anthropic` SDKs are generated from one template and raise the same exception
classes (APITimeoutError, APIStatusError, APIConnectionError), each from its own module.
"""

from __future__ import annotations

from collections.abc import Iterable
from types import ModuleType

from citeline.answers.generators.base import AnswerEvents, GeneratedAnswer
from citeline.answers.prompts import is_refusal
from citeline.core.errors import UpstreamError, UpstreamTimeoutError

REWRITE_MAX_TOKENS = 120  # a standalone search query is one line


def finished(text: str) -> GeneratedAnswer:
    """A model's whole reply as an answer: unanswerable when it is the refusal (or empty)."""
    return GeneratedAnswer(text=text.strip(), answerable=not is_refusal(text))


def relay(deltas: Iterable[str]) -> AnswerEvents:
    """Pass a model's text deltas on, then the whole answer they make up."""
    parts: list[str] = []
    for delta in deltas:
        if delta:
            parts.append(delta)
            yield delta
    text = "".join(parts)  # exactly what was streamed, so the streamed and final answers agree
    yield GeneratedAnswer(text=text, answerable=not is_refusal(text))


def sdk_error(sdk: ModuleType, exc: Exception, endpoint: object) -> Exception:
    """The Citeline error for an SDK failure (after the SDK's own retries); other errors pass through."""
    if isinstance(exc, sdk.APITimeoutError):
        return UpstreamTimeoutError(f"The language model at {endpoint} did not answer in time.")
    if isinstance(exc, sdk.APIStatusError):
        return UpstreamError(f"The language model answered HTTP {exc.status_code}: {exc.message}")
    if isinstance(exc, sdk.APIConnectionError):
        return UpstreamError(f"Cannot reach the language model at {endpoint}.")
    return exc
