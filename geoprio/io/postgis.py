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

**Sink.** :func:`geoprio.io.postgis_write.write_run` writes the layers of a finished run to
tables (its own module).

SQLAlchemy, GeoAlchemy2 and psycopg are imported only when a database is used.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Literal
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pydantic import Field, ValidationError, model_validator

from geoprio.errors import ConfigError, InputError, MissingDependencyError
from geoprio.options import Options

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection, Engine


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
    "check_url",
    "create_engine",
    "is_database_source",
    "parse_source",
    "path_or_source",
    "read_layer_source",
    "read_source",
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
