"""FastAPI dependencies: the caller's principal, scope checks and rate limits.

Credentials: `X-API-Key: cl_...`, or `Authorization: Bearer <API key or access token>`; WebSocket
clients that cannot set headers may pass `?api_key=` or `?access_token=` instead.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends
from starlette.requests import HTTPConnection

from citeline.auth.principal import LOCAL, Principal
from citeline.auth.service import KEY_PREFIX
from citeline.core.errors import ForbiddenError, UnauthorizedError
from citeline.services import Services, get_services


def credential(connection: HTTPConnection) -> str | None:
    if key := connection.headers.get("x-api-key"):
        return key.strip()
    scheme, _, value = connection.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    if connection.scope["type"] == "websocket":
        return connection.query_params.get("api_key") or connection.query_params.get("access_token")
    return None


def principal_of(services: Services, credential: str | None) -> Principal:
    """The principal for a credential (LOCAL with auth off); 401 when it is missing or not valid."""
    if services.auth is None:
        return LOCAL
    if not credential:
        raise UnauthorizedError("Authentication required: send an API key (X-API-Key) or a bearer token.")
    with services.db.read() as session:
        if credential.startswith(KEY_PREFIX):
            return services.auth.principal_for_key(session, credential)
        return services.auth.principal_for_token(session, credential)


async def current_principal(connection: HTTPConnection) -> Principal:
    """Async, and the lookup (one indexed read of the local store, well under a millisecond) runs on the
    event loop: a worker-thread hop per request cost more than the lookup itself (docs/benchmarks.md)."""
    return principal_of(get_services(connection), credential(connection))


PrincipalDep = Annotated[Principal, Depends(current_principal)]


def require(
    scope: str, limit: str | None = None
) -> Callable[[HTTPConnection, Principal], Awaitable[Principal]]:
    """A dependency: the caller must hold ``scope``; ``limit`` ("query" or "ingest") counts the call
    against that rate limit. Async, so it costs no worker-thread hop unless the counter is remote."""

    async def check(connection: HTTPConnection, principal: PrincipalDep) -> Principal:
        if scope not in principal.scopes:
            raise ForbiddenError(f"This operation needs the {scope!r} scope.")
        if limit is not None:
            await get_services(connection).limiter.ahit(limit, principal)
        return principal

    return check


Reader = Annotated[Principal, Depends(require("read"))]
Writer = Annotated[Principal, Depends(require("write"))]
Admin = Annotated[Principal, Depends(require("admin"))]
QueryReader = Annotated[Principal, Depends(require("read", "query"))]
IngestWriter = Annotated[Principal, Depends(require("write", "ingest"))]
