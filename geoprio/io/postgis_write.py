"""PostGIS as a sink of outputs: :func:`write_run` writes the layers of a finished run (the index,
hot-spot cells and clusters, camera and garita plans, entornos …, as its ``manifest.json`` lists
them) to tables, with geometry type and SRID 4326 set, a primary key (``fid``) and a spatial
index, plus one row in ``geoprio_runs`` holding the run's manifest (JSON) and the tables it
wrote, all in one transaction: either every table is written or none.

Only public releases are written unless the caller says the database is internal
(``internal=True``, ``geoprio db write --internal``): a full run's tables hold what the
disclosure policy hides. Connections, URLs and credentials are those of
:mod:`geoprio.io.postgis`.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import pandas as pd
import shapely

from geoprio.errors import ConfigError, GeoprioError, InputError
from geoprio.io import files as io
from geoprio.io import manifest as manifests
from geoprio.io.postgis import (
    _IDENTIFIER,
    _LAYER_SUFFIXES,
    _TABLE_SUFFIXES,
    DEFAULT_IF_EXISTS,
    DEFAULT_SCHEMA,
    IF_EXISTS,
    RUNS_TABLE,
    IfExists,
    PostgisError,
    _connection,
    _server,
    check_url,
    create_engine,
)

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from geoprio.io.results import Result


__all__ = ["RunTables", "run_layers", "table_name", "write_run"]


@dataclass(frozen=True)
class RunTables:
    """What :func:`write_run` wrote: the run's id, the schema, and each table with its row count."""

    run_id: str
    schema: str
    tables: dict[str, int] = field(default_factory=dict)
    kind: str = ""


def _manifest_path(run: Path) -> Path:
    if run.is_file():
        return run
    for name in ("manifest.json", "seguimiento_manifest.json"):
        if (run / name).is_file():
            return run / name
    found = sorted(run.glob("*.manifest.json"))
    if len(found) == 1:
        return found[0]
    raise InputError(f"{run}: no manifest.json here; give the folder of a finished run (geoprio index/hotspots/plan … --out DIR)")


def _output_files(manifest_file: Path, doc: dict[str, Any]) -> list[Path]:
    """The run's layers and tables, found beside the manifest, each checked against its SHA-256
    (other outputs, such as notes, maps and their assets, are left alone).
    """
    found = []
    for entry in doc.get("outputs", []):
        recorded = Path(str(entry["path"]))
        if not recorded.name.lower().endswith((*_LAYER_SUFFIXES, *_TABLE_SUFFIXES)):
            continue
        path = recorded if recorded.is_file() and recorded.parent.resolve() == manifest_file.parent.resolve() else None
        path = path or manifest_file.parent / recorded.name
        if not path.is_file():
            raise InputError(f"{manifest_file}: output {recorded.name} is listed but missing from {manifest_file.parent}")
        if entry.get("sha256") and io.sha256_file(path) != entry["sha256"]:
            raise InputError(f"{path}: changed since the run wrote it (its SHA-256 differs from the manifest's); run the job again")
        found.append(path)
    return found


def _stem(path: Path) -> str:
    name = path.name
    for suffix in (*_LAYER_SUFFIXES, *_TABLE_SUFFIXES):
        if name.lower().endswith(suffix):
            return name[: -len(suffix)]
    return path.stem


def run_layers(files: Sequence[Path]) -> dict[str, Path]:
    """Output name → the file to write as a table: the best layer format of each name, CSV otherwise.

    GeoPackage is preferred (typed columns), then GeoParquet, FlatGeobuf, GeoJSON and shapefile;
    a CSV is written when no layer has its name. Other outputs (JSON notes, HTML, Excel, PDF)
    are kept in the manifest only.
    """
    order = {s: i for i, s in enumerate((*_LAYER_SUFFIXES, *_TABLE_SUFFIXES))}
    best: dict[str, Path] = {}
    for f in files:
        suffix = next((s for s in order if f.name.lower().endswith(s)), None)
        if suffix is None:
            continue
        stem = _stem(f)
        current = best.get(stem)
        if current is None or order[suffix] < order[next(s for s in order if current.name.lower().endswith(s))]:
            best[stem] = f
    return best


def table_name(prefix: str, name: str) -> str:
    """A PostgreSQL table name from an output name: lower case, ``[a-z0-9_]``, at most 63 bytes."""
    text = re.sub(r"[^a-z0-9_]+", "_", f"{prefix}{name}".lower()).strip("_")
    if not text or text[0].isdigit():
        text = f"t_{text}"
    return text[:63]


def _text_columns(path: Path) -> tuple[str, ...]:
    """CSV columns that must stay text: codes with leading zeros (``"007"``) or mixed text."""
    raw = pd.read_csv(path, dtype=str, encoding="utf-8-sig", sep=None, engine="python", nrows=100_000)
    keep = []
    for col in raw.columns:
        values = raw[col].dropna().astype(str).str.strip()
        if values.str.match(r"^[+-]?0\d").any():
            keep.append(str(col))
    return tuple(keep)


def _read_output(path: Path) -> pd.DataFrame:
    if path.name.lower().endswith(_TABLE_SUFFIXES):
        return io.read_output_table(path, text_columns=_text_columns(path))
    gdf = io.read_layer(path)
    if gdf.crs is not None and gdf.crs.to_epsg() != 4326:
        crs84 = gdf.crs.equals("OGC:CRS84")
        gdf = gdf.set_crs("EPSG:4326", allow_override=True) if crs84 else gdf.to_crs("EPSG:4326")
    return _promoted(gdf)


def _promoted(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Single and multi parts of one family made multi, so that the table has one geometry type."""
    geoms = gdf.geometry.to_numpy()
    types = set(shapely.get_type_id(geoms[~shapely.is_missing(geoms)]).tolist())
    for single, multi, build in ((0, 4, shapely.multipoints), (1, 5, shapely.multilinestrings), (3, 6, shapely.multipolygons)):
        if types == {single, multi}:
            out = geoms.copy()
            sel = shapely.get_type_id(geoms) == single
            out[sel] = [build([g]) for g in geoms[sel]]
            return gdf.set_geometry(gpd.GeoSeries(out, index=gdf.index, crs=gdf.crs))
    return gdf


def _quote(*parts: str) -> str:
    return ".".join('"' + p.replace('"', '""') + '"' for p in parts)


def _table_exists(conn: Connection, schema: str, name: str) -> bool:
    from sqlalchemy import text

    found = conn.execute(text("SELECT to_regclass(:qualified)"), {"qualified": _quote(schema, name)}).scalar()
    return found is not None


def _ensure_runs_table(conn: Connection, schema: str) -> None:
    from sqlalchemy import text

    conn.execute(
        text(
            f"CREATE TABLE IF NOT EXISTS {_quote(schema, RUNS_TABLE)} ("
            "run_id uuid PRIMARY KEY, kind text NOT NULL, created_at timestamptz, written_at timestamptz NOT NULL DEFAULT now(), "
            "source text, tables text[] NOT NULL, manifest jsonb NOT NULL)"
        )
    )


def _write_table(conn: Connection, frame: pd.DataFrame, schema: str, name: str, if_exists: IfExists, exists: bool) -> int:
    """Write one output into ``schema.name`` (its primary key ``fid`` and spatial index made with it)."""
    from sqlalchemy import text

    mode: IfExists = "append" if (exists and if_exists == "append") else "replace" if exists else "fail"
    if isinstance(frame, gpd.GeoDataFrame):
        gdf = frame.rename_geometry("geom") if frame.geometry.name != "geom" else frame
        gdf.to_postgis(name, conn, schema=schema, if_exists=mode, index=False)
    else:
        frame.to_sql(name, conn, schema=schema, if_exists=mode, index=False)
    if mode != "append":
        conn.execute(text(f"ALTER TABLE {_quote(schema, name)} ADD COLUMN fid bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY"))
        has_index = conn.execute(
            text("SELECT 1 FROM pg_indexes WHERE schemaname = :s AND tablename = :t AND indexdef ILIKE '%USING gist (geom)%'"),
            {"s": schema, "t": name},
        ).first()
        if isinstance(frame, gpd.GeoDataFrame) and not has_index:  # GeoAlchemy2 makes one when it creates the table
            index = table_name("", f"{name[:50]}_geom_idx")
            conn.execute(text(f"CREATE INDEX {_quote(index)} ON {_quote(schema, name)} USING GIST (geom)"))
    return len(frame)


def write_run(
    run: str | os.PathLike[str] | Result,
    url: str,
    *,
    schema: str = DEFAULT_SCHEMA,
    prefix: str = "",
    if_exists: IfExists = DEFAULT_IF_EXISTS,
    internal: bool = False,
) -> RunTables:
    """Write the layers of a finished run to PostGIS tables, with its manifest, in one transaction.

    Parameters
    ----------
    run
        The folder a job wrote (with its ``manifest.json``), the manifest file itself, or a
        result object (written to a temporary folder first).
    url
        ``postgresql://[user@]host[:port]/database`` without a password (see the module's notes).
    schema, prefix
        Tables are ``schema.<prefix><output name>``, e.g. ``public.bogota_indice_upz``.
    if_exists
        ``"fail"`` (default): refuse, writing nothing, when a table exists; ``"replace"``: drop
        and write it anew; ``"append"``: add the rows (each table has a ``run_id`` column that
        tells the runs apart).
    internal
        A full (internal) run, not a public release, is refused unless ``internal=True``: its
        tables hold what the disclosure policy hides (small counts; incident-level points in
        some layers), so they belong only in a database with the records' access control.

    Returns
    -------
    RunTables
        The run id (also in ``geoprio_runs``), the schema and each table with its row count.
    """
    if if_exists not in IF_EXISTS:
        raise ConfigError(f"if_exists must be 'fail', 'replace' or 'append', got {if_exists!r}")
    if not _IDENTIFIER.match(schema):
        raise ConfigError(f"schema {schema!r} is not a plain name (letters, digits and _)")
    if prefix and not re.fullmatch(r"[A-Za-z0-9_]+", prefix):
        raise ConfigError(f"prefix {prefix!r} may hold letters, digits and _ only")
    check_url(url)
    if not isinstance(run, (str, os.PathLike)):
        with tempfile.TemporaryDirectory(prefix="geoprio_db_") as tmp:
            written = run.write(tmp)
            return _write_manifest_run(
                written.manifest, url, schema=schema, prefix=prefix, if_exists=if_exists, folder=None, internal=internal
            )
    manifest_file = _manifest_path(Path(run))
    folder = str(manifest_file.parent.resolve())
    return _write_manifest_run(manifest_file, url, schema=schema, prefix=prefix, if_exists=if_exists, folder=folder, internal=internal)


def _write_manifest_run(
    manifest_file: Path, url: str, *, schema: str, prefix: str, if_exists: IfExists, folder: str | None, internal: bool
) -> RunTables:
    """:func:`write_run` of the run whose manifest is ``manifest_file`` (``folder``: where it lives, None for a temporary one)."""
    doc = manifests.read(manifest_file)
    release = doc.get("disclosure")
    if not internal and not (isinstance(release, dict) and release.get("public")):
        raise InputError(
            f"{manifest_file}: a full (internal) run, not a public release: its tables hold what the disclosure policy hides "
            "(small counts, and incident-level points in some layers). For a shared database write its public release "
            "(run it again with --public); for a database with the records' own access control, pass --internal"
        )
    layers = run_layers(_output_files(manifest_file, doc))
    if not layers:
        raise InputError(f"{manifest_file}: the run wrote no layer or table to put in a database (only {sorted(doc.get('formats', []))})")
    names = {table_name(prefix, stem): path for stem, path in sorted(layers.items())}
    if RUNS_TABLE in names:
        raise ConfigError(f"output name {RUNS_TABLE!r} is reserved; choose a --prefix")
    run_id = str(uuid.uuid4())
    engine = create_engine(url)
    try:
        with _connection(engine, url) as conn:  # connect first: an unreachable server fails before any file is read
            frames = {name: _read_output(path).assign(run_id=run_id) for name, path in names.items()}
            return _write_all(conn, frames, doc, folder, run_id=run_id, schema=schema, if_exists=if_exists)
    finally:
        engine.dispose()


def _write_all(
    conn: Connection,
    frames: dict[str, pd.DataFrame],
    doc: dict[str, Any],
    folder: str | None,
    *,
    run_id: str,
    schema: str,
    if_exists: IfExists,
) -> RunTables:
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError

    where = f"{_server(str(conn.engine.url))}"
    try:
        if not conn.execute(text("SELECT 1 FROM pg_extension WHERE extname = 'postgis'")).first() and any(
            isinstance(f, gpd.GeoDataFrame) for f in frames.values()
        ):
            raise PostgisError(f"{where}: the database has no PostGIS extension; run CREATE EXTENSION postgis in it (as its owner)")
        conn.execute(text(f"CREATE SCHEMA IF NOT EXISTS {_quote(schema)}"))
        exists = {name: _table_exists(conn, schema, name) for name in frames}
        taken = sorted(n for n, e in exists.items() if e)
        if taken and if_exists == "fail":
            raise PostgisError(
                f"{where}: table(s) {', '.join(f'{schema}.{n}' for n in taken)} already exist; nothing was written. "
                "Choose --if-exists replace (write them anew) or append (add this run's rows), or another --prefix"
            )
        _ensure_runs_table(conn, schema)
        counts = {name: _write_table(conn, frame, schema, name, if_exists, exists[name]) for name, frame in frames.items()}
        conn.execute(
            text(
                f"INSERT INTO {_quote(schema, RUNS_TABLE)} (run_id, kind, created_at, source, tables, manifest) "
                "VALUES (:run_id, :kind, :created_at, :source, :tables, CAST(:manifest AS jsonb))"
            ),
            {
                "run_id": run_id,
                "kind": str(doc.get("kind", "")),
                "created_at": doc.get("created_at"),
                "source": folder,
                "tables": [f"{schema}.{n}" for n in counts],
                "manifest": json.dumps(doc, ensure_ascii=False),
            },
        )
    except DBAPIError as exc:
        message = str(exc.orig if exc.orig is not None else exc).strip().splitlines()[0]
        raise PostgisError(f"{where}: writing the run failed, nothing was written: {message}") from None
    except ValueError as exc:  # geopandas: an appended table whose SRID or columns differ
        if isinstance(exc, GeoprioError):
            raise
        raise PostgisError(f"{where}: writing the run failed, nothing was written: {exc}") from None
    return RunTables(run_id=run_id, schema=schema, tables=counts, kind=str(doc.get("kind", "")))
