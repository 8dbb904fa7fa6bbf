"""Loading and validation of security records: incidents, complaints and coexistence records.

Three shapes of input are supported for each kind of record:

* **points** — one row per record with coordinates (:func:`load_points`);
* **keyed records** — one row per record naming a place (barrio, UPZ, localidad, police
  station) instead of coordinates (:func:`load_keyed`); they are tied to zones later by
  :func:`geoprio.keys.match_keys`;
* **zone tables** — counts already aggregated per zone, one column per indicator
  (:func:`load_zone_table`), like SDSCJ's "delitos de alto impacto por UPZ".

Columns are detected from their usual Spanish and English names and can be named
explicitly. Every loader returns its data with a :class:`~geoprio.records.report.ValidationReport`.
A file that cannot be used at all raises :class:`~geoprio.errors.InputError` naming the
file, the row and column, and what was expected.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, cast

import numpy as np
import pandas as pd
from pyproj import CRS, Transformer

from geoprio.errors import ColumnError, CRSError, InputError
from geoprio.io import files as io
from geoprio.records.report import ValidationReport
from geoprio.records.text import MISSING_TOKENS, fold
from geoprio.settings import COLOMBIA_BBOX, DEFAULT_POINT_CRS

__all__ = [
    "COLUMN_ALIASES",
    "Kind",
    "Records",
    "detect_column",
    "where_mask",
    "load_keyed",
    "load_points",
    "load_zone_table",
    "parse_dates",
    "parse_hours",
    "parse_numbers",
]

Kind = Literal["crime", "complaint", "coexistence"]
KINDS: tuple[str, ...] = ("crime", "complaint", "coexistence")

#: Role → accepted column names, in order of preference (compared after :func:`fold`).
COLUMN_ALIASES: dict[str, tuple[str, ...]] = {
    "x": ("longitud", "longitude", "lon", "lng", "long", "x", "coord x", "coordenada x", "este", "x coord"),
    "y": ("latitud", "latitude", "lat", "y", "coord y", "coordenada y", "norte", "y coord"),
    "date": (
        "fecha",
        "fecha hecho",
        "fecha hechos",
        "fecha del hecho",
        "fecha ocurrencia",
        "fecha evento",
        "fecha radicacion",
        "fecha registro",
        "date",
        "datetime",
        "timestamp",
        "when",
        "occurred on",
        "fecha hora",
    ),
    "hour": ("hora", "hora hecho", "hora del hecho", "hora ocurrencia", "hour", "time"),
    "category": (
        "delito",
        "tipo delito",
        "conducta",
        "comportamiento",
        "categoria",
        "category",
        "tipo",
        "motivo",
        "modalidad",
        "crime type",
        "offense",
        "offence",
        "clase",
    ),
    "id": ("id", "codigo", "radicado", "consecutivo", "numero", "record id", "incident id", "id caso", "uid"),
    "count": ("cantidad", "casos", "count", "n", "numero casos", "victimas"),
}


@dataclass
class Records:
    """Validated records of one source, in a standard shape.

    ``data`` has the columns ``row`` (row number in the source, as shown to users),
    ``record_id``, ``date`` (local, naive datetime), ``hour`` (0–23, nullable),
    ``category``, ``weight`` (the count column, 1 by default), and either ``x``/``y``
    (longitude/latitude in EPSG:4326) for points or ``key`` for keyed records, plus the
    source columns asked for with ``keep``.
    """

    data: pd.DataFrame
    report: ValidationReport
    kind: str = "crime"
    layout: Literal["points", "keyed"] = "points"
    path: str | None = None

    def __len__(self) -> int:
        return len(self.data)


# --------------------------------------------------------------------------- parsing helpers


def detect_column(columns: list[str], role: str, *, source: str = "<table>", required: bool = True) -> str | None:
    """Return the first column whose folded name matches an alias of ``role``."""
    folded = {fold(c): c for c in columns}
    for alias in COLUMN_ALIASES[role]:
        if alias in folded:
            return folded[alias]
    if required:
        raise ColumnError(
            f"{source}: no column for {role!r}; expected one of {list(COLUMN_ALIASES[role])} "
            f"(or name it explicitly); columns found: {columns}"
        )
    return None


def _resolve(df: pd.DataFrame, given: str | None, role: str, source: str, required: bool) -> str | None:
    if given is not None:
        if given not in df.columns:
            raise ColumnError(f"{source}: column {given!r} (for {role}) not found; columns found: {list(df.columns)}")
        return given
    return detect_column(list(df.columns), role, source=source, required=required)


def _missing_mask(s: pd.Series) -> np.ndarray:
    text = s.astype("string").str.strip().str.lower()
    return (s.isna() | text.isin(MISSING_TOKENS)).to_numpy(dtype=bool)


def parse_numbers(s: pd.Series, decimal: str = ".") -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Parse text numbers; return ``(values, missing, bad)``.

    Decimal commas are accepted when ``decimal == ","`` (thousands dots are then removed
    only when a comma is present too). Returns float values (NaN where missing or bad).
    """
    missing = _missing_mask(s)
    text = s.astype("string").str.strip()
    if decimal == ",":
        has_comma = text.str.contains(",", regex=False).fillna(False)
        text = text.where(~has_comma, text.str.replace(".", "", regex=False).str.replace(",", ".", regex=False))
    values = pd.to_numeric(text.where(~pd.Series(missing, index=s.index)), errors="coerce").to_numpy(dtype=float)
    bad = np.isnan(values) & ~missing
    return values, missing, bad


_DATE_FORMATS = (
    "ISO8601",
    "%d/%m/%Y",
    "%d/%m/%Y %H:%M:%S",
    "%d/%m/%Y %H:%M",
    "%d-%m-%Y",
    "%d-%m-%Y %H:%M:%S",
    "%Y/%m/%d",
    "%Y/%m/%d %H:%M:%S",
    "%d.%m.%Y",
    "%m/%d/%Y",
    "%m/%d/%Y %I:%M:%S %p",
    "%m/%d/%Y %H:%M",
)


def parse_dates(
    s: pd.Series, *, timezone: str = "America/Bogota", fmt: str | None = None, offsets: Literal["convert", "drop"] = "convert"
) -> tuple[pd.Series, np.ndarray, np.ndarray, str | None]:
    """Parse dates written in any of the usual formats; day first unless only month first fits.

    The format is chosen as the one that parses most of a sample of the values, so a
    column is read consistently (``03/04/2019`` is 3 April in a day-first file).
    Timestamps that carry a time-zone offset (``2019-04-23T12:30:00Z``) are converted to
    local time in ``timezone`` with ``offsets="convert"``; with ``offsets="drop"`` the
    offset is ignored and the wall-clock time kept as written (for exports that label
    local times "Z"). Naive timestamps are taken as local already.

    Returns ``(dates, missing, bad, format)``.
    """
    missing = _missing_mask(s)
    text = s.astype("string").str.strip().where(~pd.Series(missing, index=s.index))
    present = text.dropna()
    if present.empty:
        return pd.Series(pd.NaT, index=s.index, dtype="datetime64[ns]"), missing, np.zeros(len(s), bool), fmt
    if fmt is None:
        sample = present.drop_duplicates().head(500)
        best, best_ok = None, -1
        for candidate in _DATE_FORMATS:
            ok = _to_datetime(sample, candidate).notna().sum()
            if ok > best_ok:
                best, best_ok = candidate, ok
        fmt = best if best_ok > 0 else None
    parsed = _to_datetime(text, fmt) if fmt else pd.Series(pd.NaT, index=s.index)
    if isinstance(parsed.dtype, pd.DatetimeTZDtype):
        parsed = parsed.dt.tz_convert(timezone).dt.tz_localize(None) if offsets == "convert" else parsed.dt.tz_localize(None)
    parsed = parsed.astype("datetime64[ns]")
    bad = parsed.isna().to_numpy() & ~missing
    return parsed, missing, bad, fmt


def _to_datetime(text: pd.Series, fmt: str) -> pd.Series:
    try:
        out = pd.to_datetime(text, format=fmt, errors="coerce", utc=False)
    except (ValueError, TypeError):  # mixed offsets and the like
        out = pd.to_datetime(text, format=fmt, errors="coerce", utc=True)
    return out


def parse_hours(s: pd.Series) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Parse hours given as ``19:00:00``, ``19:00``, ``7:30 p. m.``, ``1900`` or ``19``.

    Returns ``(hour 0–23 as float with NaN, missing, bad)``.
    """
    missing = _missing_mask(s)
    text = s.astype("string").str.strip().str.lower()
    pm = text.str.contains(r"p\.?\s*m\.?", regex=True).fillna(False).to_numpy()
    am = text.str.contains(r"a\.?\s*m\.?", regex=True).fillna(False).to_numpy()
    hh = text.str.extract(r"^(\d{1,2})(?::\d{2}(?::\d{2}(?:\.\d+)?)?)?\s*(?:[ap]\.?\s*m\.?)?$")[0]
    compact = text.str.extract(r"^(\d{1,2})(\d{2})$")[0]  # 1900, 730
    hours = pd.to_numeric(hh.fillna(compact), errors="coerce").to_numpy(dtype=float)
    hours = np.where(pm & (hours < 12), hours + 12, hours)
    hours = np.where(am & (hours == 12), 0, hours)
    hours[(hours < 0) | (hours > 23)] = np.nan
    bad = np.isnan(hours) & ~missing
    return hours, missing, bad


def where_mask(df: pd.DataFrame, where: dict[str, object], *, source: str) -> np.ndarray:
    """Rows whose columns equal the given values (compared as text; a list allows several).

    Raises :class:`ColumnError` for an unknown column and :class:`InputError` when no row
    is left.
    """
    mask = np.ones(len(df), dtype=bool)
    for col, value in where.items():
        if col not in df.columns:
            raise ColumnError(f"{source}: column {col!r} (in where) not found; columns found: {[str(c) for c in df.columns]}")
        allowed = value if isinstance(value, (list, tuple, set)) else [value]
        mask &= df[col].astype("string").str.strip().isin([str(v) for v in allowed]).fillna(False).to_numpy(dtype=bool)
    if not mask.any():
        raise InputError(f"{source}: no row satisfies where={where}")
    return mask


def _user_rows(df: pd.DataFrame) -> np.ndarray:
    """Row numbers as a spreadsheet shows them (the header is row 1)."""
    return np.arange(len(df)) + 2


def _read(path: str | os.PathLike[str] | pd.DataFrame, *, source: str | None, **read_options: object) -> tuple[pd.DataFrame, str, dict]:
    if isinstance(path, pd.DataFrame):
        df = path.astype({c: "string" for c in path.columns}) if len(path.columns) else path
        return df.reset_index(drop=True), source or "<table>", {"decimal": "."}
    if not isinstance(path, str | os.PathLike):
        raise InputError(f"expected a file path or a pandas DataFrame, got {type(path).__name__}")
    df = io.read_table(path, **read_options)  # type: ignore[arg-type]
    if df.empty:
        raise InputError(f"{path}: no data rows")
    return df.reset_index(drop=True), source or Path(path).name, dict(df.attrs.get("geoprio_read", {}))


def _check_kind(kind: str) -> str:
    if kind not in KINDS:
        raise InputError(f"unknown record kind {kind!r}; expected one of {list(KINDS)}")
    return kind


def _no_rows_left(source: str, report: ValidationReport) -> InputError:
    first = next(iter(report.examples.items()), None)
    detail = ""
    if first:
        reason, ex = first
        detail = f"; first problem: {ex[0].describe(report.row_word)} ({reason.replace('_', ' ')})"
    return InputError(f"{source}: no usable rows out of {report.n_read}{detail}")


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
    offsets: Literal["convert", "drop"] = "convert",
) -> pd.DataFrame:
    """Parse the columns every record kind shares; update ``keep_mask`` and ``report``."""
    rows = _user_rows(df)
    out = pd.DataFrame({"row": rows})

    id_col = _resolve(df, id, "id", source, required=False)
    date_col = _resolve(df, date, "date", source, required=require_date)
    hour_col = _resolve(df, hour, "hour", source, required=False)
    cat_col = _resolve(df, category, "category", source, required=False)
    count_col = _resolve(df, count, "count", source, required=False)
    for role, col in (("id", id_col), ("date", date_col), ("hour", hour_col), ("category", cat_col), ("count", count_col)):
        if col is not None:
            report.columns[role] = col

    # dates
    if date_col is not None:
        dates, missing, bad, fmt = parse_dates(df[date_col], timezone=timezone, fmt=date_format, offsets=offsets)
        report.settings["date_format"] = fmt
        if fmt == "ISO8601" and df[date_col].astype("string").str.contains(r"(?:Z|[+-]\d{2}:?\d{2})$", regex=True).any():
            report.settings["utc_offsets"] = f"converted to {timezone}" if offsets == "convert" else "ignored (wall-clock time kept)"
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
    if hour_col is not None and hour_col != date_col:
        hours, _missing, bad = parse_hours(df[hour_col])
        report.flag("bad_hour", rows[bad & keep_mask], hour_col, df[hour_col].to_numpy()[bad & keep_mask])
    elif date_col is not None and _has_time(out["date"]):
        hours = out["date"].dt.hour.to_numpy(dtype=float)
    else:
        hours = np.full(len(df), np.nan)
    out["hour"] = pd.array(np.where(np.isnan(hours), pd.NA, hours), dtype="Int64") if len(df) else pd.array([], dtype="Int64")

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
        out["record_id"] = pd.array([f"{source}:{r}" for r in rows], dtype="string")
    return out


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
            raise ColumnError(f"{report.source}: column {col!r} (in keep) not found; columns found: {list(df.columns)}")
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
    path: str | os.PathLike[str] | pd.DataFrame,
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
    offsets: Literal["convert", "drop"] = "convert",
    date_format: str | None = None,
    keep: list[str] | None = None,
    source: str | None = None,
    **read_options: object,
) -> Records:
    """Load point records with coordinates and validate them.

    Parameters
    ----------
    path
        CSV/TSV (optionally gzipped), Excel, or a vector layer; or a DataFrame.
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
        (``offsets="convert"``) or read as written (``"drop"``), see :func:`parse_dates`.
    keep
        Source columns to carry into the result (e.g. ``["Clase de sitio"]``).

    Returns
    -------
    Records
        Standardized records (see :class:`Records`) and their validation report.
    """
    _check_kind(kind)
    df, source, read_info = _read(path, source=source, **read_options)
    report = ValidationReport(source=source, n_read=len(df), settings={k: v for k, v in read_info.items() if k != "path"})
    rows = _user_rows(df)
    x_col = cast(str, _resolve(df, x, "x", source, required=True))  # required: a str or an error
    y_col = cast(str, _resolve(df, y, "y", source, required=True))
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

    lon, lat = _to_lonlat(xs, ys, keep_mask, crs=crs, source=source, x_col=x_col, y_col=y_col)
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
    )
    common["x"] = lon
    common["y"] = lat
    return _finish(common, df, keep_mask, keep, report, kind=kind, layout="points", path=path)


def _to_lonlat(
    xs: np.ndarray, ys: np.ndarray, ok: np.ndarray, *, crs: str | None, source: str, x_col: str, y_col: str
) -> tuple[np.ndarray, np.ndarray]:
    if crs is None:
        xv, yv = xs[ok], ys[ok]
        degrees = (np.abs(xv) <= 180) & (np.abs(yv) <= 180)
        if xv.size and degrees.mean() < 0.5:
            i = int(np.flatnonzero(ok)[np.flatnonzero(~degrees)[0]])
            raise CRSError(
                f"{source}: coordinates in {x_col!r}/{y_col!r} look projected "
                f"(row {i + 2} reads x={xs[i]:,.1f}, y={ys[i]:,.1f}); pass the CRS explicitly, "
                f"e.g. crs='EPSG:9377' (MAGNA-SIRGAS Origen-Nacional) or 'EPSG:3116'"
            )
        return xs.copy(), ys.copy()
    try:
        src = CRS.from_user_input(crs)
    except Exception as exc:
        raise CRSError(f"{source}: unknown CRS {crs!r}: {exc}") from exc
    if src.equals(CRS.from_epsg(4326)) or (src.is_geographic and src.datum is not None and src.datum.name.startswith("Marco Geocentrico")):
        return xs.copy(), ys.copy()
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
    path: str | os.PathLike[str] | pd.DataFrame,
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
    offsets: Literal["convert", "drop"] = "convert",
    date_format: str | None = None,
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
    report = ValidationReport(source=source, n_read=len(df), settings={k: v for k, v in read_info.items() if k != "path"})
    key_col = _resolve(df, key, "key", source, required=True)
    report.columns["key"] = str(key_col)
    rows = _user_rows(df)
    keep_mask = np.ones(len(df), dtype=bool)
    missing = _missing_mask(df[key_col])
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
    path: str | os.PathLike[str] | pd.DataFrame,
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
        raise ColumnError(f"{source}: zone id column {zone_id!r} not found; columns found: {list(df.columns)}")
    rows = _user_rows(df)
    if where:
        mask = where_mask(df, where, source=source)
        df, rows = df.loc[mask].reset_index(drop=True), rows[mask]
    report = ValidationReport(source=source, n_read=len(df), settings={k: v for k, v in read_info.items() if k != "path"})
    report.columns["zone_id"] = zone_id
    ids = df[zone_id].astype("string").str.strip()
    missing = _missing_mask(df[zone_id])
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
            raise ColumnError(f"{source}: column {c!r} not found; columns found: {list(df.columns)}")
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
