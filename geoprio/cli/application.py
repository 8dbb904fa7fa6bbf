"""The ``geoprio`` Typer application: every command module registers itself here, one rule for all.

Each module of :mod:`geoprio.cli` defines ``register(app)``, which adds its commands;
:data:`app` calls them in the order of the flow (inputs → index → hot spots → placement →
entornos → seguimiento → maps → demo → the service).
"""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from geoprio._version import __version__
from geoprio.cli import count, data, db, demo, entornos, forecast, hotspots, index, indicators, ingest, maps, plan, report, serve
from geoprio.cli.common import out

__all__ = ["app", "main"]

app = typer.Typer(
    name="geoprio",
    help="Priorización territorial para seguridad y convivencia: índice, zonas priorizadas y más.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        out.print(f"geoprio {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        Optional[bool], typer.Option("--version", callback=_version, is_eager=True, help="Show the version and exit.")
    ] = None,
) -> None:
    """geoprio: índice de priorización, zonas priorizadas y planeación para seguridad y convivencia."""


for _module in (data, ingest, count, index, hotspots, forecast, plan, entornos, indicators, maps, report, db, demo, serve):
    _module.register(app)


def main() -> None:
    """Entry point of the ``geoprio`` console script."""
    app()
