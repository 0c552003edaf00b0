"""Shared fixtures: one loaded embedding model per session, apps on temporary data dirs."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from citeline.app import create_app
from citeline.config import Settings
from citeline.embeddings.local import LocalEmbedder
from tests.helpers import handbook_files

MakeClient = Callable[..., TestClient]


@pytest.fixture(scope="session")
def embedder() -> LocalEmbedder:
    model = LocalEmbedder()
    model.warm_up()
    return model


@pytest.fixture
def make_client(tmp_path: Path, embedder: LocalEmbedder) -> Iterator[MakeClient]:
    """Start the real app (lifespan included) on a data dir; call again with the same dir to 'restart'."""
    opened: list[TestClient] = []

    def make(data_dir: Path | None = None, **overrides: Any) -> TestClient:
        # Answers are extractive unless a test asks otherwise, even where ANTHROPIC_API_KEY is set.
        options = {"generator": "extractive", **overrides}
        settings = Settings(data_dir=data_dir or tmp_path / "data", environment="test", **options)
        client = TestClient(create_app(settings, embedder=embedder))
        client.__enter__()
        opened.append(client)
        return client

    yield make
    for client in reversed(opened):
        client.__exit__(None, None, None)


@pytest.fixture
def client(make_client: MakeClient) -> TestClient:
    return make_client()


@pytest.fixture
def handbook_client(client: TestClient) -> TestClient:
    """A client whose index holds the three handbook fixture documents."""
    response = client.post("/api/v1/documents?wait=true", files=handbook_files())
    assert response.status_code == 200, response.text
    assert {d["status"] for d in response.json()["documents"]} == {"indexed"}
    return client
