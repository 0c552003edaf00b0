"""The `citeline` command: serve the API, ingest files with a progress bar, ask questions."""

from __future__ import annotations

import ipaddress
import json
import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy import select
from sqlalchemy.orm import Session

from citeline.auth import audit
from citeline.auth.principal import Principal
from citeline.auth.service import AuthService
from citeline.config import Settings
from citeline.core.errors import CiteLineError
from citeline.retrieval.scope import SearchScope
from citeline.services import Services, build_auth, build_services
from citeline.storage.database import Database
from citeline.storage.models import ApiKey, Job, User

app = typer.Typer(help="Citeline: question answering over your own documents, every claim cited.")
console = Console()
errors = Console(stderr=True, soft_wrap=True)  # error lines stay whole for grep and logs


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    log_level: Annotated[str, typer.Option(help="uvicorn log level.")] = "info",
) -> None:
    """Run the HTTP API (OpenAPI docs at /docs). Data lives in CITELINE_DATA_DIR."""
    import uvicorn

    from citeline.app import create_app

    settings = Settings()
    if settings.auth == "off" and not is_loopback(host):
        errors.print(
            f"[red]error:[/red] refusing to listen on {host}: auth is off (CITELINE_AUTH=off), so anyone who "
            "can reach the port could read and change every document. Listen on 127.0.0.1, or set "
            "CITELINE_AUTH=on and create a key with `citeline keys create --scopes read,write,admin`."
        )
        raise typer.Exit(2)
    try:
        build_auth(settings)  # fails now, not at the first request, on a missing production secret
    except RuntimeError as exc:
        errors.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from exc
    uvicorn.run(create_app(settings), host=host, port=port, log_level=log_level)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name other than localhost: it may resolve anywhere


keys = typer.Typer(help="API keys: create (prints the key once), list, revoke.")
users = typer.Typer(help="Users: create.")
app.add_typer(keys, name="keys")
app.add_typer(users, name="users")


CLI_OPERATOR = Principal(username="cli", role="admin", scopes=frozenset({"admin"}))  # the audit's actor


@contextmanager
def _auth_transaction() -> Iterator[tuple[Session, AuthService]]:
    """One transaction on the store, and the key functions, without loading the embedding model; a
    Citeline error is printed and exits 2."""
    settings = Settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    db = Database(settings.sqlalchemy_url)
    try:
        db.create_schema()
        with db.transaction() as session:
            yield session, AuthService(secrets.token_urlsafe(32), settings.jwt_ttl_s)  # issues no tokens
    except CiteLineError as exc:
        _fail(exc)
    finally:
        db.dispose()


@keys.command("create")
def keys_create(
    scopes: Annotated[str, typer.Option(help="Comma-separated: read, write, admin.")],
    user: Annotated[str, typer.Option(help="The key's user; created if missing.")] = "admin",
    name: Annotated[str, typer.Option(help="A label for the key.")] = "",
    expires_days: Annotated[int | None, typer.Option(min=1, help="Expire after this many days.")] = None,
) -> None:
    """Create an API key (bootstraps the first admin); the key is printed alone on the last line."""
    wanted = [scope.strip() for scope in scopes.split(",") if scope.strip()]
    with _auth_transaction() as (session, auth):
        account = auth.user_by_name(session, user)
        if account is None:
            role = "admin" if "admin" in wanted else "member"
            account = auth.create_user(session, user, None, role)
            console.print(f"created {role} user {user!r}")
        expires = datetime.now(UTC) + timedelta(days=expires_days) if expires_days else None
        key, secret = auth.create_key(session, account, wanted, name, expires)
        audit.record(session, CLI_OPERATOR, "key.create", key.id, username=user, scopes=list(key.scopes))
    console.print(
        f"key {key.id} for {user!r}, scopes {','.join(key.scopes)}; store it now, it is not shown again:"
    )
    print(secret)


@keys.command("list")
def keys_list() -> None:
    """Every key: id, user, scopes, and whether it is revoked or expired."""
    table = Table("id", "user", "name", "scopes", "expires", "revoked")
    with _auth_transaction() as (session, _):
        rows = session.execute(select(ApiKey, User.username).join(User, User.id == ApiKey.user_id)).all()
        for key, username in rows:
            table.add_row(key.id, username, key.name, ",".join(key.scopes), str(key.expires_at or ""),
                          str(key.revoked_at or ""))  # fmt: skip
    console.print(table)


@keys.command("revoke")
def keys_revoke(key_id: Annotated[str, typer.Argument(help="The key's id (not its secret).")]) -> None:
    """Revoke a key at once."""
    with _auth_transaction() as (session, auth):
        auth.revoke_key(session, key_id, CLI_OPERATOR)
        audit.record(session, CLI_OPERATOR, "key.revoke", key_id)
    console.print(f"revoked {key_id}")


@users.command("create")
def users_create(
    username: Annotated[str, typer.Argument()],
    role: Annotated[str, typer.Option(help="admin or member.")] = "member",
    password: Annotated[
        str,
        typer.Option(prompt=True, hide_input=True, confirmation_prompt=True, help="At least 8 characters."),
    ] = "",
) -> None:
    """Create a user who can sign in (POST /api/v1/auth/token)."""
    if len(password) < 8:
        errors.print("[red]error:[/red] the password needs at least 8 characters")
        raise typer.Exit(2)
    with _auth_transaction() as (session, auth):
        auth.create_user(session, username, password, role)
        audit.record(session, CLI_OPERATOR, "user.create", username, role=role)
    console.print(f"created {role} user {username!r}")


def _fail(exc: CiteLineError) -> NoReturn:
    """Print a Citeline error as one line on stderr and exit 2."""
    errors.print(f"[red]error:[/red] {exc.detail}")
    raise typer.Exit(2) from exc


@app.command()
def ingest(
    paths: Annotated[
        list[Path], typer.Argument(exists=True, help="Files or folders (searched recursively).")
    ],
    collection: Annotated[str | None, typer.Option(help="Collection to add the documents to.")] = None,
    metadata: Annotated[
        str | None, typer.Option(help='JSON object stored with each file, e.g. {"team":"x"}.')
    ] = None,
) -> None:
    """Index files into CITELINE_DATA_DIR, showing progress; re-running skips unchanged files."""
    meta = _json_object(metadata)
    services = _open()
    try:
        with console.status("Reading files..."):
            response, future = services.documents.queue_paths(list(paths), collection, meta)
        if response.job_id is not None and future is not None:
            _follow(services, response.job_id, future.done)
            future.result()
        response = services.documents.collect_results(response)
    except CiteLineError as exc:
        _fail(exc)
    finally:
        services.close()
    table = Table("file", "status", "chunks", "error")
    for doc in response.documents:
        colour = {"indexed": "green", "unchanged": "cyan"}.get(doc.status, "red")
        table.add_row(
            doc.filename, f"[{colour}]{doc.status}[/{colour}]", str(doc.chunks or ""), doc.error or ""
        )
    if len(response.documents) <= 50:
        console.print(table)
    counts: dict[str, int] = {}
    for doc in response.documents:
        counts[doc.status] = counts.get(doc.status, 0) + 1
    console.print(", ".join(f"{n} {status}" for status, n in sorted(counts.items())))
    if response.documents and not counts.get("indexed") and not counts.get("unchanged"):
        raise typer.Exit(1)


@app.command()
def query(
    question: Annotated[str, typer.Argument(help="The question to answer.")],
    top_k: Annotated[int | None, typer.Option(min=1, max=50, help="Sources to retrieve.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the full JSON response.")] = False,
) -> None:
    """Answer a question from the indexed documents, with numbered sources."""
    services = _open()
    try:
        with services.db.read() as session:
            result = services.answers.answer(session, question, top_k, SearchScope())
    except CiteLineError as exc:
        _fail(exc)
    finally:
        services.close()
    if as_json:
        console.print_json(result.model_dump_json())
        return
    console.print(result.answer if result.answerable else f"[yellow]{result.answer}[/yellow]")
    console.print()
    for source in result.sources:
        where = f", page {source.page}" if source.page else ""
        path = [h for h in source.heading_path if h != source.title]
        heading = f" > {' > '.join(path)}" if path else ""
        console.print(
            f"[bold][{source.n}][/bold] {source.title}{heading}{where}  [dim]{source.source or ''}[/dim]"
        )


@app.command("eval")
def evaluate(
    folder: Annotated[
        Path,
        typer.Argument(
            exists=True, file_okay=False, help="BEIR folder: corpus.jsonl, queries.jsonl, qrels/."
        ),
    ],
    split: Annotated[str, typer.Option(help="qrels split to score (tune on train, report test).")] = "test",
    url: Annotated[
        str | None, typer.Option(help="A running Citeline, e.g. http://127.0.0.1:8000; default: embedded.")
    ] = None,
    api_key: Annotated[
        str | None, typer.Option(envvar="CITELINE_API_KEY", help="Sent as X-API-Key with --url.")
    ] = None,
    collection: Annotated[
        str | None, typer.Option(help="Collection the corpus is upserted into (default: eval-<folder>).")
    ] = None,
    data_dir: Annotated[
        Path | None, typer.Option(help="Embedded only: keep the index here (default: a temporary dir).")
    ] = None,
    mode: Annotated[list[str], typer.Option(help="hybrid, lexical or vector; repeat to compare.")] = [  # noqa: B006
        "hybrid"
    ],
    top_k: Annotated[
        int, typer.Option(min=10, max=100, help="Results per query; recall is at this k.")
    ] = 100,
    limit: Annotated[int | None, typer.Option(min=1, help="Score only the first N judged queries.")] = None,
    skip_ingest: Annotated[bool, typer.Option(help="The corpus is already in the collection.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON (no tables).")] = False,
) -> None:
    """Score retrieval on a BEIR-format data set: nDCG@10, recall, MRR@10 and latency per mode."""
    from citeline.evaluation.report import EvaluationError, run_evaluation

    unknown = [m for m in mode if m not in ("hybrid", "lexical", "vector")]
    if unknown:
        raise typer.BadParameter(
            f"unknown mode {unknown[0]!r}; use hybrid, lexical or vector", param_hint="--mode"
        )
    try:
        code = run_evaluation(
            folder,
            split=split,
            url=url,
            api_key=api_key,
            collection=collection,
            data_dir=data_dir,
            modes=mode,
            top_k=top_k,
            limit=limit,
            skip_ingest=skip_ingest,
            as_json=as_json,
            console=console if not as_json else errors,
        )
    except EvaluationError as exc:
        errors.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from exc
    raise typer.Exit(code)


def _open() -> Services:
    with console.status("Loading the index and the embedding model..."):
        return build_services(Settings())


def _follow(services: Services, job_id: str, finished: Any) -> None:
    """Show the job's progress (files, chunks, and their rates) until it finishes."""
    columns = (
        TextColumn("Indexing"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[chunks]} chunks  {task.fields[rates]}"),
        TimeElapsedColumn(),
    )
    started = time.monotonic()
    with Progress(*columns, console=console, transient=False) as progress:
        task = progress.add_task("ingest", total=None, chunks=0, rates="")
        while True:
            is_done = finished()
            with services.db.read() as session:
                job = session.get(Job, job_id)
                done, total = (job.progress, job.total) if job else (0, 0)
                outcomes = job.result.get("documents", {}).values() if job else []
                chunks = sum(int(o.get("chunks") or 0) for o in outcomes if o.get("status") == "indexed")
            elapsed = max(time.monotonic() - started, 1e-6)
            rates = f"{done / elapsed:.1f} files/s, {chunks / elapsed:.0f} chunks/s" if done else ""
            progress.update(task, completed=done, total=total or None, chunks=chunks, rates=rates)
            if is_done:
                break
            time.sleep(0.2)


def _json_object(raw: str | None) -> dict[str, Any]:
    if not raw:
        return {}
    try:
        value = json.loads(raw)
    except ValueError as exc:
        raise typer.BadParameter(f"not JSON: {exc}") from exc
    if not isinstance(value, dict):
        raise typer.BadParameter("must be a JSON object")
    return value


def main() -> None:
    app()


if __name__ == "__main__":
    main()
