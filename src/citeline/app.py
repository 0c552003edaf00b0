"""The application factory: settings -> services (in the lifespan) -> routers, middleware, handlers."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, Depends, FastAPI
from fastapi.concurrency import run_in_threadpool
from fastapi.middleware.cors import CORSMiddleware

from citeline import __version__
from citeline.answers.endpoints import router as answers_router
from citeline.answers.openai_api import router as openai_router
from citeline.auth.dependencies import current_principal
from citeline.auth.endpoints import router as auth_router
from citeline.config import Settings
from citeline.core.handlers import install_error_handlers
from citeline.core.middleware import BodySizeLimitMiddleware
from citeline.documents.endpoints import router as documents_router
from citeline.embeddings.base import Embedder
from citeline.jobs.endpoints import router as jobs_router
from citeline.retrieval.endpoints import router as search_router
from citeline.seed import router as seed_router
from citeline.services import build_services

log = logging.getLogger(__name__)


def create_app(settings: Settings | None = None, *, embedder: Embedder | None = None) -> FastAPI:
    """Build the ASGI app. ``embedder`` lets tests share one loaded model between apps."""
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        services = await run_in_threadpool(build_services, settings, embedder)
        app.state.services = services
        log.info("Citeline %s ready; data in %s", __version__, settings.data_dir.resolve())
        try:
            yield
        finally:
            app.state.services = None
            await run_in_threadpool(services.close)

    app = FastAPI(
        title="Citeline",
        version=__version__,
        summary="Question answering over your own documents, every claim cited.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.services = None
    install_error_handlers(app)
    app.add_middleware(BodySizeLimitMiddleware, max_bytes=settings.max_upload_bytes)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["*"],
            allow_headers=["Authorization", "Content-Type", "X-API-Key"],
        )

    # Every route below needs a credential when auth is on (the WebSocket checks its own, and
    # POST /auth/token takes a password); /health, /ready and the docs stay open.
    authenticated = [Depends(current_principal)]
    v1 = APIRouter(prefix="/api/v1")
    for router in (documents_router, jobs_router, search_router, answers_router):
        v1.include_router(router, dependencies=authenticated)
    v1.include_router(auth_router)
    app.include_router(v1)
    app.include_router(seed_router)
    app.include_router(openai_router, dependencies=authenticated)
    return app
