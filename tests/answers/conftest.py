"""Local servers speaking each provider's wire protocol, one per test module that asks for it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fakes.anthropic_server import fake_anthropic
from tests.fakes.openai_server import fake_openai
from tests.fakes.server import ScriptedServer


@pytest.fixture(scope="module")
def openai_fake() -> Iterator[ScriptedServer]:
    with fake_openai() as server:
        yield server


@pytest.fixture(scope="module")
def anthropic_fake() -> Iterator[ScriptedServer]:
    with fake_anthropic() as server:
        yield server
