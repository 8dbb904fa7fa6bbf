"""Reading the cells of a record table: column detection, numbers, dates and clock times.

Every parser takes a column of text (a :class:`pandas.Series`) and returns the parsed
values with a ``missing`` mask (an empty cell or a "no data" token such as ``NA`` or ``sin
dato``) and a ``bad`` mask (present but unreadable), so the loaders can report each dropped
or flagged row with its reason.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from typing import Literal

import numpy as np
import pandas as pd

from geoprio.errors import ColumnError
from geoprio.records.text import MISSING_TOKENS, fold

__all__ = [
    "COLUMN_ALIASES",
    "DATE_FORMATS",
    "column_hint",
    "detect_column",
    "did_you_mean",
    "missing_mask",
    "parse_clock",
    "parse_dates",
    "parse_hours",
    "parse_numbers",
    "resolve_column",
]

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


# --------------------------------------------------------------------------- columns


def did_you_mean(given: str, choices: Sequence[str]) -> str | None:
    """The choice closest to ``given`` (accents, case and punctuation ignored), if any is close."""
    folded = {fold(c): c for c in choices}
    close = difflib.get_close_matches(fold(given), list(folded), n=1, cutoff=0.6)
    return folded[close[0]] if close else None


def column_hint(given: str, columns: Sequence[object]) -> str:
    """``"; did you mean 'Barrio'? columns found: [...]"`` for a column that is not there."""
    names = [str(c) for c in columns]
    guess = did_you_mean(given, names)
    return (f"; did you mean {guess!r}?" if guess else "") + f"; columns found: {names}"


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


def resolve_column(df: pd.DataFrame, given: str | None, role: str, source: str, required: bool) -> str | None:
    """The column named ``given`` (an error with a "did you mean" if absent) or the detected one."""
    if given is not None:
        if given not in df.columns:
            raise ColumnError(f"{source}: column {given!r} (for {role}) not found{column_hint(given, list(df.columns))}")
        return given
    return detect_column([str(c) for c in df.columns], role, source=source, required=required)


# --------------------------------------------------------------------------- numbers


def missing_mask(s: pd.Series) -> np.ndarray:
    """True where a cell is empty or a "no data" token (:data:`geoprio.records.text.MISSING_TOKENS`)."""
    text = s.astype("string").str.strip().str.lower()
    return (s.isna() | text.isin(MISSING_TOKENS)).to_numpy(dtype=bool)


def parse_numbers(s: pd.Series, decimal: str = ".") -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Parse text numbers; return ``(values, missing, bad)``.

    Decimal commas are accepted when ``decimal == ","`` (thousands dots are then removed
    only when a comma is present too). Infinite values (``inf``, ``-Infinity``) are bad:
    no count or coordinate is infinite. Returns float values (NaN where missing or bad).
    """
    missing = missing_mask(s)
    text = s.astype("string").str.strip()
    if decimal == ",":
        has_comma = text.str.contains(",", regex=False).fillna(False)
        text = text.where(~has_comma, text.str.replace(".", "", regex=False).str.replace(",", ".", regex=False))
    values = pd.to_numeric(text.where(~pd.Series(missing, index=s.index)), errors="coerce").to_numpy(dtype=float)
    values[np.isinf(values)] = np.nan
    bad = np.isnan(values) & ~missing
    return values, missing, bad


# --------------------------------------------------------------------------- dates

#: Date formats tried on a sample, in order of preference on ties (``ISO8601`` also reads
#: offsets such as ``Z``); the one that reads most values is the column's format.
DATE_FORMATS: tuple[str, ...] = (
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
    "%Y/%m/%d %H:%M",
    "%d/%m/%y",
    "%d/%m/%y %H:%M",
    "%d-%m-%y",
    "%m/%d/%y",
)
_YEAR_FIRST = tuple(f for f in DATE_FORMATS if f == "ISO8601" or f.startswith("%Y"))
_MONTH_FIRST = tuple(f for f in DATE_FORMATS if f.startswith("%m"))
_DAY_FIRST = tuple(f for f in DATE_FORMATS if f.startswith("%d"))


def _fallbacks(fmt: str) -> tuple[str, ...]:
    """Formats tried, after the column's own, for the values it does not read.

    Year-first values (``2023-03-04``) are unambiguous; then the column's own day/month
    order (day first when the column is year-first, the Colombian convention); the other
    order last, which then reads only values no other format reads (``12/31/2023``).
    """
    if fmt in _MONTH_FIRST:
        order = (*_YEAR_FIRST, *_MONTH_FIRST, *_DAY_FIRST)
    else:
        order = (*_YEAR_FIRST, *_DAY_FIRST, *_MONTH_FIRST)
    return tuple(f for f in order if f != fmt)


def parse_dates(
    s: pd.Series, *, timezone: str = "America/Bogota", fmt: str | None = None, offsets: Literal["convert", "drop"] = "convert"
) -> tuple[pd.Series, np.ndarray, np.ndarray, str | None]:
    """Parse dates written in any of the usual formats; day first unless only month first fits.

    The column's format is the one that parses most of a sample of the values, so a
    column is read consistently (``03/04/2019`` is 3 April in a day-first file). Values it
    does not read are then tried one by one with the formats that cannot contradict it
    (:func:`_fallbacks`): a column mixing ``31/01/2023``, ``2023-03-04`` and ``4/3/23``
    reads all three (3 April 2023 and 4 March 2023). How many values each format read is
    in ``dates.attrs["formats"]``. With an explicit ``fmt`` only that format is used.

    Offsets (``Z``, ``-05:00``) follow :data:`geoprio.records.times.OFFSETS_RULE`:
    converted to local time in ``timezone`` with ``offsets="convert"``, ignored (the
    wall-clock time kept as written) with ``"drop"``. Naive timestamps are local already.

    Returns ``(dates, missing, bad, format)``.
    """
    missing = missing_mask(s)
    text = s.astype("string").str.strip().where(~pd.Series(missing, index=s.index))
    present = text.dropna()
    if present.empty:
        return pd.Series(pd.NaT, index=s.index, dtype="datetime64[ns]"), missing, np.zeros(len(s), bool), fmt
    explicit = fmt is not None
    if fmt is None:
        sample = present.drop_duplicates().head(500)
        best, best_ok = None, -1
        for candidate in DATE_FORMATS:
            ok = _to_datetime(sample, candidate).notna().sum()
            if ok > best_ok:
                best, best_ok = candidate, ok
        fmt = best if best_ok > 0 else None
    parsed = pd.Series(pd.NaT, index=s.index, dtype="datetime64[ns]")
    used: dict[str, int] = {}
    if fmt is not None:
        for candidate in (fmt,) if explicit else (fmt, *_fallbacks(fmt)):
            todo = parsed.isna() & text.notna()
            if not todo.any():
                break
            got = _local(_to_datetime(text[todo], candidate), timezone, offsets)
            got = got[got.notna() & (got.dt.year >= 1900)]
            if len(got):
                parsed.loc[got.index] = got
                used[candidate] = len(got)
    bad = parsed.isna().to_numpy() & ~missing
    parsed.attrs["formats"] = used
    return parsed, missing, bad, fmt


def _local(parsed: pd.Series, timezone: str, offsets: Literal["convert", "drop"]) -> pd.Series:
    if isinstance(parsed.dtype, pd.DatetimeTZDtype):
        parsed = parsed.dt.tz_convert(timezone).dt.tz_localize(None) if offsets == "convert" else parsed.dt.tz_localize(None)
    return parsed.astype("datetime64[ns]")


def _to_datetime(text: pd.Series, fmt: str) -> pd.Series:
    try:
        out = pd.to_datetime(text, format=fmt, errors="coerce", utc=False)
    except (ValueError, TypeError):  # mixed offsets and the like
        out = pd.to_datetime(text, format=fmt, errors="coerce", utc=True)
    return out


# --------------------------------------------------------------------------- clock times


def parse_clock(s: pd.Series) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Parse clock times as :func:`parse_hours` does, keeping the minutes too.

    Returns ``(hour 0–23, minute 0–59 or NaN when the value gives none, missing, bad)``.
    Each distinct text is parsed once (a column of clock times repeats a few thousand values at
    most): the regular expressions run on the distinct values, not on every row.
    """
    codes, uniques = pd.factorize(s, use_na_sentinel=True)
    if len(uniques) >= len(s):
        return _parse_clock_values(s)
    hours_u, minutes_u, missing_u, bad_u = _parse_clock_values(pd.Series(uniques, dtype=object))
    na = codes < 0
    pick = np.where(na, 0, codes)
    hours = np.where(na, np.nan, hours_u[pick] if len(uniques) else np.nan)
    minutes = np.where(na, np.nan, minutes_u[pick] if len(uniques) else np.nan)
    missing = np.where(na, True, missing_u[pick] if len(uniques) else True)
    bad = np.where(na, False, bad_u[pick] if len(uniques) else False)
    return hours.astype(float), minutes.astype(float), missing.astype(bool), bad.astype(bool)


def _parse_clock_values(s: pd.Series) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    missing = missing_mask(s)
    text = s.astype("string").str.strip().str.lower()
    pm = text.str.contains(r"p\.?\s*m\.?", regex=True).fillna(False).to_numpy()
    am = text.str.contains(r"a\.?\s*m\.?", regex=True).fillna(False).to_numpy()
    parts = text.str.extract(r"^(\d{1,2})(?::(\d{2})(?::\d{2}(?:\.\d+)?)?)?\s*(?:[ap]\.?\s*m\.?)?$")
    compact = text.str.extract(r"^(\d{1,2})(\d{2})$")  # 1900, 730
    hours = pd.to_numeric(parts[0].fillna(compact[0]), errors="coerce").to_numpy(dtype=float)
    minutes = pd.to_numeric(parts[1].fillna(compact[1]), errors="coerce").to_numpy(dtype=float)
    hours = np.where(pm & (hours < 12), hours + 12, hours)
    hours = np.where(am & (hours == 12), 0, hours)
    out_of_range = (hours < 0) | (hours > 23) | (minutes > 59)
    hours[out_of_range] = np.nan
    minutes[np.isnan(hours)] = np.nan
    bad = np.isnan(hours) & ~missing
    return hours, minutes, missing, bad


def parse_hours(s: pd.Series) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Parse hours given as ``19:00:00``, ``19:00``, ``7:30 p. m.``, ``1900`` or ``19``.

    Returns ``(hour 0–23 as float with NaN, missing, bad)``.
    """
    hours, _minutes, missing, bad = parse_clock(s)
    return hours, missing, bad
