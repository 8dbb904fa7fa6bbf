"""Loading and validation of security records: incidents, complaints and coexistence records.

Three shapes of input are supported for each kind of record:

* **points** — one row per record with coordinates (:func:`load_points`);
* **keyed records** — one row per record naming a place (barrio, UPZ, localidad, police
  station) instead of coordinates (:func:`load_keyed`); they are tied to zones later by
  :func:`geoprio.keys.match_keys`;
* **zone tables** — counts already aggregated per zone, one column per indicator
  (:func:`load_zone_table`), like SDSCJ's "delitos de alto impacto por UPZ".

Columns are detected from their usual Spanish and English names and can be named
explicitly (cells are parsed by :mod:`geoprio.records.parse`, re-exported here). Every
loader returns its data with a :class:`~geoprio.records.report.ValidationReport`: rows
dropped, corrected and flagged by reason, exact duplicate rows of a file without ids, times
heaped on a default 00:00 and the evidence on UTC offsets (:mod:`geoprio.records.times`).
A file that cannot be used at all raises :class:`~geoprio.errors.InputError` naming the
file, the row and column, the cause and what was expected.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, TypeAlias, cast

import numpy as np
import pandas as pd
from pyproj import CRS, Transformer

from geoprio.errors import ColumnError, CRSError, InputError
from geoprio.io import files as io
from geoprio.io.postgis import PostgisSource, is_database_source, parse_source, read_source
from geoprio.records.parse import (
    COLUMN_ALIASES,
    column_hint,
    detect_column,
    missing_mask,
    parse_clock,
    parse_dates,
    parse_hours,
    parse_numbers,
    resolve_column,
)
from geoprio.records.report import ValidationReport, heaping_note
from geoprio.records.times import DEFAULT_OFFSETS, Offsets, detect_time_heaping, heaped_mask, offsets_evidence
from geoprio.settings import COLOMBIA_BBOX, DEFAULT_POINT_CRS

__all__ = [
    "APPROXIMATE_COLUMN",
    "COLUMN_ALIASES",
    "DuplicateRows",
    "Kind",
    "RecordSource",
    "Records",
    "detect_column",
    "where_mask",
    "load_keyed",
    "load_points",
    "load_zone_table",
    "parse_clock",
    "parse_dates",
    "parse_hours",
    "parse_numbers",
]

Kind = Literal["crime", "complaint", "coexistence"]
KINDS: tuple[str, ...] = ("crime", "complaint", "coexistence")

#: The column that marks a point's location as approximate (placed through a gazetteer).
APPROXIMATE_COLUMN = "approximate"

#: Where records come from: a file, a frame, or a PostGIS table or query (a
#: :class:`~geoprio.io.postgis.PostgisSource` or its ``postgresql://…?table=…`` string).
RecordSource: TypeAlias = str | os.PathLike[str] | pd.DataFrame | PostgisSource

#: What a load does with exact duplicate rows of a file without an id column.
DuplicateRows = Literal["flag", "drop"]


@dataclass
class Records:
    """Validated records of one source, in a standard shape.

    ``data`` has the columns ``row`` (row number in the source, as shown to users),
    ``record_id``, ``date`` (local, naive datetime), ``hour`` (0–23, nullable),
    ``time_heaped`` (True where the time is a heaped default, 00:00: see
    :mod:`geoprio.records.times`), ``category``, ``weight`` (the count column, 1 by
    default), and either ``x``/``y``
    (longitude/latitude in EPSG:4326) for points or ``key`` for keyed records, plus the
    source columns asked for with ``keep``. Points placed through a gazetteer
    (:mod:`geoprio.records.gazetteer`) also have ``approximate`` (True) and
    ``location_method``.
    """

    data: pd.DataFrame
    report: ValidationReport
    kind: str = "crime"
    layout: Literal["points", "keyed"] = "points"
    path: str | None = None

    def __len__(self) -> int:
        return len(self.data)


# --------------------------------------------------------------------------- helpers


def where_mask(df: pd.DataFrame, where: dict[str, object], *, source: str) -> np.ndarray:
    """Rows whose columns equal the given values (compared as text; a list allows several).

    Raises :class:`ColumnError` for an unknown column and :class:`InputError` when no row
    is left.
    """
    mask = np.ones(len(df), dtype=bool)
    for col, value in where.items():
        if col not in df.columns:
            raise ColumnError(f"{source}: column {col!r} (in where) not found{column_hint(str(col), list(df.columns))}")
        allowed = value if isinstance(value, (list, tuple, set)) else [value]
        mask &= df[col].astype("string").str.strip().isin([str(v) for v in allowed]).fillna(False).to_numpy(dtype=bool)
    if not mask.any():
        raise InputError(f"{source}: no row satisfies where={where}")
    return mask


def _user_rows(df: pd.DataFrame) -> np.ndarray:
    """Row numbers as a spreadsheet shows them (the header is row 1); a database table's or
    query's rows are numbered from 1, in the order the query returns them.
    """
    return np.arange(len(df)) + int(df.attrs.get("geoprio_read", {}).get("first_row", 2))


def _read(path: RecordSource, *, source: str | None, **read_options: object) -> tuple[pd.DataFrame, str, dict]:
    if isinstance(path, pd.DataFrame):
        df = path.astype({c: "string" for c in path.columns}) if len(path.columns) else path
        return df.reset_index(drop=True), source or "<table>", {"decimal": "."}
    if is_database_source(path):
        db = parse_source(cast("str | PostgisSource", path))
        unknown = sorted(k for k, v in read_options.items() if v is not None and k != "decimal")
        if unknown:
            raise InputError(f"{source or db.name}: {', '.join(unknown)} apply to files, not to a database table or query")
        df = read_source(db)
        info = dict(df.attrs["geoprio_read"]) | {k: v for k, v in read_options.items() if v is not None}
        return df.reset_index(drop=True), source or db.name, info
    if not isinstance(path, str | os.PathLike):
        raise InputError(f"expected a file path or a pandas DataFrame, got {type(path).__name__}")
    df = io.read_table(path, **read_options)  # type: ignore[arg-type]
    if df.empty:
        raise InputError(f"{path}: no data rows")
    info = dict(df.attrs.get("geoprio_read", {}))
    return df.reset_index(drop=True), source or Path(path).name, info


def _settings(read_info: dict) -> dict:
    return {k: v for k, v in read_info.items() if k not in ("path", "geometry_types")}


def _not_points(source: str, df: pd.DataFrame, read_info: dict) -> None:
    """Refuse a layer of lines or polygons as point records, saying what it is."""
    types = [t for t in read_info.get("geometry_types", []) if t != "Point"]
    if types:
        raise InputError(
            f"{source}: a layer of {', '.join(types)} features ({len(df):,}), not records: records are points "
            "or a table with coordinate or place columns. A polygon layer is read as zones "
            "(geoprio validate RECORDS --zones LAYER --zones-id ID, or load_zones)"
        )


def _check_kind(kind: str) -> str:
    if kind not in KINDS:
        raise InputError(f"unknown record kind {kind!r}; expected one of {list(KINDS)}")
    return kind


def _no_rows_left(source: str, report: ValidationReport) -> InputError:
    """The error of a file none of whose rows is usable, naming its main reason and an example."""
    if not report.dropped:
        return InputError(f"{source}: no usable rows out of {report.n_read}")
    reason = max(report.dropped, key=lambda r: report.dropped[r])  # the main cause, not the first seen
    ex = report.examples.get(reason, [])
    example = f"; e.g. {ex[0].describe(report.row_word)}" if ex else ""
    return InputError(
        f"{source}: no usable rows out of {report.n_read}; {report.dropped[reason]:,} dropped as {reason.replace('_', ' ')}{example}"
    )


def _common_columns(
    df: pd.DataFrame,
    report: ValidationReport,
    keep_mask: np.ndarray,
    *,
    source: str,
    date: str | None,
    hour: str | None,
    category: str | None,
    id: str | None,
    count: str | None,
    timezone: str,
    date_format: str | None,
    require_date: bool,
    decimal: str,
    offsets: Offsets = DEFAULT_OFFSETS,
    duplicate_rows: DuplicateRows = "flag",
) -> pd.DataFrame:
    """Parse the columns every record kind shares; update ``keep_mask`` and ``report``."""
    rows = _user_rows(df)
    out = pd.DataFrame({"row": rows})

    id_col = resolve_column(df, id, "id", source, required=False)
    date_col = resolve_column(df, date, "date", source, required=require_date)
    hour_col = resolve_column(df, hour, "hour", source, required=False)
    cat_col = resolve_column(df, category, "category", source, required=False)
    count_col = resolve_column(df, count, "count", source, required=False)
    for role, col in (("id", id_col), ("date", date_col), ("hour", hour_col), ("category", cat_col), ("count", count_col)):
        if col is not None:
            report.columns[role] = col

    # dates
    if date_col is not None:
        dates, missing, bad, fmt = parse_dates(df[date_col], timezone=timezone, fmt=date_format, offsets=offsets)
        report.settings["date_format"] = fmt
        formats = dates.attrs.get("formats", {})
        if len(formats) > 1:
            report.settings["date_formats"] = dict(formats)
            report.notes["mixed_dates"] = {"column": date_col, "formats": {str(f): int(n) for f, n in formats.items()}}
        if df[date_col].astype("string").str.contains(r"(?:Z|[+-]\d{2}:?\d{2})$", regex=True).any():
            report.settings["utc_offsets"] = f"converted to {timezone}" if offsets == "convert" else "ignored (wall-clock time kept)"
            _offsets_note(df[date_col], report, offsets, date_col)
        if require_date and bad.all() and not missing.all():
            raise InputError(
                f"{source}: column {date_col!r} has no readable date; row {rows[0]} reads "
                f"{df[date_col].iloc[0]!r}; expected e.g. 2019-01-31 or 31/01/2019"
            )
        for reason, mask in (("missing_date", missing), ("bad_date", bad)):
            sel = mask & keep_mask
            report.drop(reason, rows[sel], date_col, df[date_col].to_numpy()[sel])
            keep_mask &= ~mask
        out["date"] = dates.to_numpy()
    else:
        out["date"] = pd.Series(pd.NaT, index=out.index, dtype="datetime64[ns]")

    # hours: an explicit column wins; otherwise the time part of the date, if any
    time_col = None
    minutes: np.ndarray | None = None
    if hour_col is not None and hour_col != date_col:
        hours, minutes, _missing, bad = parse_clock(df[hour_col])
        report.flag("bad_hour", rows[bad & keep_mask], hour_col, df[hour_col].to_numpy()[bad & keep_mask])
        time_col = hour_col
    elif date_col is not None and _has_time(out["date"]):
        hours = out["date"].dt.hour.to_numpy(dtype=float)
        minutes = out["date"].dt.minute.to_numpy(dtype=float)
        time_col = date_col
    else:
        hours = np.full(len(df), np.nan)
    out["hour"] = pd.array(np.where(np.isnan(hours), pd.NA, hours), dtype="Int64") if len(df) else pd.array([], dtype="Int64")
    out["time_heaped"] = _heaping(hours, minutes, keep_mask, report, rows, time_col, df)

    out["category"] = (
        df[cat_col].astype("string").str.strip().to_numpy() if cat_col is not None else pd.array([pd.NA] * len(df), dtype="string")
    )

    if count_col is not None:
        weights, missing, bad = parse_numbers(df[count_col], decimal)
        bad = bad | (weights < 0)
        sel = bad & keep_mask
        report.drop("bad_count", rows[sel], count_col, df[count_col].to_numpy()[sel])
        keep_mask &= ~bad
        weights = np.where(missing, 1.0, weights)
    else:
        weights = np.ones(len(df))
    out["weight"] = weights

    if id_col is not None:
        ids = df[id_col].astype("string").str.strip()
        dup = (ids.duplicated(keep="first") & ids.notna()).to_numpy() & keep_mask
        # a duplicate of a row that is itself dropped is not a duplicate of a kept row
        first_kept = ids[keep_mask & ~dup]
        dup &= ids.isin(set(first_kept.dropna())).to_numpy()
        report.drop("duplicate_id", rows[dup], id_col, ids.to_numpy()[dup])
        keep_mask &= ~dup
        out["record_id"] = ids.to_numpy()
    else:
        _duplicate_rows(df, keep_mask, report, rows, duplicate_rows)
        out["record_id"] = pd.array([f"{source}:{r}" for r in rows], dtype="string")
    return out


def _duplicate_rows(df: pd.DataFrame, keep_mask: np.ndarray, report: ValidationReport, rows: np.ndarray, how: DuplicateRows) -> None:
    """Flag (or drop) rows equal in every column to an earlier kept row of a file without ids.

    Without an id nothing tells a repeated export line from two records alike in every
    field (two victims of one attack in a victim-level file), so by default they are
    counted and kept; ``duplicate_rows="drop"`` drops them.
    """
    if how not in ("flag", "drop"):
        raise InputError(f"duplicate_rows must be 'flag' or 'drop', got {how!r}")
    kept = df.loc[keep_mask]
    dup_kept = kept.duplicated(keep="first").to_numpy()
    if not dup_kept.any():
        return
    dup = np.zeros(len(df), dtype=bool)
    dup[np.flatnonzero(keep_mask)[dup_kept]] = True
    first_col = str(df.columns[0])
    values = df[first_col].to_numpy()[dup]
    if how == "drop":
        report.drop("duplicate_row", rows[dup], None, values)
        keep_mask &= ~dup
    else:
        report.flag("duplicate_row", rows[dup], None, values)


def _heaping(
    hours: np.ndarray,
    minutes: np.ndarray | None,
    keep_mask: np.ndarray,
    report: ValidationReport,
    rows: np.ndarray,
    time_col: str | None,
    df: pd.DataFrame,
) -> np.ndarray:
    """Test the kept rows' times for heaping at 00:00; flag and mark the heaped rows."""
    kept_minutes = None if minutes is None else minutes[keep_mask]
    heaping = detect_time_heaping(hours[keep_mask], kept_minutes)
    if heaping is None:
        return np.zeros(len(hours), dtype=bool)
    report.settings["time_heaping"] = heaping.to_dict()
    mask = heaped_mask(hours, minutes, heaping) & keep_mask
    if mask.any():
        report.flag("heaped_time", rows[mask], time_col, df[time_col].to_numpy()[mask] if time_col else None)
        report.notes["time_heaping"] = heaping_note(heaping)
    return mask


def _offsets_note(text: pd.Series, report: ValidationReport, offsets: Offsets, column: str) -> None:
    """Note the evidence that a column's offsets label local times (:func:`geoprio.records.times.offsets_evidence`)."""
    as_written, _m, _b, _f = parse_dates(text, offsets="drop")
    converted, _m, _b, _f = parse_dates(text, offsets="convert")
    evidence = offsets_evidence(as_written, converted)
    if evidence is None:
        return
    code = ("offsets_local_" if offsets == "convert" else "offsets_dropped_") + evidence.pop("kind")
    report.notes[code] = {"column": column, **evidence}


def _finish(
    common: pd.DataFrame,
    df: pd.DataFrame,
    keep_mask: np.ndarray,
    keep: list[str] | None,
    report: ValidationReport,
    *,
    kind: str,
    layout: Literal["points", "keyed"],
    path: object,
) -> Records:
    """Carry the ``keep`` columns, drop the rejected rows and wrap the result."""
    for col in keep or []:
        if col not in df.columns:
            raise ColumnError(f"{report.source}: column {col!r} (in keep) not found{column_hint(col, list(df.columns))}")
        common[col] = df[col].to_numpy()
    data = common.loc[keep_mask].reset_index(drop=True)
    if data.empty:
        raise _no_rows_left(report.source, report)
    return Records(data=data, report=report, kind=kind, layout=layout, path=None if isinstance(path, pd.DataFrame) else str(path))


def _has_time(dates: pd.Series) -> bool:
    d = dates.dropna()
    return bool(len(d)) and bool((d.dt.hour.ne(0) | d.dt.minute.ne(0)).any())


# --------------------------------------------------------------------------- points


def load_points(
    path: RecordSource,
    *,
    kind: Kind = "crime",
    x: str | None = None,
    y: str | None = None,
    date: str | None = None,
    hour: str | None = None,
    category: str | None = None,
    id: str | None = None,
    count: str | None = None,
    crs: str | None = None,
    bbox: tuple[float, float, float, float] | None = COLOMBIA_BBOX,
    fix_swapped: bool = True,
    require_date: bool = False,
    timezone: str = "America/Bogota",
    offsets: Offsets = DEFAULT_OFFSETS,
    date_format: str | None = None,
    duplicate_rows: DuplicateRows = "flag",
    keep: list[str] | None = None,
    source: str | None = None,
    **read_options: object,
) -> Records:
    """Load point records with coordinates and validate them.

    Parameters
    ----------
    path
        CSV/TSV (optionally gzipped), Excel, or a vector layer; a DataFrame; or a PostGIS
        table or query (``"postgresql://host/db?table=schema.name"``, see
        :mod:`geoprio.io.postgis`).
    kind
        ``"crime"``, ``"complaint"`` or ``"coexistence"``.
    x, y, date, hour, category, id, count
        Column names; detected from usual names when omitted.
    crs
        CRS of the coordinates. When omitted, coordinates must look like degrees and are
        read as EPSG:4326; projected coordinates (metres) need an explicit ``crs``.
    bbox
        ``(min_lon, min_lat, max_lon, max_lat)`` a point must fall in (Colombia by
        default). Used to find swapped coordinates and nonsense points; the exact study
        area (zone polygons) is checked when points are assigned to zones.
    fix_swapped
        Swap back points whose latitude and longitude are exchanged (reported as
        corrected); when False they are dropped.
    require_date
        Raise when there is no date column; rows with an empty date are always dropped
        when a date column exists.
    timezone, offsets
        Timestamps with a UTC offset are converted to local time in ``timezone``
        (``offsets="convert"``) or read as written (``"drop"``): the rule is
        :data:`geoprio.records.times.OFFSETS_RULE`.
    duplicate_rows
        Rows equal in every column to an earlier row of a file without an id column are
        counted and kept (``"flag"``) or dropped (``"drop"``), reported as ``duplicate_row``.
    keep
        Source columns to carry into the result (e.g. ``["Clase de sitio"]``).

    Returns
    -------
    Records
        Standardized records (see :class:`Records`) and their validation report.
    """
    _check_kind(kind)
    df, source, read_info = _read(path, source=source, **read_options)
    _not_points(source, df, read_info)
    report = ValidationReport(source=source, n_read=len(df), settings=_settings(read_info))
    rows = _user_rows(df)
    x_col = cast(str, resolve_column(df, x, "x", source, required=True))  # required: a str or an error
    y_col = cast(str, resolve_column(df, y, "y", source, required=True))
    report.columns.update({"x": x_col, "y": y_col})
    decimal = str(read_info.get("decimal", "."))
    xs, xmiss, xbad = parse_numbers(df[x_col], decimal)
    ys, ymiss, ybad = parse_numbers(df[y_col], decimal)

    keep_mask = np.ones(len(df), dtype=bool)
    missing = xmiss | ymiss
    report.drop(
        "missing_coordinates",
        rows[missing],
        x_col if xmiss.any() else y_col,
        np.where(xmiss, df[x_col].to_numpy(), df[y_col].to_numpy())[missing],
    )
    keep_mask &= ~missing
    for col, colbad in ((x_col, xbad & keep_mask), (y_col, ybad & ~xbad & keep_mask)):
        report.drop("bad_coordinates", rows[colbad], col, df[col].to_numpy()[colbad])
    keep_mask &= ~(xbad | ybad)
    if not keep_mask.any() and (xbad | ybad).any():
        i = int(np.flatnonzero(xbad | ybad)[0])
        col = x_col if xbad[i] else y_col
        raise InputError(
            f"{source}: row {rows[i]}, column {col!r}: {df[col].iloc[i]!r} is not a number; "
            f"no row has usable coordinates (expected decimal degrees such as -74.08 or metres with crs=...)"
        )

    lon, lat = _to_lonlat(xs, ys, keep_mask, rows, crs=crs, source=source, x_col=x_col, y_col=y_col)
    report.settings["crs"] = crs or DEFAULT_POINT_CRS

    if bbox is not None:
        lon, lat = _check_bbox(lon, lat, keep_mask, bbox, fix_swapped, report, rows, x_col, y_col, df)

    common = _common_columns(
        df,
        report,
        keep_mask,
        source=source,
        date=date,
        hour=hour,
        category=category,
        id=id,
        count=count,
        timezone=timezone,
        date_format=date_format,
        require_date=require_date,
        decimal=decimal,
        offsets=offsets,
        duplicate_rows=duplicate_rows,
    )
    common["x"] = lon
    common["y"] = lat
    _approximate(common, df, keep_mask, report)
    return _finish(common, df, keep_mask, keep, report, kind=kind, layout="points", path=path)


def _approximate(common: pd.DataFrame, df: pd.DataFrame, keep_mask: np.ndarray, report: ValidationReport) -> None:
    """Carry the mark of points placed through a gazetteer (:mod:`geoprio.records.gazetteer`).

    A file written by ``geoprio geocode`` has an ``approximate`` column (and
    ``location_method``); its marks go into the records, and the report's settings count
    the approximate points, so that every later step can say its input is approximate.
    """
    if APPROXIMATE_COLUMN not in df.columns:
        return
    text = df[APPROXIMATE_COLUMN].astype("string").str.strip().str.lower()
    marked = text.isin(["true", "1", "yes", "si", "sí", "verdadero"]).fillna(False).to_numpy(dtype=bool)
    common[APPROXIMATE_COLUMN] = marked
    if "location_method" in df.columns:
        common["location_method"] = df["location_method"].astype("string").to_numpy()
    n = int((marked & keep_mask).sum())
    if n:
        info: dict[str, object] = {"records": n}
        if "location_method" in df.columns:
            methods = df.loc[marked & keep_mask, "location_method"].astype("string").value_counts()
            info["methods"] = {str(k): int(v) for k, v in methods.items()}
        report.settings["approximate"] = info


def _to_lonlat(
    xs: np.ndarray, ys: np.ndarray, ok: np.ndarray, rows: np.ndarray, *, crs: str | None, source: str, x_col: str, y_col: str
) -> tuple[np.ndarray, np.ndarray]:
    """Coordinates as longitude/latitude; messages name a row by ``rows`` (the loader's numbering:
    a file's as a spreadsheet shows it, a database source's from 1).
    """
    if crs is None:
        xv, yv = xs[ok], ys[ok]
        degrees = (np.abs(xv) <= 180) & (np.abs(yv) <= 180)
        if xv.size and degrees.mean() < 0.5:
            i = int(np.flatnonzero(ok)[np.flatnonzero(~degrees)[0]])
            raise CRSError(
                f"{source}: coordinates in {x_col!r}/{y_col!r} look projected "
                f"(row {rows[i]} reads x={xs[i]:,.1f}, y={ys[i]:,.1f}); pass the CRS explicitly, "
                f"e.g. crs='EPSG:9377' (MAGNA-SIRGAS Origen-Nacional) or 'EPSG:3116'"
            )
        return xs.copy(), ys.copy()
    try:
        src = CRS.from_user_input(crs)
    except Exception as exc:
        raise CRSError(f"{source}: unknown CRS {crs!r}: {exc}") from exc
    if src.equals(CRS.from_epsg(4326)) or (src.is_geographic and src.datum is not None and src.datum.name.startswith("Marco Geocentrico")):
        return xs.copy(), ys.copy()
    xv, yv = xs[ok], ys[ok]
    if src.is_projected and xv.size and ((np.abs(xv) <= 180) & (np.abs(yv) <= 90)).mean() >= 0.5:
        i = int(np.flatnonzero(ok)[0])
        raise CRSError(
            f"{source}: crs={crs!r} is projected (metres) but the coordinates in {x_col!r}/{y_col!r} look like "
            f"degrees (row {rows[i]} reads x={xs[i]:g}, y={ys[i]:g}); leave the CRS out for longitude/latitude "
            f"(read as {DEFAULT_POINT_CRS}), or name the columns that hold metres"
        )
    transformer = Transformer.from_crs(src, "EPSG:4326", always_xy=True)
    lon, lat = transformer.transform(xs, ys)
    return np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)


def _check_bbox(lon, lat, keep_mask, bbox, fix_swapped, report, rows, x_col, y_col, df):
    x0, y0, x1, y1 = bbox
    inside = (lon >= x0) & (lon <= x1) & (lat >= y0) & (lat <= y1)
    swapped_inside = (lat >= x0) & (lat <= x1) & (lon >= y0) & (lon <= y1)
    swapped = keep_mask & ~inside & swapped_inside
    values = [f"{a}, {b}" for a, b in zip(df[x_col].to_numpy()[swapped], df[y_col].to_numpy()[swapped], strict=True)]
    if fix_swapped:
        report.correct("swapped_coordinates", rows[swapped], f"{x_col}/{y_col}", values)
        lon, lat = np.where(swapped, lat, lon), np.where(swapped, lon, lat)
    else:
        report.drop("swapped_coordinates", rows[swapped], f"{x_col}/{y_col}", values)
        keep_mask &= ~swapped
    outside = keep_mask & ~inside & ~swapped
    report.drop(
        "outside_study_area", rows[outside], f"{x_col}/{y_col}", [f"{a}, {b}" for a, b in zip(lon[outside], lat[outside], strict=True)]
    )
    keep_mask &= ~outside
    return lon, lat


# --------------------------------------------------------------------------- keyed records


def load_keyed(
    path: RecordSource,
    *,
    key: str,
    kind: Kind = "crime",
    date: str | None = None,
    hour: str | None = None,
    category: str | None = None,
    id: str | None = None,
    count: str | None = None,
    require_date: bool = False,
    timezone: str = "America/Bogota",
    offsets: Offsets = DEFAULT_OFFSETS,
    date_format: str | None = None,
    duplicate_rows: DuplicateRows = "flag",
    keep: list[str] | None = None,
    source: str | None = None,
    **read_options: object,
) -> Records:
    """Load records that name a place (``key`` column) instead of giving coordinates.

    Rows whose key is empty are dropped (``missing_key``). Matching the keys to zones is
    :func:`geoprio.keys.match_keys`'s job, which reports what did not match.
    """
    _check_kind(kind)
    df, source, read_info = _read(path, source=source, **read_options)
    report = ValidationReport(source=source, n_read=len(df), settings=_settings(read_info))
    key_col = resolve_column(df, key, "key", source, required=True)
    report.columns["key"] = str(key_col)
    rows = _user_rows(df)
    keep_mask = np.ones(len(df), dtype=bool)
    missing = missing_mask(df[key_col])
    report.drop("missing_key", rows[missing], key_col, df[key_col].to_numpy()[missing])
    keep_mask &= ~missing
    common = _common_columns(
        df,
        report,
        keep_mask,
        source=source,
        date=date,
        hour=hour,
        category=category,
        id=id,
        count=count,
        timezone=timezone,
        date_format=date_format,
        require_date=require_date,
        decimal=str(read_info.get("decimal", ".")),
        offsets=offsets,
        duplicate_rows=duplicate_rows,
    )
    common["key"] = df[key_col].astype("string").str.strip().to_numpy()
    return _finish(common, df, keep_mask, keep, report, kind=kind, layout="keyed", path=path)


# --------------------------------------------------------------------------- zone tables


@dataclass
class ZoneTable:
    """Values already aggregated per zone: ``values`` is indexed by zone id (text)."""

    values: pd.DataFrame
    report: ValidationReport
    kind: str = "crime"
    path: str | None = None
    id_column: str = ""
    extra: dict[str, object] = field(default_factory=dict)


def load_zone_table(
    path: RecordSource,
    *,
    zone_id: str,
    columns: list[str] | None = None,
    kind: Kind = "crime",
    duplicates: Literal["error", "sum", "first"] = "error",
    where: dict[str, object] | None = None,
    source: str | None = None,
    **read_options: object,
) -> ZoneTable:
    """Load a table of values already aggregated per zone.

    Parameters
    ----------
    zone_id
        Column holding the zone code (matched to the zones' ids later).
    columns
        Numeric columns to read; by default every column whose values all parse as numbers.
    duplicates
        What to do with a zone id that appears in several rows: ``"error"`` (default),
        ``"sum"`` the rows (e.g. a UPZ split between two localidades) or keep the
        ``"first"``. Merged rows are reported as ``duplicate_id``.
    where
        Keep only rows whose columns equal the given values (compared as text), e.g.
        ``{"anio": 2019}`` in a table with one row per zone and year.

    Raises
    ------
    InputError
        On duplicate zone ids (naming both rows) or a non-numeric cell in a requested
        column (naming row, column and value): an aggregated table with either is
        ambiguous, so nothing is guessed.
    """
    _check_kind(kind)
    df, source, read_info = _read(path, source=source, **read_options)
    if zone_id not in df.columns:
        raise ColumnError(f"{source}: zone id column {zone_id!r} not found{column_hint(zone_id, list(df.columns))}")
    rows = _user_rows(df)
    if where:
        mask = where_mask(df, where, source=source)
        df, rows = df.loc[mask].reset_index(drop=True), rows[mask]
    report = ValidationReport(source=source, n_read=len(df), settings=_settings(read_info))
    report.columns["zone_id"] = zone_id
    ids = df[zone_id].astype("string").str.strip()
    missing = missing_mask(df[zone_id])
    if missing.any():
        i = int(np.flatnonzero(missing)[0])
        raise InputError(f"{source}: row {rows[i]}, column {zone_id!r}: empty zone id")
    dup = ids.duplicated(keep=False).to_numpy()
    if dup.any() and duplicates == "error":
        first = ids[dup].iloc[0]
        where = rows[(ids == first).to_numpy()]
        raise InputError(
            f"{source}: zone id {first!r} appears in rows {', '.join(map(str, where))} of column {zone_id!r}; "
            "ids must be unique (or choose duplicates='sum' or 'first')"
        )
    later = ids.duplicated(keep="first").to_numpy()
    report.correct("duplicate_id", rows[later], zone_id, ids.to_numpy()[later])
    decimal = str(read_info.get("decimal", "."))
    if columns is None:
        columns = []
        for c in df.columns:
            if c == zone_id:
                continue
            _v, _m, bad = parse_numbers(df[c], decimal)
            if not bad.any() and not _m.all():
                columns.append(c)
        if not columns:
            raise InputError(f"{source}: no numeric column besides {zone_id!r}")
    out = {}
    for c in columns:
        if c not in df.columns:
            raise ColumnError(f"{source}: column {c!r} not found{column_hint(c, list(df.columns))}")
        values, _missing, bad = parse_numbers(df[c], decimal)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise InputError(f"{source}: row {rows[i]}, column {c!r}: {df[c].iloc[i]!r} is not a number")
        out[c] = values
    values = pd.DataFrame(out, index=pd.Index(ids.to_numpy(), name="zone_id"))
    if later.any():
        grouped = values.groupby(level=0, sort=False)
        values = grouped.sum(min_count=1) if duplicates == "sum" else grouped.first()
    return ZoneTable(values=values, report=report, kind=kind, path=None if isinstance(path, pd.DataFrame) else str(path), id_column=zone_id)
