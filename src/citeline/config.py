"""Settings from the environment (CITELINE_ prefix) and an optional .env file."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Everything configurable about a Citeline process."""

    model_config = SettingsConfigDict(
        env_prefix="CITELINE_", env_file=".env", extra="ignore", populate_by_name=True
    )

    environment: Literal["development", "production", "test"] = "development"
    data_dir: Path = Field(default=Path("citeline-data"), description="Where the SQLite file and blobs live.")
    corpus_dir: Path | None = Field(
        default=None, description="Folder ingested by the seed's bare POST /ingest."
    )
    database_url: str | None = Field(default=None, description="SQLAlchemy URL; default: SQLite in data_dir.")

    max_upload_mb: float = Field(default=50.0, gt=0, description="Largest request body accepted for uploads.")
    max_unpacked_mb: float = Field(
        default=1024.0, gt=0, description="Largest total an uploaded ZIP archive may unpack to."
    )
    chunk_max_tokens: int = Field(default=200, ge=32, le=512)
    chunk_overlap_tokens: int = Field(default=40, ge=0, le=256)

    embedding_model: str = "local"
    embedding_threads: int | None = Field(default=None, ge=1)
    embedding_batch_size: int = Field(
        default=1,
        ge=1,
        le=512,
        description="Texts per model call. 1 (default) makes a chunk's vector depend on its text alone: "
        "the int8 model quantises activations per call, so batch companions move a vector slightly "
        "(cosine 0.98-0.999). 32 is 5-8% faster on 2 cores (docs/benchmarks.md).",
    )

    job_lease_s: float = Field(
        default=60.0, gt=0, description="A running job's lease; a worker silent this long is presumed dead."
    )
    job_max_attempts: int = Field(default=3, ge=1, description="Claims of one job before it fails for good.")

    search_top_k: int = Field(default=10, ge=1, le=200)
    search_candidates: int = Field(
        default=100, ge=10, le=2000, description="Per-retriever depth before fusion."
    )
    fusion: Literal["zscore", "rrf"] = Field(
        default="zscore", description="How hybrid search combines BM25 and vectors (see retrieval/fusion.py)."
    )
    rrf_k: int = Field(default=60, ge=1)
    lexical_weight: float = Field(default=0.3, ge=0)
    vector_weight: float = Field(default=0.7, ge=0)
    search_diversity: float = Field(
        default=0.0, ge=0, le=1, description="Default MMR trade-off for search and query (0 = off)."
    )

    generator: Literal["auto", "extractive", "openai", "anthropic"] = Field(
        default="auto",
        description="Who writes answers. auto: Claude when ANTHROPIC_API_KEY is set, an OpenAI-compatible "
        "model when CITELINE_LLM_BASE_URL is, else the offline extractive generator.",
    )
    anthropic_api_key: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("ANTHROPIC_API_KEY", "CITELINE_ANTHROPIC_API_KEY")
    )
    anthropic_model: str = "claude-sonnet-4-5"
    anthropic_base_url: str | None = None
    llm_base_url: str | None = Field(
        default=None, description="OpenAI-compatible API root, e.g. http://localhost:11434/v1 (Ollama)."
    )
    llm_api_key: SecretStr | None = None
    llm_model: str = "gpt-4o-mini"
    llm_timeout_s: float = Field(default=60.0, gt=0)
    llm_max_retries: int = Field(default=2, ge=0, le=10)
    llm_max_tokens: int = Field(default=600, ge=16, le=8192)

    auth: Literal["on", "off"] = Field(
        default="off",
        description="on: every endpoint but /health, /ready and the docs needs an API key or a JWT. "
        "off (the offline default): the server refuses to listen beyond loopback.",
    )
    jwt_secret: SecretStr | None = Field(
        default=None, description="Signs access tokens; required with auth on outside development."
    )
    jwt_ttl_s: int = Field(default=900, ge=30, le=86_400, description="Access-token lifetime.")
    cors_origins: list[str] = Field(default_factory=list, description="Origins allowed by CORS (none).")
    rate_limit_query: str = Field(
        default="120/minute", description="Per key/user for search and answers (limits syntax)."
    )
    rate_limit_ingest: str = Field(default="30/minute", description="Per key/user for uploads and deletes.")
    rate_limit_storage: str = Field(
        default="memory://", description="memory:// (per process) or redis://host:port (shared)."
    )
    audit_questions: bool = Field(default=False, description="Record question text in the audit trail.")

    query_top_k: int = Field(
        default=10, ge=1, le=50, description="Most sources an answer gets when the request gives no top_k."
    )
    answer_context_tokens: int = Field(
        default=2000,
        ge=64,
        le=200_000,
        description="Token budget for the sources' text: an answer gets as many of the best-ranked "
        "passages as fit (at least one, at most top_k).",
    )
    answer_min_score: float = Field(
        default=0.40, description="Extractive answers below this sentence score say 'not found'."
    )
    answer_max_sentences: int = Field(default=3, ge=1, le=10)

    @field_validator("data_dir", "corpus_dir")
    @classmethod
    def _expand(cls, value: Path | None) -> Path | None:
        return value.expanduser() if value is not None else None

    @property
    def resolved_generator(self) -> str:
        if self.generator != "auto":
            return self.generator
        if self.anthropic_api_key is not None:
            return "anthropic"
        return "openai" if self.llm_base_url else "extractive"

    @cached_property
    def sqlalchemy_url(self) -> str:
        """The database URL actually used (SQLite inside data_dir unless configured)."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'citeline.db').resolve()}"

    @property
    def max_upload_bytes(self) -> int:
        return int(self.max_upload_mb * 1024 * 1024)

    @property
    def max_unpacked_bytes(self) -> int:
        return int(self.max_unpacked_mb * 1024 * 1024)
