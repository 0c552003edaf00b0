"""The `citeline` command: ingest with progress, then query, on a data dir from the environment."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from citeline.cli import app
from tests.helpers import HANDBOOK


@pytest.fixture
def runner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("CITELINE_DATA_DIR", str(tmp_path / "data"))
    return CliRunner()


def test_ingest_then_query(runner: CliRunner) -> None:
    ingested = runner.invoke(app, ["ingest", str(HANDBOOK)])
    assert ingested.exit_code == 0, ingested.output
    assert "3 indexed" in ingested.output
    assert "files/s" in ingested.output and "chunks/s" in ingested.output  # the progress line

    again = runner.invoke(app, ["ingest", str(HANDBOOK)])
    assert "3 unchanged" in again.output

    answered = runner.invoke(app, ["query", "Who approves business class flights?"])
    assert answered.exit_code == 0, answered.output
    assert "vice president" in answered.output
    assert "[1]" in answered.output


def test_query_on_empty_index_fails_with_a_message(runner: CliRunner) -> None:
    result = runner.invoke(app, ["query", "anything"])
    assert result.exit_code == 2
    assert "Please call /ingest first" in result.output


def test_ingest_of_only_unsupported_files_fails(runner: CliRunner, tmp_path: Path) -> None:
    (tmp_path / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(32))
    result = runner.invoke(app, ["ingest", str(tmp_path / "logo.png")])
    assert result.exit_code == 2
    assert "logo.png" in result.output
