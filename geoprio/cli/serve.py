"""``geoprio serve`` (the HTTP API under uvicorn) and ``geoprio apikey`` (keys for it:
``create``, ``list``, ``revoke``, ``rotate``, over :mod:`geoprio.api.keys`).
"""

from __future__ import annotations

import contextlib
import copy
import datetime as dt
import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Optional

import typer
from rich.markup import escape
from rich.table import Table

from geoprio.cli.common import err, friendly, out
from geoprio.errors import MissingDependencyError

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

apikey_app = typer.Typer(help="API keys for POST routes and incident-level records (stored hashed).", no_args_is_help=True)

DataDirOpt = Annotated[Path, typer.Option("--data-dir", help="Folder with the outputs to serve (geoprio index/demo output).")]
DatabaseUrlOpt = Annotated[Optional[str], typer.Option("--database-url", help="SQLAlchemy URL (default: SQLite in the data dir).")]
KeyRefArg = Annotated[str, typer.Argument(help="The key's name, or its id (see `geoprio apikey list`).")]


def _env(data_dir: Path, maps_dir: Path | None = None, database_url: str | None = None) -> None:
    os.environ["GEOPRIO_DATA_DIR"] = str(data_dir.resolve())
    if maps_dir is not None:
        os.environ["GEOPRIO_MAPS_DIR"] = str(maps_dir.resolve())
    if database_url:
        os.environ["GEOPRIO_DATABASE_URL"] = database_url


def _require_api() -> None:
    try:
        import fastapi  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError as exc:
        raise MissingDependencyError("the API needs FastAPI and uvicorn: pip install 'geoprio[api]'") from exc


def serve(
    data_dir: DataDirOpt = Path("data/demo/output"),
    maps_dir: Annotated[Path, typer.Option("--maps-dir", help="Folder with the rendered maps.")] = Path("maps"),
    host: Annotated[str, typer.Option(help="Address to listen on (loopback by default).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port.")] = 8000,
    database_url: Annotated[str | None, typer.Option("--database-url", help="SQLAlchemy URL (default: SQLite in the data dir).")] = None,
    workers: Annotated[int, typer.Option(min=1, help="uvicorn worker processes.")] = 1,
) -> None:
    """Start the HTTP API (FastAPI under uvicorn) over a data directory; OpenAPI at /docs.

    Every other setting comes from ``GEOPRIO_*`` environment variables (see the guide's API page):
    job and queue limits, key limits, the slow-client deadline and the connection limit.
    """
    _require_api()
    from geoprio.api.server import run
    from geoprio.api.settings import Settings

    if not data_dir.is_dir():
        err.print(f"[bold red]error:[/] {data_dir}: data directory not found; run `geoprio demo` first", markup=True)
        raise typer.Exit(1)
    _env(data_dir, maps_dir, database_url)
    out.print(f"geoprio API en http://{host}:{port}  (documentación: http://{host}:{port}/docs)")
    run(Settings(), host=host, port=port, workers=workers, log_config=_log_config())


def _log_config() -> dict[str, Any]:
    """Uvicorn's logging, plus the audit lines of incident-level routes (``geoprio.api.audit``)
    on standard output beside the access log.
    """
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config["formatters"]["audit"] = {"format": "%(asctime)s AUDIT %(message)s"}
    config["handlers"]["audit"] = {"formatter": "audit", "class": "logging.StreamHandler", "stream": "ext://sys.stdout"}
    config["loggers"]["geoprio.api.audit"] = {"handlers": ["audit"], "level": "INFO", "propagate": False}
    return config


@contextlib.contextmanager
def _database(data_dir: Path, database_url: str | None) -> Iterator[Engine]:
    """The API's database (as ``geoprio serve`` would open it with the same options), closed after use."""
    _require_api()
    _env(data_dir, None, database_url)
    from geoprio.api.engine import make_engine
    from geoprio.api.settings import Settings

    engine = make_engine(Settings().db_url)
    try:
        yield engine
    finally:
        engine.dispose()


def _day(t: dt.datetime | None) -> str:
    return "-" if t is None else t.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M")


@apikey_app.command("create")
@friendly
def apikey_create(
    name: Annotated[str, typer.Argument(help="Who the key is for (1-100 letters, digits, spaces, . _ - @).")],
    scope: Annotated[
        Optional[list[str]],
        typer.Option(
            "--scope",
            help="A scope to grant (repeat the option): read:aggregates, read:records, submit:plans, admin. "
            "Default: read:aggregates and submit:plans.",
        ),
    ] = None,
    expires_days: Annotated[
        Optional[float], typer.Option("--expires-days", min=0, help="Days until the key expires (default: never).")
    ] = None,
    data_dir: DataDirOpt = Path("data/demo/output"),
    database_url: DatabaseUrlOpt = None,
) -> None:
    """Create a key and print it once (only its hash is stored)."""
    from geoprio.api.keys import CREATE_SCOPES, create_key

    with _database(data_dir, database_url) as engine:
        key = create_key(engine, name, scope or CREATE_SCOPES, expires_days=expires_days)
    out.print(key)


@apikey_app.command("list")
@friendly
def apikey_list(data_dir: DataDirOpt = Path("data/demo/output"), database_url: DatabaseUrlOpt = None) -> None:
    """List the keys: name, id, scopes, status and dates (never the keys nor their hashes)."""
    from geoprio.api.keys import list_keys

    with _database(data_dir, database_url) as engine:
        records = list_keys(engine)
    if not records:
        out.print("no API keys yet: `geoprio apikey create NAME`")
        return
    table = Table()
    for column in ("name", "id", "scopes", "status", "created", "expires", "revoked", "last used"):
        table.add_column(column)
    for r in records:
        table.add_row(
            escape(r.name),
            str(r.id),
            " ".join(r.scopes),
            r.status,
            _day(r.created_at),
            _day(r.expires_at),
            _day(r.revoked_at),
            _day(r.last_used_at),
        )
    out.print(table)


@apikey_app.command("revoke")
@friendly
def apikey_revoke(ref: KeyRefArg, data_dir: DataDirOpt = Path("data/demo/output"), database_url: DatabaseUrlOpt = None) -> None:
    """Revoke a key: it is refused (403) from then on."""
    from geoprio.api.keys import revoke_key

    with _database(data_dir, database_url) as engine:
        r = revoke_key(engine, ref)
    out.print(f"revoked API key {escape(r.name)!r} (id {r.id})")


@apikey_app.command("rotate")
@friendly
def apikey_rotate(
    ref: KeyRefArg,
    expires_days: Annotated[
        Optional[float], typer.Option("--expires-days", min=0, help="Days the new key lasts (default: as long as the old one did).")
    ] = None,
    data_dir: DataDirOpt = Path("data/demo/output"),
    database_url: DatabaseUrlOpt = None,
) -> None:
    """Give a key a new secret (same name and scopes), revoke the old one, print the new key once."""
    from geoprio.api.keys import rotate_key

    with _database(data_dir, database_url) as engine:
        r, key = rotate_key(engine, ref, expires_days=expires_days)
    err.print(f"API key {escape(r.name)!r} rotated: new id {r.id}; the old key is revoked")
    out.print(key)


def register(app: typer.Typer) -> None:
    """Add ``serve`` and ``apikey`` to the ``geoprio`` app."""
    app.command("serve")(friendly(serve))
    app.add_typer(apikey_app, name="apikey")
