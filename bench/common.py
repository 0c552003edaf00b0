"""Shared benchmark plumbing: a real server in a subprocess, the machine, results files."""

from __future__ import annotations

import json
import os
import platform
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

PROJECT_ROOT = Path(__file__).resolve().parents[1]

# --- the server -------------------------------------------------------------------------------------


@dataclass(slots=True)
class Server:
    """A running `citeline serve` subprocess and a client pointed at it."""

    base_url: str
    data_dir: Path
    log_path: Path
    process: subprocess.Popen[bytes]
    client: httpx.Client

    def ready(self) -> dict[str, Any]:
        response = self.client.get("/ready")
        response.raise_for_status()
        body: dict[str, Any] = response.json()
        return body


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing is listening on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def citeline_executable() -> str:
    """The `citeline` script of the interpreter running the benchmark (the project's venv)."""
    beside = Path(sys.executable).parent / "citeline"
    if beside.exists():
        return str(beside)
    found = shutil.which("citeline")
    if found is None:
        raise RuntimeError("no `citeline` executable: install the project into this environment")
    return found


def log_tail(path: Path, lines: int = 40) -> str:
    if not path.exists():
        return "(no log written)"
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


@contextmanager
def running_server(
    env: Mapping[str, str] | None = None,
    *,
    data_dir: Path | None = None,
    startup_timeout_s: float = 300.0,
    request_timeout_s: float = 900.0,
) -> Iterator[Server]:
    """Start `citeline serve` on a free loopback port and yield once GET /ready is 200; kill it on exit.

    Data lives in a fresh temporary directory (removed afterwards) unless ``data_dir`` is given, in which
    case that directory is used and kept, so a later run can reuse the index.
    """
    temp = None if data_dir is not None else tempfile.TemporaryDirectory(prefix="citeline-bench-")
    root = Path(temp.name) if temp is not None else data_dir
    assert root is not None
    root.mkdir(parents=True, exist_ok=True)
    log_path = root / "server.log"
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    child_env = {**os.environ, "CITELINE_DATA_DIR": str(root), **(env or {})}
    command = [citeline_executable(), "serve", "--host", "127.0.0.1", "--port", str(port)]
    try:
        with log_path.open("ab") as log:
            process = subprocess.Popen(command, env=child_env, stdout=log, stderr=subprocess.STDOUT, cwd=root)
        client = httpx.Client(base_url=base_url, timeout=request_timeout_s)
        server = Server(base_url, root, log_path, process, client)
        try:
            _wait_until_ready(server, startup_timeout_s)
            yield server
        finally:
            client.close()
            _stop(process)
    finally:
        if temp is not None:
            temp.cleanup()


def _wait_until_ready(server: Server, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            break
        try:
            if server.client.get("/ready", timeout=5).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.5)
    reason = (
        f"exited with status {server.process.returncode}"
        if server.process.poll() is not None
        else f"not ready after {timeout_s:.0f}s"
    )
    print(f"citeline server {reason}; last lines of {server.log_path}:", file=sys.stderr)
    print(log_tail(server.log_path), file=sys.stderr)
    raise RuntimeError(f"citeline server {reason}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=15)


# --- results -----------------------------------------------------------------------------------------


def environment(ready: Mapping[str, Any]) -> dict[str, Any]:
    """The machine and software a figure was measured on."""
    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "embedding_model": ready.get("embedding_model"),
        "load_average_1m": round(os.getloadavg()[0], 2),  # other work on the machine skews timings
    }


def write_results(path: Path, payload: Mapping[str, Any]) -> Path:
    """Write the results as indented JSON, creating the folder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, indent=2, sort_keys=False) + "\n", encoding="utf-8")
    return path
