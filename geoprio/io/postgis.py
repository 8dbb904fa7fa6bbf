"""PostGIS as a source of records and a sink of outputs.

**Sources.** A PostGIS table or SQL query can stand wherever geoprio takes a record file. It is
named by one string, so that a configuration file, a command line and a run manifest all hold
it the same way::

    postgresql://host:5432/database?table=schema.delitos
    postgresql://host:5432/database?query=SELECT%20*%20FROM%20delitos%20WHERE%20anio%3D2024

or, in a TOML file, as a table whose query needs no URL encoding::

    path = { url = "postgresql://host:5432/database", query = "SELECT * FROM delitos WHERE anio = 2024" }

:class:`PostgisSource` holds it; :func:`read_source` reads it into a frame of text columns,
fetching a bounded number of rows at a time through a server-side cursor, in a read-only
transaction. A point geometry column (PostGIS ``geometry`` or ``geography``) becomes ``x``/``y``
in EPSG:4326, as a point layer read from a file does, so the rows go through geoprio's usual
validation; row numbers are the query's row order, counted from 1.

**Credentials** never come from a configuration file or a command line: a URL that holds a
password is refused. libpq reads them from the environment: ``PGUSER``, ``PGPASSWORD``, or a
password file (``~/.pgpass``, or the file named by ``PGPASSFILE``). A server that does not
answer fails within :data:`DEFAULT_CONNECT_TIMEOUT_S` seconds (``connect_timeout`` in the URL,
or ``PGCONNECT_TIMEOUT``, change it).

**Sink.** :func:`write_run` writes the layers of a finished run (the index, hot-spot cells and
clusters, camera and garita plans, entornos …, as its ``manifest.json`` lists them) to tables,
with geometry type and SRID 4326 set, a primary key (``fid``) and a spatial index, plus one row
in ``geoprio_runs`` holding the run's manifest (JSON) and the tables it wrote, all in one
transaction: either every table is written or none.

SQLAlchemy, GeoAlchemy2 and psycopg are imported only when a database is used.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import tempfile
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Literal
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pydantic import Field, ValidationError, model_validator

from geoprio.errors import ConfigError, GeoprioError, InputError, MissingDependencyError
from geoprio.io import files as io
from geoprio.io import manifest as manifests
from geoprio.options import Options

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection, Engine

    from geoprio.io.results import Result

__all__ = [
    "DEFAULT_CONNECT_TIMEOUT_S",
    "DEFAULT_FETCH_ROWS",
    "DEFAULT_IF_EXISTS",
    "DEFAULT_SCHEMA",
    "IF_EXISTS",
    "RUNS_TABLE",
    "IfExists",
    "PostgisError",
    "PostgisSource",
    "RunTables",
    "check_url",
    "create_engine",
    "is_database_source",
    "parse_source",
    "path_or_source",
    "read_layer_source",
    "read_source",
    "run_layers",
    "table_name",
    "write_run",
]

#: Rows fetched from the server at a time when reading a source (a server-side cursor).
DEFAULT_FETCH_ROWS: Final = 10_000

#: Seconds to wait for a server before saying it does not answer (unless the URL's
#: ``connect_timeout`` or ``PGCONNECT_TIMEOUT`` says otherwise).
DEFAULT_CONNECT_TIMEOUT_S: Final = 5

#: The table, in the target schema, that records every run written: its manifest and tables.
RUNS_TABLE: Final = "geoprio_runs"

#: What writing does with a table that already exists.
IfExists = Literal["fail", "replace", "append"]

#: The choices of :data:`IfExists`, and the default: refuse, writing nothing.
IF_EXISTS: tuple[IfExists, ...] = ("fail", "replace", "append")
DEFAULT_IF_EXISTS: Final[IfExists] = "fail"

#: The schema tables are written to when none is named.
DEFAULT_SCHEMA: Final = "public"

_SCHEMES = ("postgresql", "postgres")
_SOURCE_KEYS = ("table", "query", "geometry", "fetch_rows")
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_$]*$")
_READING = re.compile(r"^\s*(?:--[^\n]*\n\s*)*\(*\s*(?:select|with|values|table)\b", re.IGNORECASE)
_CREDENTIALS_HELP = (
    "give it through the environment instead: PGPASSWORD=..., or a password file (~/.pgpass, or PGPASSFILE=<file>); PGUSER gives the user"
)
#: Output formats read back into tables, best first (one per output name); CSV only when no layer has the name.
_LAYER_SUFFIXES = (".gpkg", ".parquet", ".geoparquet", ".fgb", ".geojson", ".shp")
_TABLE_SUFFIXES = (".csv",)


class PostgisError(InputError):
    """A database cannot be reached or used: no server, refused credentials, a bad query or table."""


# --------------------------------------------------------------------------- URLs and sources


def is_database_source(value: object) -> bool:
    """True for a :class:`PostgisSource` or a string that names one (``postgresql://…``)."""
    if isinstance(value, PostgisSource):
        return True
    return isinstance(value, str) and urlsplit(value.strip()).scheme in _SCHEMES and "://" in value


def check_url(url: str, *, where: str = "database URL") -> str:
    """Return ``url`` when it is a ``postgresql://`` URL without a password; raise otherwise.

    Raises
    ------
    ConfigError
        Not a PostgreSQL URL, or one holding a password (in the user part or as
        ``password=``): passwords come from the environment only.
    """
    url = url.strip()
    parts = urlsplit(url)
    if parts.scheme not in _SCHEMES or not url.startswith(f"{parts.scheme}://"):
        raise ConfigError(f"{where}: {_redacted(url)!r} is not a PostgreSQL URL; expected postgresql://host:5432/database")
    if parts.password is not None or any(k.lower() == "password" for k, _ in parse_qsl(parts.query)):
        raise ConfigError(
            f"{where}: the URL holds a password; geoprio never reads a password from a configuration file or the command line. "
            f"Remove it from the URL and {_CREDENTIALS_HELP}"
        )
    if not parts.path.strip("/"):
        raise ConfigError(f"{where}: {url!r} names no database; expected postgresql://host:5432/database")
    return url


def _redacted(url: str) -> str:
    """The URL with any password replaced by ``***`` (for error messages)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


class PostgisSource(Options):
    """A table or a query of a PostGIS (or plain PostgreSQL) database, read as records.

    ``url`` is ``postgresql://[user@]host[:port]/database`` (libpq parameters such as
    ``sslmode`` may follow); exactly one of ``table`` (``name`` or ``schema.name``) and
    ``query`` (one ``SELECT``) is given. ``geometry`` names the geometry column when the
    result has several. Build one from a source string with :func:`parse_source`.
    """

    url: str
    table: str | None = None
    query: str | None = None
    geometry: str | None = None
    fetch_rows: int = Field(default=DEFAULT_FETCH_ROWS, gt=0)

    @model_validator(mode="after")
    def _check(self) -> PostgisSource:
        check_url(self.url)
        inline = sorted({k for k, _ in parse_qsl(urlsplit(self.url).query)} & set(_SOURCE_KEYS))
        if inline:
            raise ValueError(f"give {', '.join(inline)} as their own keys, not in the url")
        if (self.table is None) == (self.query is None):
            raise ValueError("give a table (table=schema.name) or a query (query=SELECT ...), exactly one of the two")
        if self.table is not None and not all(_IDENTIFIER.match(p) for p in self.table.split(".", 1)):
            raise ValueError(f"table {self.table!r} is not a plain name or schema.name; for other names write a query")
        if self.query is not None and not _READING.match(self.query):
            raise ValueError("the query must be one SELECT (or WITH … SELECT, VALUES, TABLE): a source is only read")
        return self

    def __str__(self) -> str:
        """The source string: the URL with ``table=`` or ``query=`` (URL-encoded) added."""
        parts = urlsplit(self.url)
        extra = {"table": self.table, "query": self.query, "geometry": self.geometry}
        if self.fetch_rows != DEFAULT_FETCH_ROWS:
            extra["fetch_rows"] = str(self.fetch_rows)
        query = "&".join(q for q in (parts.query, urlencode({k: v for k, v in extra.items() if v is not None}, quote_via=quote)) if q)
        return urlunsplit(parts._replace(query=query))

    @property
    def database(self) -> str:
        """The database name."""
        return urlsplit(self.url).path.strip("/")

    @property
    def name(self) -> str:
        """A short label for messages and reports: ``database:schema.table`` or ``database:query``."""
        return f"{self.database}:{self.table or 'query'}"

    def exists(self) -> bool:
        """Always True: a database source is checked when it is read (as a file source's ``Path.exists``)."""
        return True

    def select_sql(self) -> str:
        """The SQL that reads the source."""
        if self.table is not None:
            return "SELECT * FROM " + ".".join(f'"{p}"' for p in self.table.split(".", 1))
        return str(self.query).strip().rstrip(";").strip()

    def connection_url(self) -> str:
        """The URL without geoprio's own parameters (what libpq is given)."""
        return self.url


def parse_source(text: str | PostgisSource, *, where: str = "source") -> PostgisSource:
    """Read a source string ``postgresql://host/db?table=schema.name`` (or ``?query=<URL-encoded SQL>``).

    ``geometry=<column>`` and ``fetch_rows=<n>`` may be added; other parameters go to libpq.

    Raises
    ------
    ConfigError
        Not a PostgreSQL URL, a password in it, or neither or both of table and query.
    """
    if isinstance(text, PostgisSource):
        return text
    url = check_url(text, where=where)
    parts = urlsplit(url)
    ours: dict[str, str] = {}
    libpq: list[tuple[str, str]] = []
    for k, v in parse_qsl(parts.query, keep_blank_values=True):
        if k in _SOURCE_KEYS:
            ours[k] = v
        else:
            libpq.append((k, v))
    base = urlunsplit(parts._replace(query=urlencode(libpq)))
    try:
        return PostgisSource(url=base, **ours)
    except ValidationError as exc:
        problems = "; ".join(e["msg"].removeprefix("Value error, ") for e in exc.errors())
        raise ConfigError(f"{where}: {_redacted(text)}: {problems}") from None


def path_or_source(value: str | os.PathLike[str] | PostgisSource, *, where: str = "source") -> Path | PostgisSource:
    """A database source for a ``postgresql://`` string (or a :class:`PostgisSource`), a
    :class:`~pathlib.Path` for anything else (a ``Path`` made of the URL would fold its ``//``).

    Raises
    ------
    ConfigError
        A ``postgresql://`` string that is not a valid source (see :func:`parse_source`).
    """
    if isinstance(value, PostgisSource) or (isinstance(value, str) and is_database_source(value)):
        return parse_source(value, where=where)
    return Path(value)


# --------------------------------------------------------------------------- connecting


def _timeout_args(url: str) -> dict[str, Any]:
    """``connect_timeout`` unless the URL or ``PGCONNECT_TIMEOUT`` already sets one."""
    given = any(k == "connect_timeout" for k, _ in parse_qsl(urlsplit(url).query))
    return {} if given or os.environ.get("PGCONNECT_TIMEOUT") else {"connect_timeout": DEFAULT_CONNECT_TIMEOUT_S}


def _server(url: str) -> str:
    parts = urlsplit(url)
    host = parts.hostname or os.environ.get("PGHOST") or "the local socket"
    port = f":{parts.port}" if parts.port else ""
    return f"{host}{port}/{parts.path.strip('/')}"


def _connect_problem(url: str, exc: Exception) -> PostgisError:
    """Say in plain words why a connection failed, with the fix for credentials."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    hint = ""
    low = text.lower()
    if "password" in low or "authentication" in low:
        hint = f"; check the user and the password ({_CREDENTIALS_HELP})"
    elif "timeout" in low or "refused" in low or "could not" in low or "no route" in low:
        hint = "; is the server running and reachable from here?"
    return PostgisError(f"cannot connect to the database {_server(url)}: {text}{hint}")


def _psycopg() -> Any:
    try:
        import psycopg
    except ImportError as exc:
        raise MissingDependencyError("reading PostGIS needs psycopg; install it with pip install 'psycopg[binary]'") from exc
    return psycopg


def create_engine(url: str) -> Engine:
    """A SQLAlchemy engine (psycopg 3) for a password-free ``postgresql://`` URL.

    Raises
    ------
    ConfigError
        The URL is not a PostgreSQL URL or holds a password.
    MissingDependencyError
        SQLAlchemy, GeoAlchemy2 or psycopg is not installed.
    """
    check_url(url)
    try:
        import geoalchemy2  # noqa: F401  (registers the Geometry type with SQLAlchemy)
        import sqlalchemy
    except ImportError as exc:
        raise MissingDependencyError(
            "writing to PostGIS needs SQLAlchemy, GeoAlchemy2 and psycopg; install them with "
            "pip install sqlalchemy geoalchemy2 'psycopg[binary]'"
        ) from exc
    _psycopg()
    scheme = urlsplit(url).scheme
    driver_url = "postgresql+psycopg" + url.strip()[len(scheme) :]
    return sqlalchemy.create_engine(driver_url, connect_args=_timeout_args(url), pool_pre_ping=False)


@contextmanager
def _connection(engine: Engine, url: str) -> Iterator[Connection]:
    """A connection inside one transaction (committed at the end, rolled back on error)."""
    from sqlalchemy.exc import OperationalError

    try:
        conn_cm = engine.begin()
        conn = conn_cm.__enter__()
    except OperationalError as exc:
        raise _connect_problem(url, exc.orig if exc.orig is not None else exc) from None
    try:
        yield conn
    except BaseException as exc:
        conn_cm.__exit__(type(exc), exc, exc.__traceback__)
        raise
    else:
        conn_cm.__exit__(None, None, None)


# --------------------------------------------------------------------------- reading


def _cell_text(v: object) -> str | None:
    """One database value as the text a file would hold (floats round-trip, aware times keep their offset)."""
    if v is None:
        return None
    if isinstance(v, str):
        return v
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return repr(v) if np.isfinite(v) else None
    if isinstance(v, (dt.datetime, dt.date, dt.time)):
        return v.isoformat()
    if isinstance(v, (int, Decimal)):
        return str(v)
    if isinstance(v, (dict, list)):
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, (bytes, bytearray, memoryview)):
        return bytes(v).hex()
    return str(v)


def _column_text(values: Sequence[object]) -> pd.arrays.StringArray:
    """One fetched column as text; text columns (and geometries, as hex EWKB) pass as they are."""
    if all(v is None or isinstance(v, str) for v in values):
        return pd.array(values, dtype="string")
    return pd.array([_cell_text(v) for v in values], dtype="string")


def _geometry_oids(conn: Any) -> set[int]:
    with conn.cursor() as cur:
        cur.execute("SELECT oid FROM pg_type WHERE typname IN ('geometry', 'geography')")
        return {int(r[0]) for r in cur.fetchall()}


def _fetch(source: PostgisSource) -> tuple[list[str], list[bool], list[pd.DataFrame]]:
    """Run the source's SQL in a read-only transaction; rows come ``fetch_rows`` at a time."""
    psycopg = _psycopg()
    url = source.connection_url()
    try:
        conn = psycopg.connect(url, **_timeout_args(url))
    except psycopg.OperationalError as exc:
        raise _connect_problem(url, exc) from None
    try:
        conn.read_only = True
        geo_oids = _geometry_oids(conn)
        frames: list[pd.DataFrame] = []
        with conn.cursor(name="geoprio_source") as cur:
            cur.itersize = source.fetch_rows
            try:
                cur.execute(source.select_sql())
            except psycopg.Error as exc:
                what = f"table {source.table}" if source.table else "the query"
                raise PostgisError(f"{source.name}: {what} cannot be read: {str(exc).strip().splitlines()[0]}") from None
            names = [d.name for d in cur.description]
            is_geo = [d.type_code in geo_oids for d in cur.description]
            while rows := cur.fetchmany(source.fetch_rows):
                columns = list(zip(*rows, strict=True))
                frames.append(pd.DataFrame({i: _column_text(col) for i, col in enumerate(columns)}, columns=range(len(names))))
        return names, is_geo, frames
    finally:
        conn.close()


def _geometry_column(names: list[str], is_geo: list[bool], source: PostgisSource) -> int | None:
    geo = [i for i, g in enumerate(is_geo) if g]
    if source.geometry is not None:
        if source.geometry not in names:
            raise PostgisError(f"{source.name}: geometry column {source.geometry!r} not found; columns found: {names}")
        return names.index(source.geometry)
    if len(geo) > 1:
        raise PostgisError(
            f"{source.name}: several geometry columns ({', '.join(names[i] for i in geo)}); choose one with geometry=<column>"
        )
    return geo[0] if geo else None


def read_source(source: str | PostgisSource) -> pd.DataFrame:
    """Read a database source into a frame of text columns, as :func:`geoprio.io.files.read_table` reads a file.

    A point geometry column becomes ``x``/``y`` (EPSG:4326, transformed from the column's
    SRID; an SRID of 0 leaves the coordinates as stored) unless the result has ``x``/``y``
    columns already; other geometry types are reported in ``attrs["geoprio_read"]
    ["geometry_types"]`` so that a layer of polygons is refused as records. Rows keep the
    query's order and are numbered from 1 (``attrs["geoprio_read"]["first_row"]``).

    Raises
    ------
    PostgisError
        The server cannot be reached, the credentials are refused, the table or query cannot
        be read, or it returns no row.
    """
    src = parse_source(source)
    names, is_geo, frames = _fetch(src)
    if not frames:
        raise PostgisError(f"{src.name}: no data rows")
    df = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    df.columns = pd.Index(names)
    geom_at = _geometry_column(names, is_geo, src)
    info: dict[str, Any] = {"source": str(src), "decimal": ".", "first_row": 1}
    if geom_at is not None:
        geom_name = names[geom_at]
        geoms, srid = _decode(df.iloc[:, geom_at], src.name, geom_name)
        keep = [i for i, g in enumerate(is_geo) if not g]
        df = df.iloc[:, keep]
        present = ~shapely.is_missing(geoms) & ~shapely.is_empty(geoms)
        types = sorted(set(shapely.get_type_id(geoms[present]).tolist()))
        type_names = sorted({_TYPE_NAMES.get(t, "Geometry") for t in types})
        info["geometry_types"] = type_names
        info["geometry"] = {"column": geom_name, "srid": srid}
        points = type_names == ["Point"]
        if points and "x" not in df.columns and "y" not in df.columns:
            xs = np.full(len(geoms), np.nan)
            ys = np.full(len(geoms), np.nan)
            xs[present] = shapely.get_x(geoms[present])
            ys[present] = shapely.get_y(geoms[present])
            if srid not in (0, 4326):
                from pyproj import Transformer

                xs, ys = Transformer.from_crs(f"EPSG:{srid}", "EPSG:4326", always_xy=True).transform(xs, ys)
            df = df.assign(
                x=pd.array([repr(float(v)) if np.isfinite(v) else None for v in xs], dtype="string"),
                y=pd.array([repr(float(v)) if np.isfinite(v) else None for v in ys], dtype="string"),
            )
    df.attrs["geoprio_read"] = info
    return df


def read_layer_source(source: str | PostgisSource) -> gpd.GeoDataFrame:
    """Read a database table or query as a layer (places, zones): attributes as text, the
    geometry column decoded in the CRS of its SRID (none for SRID 0), rows in the query's order.

    Raises
    ------
    PostgisError
        As :func:`read_source`, and when the result has no geometry column.
    """
    src = parse_source(source)
    names, is_geo, frames = _fetch(src)
    if not frames:
        raise PostgisError(f"{src.name}: no data rows")
    df = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    df.columns = pd.Index(names)
    geom_at = _geometry_column(names, is_geo, src)
    if geom_at is None:
        raise PostgisError(f"{src.name}: no geometry column (PostGIS geometry or geography); columns found: {names}")
    geoms, srid = _decode(df.iloc[:, geom_at], src.name, names[geom_at])
    attrs = df.iloc[:, [i for i, g in enumerate(is_geo) if not g]]
    gdf = gpd.GeoDataFrame(attrs, geometry=gpd.GeoSeries(geoms, index=attrs.index), crs=f"EPSG:{srid}" if srid else None)
    gdf.attrs["geoprio_read"] = {"source": str(src), "first_row": 1}
    return gdf


_TYPE_NAMES = {0: "Point", 1: "LineString", 2: "LinearRing", 3: "Polygon", 4: "MultiPoint", 5: "MultiLineString", 6: "MultiPolygon"}


def _decode(hex_ewkb: pd.Series, source: str, column: str) -> tuple[np.ndarray, int]:
    """Geometries from PostGIS's text output (hex EWKB) and their one SRID."""
    values = hex_ewkb.to_numpy(dtype=object, na_value=None)
    try:
        geoms = shapely.from_wkb(values)
    except Exception as exc:  # GEOSException on a damaged value
        raise PostgisError(f"{source}: column {column!r} holds a geometry that cannot be read: {exc}") from None
    present = ~shapely.is_missing(geoms)
    srids = set(shapely.get_srid(geoms[present]).tolist())
    if len(srids) > 1:
        raise PostgisError(f"{source}: column {column!r} mixes SRIDs {sorted(srids)}; transform them to one (ST_Transform) in a query")
    return geoms, (srids.pop() if srids else 0)


# --------------------------------------------------------------------------- writing a run


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
            return _write_manifest_run(written.manifest, url, schema=schema, prefix=prefix, if_exists=if_exists, folder=None)
    manifest_file = _manifest_path(Path(run))
    folder = str(manifest_file.parent.resolve())
    return _write_manifest_run(manifest_file, url, schema=schema, prefix=prefix, if_exists=if_exists, folder=folder)


def _write_manifest_run(manifest_file: Path, url: str, *, schema: str, prefix: str, if_exists: IfExists, folder: str | None) -> RunTables:
    """:func:`write_run` of the run whose manifest is ``manifest_file`` (``folder``: where it lives, None for a temporary one)."""
    doc = manifests.read(manifest_file)
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
