"""Reading and writing data files: every input table, layer and TOML, every output, atomically.

Reading copes with what Colombian open-data portals publish: CSV with ``,`` ``;`` or tab
separators, decimal commas, UTF-8 or Latin-1/cp1252 text, Excel workbooks, and vector
layers (GeoJSON, GeoPackage, shapefile, GeoParquet). Every writer goes through a temporary
file in the destination folder that is renamed at the end, so a failure never leaves a
half-written output behind.
"""

from __future__ import annotations

import csv
import hashlib
import importlib.util
import io as _io
import json
import os
import tempfile
import tomllib
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal

import geopandas as gpd
import pandas as pd

from geoprio.errors import InputError, MissingDependencyError
from geoprio.io.export import (
    SHAPEFILE_PARTS,
    Export,
    profiles_as_lists,
    profiles_as_text,
    shapefile_ready,
    shapefile_sidecar,
    workbook_tables,
)
from geoprio.settings import DEFAULT_LANG, OUTPUT_CRS

__all__ = [
    "TABLE_SUFFIXES",
    "VECTOR_SUFFIXES",
    "atomic_path",
    "check_output_formats",
    "read_csv",
    "read_layer",
    "read_output_table",
    "read_table",
    "read_toml",
    "sha256_file",
    "sniff_text",
    "write_formats",
    "write_json",
    "write_layer",
    "write_outputs",
    "write_shapefile",
    "write_table",
    "write_text",
    "write_workbook",
]

TABLE_SUFFIXES = (".csv", ".tsv", ".txt", ".csv.gz", ".tsv.gz", ".txt.gz", ".xlsx", ".xls")
VECTOR_SUFFIXES = (".geojson", ".json", ".gpkg", ".shp", ".parquet", ".geoparquet", ".fgb")

_ENCODINGS = ("utf-8-sig", "cp1252", "latin-1")


def _suffix(path: Path) -> str:
    name = path.name.lower()
    for double in (".csv.gz", ".tsv.gz", ".txt.gz"):
        if name.endswith(double):
            return double
    return path.suffix.lower()


def _require_file(path: str | os.PathLike[str]) -> Path:
    p = Path(path)
    if not p.exists():
        raise InputError(f"{p}: file not found{_near_names(p)}")
    if p.is_dir():
        raise InputError(f"{p}: is a folder, expected a file")
    return p


def _ingest_parts(path: str | os.PathLike[str]) -> list[Path]:
    """The partitions of a dataset folder that ``geoprio ingest`` wrote (``part-*.parquet``,
    in order), or ``[]`` for anything else.
    """
    p = Path(path)
    return sorted(p.glob("part-*.parquet")) if p.is_dir() else []


def _near_names(p: Path) -> str:
    """``"; did you mean 'x.csv'?"`` naming a file of the same folder with a close name, or ``""``."""
    import difflib

    folder = p.parent
    if not folder.is_dir():
        return f" (the folder {folder} does not exist either)"
    try:
        names = [q.name for q in folder.iterdir() if q.is_file()][:5000]
    except OSError:
        return ""
    close = difflib.get_close_matches(p.name, names, n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


def sha256_file(path: str | os.PathLike[str], chunk_size: int = 1 << 20) -> str:
    """Return the hex SHA-256 of a file's bytes (for run manifests)."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk_size):
            h.update(block)
    return h.hexdigest()


# --------------------------------------------------------------------------- text sniffing


def _read_bytes(path: Path) -> bytes:
    if _suffix(path).endswith(".gz"):
        import gzip

        with gzip.open(path, "rb") as fh:
            return fh.read()
    return path.read_bytes()


def sniff_text(raw: bytes, *, source: str = "<bytes>") -> tuple[str, str]:
    """Decode ``raw`` and return ``(text, encoding)``.

    UTF-8 (with or without BOM) is tried first; files that are not valid UTF-8 are read as
    cp1252, the Windows code page that Colombian government exports usually use, and
    finally as Latin-1 (which decodes any byte).
    """
    for enc in _ENCODINGS:
        try:
            return raw.decode(enc), enc
        except UnicodeDecodeError:
            continue
    raise InputError(f"{source}: cannot decode the text")  # pragma: no cover (latin-1 decodes all)


def _sniff_separator(text: str) -> str:
    """Pick the separator among ``,`` ``;`` tab and ``|`` that splits the header consistently."""
    lines = [ln for ln in text.splitlines()[:50] if ln.strip()]
    if not lines:
        return ","
    try:
        dialect = csv.Sniffer().sniff("\n".join(lines[:20]), delimiters=",;\t|")
        return dialect.delimiter
    except csv.Error:
        pass
    header = lines[0]
    counts = {sep: header.count(sep) for sep in (";", "\t", ",", "|")}
    best = max(counts, key=lambda s: counts[s])
    return best if counts[best] > 0 else ","


def _looks_like_decimal_comma(text: str, sep: str) -> bool:
    """True when numbers are written with a decimal comma (``-75,5698``).

    With a ``;``, tab or ``|`` separator: more fields are digits, one comma and digits than
    digits, a point and digits. With a comma separator a decimal comma can only appear
    inside quotes (``"4,605612","-74,056499"``): more quoted fields are digits, one comma
    and digits (not exactly three of them, which may be a thousands separator:
    ``"1,234"``) than fields with a decimal point.
    """
    import re

    sample = text[:200_000]
    if sep == ",":
        quoted = re.findall(r'(?:^|,)\s*"\s*-?\d+,(\d+)\s*"(?=,|$)', sample, re.M)
        comma = sum(1 for decimals in quoted if len(decimals) != 3)
        point = len(re.findall(r'(?:^|,)\s*"?\s*-?\d+\.\d+\s*"?(?=,|$)', sample, re.M))
        return comma > point
    comma = len(re.findall(rf"(?:^|{re.escape(sep)})\s*-?(?:\d{{1,3}}(?:\.\d{{3}})+|\d+),\d+\s*(?={re.escape(sep)}|$)", sample, re.M))
    point = len(re.findall(rf"(?:^|{re.escape(sep)})\s*-?\d+\.\d+\s*(?={re.escape(sep)}|$)", sample, re.M))
    return comma > point


#: The longest line a delimited text file may have (characters). A table row of an
#: open-data export is a few hundred characters; a longer line is a cut-off export or a
#: file without line breaks, which pandas would take minutes to refuse.
MAX_LINE_CHARS = 100_000


def _check_lines(text: str, source: str) -> None:
    """Refuse a text whose lines are not table rows (one unterminated line, no line breaks)."""
    lengths = [len(line) for line in text.splitlines()]
    longest = max(lengths, default=0)
    if longest <= MAX_LINE_CHARS:
        return
    line = lengths.index(longest) + 1
    raise InputError(
        f"{source}: line {line} is {longest:,} characters long; a table row is expected to be at most "
        f"{MAX_LINE_CHARS:,} (a few hundred in an ordinary export). The file looks cut off or has lost its line "
        f"breaks ({len(lengths):,} line(s) in {len(text):,} characters); export it again as a CSV with one record per line"
    )


def _check_fields(text: str, sep: str, source: str) -> None:
    """Raise an :class:`InputError` naming the first row that has more fields than the header."""
    reader = csv.reader(_io.StringIO(text), delimiter=sep)
    header = next(reader, [])
    for row_number, row in enumerate(reader, start=2):
        if len(row) > len(header):
            sample = sep.join(row)[:120]
            raise InputError(
                f"{source}: row {row_number} has {len(row)} fields but the header has {len(header)} "
                f"(separator {sep!r}): {sample!r}; expected every row to have at most as many fields as the header. "
                f"A value that contains {sep!r} must be quoted, or choose another separator (sep=...)"
            )


def read_csv(
    path: str | os.PathLike[str],
    *,
    sep: str | None = None,
    decimal: str | None = None,
    encoding: str | None = None,
) -> pd.DataFrame:
    """Read a delimited text file, detecting separator, decimal mark and encoding.

    All columns are read as text (``str``) so that validation can report the exact cell
    that does not parse; the loaders convert what they use. The detected settings are kept
    in ``df.attrs["geoprio_read"]``.
    """
    p = _require_file(path)
    raw = _read_bytes(p)
    if not raw.strip():
        raise InputError(f"{p}: the file is empty")
    if encoding is None:
        text, encoding = sniff_text(raw, source=str(p))
    else:
        try:
            text = raw.decode(encoding)
        except UnicodeDecodeError as exc:
            raise InputError(f"{p}: not valid {encoding} text at byte {exc.start}") from exc
    _check_lines(text, str(p))
    if sep is None:
        sep = _sniff_separator(text)
    if decimal is None:
        decimal = "," if _looks_like_decimal_comma(text, sep) else "."
    try:
        df = pd.read_csv(
            _io.StringIO(text),
            sep=sep,
            dtype=str,
            keep_default_na=False,
            na_values=[""],
            skipinitialspace=True,
        )
    except pd.errors.ParserError:
        _check_fields(text, sep, str(p))
        raise InputError(f"{p}: cannot split the file into columns with separator {sep!r} (unbalanced quotes?)") from None
    if not isinstance(df.index, pd.RangeIndex):  # pandas made an index of extra leading fields
        _check_fields(text, sep, str(p))
    df.columns = [str(c).strip() for c in df.columns]
    df.attrs["geoprio_read"] = {"path": str(p), "sep": sep, "decimal": decimal, "encoding": encoding}
    return df


def read_table(path: str | os.PathLike[str], *, sheet: str | int | None = 0, **csv_options: Any) -> pd.DataFrame:
    """Read a table (CSV family or Excel) with every column as text.

    Vector files are accepted too; their geometry is dropped and their attributes returned
    as text, which lets a per-zone table come as GeoPackage as easily as CSV.
    """
    dataset = bool(_ingest_parts(path))  # a geoprio ingest folder reads as its GeoParquet layer
    p = Path(path) if dataset else _require_file(path)
    suffix = ".parquet" if dataset else _suffix(p)
    if suffix in (".xlsx", ".xls"):
        try:
            df = pd.read_excel(p, sheet_name=sheet if sheet is not None else 0, dtype=str)
        except ImportError as exc:
            raise MissingDependencyError(f"{p}: reading Excel needs openpyxl; install it with pip install 'geoprio[excel]'") from exc
        except ValueError as exc:
            raise InputError(f"{p}: cannot read sheet {sheet!r}: {exc}") from exc
        df.columns = [str(c).strip() for c in df.columns]
        df.attrs["geoprio_read"] = {"path": str(p), "sheet": sheet, "decimal": "."}
        return df
    if suffix in VECTOR_SUFFIXES:
        gdf = read_layer(p)
        df = pd.DataFrame(gdf.drop(columns=gdf.geometry.name)).astype("string")
        geom = gdf.geometry
        if len(gdf) and geom.notna().all() and (geom.geom_type == "Point").all() and "x" not in df and "y" not in df:
            # a point layer: expose its coordinates (EPSG:4326) as x/y so records load alike
            if gdf.crs is not None and not gdf.crs.equals("EPSG:4326"):
                geom = geom.to_crs("EPSG:4326")
            df["x"] = geom.x.map(repr).astype("string")
            df["y"] = geom.y.map(repr).astype("string")
        types = sorted(set(geom.dropna().geom_type))
        df.attrs["geoprio_read"] = {"path": str(p), "decimal": ".", "geometry_types": types}
        return df
    return read_csv(p, **csv_options)


def read_toml(path: str | os.PathLike[str], *, what: str = "configuration file") -> dict[str, Any]:
    """Read a TOML document (UTF-8); errors name the file and what was wrong."""
    from geoprio.errors import ConfigError

    p = Path(path)
    if not p.exists():
        raise ConfigError(f"{p}: {what} not found")
    try:
        return tomllib.loads(p.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{p}: invalid TOML: {exc}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{p}: not UTF-8 text") from None


def read_output_table(path: str | os.PathLike[str], *, text_columns: tuple[str, ...] = ()) -> pd.DataFrame:
    """Read a CSV that geoprio itself wrote, with typed columns; ``text_columns`` stay text
    (ids such as ``"007"``).

    Both CSV dialects are read: ``standard`` (UTF-8, ``,``, ``.``) and ``excel`` (UTF-8 with
    BOM, ``;``, decimal comma), told apart by the header line.
    """
    p = _require_file(path)
    try:
        with open(p, encoding="utf-8-sig") as fh:
            header = fh.readline()
        excel = header.count(";") > header.count(",")
        return pd.read_csv(
            p,
            dtype=dict.fromkeys(text_columns, "string"),
            encoding="utf-8-sig",
            sep=";" if excel else ",",
            decimal="," if excel else ".",
        )
    except (ValueError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise InputError(f"{p}: cannot read as a geoprio output table: {exc}") from exc


def read_layer(path: str | os.PathLike[str], *, layer: str | int | None = None, dates_as_text: bool = False) -> gpd.GeoDataFrame:
    """Read a vector layer (GeoJSON, GeoPackage, shapefile, GeoParquet, FlatGeobuf).

    GDAL guesses GeoJSON field types from the values, and reads text such as
    ``"06:00–07:00, 18:00–22:00"`` as a time of day; ``dates_as_text=True`` keeps such
    fields as the text written. Profiles written as lists of numbers (``*_profile`` in GeoJSON
    and GeoParquet) are returned as text of numbers separated by spaces, as geoprio's frames
    hold them.
    """
    parts = _ingest_parts(path)  # a geoprio ingest folder: its partitions, whole (data that fit in memory)
    p = Path(path) if parts else _require_file(path)
    suffix = ".parquet" if parts else _suffix(p)
    try:
        if suffix in (".parquet", ".geoparquet"):
            try:
                if parts:
                    return profiles_as_text(pd.concat([gpd.read_parquet(f) for f in parts], ignore_index=True))
                return profiles_as_text(gpd.read_parquet(p))
            except ImportError as exc:
                raise MissingDependencyError(
                    f"{p}: reading GeoParquet needs pyarrow; install it with pip install 'geoprio[parquet]'"
                ) from exc
        kwargs: dict[str, Any] = {"engine": "pyogrio"}
        if dates_as_text and suffix in (".geojson", ".json"):
            kwargs["DATE_AS_STRING"] = "YES"
        if layer is not None:
            kwargs["layer"] = layer
        return profiles_as_text(gpd.read_file(p, **kwargs))
    except MissingDependencyError:
        raise
    except Exception as exc:  # pyogrio raises DataSourceError, DataLayerError, ...
        raise InputError(f"{p}: {_layer_problem(exc, suffix)}") from None


def _layer_problem(exc: Exception, suffix: str) -> str:
    """Say in plain words why GDAL could not read a layer (GDAL's own wording stays out)."""
    text = str(exc)
    expected = "a vector layer (GeoJSON, GeoPackage, shapefile, GeoParquet or FlatGeobuf)"
    if "not recognized as being in a supported file format" in text or "not recognized as a supported file format" in text:
        return f"not readable as {expected}; the content does not match its {suffix or 'missing'} extension"
    if "Failed to read GeoJSON" in text or "GeoJSON" in text and ("Unterminated" in text or "parse" in text.lower()):
        return f"not valid GeoJSON (the file is cut off or not JSON); expected {expected}"
    if "layer" in text.lower() and ("not found" in text.lower() or "does not exist" in text.lower()):
        return "the layer asked for is not in the file; name one of its layers (layer=...)"
    return f"not readable as {expected}; the file may be damaged or incomplete"


# --------------------------------------------------------------------------- atomic writing


@contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it onto ``path`` only on success.

    The temporary file keeps the destination's suffix, so drivers chosen by extension
    (GeoPackage, GeoJSON) work. On any exception the temporary file is removed and the
    destination is left as it was.
    """
    dest = Path(path)
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{dest.stem}.", suffix=f".tmp{dest.suffix}", dir=dest.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    tmp.unlink()  # let the writer create it (GDAL refuses to overwrite some formats)
    try:
        yield tmp
        os.replace(tmp, dest)
    finally:
        if tmp.exists():
            tmp.unlink()


def _write_with(path: str | os.PathLike[str], writer: Callable[[Path], None]) -> Path:
    with atomic_path(path) as tmp:
        writer(tmp)
    return Path(path)


def write_text(text: str, path: str | os.PathLike[str]) -> Path:
    """Write UTF-8 text atomically."""

    def _write(tmp: Path) -> None:
        tmp.write_text(text, encoding="utf-8")

    return _write_with(path, _write)


def write_json(obj: Any, path: str | os.PathLike[str]) -> Path:
    """Write JSON (UTF-8, accents kept, indented) atomically."""
    return write_text(json.dumps(obj, ensure_ascii=False, indent=2, default=str) + "\n", path)


def write_table(
    df: pd.DataFrame,
    path: str | os.PathLike[str],
    *,
    sep: str = ",",
    decimal: str = ".",
    encoding: str = "utf-8",
    export: Export | None = None,
) -> Path:
    """Write a table as CSV (or Excel for ``.xlsx``) atomically.

    Geometry columns are dropped: use :func:`write_layer` for spatial outputs.
    ``sep=";"`` with ``decimal=","`` writes the Colombian open-data convention; ``export``
    (its CSV dialect) overrides ``sep``, ``decimal`` and ``encoding``.
    """
    if isinstance(df, gpd.GeoDataFrame):
        df = pd.DataFrame(df.drop(columns=df.geometry.name))
    if Path(path).suffix.lower() == ".xlsx":
        return _write_with(path, lambda tmp: df.to_excel(tmp, index=False))
    if export is not None:
        sep, decimal, encoding = (export.csv_settings[k] for k in ("sep", "decimal", "encoding"))
    return _write_with(path, lambda tmp: df.to_csv(tmp, index=False, sep=sep, decimal=decimal, encoding=encoding, lineterminator="\n"))


LayerFormat = Literal["geojson", "gpkg", "parquet", "shp"]
_FORMAT_BY_SUFFIX: dict[str, LayerFormat] = {
    ".geojson": "geojson",
    ".json": "geojson",
    ".gpkg": "gpkg",
    ".parquet": "parquet",
    ".geoparquet": "parquet",
    ".shp": "shp",
}


#: Output formats of a ranked or gridded layer, and the suffix each is written with.
FORMAT_SUFFIXES: dict[str, str] = {
    "csv": ".csv",
    "geojson": ".geojson",
    "gpkg": ".gpkg",
    "parquet": ".parquet",
    "shp": ".shp",
    "xlsx": ".xlsx",
}


def check_output_formats(formats: Sequence[str]) -> list[str]:
    """``formats`` as a list; an :class:`InputError` naming any format geoprio does not write."""
    bad = [f for f in formats if f not in FORMAT_SUFFIXES]
    if bad:
        raise InputError(f"unknown output format(s) {bad}; choose from {', '.join(FORMAT_SUFFIXES)}")
    return list(formats)


def write_formats(
    gdf: gpd.GeoDataFrame,
    out_dir: str | os.PathLike[str],
    name: str,
    formats: Sequence[str],
    *,
    export: Export | None = None,
    descriptions: Mapping[str, str] | None = None,
) -> list[Path]:
    """Write ``gdf`` as ``<out_dir>/<name>.<suffix>`` in each of ``formats``.

    Layers in ``export.crs`` (default EPSG:4326; GeoJSON always EPSG:4326), the CSV without
    geometry in ``export.csv``'s dialect, the GeoPackage layer named ``name``, the shapefile
    with short field names and its ``.fields.csv``, the XLSX with a sheet ``name`` and the
    column descriptions (``descriptions`` first, then :func:`~geoprio.io.export.describe_column`).
    """
    return write_outputs(out_dir, formats, layers={name: gdf}, workbook=name, export=export, descriptions=descriptions)


def point_table(gdf: gpd.GeoDataFrame, crs: str) -> pd.DataFrame:
    """``gdf`` without geometry, as the CSV and the XLSX hold it: a point layer keeps ``lon`` and
    ``lat`` (EPSG:4326, 7 decimals) and, when ``crs`` is another CRS, adds ``x`` and ``y`` in it.
    """
    table = pd.DataFrame(gdf.drop(columns=gdf.geometry.name))
    geom = gdf.geometry
    if not len(gdf) or gdf.crs is None or geom.isna().any() or geom.is_empty.any() or not (geom.geom_type == "Point").all():
        return table
    if "lon" not in table and "lat" not in table:
        wgs = geom.to_crs(OUTPUT_CRS)
        table["lon"] = wgs.x.round(7).to_numpy()
        table["lat"] = wgs.y.round(7).to_numpy()
    target = geom.to_crs(crs)
    if target.crs is not None and not target.crs.equals(OUTPUT_CRS) and "x" not in table and "y" not in table:
        decimals = 7 if target.crs.is_geographic else 2
        table["x"] = target.x.round(decimals).to_numpy()
        table["y"] = target.y.round(decimals).to_numpy()
    return table


def write_outputs(
    out_dir: str | os.PathLike[str],
    formats: Sequence[str],
    *,
    layers: Mapping[str, gpd.GeoDataFrame | None],
    tables: Mapping[str, pd.DataFrame | None] | None = None,
    workbook: str,
    sheets: Mapping[str, pd.DataFrame | None] | None = None,
    export: Export | None = None,
    descriptions: Mapping[str, str] | None = None,
) -> list[Path]:
    """Write a run's layers and tables: the one rule every result's ``write`` follows.

    Each layer goes to ``<name>.<suffix>`` in each layer format of ``formats`` (``csv``,
    ``geojson``, ``gpkg``, ``parquet``, ``shp``); each table to ``<name>.csv`` (always, in
    ``export.csv``'s dialect). With ``xlsx`` in ``formats``, one workbook ``<workbook>.xlsx``
    holds every layer and table as a sheet, then ``sheets`` (tables only the workbook
    holds, e.g. the index's components), then the sheet describing the columns. ``None``
    layers and tables are skipped.
    """
    fmts = check_output_formats(formats)
    ex = export or Export()
    out = Path(out_dir)
    paths: list[Path] = []
    book: dict[str, pd.DataFrame] = {}
    for name, gdf in layers.items():
        if gdf is None:
            continue
        table = point_table(gdf, ex.crs)
        if gdf.crs is not None and not gdf.crs.equals(ex.crs):
            gdf = gdf.to_crs(ex.crs)
        for fmt in fmts:
            if fmt == "csv":
                paths.append(write_table(table, out / f"{name}.csv", export=ex))
            elif fmt == "shp":
                paths += write_shapefile(gdf, out / f"{name}.shp", lang=ex.lang, descriptions=descriptions, export=ex)
            elif fmt != "xlsx":
                paths.append(write_layer(gdf, out / f"{name}{FORMAT_SUFFIXES[fmt]}", layer=name if fmt == "gpkg" else None))
        book[name] = table
    for name, df in (tables or {}).items():
        if df is None:
            continue
        paths.append(write_table(df, out / f"{name}.csv", export=ex))
        book[name] = df
    if "xlsx" in fmts:
        book.update({name: df for name, df in (sheets or {}).items() if df is not None})
        paths.append(write_workbook(book, out / f"{workbook}.xlsx", lang=ex.lang, descriptions=descriptions))
    return paths


def write_layer(gdf: gpd.GeoDataFrame, path: str | os.PathLike[str], *, layer: str | None = None) -> Path:
    """Write a GeoDataFrame atomically; the format follows the file suffix.

    GeoJSON is always written in EPSG:4326 (RFC 7946); other formats keep the frame's CRS.
    Profile columns (``*_profile``) are written as lists of numbers in GeoJSON and GeoParquet.
    A ``.shp`` goes through :func:`write_shapefile` (use it directly for all its files).
    """
    fmt = _FORMAT_BY_SUFFIX.get(Path(path).suffix.lower())
    if fmt is None:
        raise InputError(f"{path}: unknown output format; use one of {sorted(_FORMAT_BY_SUFFIX)}")
    if fmt == "shp":
        return write_shapefile(gdf, path)[0]
    if fmt == "geojson" and gdf.crs is not None and not gdf.crs.equals("EPSG:4326"):
        gdf = gdf.to_crs("EPSG:4326")
    if fmt in ("geojson", "parquet"):
        gdf = profiles_as_lists(gdf)

    def _write(tmp: Path) -> None:
        if fmt == "parquet":
            try:
                gdf.to_parquet(tmp, index=False)
            except ImportError as exc:
                raise MissingDependencyError("writing GeoParquet needs pyarrow; install it with pip install 'geoprio[parquet]'") from exc
            return
        driver = {"geojson": "GeoJSON", "gpkg": "GPKG"}[fmt]
        kwargs: dict[str, Any] = {"driver": driver, "engine": "pyogrio"}
        # name the layer after the destination, not the temporary file (GeoJSON stores it too)
        kwargs["layer"] = layer or Path(path).stem
        gdf.to_file(tmp, **kwargs)

    return _write_with(path, _write)


def write_shapefile(
    gdf: gpd.GeoDataFrame,
    path: str | os.PathLike[str],
    *,
    lang: str = DEFAULT_LANG,
    descriptions: Mapping[str, str] | None = None,
    export: Export | None = None,
) -> list[Path]:
    """Write a shapefile (``.shp``, ``.shx``, ``.dbf``, ``.prj``, ``.cpg`` UTF-8) and its
    ``<stem>.fields.csv`` (short name, long name, description), in the frame's CRS.

    Field names and values follow :func:`~geoprio.io.export.shapefile_ready`. The files are
    written into a temporary folder beside ``path`` and each is moved into place (an atomic
    rename). Returns every file written, the ``.shp`` first, the sidecar last.
    """
    dest = Path(path)
    if dest.suffix.lower() != ".shp":
        raise InputError(f"{dest}: a shapefile's path ends in .shp")
    dest.parent.mkdir(parents=True, exist_ok=True)
    ready, names = shapefile_ready(gdf)
    written: list[Path] = []
    with tempfile.TemporaryDirectory(prefix=f".{dest.stem}.", dir=dest.parent) as tmp:
        tmp_shp = Path(tmp) / dest.name
        try:
            ready.to_file(tmp_shp, driver="ESRI Shapefile", engine="pyogrio", encoding="UTF-8", layer=dest.stem)
        except Exception as exc:  # pyogrio's errors: mixed geometry types, ...
            raise InputError(f"{dest}: cannot write as a shapefile: {exc}") from None
        for suffix in SHAPEFILE_PARTS:
            part = tmp_shp.with_suffix(suffix)
            if part.exists():
                os.replace(part, dest.with_suffix(suffix))
                written.append(dest.with_suffix(suffix))
    sidecar = shapefile_sidecar(names, export.lang if export else lang, descriptions)
    written.append(write_table(sidecar, dest.with_name(f"{dest.stem}.fields.csv"), export=export))
    return written


def write_workbook(
    sheets: Mapping[str, pd.DataFrame],
    path: str | os.PathLike[str],
    *,
    lang: str = DEFAULT_LANG,
    descriptions: Mapping[str, str] | None = None,
) -> Path:
    """Write an XLSX workbook atomically: one sheet per table (no geometry, lists as text) and
    a last sheet ``Columnas`` (``Columns`` in English) describing every column.
    """
    if importlib.util.find_spec("openpyxl") is None:
        raise MissingDependencyError("writing XLSX needs openpyxl; install it with pip install 'geoprio[excel]'")
    tables = workbook_tables(sheets, lang, descriptions)

    def _write(tmp: Path) -> None:
        with pd.ExcelWriter(tmp, engine="openpyxl") as writer:
            for sheet, df in tables.items():
                df.to_excel(writer, sheet_name=sheet, index=False)

    return _write_with(path, _write)
