"""``geoprio db write``: put the layers of a finished run into PostGIS tables, with its manifest.

A thin layer over :func:`geoprio.io.postgis_write.write_run`; the URL holds no password (libpq reads
it from ``PGPASSWORD`` or a password file). Its words come from the ``db`` label topic.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from geoprio.cli.common import LangOpt, err, friendly, lang_option, out
from geoprio.errors import InputError
from geoprio.io.postgis import DEFAULT_IF_EXISTS, DEFAULT_SCHEMA, IF_EXISTS
from geoprio.io.postgis_write import write_run
from geoprio.labels import label
from geoprio.numbers import fmt_int
from geoprio.settings import DEFAULT_LANG

__all__ = ["db_write_cmd", "register"]

db_app = typer.Typer(help="PostGIS: write a run's layers and manifest to a database.", no_args_is_help=True)


@friendly
def db_write_cmd(
    run: Annotated[Path, typer.Argument(help="Folder of a finished run (with its manifest.json), or the manifest itself.")],
    url: Annotated[
        str,
        typer.Option(
            "--url",
            help="postgresql://user@host:port/database (user, port optional), without a password: give it as PGPASSWORD or in ~/.pgpass.",
        ),
    ],
    schema: Annotated[str, typer.Option("--schema", help="Schema of the tables (made if missing).")] = DEFAULT_SCHEMA,
    prefix: Annotated[str, typer.Option("--prefix", help="Prefix of the table names, e.g. bogota_.")] = "",
    if_exists: Annotated[
        str, typer.Option("--if-exists", help="When a table exists: fail (write nothing), replace it, or append this run's rows.")
    ] = DEFAULT_IF_EXISTS,
    internal: Annotated[
        bool,
        typer.Option(
            "--internal",
            help="Write a full (internal) run, not a public release: only to a database with the records' own access control.",
        ),
    ] = False,
    lang: LangOpt = DEFAULT_LANG,
) -> None:
    """Write the layers of a finished run (index, hot spots, plans, entornos …) to PostGIS tables, with its manifest."""
    lang = lang_option(lang)
    if if_exists not in IF_EXISTS:
        raise InputError(f"--if-exists: {if_exists!r} is not one of {', '.join(IF_EXISTS)}")
    with err.status(label("db", "working", lang)):
        written = write_run(run, url, schema=schema, prefix=prefix, if_exists=if_exists, internal=internal)
    table = Table(label("db", "table", lang), label("db", "rows", lang), box=None)
    for name, n in written.tables.items():
        table.add_row(f"{written.schema}.{name}", fmt_int(n, lang))
    out.print(table)
    out.print(label("db", "written", lang).format(run_id=written.run_id, kind=written.kind, schema=written.schema), markup=False)


def register(app: typer.Typer) -> None:
    """Add ``db write`` to the ``geoprio`` app."""
    db_app.command("write")(db_write_cmd)
    app.add_typer(db_app, name="db")
