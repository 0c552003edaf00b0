"""Keys, tokens, scopes, rate limits and safe defaults, through the real app with auth on."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import jwt
import pytest
from fastapi.testclient import TestClient
from starlette.testclient import WebSocketDenialResponse

from citeline.config import Settings
from citeline.services import build_auth
from tests.auth.conftest import SECRET, MakeKey, h, make_key_for, services_of
from tests.conftest import MakeClient

DOC = {
    "documents": [{"external_id": "a", "title": "Leave", "text": "Employees get 25 days of annual leave."}]
}
OPEN = {
    "/health",
    "/ready",
    "/api/v1/auth/token",
    "/docs",
    "/redoc",
    "/openapi.json",
    "/docs/oauth2-redirect",
}


def test_every_route_but_health_ready_docs_and_token_needs_a_credential(auth_client: TestClient) -> None:
    checked = 0
    for template, operations in auth_client.get("/openapi.json").json()["paths"].items():
        if template in OPEN:
            continue
        path = template.replace("{", "").replace("}", "")  # any value: auth comes first
        for method in operations:
            response = auth_client.request(method.upper(), path)
            assert response.status_code == 401, (method, template, response.text)
            assert response.json()["code"] == "unauthorized"
            assert response.headers["www-authenticate"] == "Bearer"
            checked += 1
    assert checked >= 20
    assert auth_client.get("/health").status_code == 200 and auth_client.get("/ready").status_code == 200
    # The handshake itself is refused.
    with pytest.raises(WebSocketDenialResponse) as denied, auth_client.websocket_connect("/api/v1/ws/query"):
        pass
    assert denied.value.status_code == 401 and denied.value.json()["code"] == "unauthorized"


def test_keys_work_in_either_header_and_the_socket_query(auth_client: TestClient, make_key: MakeKey) -> None:
    key = make_key("ana", ["read", "write"])
    assert auth_client.post("/api/v1/documents/batch?wait=true", json=DOC, headers=h(key)).status_code == 200
    bearer = {"Authorization": f"Bearer {key}"}
    assert auth_client.post("/api/v1/search", json={"query": "leave"}, headers=bearer).status_code == 200
    with auth_client.websocket_connect(f"/api/v1/ws/query?api_key={key}") as socket:
        socket.send_json({"question": "How many days of annual leave?"})
        assert socket.receive_json()["type"] == "sources"
    writer_only = make_key("ana", ["write"])
    with (
        pytest.raises(WebSocketDenialResponse) as denied,
        auth_client.websocket_connect(f"/api/v1/ws/query?api_key={writer_only}"),
    ):
        pass
    assert denied.value.status_code == 403 and denied.value.json()["code"] == "forbidden"
    assert auth_client.get("/api/v1/auth/me", headers=h(key)).json()["username"] == "ana"
    assert auth_client.get("/api/v1/auth/me", headers=h(key + "x")).status_code == 401


def test_revocation_takes_effect_at_once(auth_client: TestClient, make_key: MakeKey) -> None:
    key = make_key("ana", ["read", "write"])
    me = auth_client.get("/api/v1/auth/me", headers=h(key)).json()
    assert auth_client.get("/api/v1/keys", headers=h(key)).json()[0]["id"] == me["key_id"]
    assert auth_client.delete(f"/api/v1/keys/{me['key_id']}", headers=h(key)).status_code == 204
    revoked = auth_client.get("/api/v1/auth/me", headers=h(key))
    assert revoked.status_code == 401 and "revoked" in revoked.json()["detail"]


def test_expired_keys_are_refused(auth_client: TestClient) -> None:
    key = make_key_for(auth_client, "ana", ["read"], expires_at=datetime.now(UTC) - timedelta(seconds=1))
    refused = auth_client.get("/api/v1/auth/me", headers=h(key))
    assert refused.status_code == 401 and "expired" in refused.json()["detail"]


def test_password_flow_issues_a_short_lived_jwt(auth_client: TestClient) -> None:
    make_key_for(auth_client, "ana", ["read"], password="correct horse battery")
    bad = auth_client.post("/api/v1/auth/token", data={"username": "ana", "password": "wrong password"})
    assert (bad.status_code, bad.json()["code"]) == (401, "unauthorized")
    nobody = auth_client.post("/api/v1/auth/token", data={"username": "nobody", "password": "whatever1"})
    assert nobody.status_code == 401 and nobody.json()["detail"] == bad.json()["detail"]
    token = auth_client.post(
        "/api/v1/auth/token", data={"username": "ana", "password": "correct horse battery"}
    )
    body = token.json()
    assert body["token_type"] == "bearer" and body["expires_in"] == 900
    claims = jwt.decode(body["access_token"], SECRET, algorithms=["HS256"])
    assert claims["exp"] - claims["iat"] == 900 and claims["name"] == "ana"
    bearer = {"Authorization": f"Bearer {body['access_token']}"}
    me = auth_client.get("/api/v1/auth/me", headers=bearer).json()
    assert (me["username"], me["key_id"], me["scopes"]) == ("ana", None, ["read", "write"])


def test_expired_and_badly_signed_tokens_are_refused(auth_client: TestClient) -> None:
    make_key_for(auth_client, "ana", ["read"], password="correct horse battery")
    services = services_of(auth_client)
    with services.db.read() as session:
        user = services.auth.user_by_name(session, "ana")  # type: ignore[union-attr]
    assert user is not None
    now = datetime.now(UTC)
    claims = {"sub": user.id, "name": "ana", "scopes": ["read"], "iat": now - timedelta(hours=1)}
    expired = jwt.encode({**claims, "exp": now - timedelta(seconds=5)}, SECRET, algorithm="HS256")
    forged = jwt.encode({**claims, "exp": now + timedelta(hours=1)}, "another-secret" * 3, algorithm="HS256")
    unsigned = jwt.encode({**claims, "exp": now + timedelta(hours=1)}, None, algorithm="none")  # type: ignore[arg-type]
    for token, reason in ((expired, "expired"), (forged, "not valid"), (unsigned, "not valid")):
        response = auth_client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 401 and reason in response.json()["detail"], token


def test_scopes_are_checked(auth_client: TestClient, make_key: MakeKey) -> None:
    reader = make_key("ana", ["read"])
    writer = make_key("ben", ["read", "write"])
    assert auth_client.post("/api/v1/documents/batch", json=DOC, headers=h(reader)).status_code == 403
    assert (
        auth_client.post("/api/v1/documents/batch?wait=true", json=DOC, headers=h(writer)).status_code == 200
    )
    for key in (reader, writer):
        assert auth_client.get("/api/v1/audit", headers=h(key)).status_code == 403
        created = auth_client.post("/api/v1/users", json={"username": "eve"}, headers=h(key))
        assert (created.status_code, created.json()["code"]) == (403, "forbidden")
    # A key cannot mint a key with more than it holds, and a member cannot hold admin at all.
    wider = auth_client.post("/api/v1/keys", json={"scopes": ["read", "write"]}, headers=h(reader))
    assert wider.status_code == 403
    assert auth_client.post("/api/v1/keys", json={"scopes": ["admin"]}, headers=h(writer)).status_code == 403
    made = auth_client.post("/api/v1/keys", json={"scopes": ["read"], "name": "ci"}, headers=h(writer))
    assert made.status_code == 201 and made.json()["key"].startswith("cl_")
    assert "key" not in auth_client.get("/api/v1/keys", headers=h(writer)).json()[0]


def test_keys_are_stored_only_as_hashes(auth_client: TestClient, make_key: MakeKey, tmp_path: Path) -> None:
    key = make_key("ana", ["read", "write"])
    made = auth_client.post("/api/v1/keys", json={"scopes": ["read"]}, headers=h(key)).json()["key"]
    services_of(auth_client).db.dispose()  # flush the WAL into the file
    stored = b"".join(path.read_bytes() for path in (tmp_path / "data").glob("citeline.db*"))
    assert stored and key.encode() not in stored and made.encode() not in stored
    assert key[3:20].encode() not in stored


def test_rate_limits_answer_429_with_retry_after(make_client: MakeClient) -> None:
    client = make_client(
        auth="on", jwt_secret=SECRET, rate_limit_query="3/minute", rate_limit_ingest="1/minute"
    )
    ana, ben = make_key_for(client, "ana", ["read", "write"]), make_key_for(client, "ben", ["read", "write"])
    assert client.post("/api/v1/documents/batch?wait=true", json=DOC, headers=h(ana)).status_code == 200
    second = client.post("/api/v1/documents/batch", json=DOC, headers=h(ana))
    assert second.status_code == 429 and second.json()["code"] == "rate_limited"
    statuses = [
        client.post("/api/v1/search", json={"query": "leave"}, headers=h(ana)).status_code for _ in range(4)
    ]
    assert statuses == [200, 200, 200, 429]
    limited = client.post("/api/v1/query", json={"question": "leave?"}, headers=h(ana))
    assert limited.status_code == 429 and 1 <= int(limited.headers["retry-after"]) <= 60
    # Per key: another user's key is not limited by ana's calls.
    assert client.post("/api/v1/search", json={"query": "leave"}, headers=h(ben)).status_code == 200


def test_cors_origins_are_off_unless_configured(make_client: MakeClient, tmp_path: Path) -> None:
    preflight = {"Origin": "https://app.example", "Access-Control-Request-Method": "POST"}
    closed = make_client(tmp_path / "a").options("/api/v1/search", headers=preflight)
    assert "access-control-allow-origin" not in closed.headers
    opened = make_client(tmp_path / "b", cors_origins=["https://app.example"])
    answer = opened.options("/api/v1/search", headers=preflight)
    assert answer.headers["access-control-allow-origin"] == "https://app.example"


def test_production_needs_a_real_jwt_secret() -> None:
    with pytest.raises(RuntimeError, match="CITELINE_JWT_SECRET"):
        build_auth(Settings(auth="on", environment="production"))
    with pytest.raises(RuntimeError):
        build_auth(Settings(auth="on", environment="production", jwt_secret="short"))
    assert build_auth(Settings(auth="on", environment="production", jwt_secret=SECRET)) is not None
    assert build_auth(Settings(auth="off")) is None


def _citeline(tmp_path: Path, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CITELINE_DATA_DIR": str(tmp_path / "data")}
    env.pop("CITELINE_AUTH", None)
    command = [sys.executable, "-m", "citeline.cli", *args]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=timeout, check=False)


def test_cli_bootstraps_an_admin_key_printed_alone_on_the_last_line(
    tmp_path: Path, make_client: MakeClient
) -> None:
    made = _citeline(tmp_path, "keys", "create", "--scopes", "read,write,admin")
    assert made.returncode == 0, made.stderr
    key = made.stdout.strip().splitlines()[-1]
    assert key.startswith("cl_") and " " not in key
    client = make_client(tmp_path / "data", auth="on", jwt_secret=SECRET)
    me = client.get("/api/v1/auth/me", headers=h(key)).json()
    assert (me["username"], me["role"], me["scopes"]) == ("admin", "admin", ["admin", "read", "write"])
    events = client.get("/api/v1/audit?action=key.create", headers=h(key)).json()
    assert events[0]["target"] == me["key_id"]


def test_serve_refuses_a_public_interface_without_auth(tmp_path: Path) -> None:
    started = time.monotonic()
    refused = _citeline(tmp_path, "serve", "--host", "0.0.0.0", "--port", "8765")
    assert refused.returncode == 2 and "refusing to listen on 0.0.0.0" in refused.stderr
    assert "CITELINE_AUTH=on" in refused.stderr and time.monotonic() - started < 30


def test_redis_makes_a_limit_hold_across_processes(make_client: MakeClient, tmp_path: Path) -> None:
    """Two app instances on one database (as behind a load balancer) share one Redis counter."""
    options = {"auth": "on", "jwt_secret": SECRET, "rate_limit_query": "2/minute"}
    first = make_client(tmp_path / "shared", rate_limit_storage="redis://127.0.0.1:6379", **options)
    second = make_client(tmp_path / "shared", rate_limit_storage="redis://127.0.0.1:6379", **options)
    key = make_key_for(first, "ana", ["read", "write"])
    assert first.post("/api/v1/documents/batch?wait=true", json=DOC, headers=h(key)).status_code == 200
    search = {"query": "leave"}
    assert first.post("/api/v1/search", json=search, headers=h(key)).status_code == 200
    assert second.post("/api/v1/search", json=search, headers=h(key)).status_code == 200
    assert second.post("/api/v1/search", json=search, headers=h(key)).status_code == 429
    assert first.post("/api/v1/search", json=search, headers=h(key)).status_code == 429
    # In memory (the default) each process counts on its own.
    alone = make_client(tmp_path / "shared", **options)
    assert alone.post("/api/v1/search", json=search, headers=h(key)).status_code == 200
