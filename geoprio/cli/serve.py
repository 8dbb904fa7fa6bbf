"""``geoprio serve`` (the HTTP API under uvicorn) and ``geoprio apikey`` (keys for it)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from geoprio.cli.common import err, friendly, out
from geoprio.errors import MissingDependencyError

apikey_app = typer.Typer(help="API keys for POST routes and incident-level records (stored hashed).", no_args_is_help=True)

DataDirOpt = Annotated[Path, typer.Option("--data-dir", help="Folder with the outputs to serve (geoprio index/demo output).")]


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
    """Start the HTTP API (FastAPI under uvicorn) over a data directory; OpenAPI at /docs."""
    _require_api()
    import uvicorn

    if not data_dir.is_dir():
        err.print(f"[bold red]error:[/] {data_dir}: data directory not found; run `geoprio demo` first", markup=True)
        raise typer.Exit(1)
    _env(data_dir, maps_dir, database_url)
    out.print(f"geoprio API en http://{host}:{port}  (documentación: http://{host}:{port}/docs)")
    uvicorn.run("geoprio.api.main:app", host=host, port=port, workers=workers, log_level="info")


@apikey_app.command("create")
@friendly
def apikey_create(
    name: Annotated[str, typer.Argument(help="Who the key is for.")],
    data_dir: DataDirOpt = Path("data/demo/output"),
    database_url: Annotated[str | None, typer.Option("--database-url", help="SQLAlchemy URL (default: SQLite in the data dir).")] = None,
) -> None:
    """Create a key and print it once (only its hash is stored)."""
    _require_api()
    _env(data_dir, None, database_url)
    from geoprio.api.engine import make_engine
    from geoprio.api.keys import create_key
    from geoprio.api.settings import Settings

    key = create_key(make_engine(Settings().db_url), name)
    out.print(key)


def register(app: typer.Typer) -> None:
    """Add ``serve`` and ``apikey`` to the ``geoprio`` app."""
    app.command("serve")(friendly(serve))
    app.add_typer(apikey_app, name="apikey")
