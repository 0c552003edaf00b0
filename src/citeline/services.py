"""The process's service graph, built once in the app lifespan and injected into endpoints."""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends
from sqlalchemy.orm import Session
from starlette.requests import HTTPConnection

from citeline.answers.generators import build_generator
from citeline.answers.generators.base import Generator
from citeline.answers.service import AnswerService
from citeline.auth.access import HiddenChunks, acl_stamp, collection_access
from citeline.auth.principal import LOCAL, Principal
from citeline.auth.ratelimit import RateLimiter
from citeline.auth.service import AuthService
from citeline.config import Settings
from citeline.core.errors import CollectionNotFoundError, ServiceUnavailableError
from citeline.documents import repository as repo
from citeline.documents.service import DocumentService
from citeline.embeddings.base import Embedder
from citeline.ingestion.jobs import INGEST_JOB, IngestJobHandler
from citeline.ingestion.pipeline import IngestionPipeline
from citeline.jobs.base import JobQueue
from citeline.jobs.runner import InProcessJobRunner
from citeline.jobs.service import JobService
from citeline.retrieval.filters import Filters, conditions_from
from citeline.retrieval.lexical import SqliteLexicalIndex
from citeline.retrieval.scope import SearchScope
from citeline.retrieval.service import FusionConfig, SearchService
from citeline.retrieval.vector import NumpyVectorIndex
from citeline.storage.base import Store
from citeline.storage.blobs import BlobStore
from citeline.storage.database import Database

log = logging.getLogger(__name__)


@dataclass
class Services:
    settings: Settings
    db: Store
    blobs: BlobStore
    embedder: Embedder
    pipeline: IngestionPipeline
    runner: JobQueue
    documents: DocumentService
    search: SearchService
    answers: AnswerService
    jobs: JobService
    auth: AuthService | None  # None with auth off
    limiter: RateLimiter
    hidden_chunks: HiddenChunks = field(default_factory=HiddenChunks)

    def scope(
        self, session: Session, collection: str | None, filters: Filters, principal: Principal = LOCAL
    ) -> SearchScope:
        """Translate a request's collection name and metadata filters into a search scope, narrowed to
        what ``principal`` may read (a collection it may not read is "not found", like a missing one)."""
        readable, owned = collection_access(session, principal)
        collection_ids = readable
        if collection is not None:
            found = repo.get_collection_by_name(session, collection)
            if found is None or (readable is not None and found.id not in readable):
                raise CollectionNotFoundError(f"Collection {collection!r} not found")
            collection_ids = frozenset({found.id})
        readers, exempt, hidden = None, frozenset[str](), None
        stamp = acl_stamp(session) if not principal.sees_everything else (0, 0)
        if stamp[0]:  # some document has (had) an ACL: which chunks does it hide from this caller?
            hidden = self.hidden_chunks(session, stamp, principal.tokens, owned, collection_ids) or None
            if hidden:  # nothing hidden: nothing to filter
                readers, exempt = principal.tokens, owned
        return SearchScope(
            collection_ids=collection_ids,
            conditions=conditions_from(filters),
            readers=readers,
            acl_exempt=exempt,
            hidden_chunks=hidden,
        )

    def close(self) -> None:
        self.runner.shutdown()
        self.db.dispose()


def build_services(settings: Settings, embedder: Embedder | None = None) -> Services:
    """Open the store, load the indexes and start the job runner (recovering unfinished jobs)."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    if embedder is None:
        from citeline.embeddings.local import LocalEmbedder

        embedder = LocalEmbedder(batch_size=settings.embedding_batch_size, threads=settings.embedding_threads)
    embedder.warm_up()
    db = Database(settings.sqlalchemy_url)
    db.create_schema()
    blobs = BlobStore(settings.data_dir / "blobs")
    lexical = SqliteLexicalIndex()
    vectors = NumpyVectorIndex(embedder.name, embedder.dimensions)
    with db.read() as session:
        vectors.refresh(session)
    pipeline = IngestionPipeline(
        db,
        blobs,
        embedder,
        lexical,
        vectors,
        max_tokens=settings.chunk_max_tokens,
        overlap_tokens=settings.chunk_overlap_tokens,
    )
    runner = InProcessJobRunner(
        db,
        {INGEST_JOB: IngestJobHandler(db, pipeline)},
        lease_s=settings.job_lease_s,
        max_attempts=settings.job_max_attempts,
    )
    search = SearchService(
        embedder,
        lexical,
        vectors,
        FusionConfig(
            candidates=settings.search_candidates,
            method=settings.fusion,
            rrf_k=settings.rrf_k,
            lexical_weight=settings.lexical_weight,
            vector_weight=settings.vector_weight,
            diversity=settings.search_diversity,
        ),
    )
    generator: Generator = build_generator(settings, embedder)
    limits = {"query": settings.rate_limit_query, "ingest": settings.rate_limit_ingest}
    services = Services(
        settings=settings,
        db=db,
        blobs=blobs,
        embedder=embedder,
        pipeline=pipeline,
        runner=runner,
        documents=DocumentService(
            db, blobs, runner, pipeline, max_unpacked_bytes=settings.max_unpacked_bytes
        ),
        search=search,
        answers=AnswerService(
            search, generator, settings.query_top_k, context_tokens=settings.answer_context_tokens
        ),
        jobs=JobService(db),
        auth=build_auth(settings),
        limiter=RateLimiter(limits, settings.rate_limit_storage, enabled=settings.auth == "on"),
    )
    recovered = runner.recover()
    if recovered:
        log.info("resumed %d unfinished ingest job(s)", recovered)
    return services


def build_auth(settings: Settings) -> AuthService | None:
    """The auth service with auth on; outside development a JWT secret of 32+ characters is required."""
    if settings.auth == "off":
        return None
    secret = settings.jwt_secret.get_secret_value() if settings.jwt_secret else ""
    if len(secret) < 32:
        if settings.environment == "production":
            raise RuntimeError(
                "CITELINE_AUTH=on needs CITELINE_JWT_SECRET (at least 32 characters) in production; "
                'make one with: python -c "import secrets; print(secrets.token_urlsafe(32))"'
            )
        log.warning("no CITELINE_JWT_SECRET: access tokens use a random per-process secret (development)")
        secret = secrets.token_urlsafe(32)
    return AuthService(secret, settings.jwt_ttl_s)


def get_services(request: HTTPConnection) -> Services:
    services: Services | None = getattr(request.app.state, "services", None)
    if services is None:
        raise ServiceUnavailableError("Citeline is starting up; try again in a moment.")
    return services


ServicesDep = Annotated[Services, Depends(get_services)]
