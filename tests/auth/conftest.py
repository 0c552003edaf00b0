"""Apps with auth on, and a helper that makes users and keys through the real AuthService."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from citeline.services import Services
from tests.conftest import MakeClient

SECRET = "test-secret-0123456789-abcdefghijklmnop"  # 32+ characters, as production requires
MakeKey = Callable[..., str]


@pytest.fixture
def auth_client(make_client: MakeClient) -> TestClient:
    return make_client(
        auth="on", jwt_secret=SECRET, rate_limit_query="1000/minute", rate_limit_ingest="1000/minute"
    )


def services_of(client: TestClient) -> Services:
    services: Services = client.app.state.services  # type: ignore[attr-defined]
    return services


def make_key_for(
    client: TestClient, username: str, scopes: list[str], role: str | None = None, **extra: Any
) -> str:
    """A key for ``username`` (created with ``role`` if new: admin when the scopes include admin)."""
    services = services_of(client)
    assert services.auth is not None
    with services.db.transaction() as session:
        user = services.auth.user_by_name(session, username)
        if user is None:
            user = services.auth.create_user(
                session,
                username,
                extra.pop("password", None),
                role or ("admin" if "admin" in scopes else "member"),
            )
        _, secret = services.auth.create_key(session, user, scopes, **extra)
    return secret


@pytest.fixture
def make_key(auth_client: TestClient) -> MakeKey:
    return lambda username, scopes, **extra: make_key_for(auth_client, username, scopes, **extra)


def h(key: str) -> dict[str, str]:
    return {"X-API-Key": key}
