"""Answer generators, chosen by CITELINE_GENERATOR; the offline default registers like the others."""

from __future__ import annotations

from collections.abc import Callable

from citeline.answers.generators.base import Generator
from citeline.config import Settings
from citeline.embeddings.base import Embedder


def _extractive(settings: Settings, embedder: Embedder) -> Generator:
    from citeline.answers.generators.extractive import ExtractiveGenerator

    return ExtractiveGenerator(
        embedder, min_score=settings.answer_min_score, max_sentences=settings.answer_max_sentences
    )


def _openai(settings: Settings, embedder: Embedder) -> Generator:
    from citeline.answers.generators.openai_compat import OpenAICompatibleGenerator

    key = settings.llm_api_key.get_secret_value() if settings.llm_api_key else None
    return OpenAICompatibleGenerator(
        base_url=settings.llm_base_url,
        api_key=key,
        model=settings.llm_model,
        timeout_s=settings.llm_timeout_s,
        max_retries=settings.llm_max_retries,
        max_tokens=settings.llm_max_tokens,
    )


def _anthropic(settings: Settings, embedder: Embedder) -> Generator:
    from citeline.answers.generators.anthropic import AnthropicGenerator

    key = settings.anthropic_api_key.get_secret_value() if settings.anthropic_api_key else None
    return AnthropicGenerator(
        api_key=key,
        model=settings.anthropic_model,
        base_url=settings.anthropic_base_url,
        timeout_s=settings.llm_timeout_s,
        max_retries=settings.llm_max_retries,
        max_tokens=settings.llm_max_tokens,
    )


GENERATORS: dict[str, Callable[[Settings, Embedder], Generator]] = {
    "extractive": _extractive,
    "openai": _openai,
    "anthropic": _anthropic,
}


def build_generator(settings: Settings, embedder: Embedder) -> Generator:
    return GENERATORS[settings.resolved_generator](settings, embedder)
