"""How outputs are exported: the output CRS, the CSV dialect, shapefiles and Excel workbooks.

One rule for every job (:class:`Export`, passed to ``result.write(..., export=...)`` and
recorded in the manifest):

- **CRS.** Every layer is written in ``Export.crs`` (default EPSG:4326), except GeoJSON, which
  RFC 7946 fixes to EPSG:4326 (web maps and the API read it). The CSV and the XLSX carry no
  geometry; point tables keep ``lon``/``lat`` (EPSG:4326) and, in another CRS, add ``x``/``y``.
- **CSV dialect.** ``"standard"``: UTF-8, ``,`` separator, ``.`` decimals (what geoprio has
  always written). ``"excel"``: UTF-8 with BOM, ``;`` separator and decimal comma, which Excel
  opens correctly in a Colombian (Spanish) locale.
- **Shapefile.** Field names are cut to ten characters by :func:`short_field_names`
  (deterministic; the same columns always give the same names), and a sidecar
  ``<name>.fields.csv`` maps every short name to its long name with a description; the
  ``.cpg`` says UTF-8. Lists become text (numbers separated by spaces), dates and times ISO
  text, and text longer than 254 bytes (the dBase limit) is cut.
- **XLSX.** One workbook per run, one sheet per table, plus a sheet ``Columnas`` (``Columns``
  in English) describing every column of every sheet.
- **Profiles** (columns ending in ``_profile``: 24 hourly shares written as text such as
  ``"0.01 0.02 ..."``) become lists of numbers in the JSON-capable formats (GeoJSON,
  GeoParquet); the CSV, the XLSX and the shapefile keep the text.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
from pydantic import field_validator

from geoprio.errors import InputError
from geoprio.labels import label, labels
from geoprio.options import Options
from geoprio.settings import DEFAULT_LANG, OUTPUT_CRS, Lang

__all__ = [
    "CSV_DIALECTS",
    "PROFILE_SUFFIX",
    "SHAPEFILE_PARTS",
    "CsvDialect",
    "Export",
    "check_crs",
    "describe_column",
    "profiles_as_lists",
    "profiles_as_text",
    "short_field_names",
    "shapefile_ready",
    "shapefile_sidecar",
    "workbook_sheet",
    "workbook_tables",
]

#: CSV dialects: ``standard`` (UTF-8, ``,``, ``.``) and ``excel`` (UTF-8 with BOM, ``;``, ``,``).
CsvDialect = Literal["standard", "excel"]

#: The writing settings of each CSV dialect.
CSV_DIALECTS: dict[str, dict[str, str]] = {
    "standard": {"sep": ",", "decimal": ".", "encoding": "utf-8"},
    "excel": {"sep": ";", "decimal": ",", "encoding": "utf-8-sig"},
}

#: Columns whose name ends so hold a profile (numbers separated by spaces).
PROFILE_SUFFIX = "_profile"

#: The files of a shapefile, besides the ``.shp`` (the ``.fields.csv`` sidecar is geoprio's).
SHAPEFILE_PARTS = (".shp", ".shx", ".dbf", ".prj", ".cpg")

#: The longest field name and text value a shapefile (dBase) holds.
SHP_NAME_WIDTH = 10
SHP_TEXT_BYTES = 254


def check_crs(crs: str) -> str:
    """``crs`` as its authority string (``"9377"`` → ``"EPSG:9377"``); an :class:`InputError` if pyproj does not know it."""
    from pyproj import CRS
    from pyproj.exceptions import CRSError

    try:
        parsed = CRS.from_user_input(crs)
    except CRSError:
        raise InputError(
            f"--crs: {crs!r} is not a coordinate reference system pyproj knows; expected e.g. EPSG:4326, EPSG:9377 or EPSG:3116"
        ) from None
    auth = parsed.to_authority()
    return f"{auth[0]}:{auth[1]}" if auth else parsed.to_string()


class Export(Options):
    """How a result's files are written (``result.write(out_dir, formats, export=Export(...))``).

    Parameters
    ----------
    crs
        CRS of every layer output (GeoJSON excepted: always EPSG:4326, RFC 7946).
    csv
        CSV dialect: ``"standard"`` or ``"excel"`` (BOM, ``;``, decimal comma).
    lang
        Language of the column descriptions (XLSX ``Columnas`` sheet, shapefile sidecar).
    """

    crs: str = OUTPUT_CRS
    csv: CsvDialect = "standard"
    lang: Lang = DEFAULT_LANG

    @field_validator("crs")
    @classmethod
    def _known_crs(cls, value: str) -> str:
        try:
            return check_crs(value)
        except InputError as exc:
            raise ValueError(str(exc).removeprefix("--crs: ")) from None

    @property
    def csv_settings(self) -> dict[str, str]:
        """``sep``, ``decimal`` and ``encoding`` of the CSV dialect."""
        return dict(CSV_DIALECTS[self.csv])

    def record(self) -> dict[str, str]:
        """What the manifest records under ``export`` (with the CRS GeoJSON is written in)."""
        return {"crs": self.crs, "geojson_crs": OUTPUT_CRS, "csv": self.csv, "lang": self.lang}


# --------------------------------------------------------------------------- column descriptions

_PATTERNS = (
    (re.compile(r"^(?P<base>.+)__norm$"), "pattern_norm"),
    (re.compile(r"^(?P<base>.+)__contrib$"), "pattern_contrib"),
    (re.compile(r"^(?P<base>.+)__count$"), "pattern_count"),
    (re.compile(r"^(?P<base>.+)__rate$"), "pattern_rate"),
    (re.compile(r"^p_top_(?P<base>\d+)$"), "pattern_p_top"),
)


def describe_column(name: str, lang: str = DEFAULT_LANG, extra: Mapping[str, str] | None = None) -> str:
    """A sentence describing column ``name`` (``extra`` first, then the ``columns`` labels,
    then the patterns of indicator columns such as ``<indicator>__norm``).
    """
    if extra and name in extra:
        return extra[name]
    known = labels("columns", lang)
    if name in known and not name.startswith("pattern_"):
        return known[name]
    for pattern, code in _PATTERNS:
        m = pattern.match(name)
        if m:
            return known[code].format(base=m.group("base"))
    return known["pattern_other"].format(base=name)


# --------------------------------------------------------------------------- profiles


def _profile_columns(df: pd.DataFrame) -> list[str]:
    return [str(c) for c in df.columns if str(c).endswith(PROFILE_SUFFIX) and df[c].dtype != "geometry"]


def _as_numbers(value: Any) -> list[float] | None:
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return None
    if isinstance(value, (list, tuple, np.ndarray)):
        return [float(v) for v in value]
    text = str(value).strip()
    return [float(v) for v in text.split()] if text else []


def profiles_as_lists(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` with its profile columns (``*_profile``) as lists of numbers (a copy when any)."""
    cols = _profile_columns(df)
    if not cols:
        return df
    df = df.copy()
    for c in cols:
        df[c] = pd.Series([_as_numbers(v) for v in df[c]], index=df.index, dtype=object)
    return df


def profiles_as_text(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` with list-valued profile columns (``*_profile``, as GeoJSON and GeoParquet hold
    them) back as text of numbers separated by spaces, the form geoprio's frames use (a copy when any).
    """
    cols = [
        c for c in _profile_columns(df) if df[c].dtype == object and df[c].map(lambda v: isinstance(v, (list, tuple, np.ndarray))).any()
    ]
    if not cols:
        return df
    df = df.copy()
    for c in cols:
        df[c] = df[c].map(_text)
    return df


def _text(value: Any) -> Any:
    """A list-like value as text (numbers separated by spaces); other values unchanged."""
    if isinstance(value, (list, tuple, np.ndarray)):
        return " ".join(f"{v:g}" if isinstance(v, (float, np.floating)) else str(v) for v in value)
    return value


def _plain_table(df: pd.DataFrame) -> pd.DataFrame:
    """A table any tabular format holds: lists as text, time zones dropped (as ISO text)."""
    out = df.copy()
    for c in out.columns:
        col = out[c]
        if col.dtype == object:
            if col.map(lambda v: isinstance(v, (list, tuple, np.ndarray))).any():
                out[c] = col.map(_text)
        elif isinstance(col.dtype, pd.DatetimeTZDtype):
            out[c] = col.map(lambda v: v.isoformat() if pd.notna(v) else None).astype(object)
    return out


# --------------------------------------------------------------------------- shapefile


def _ascii_name(name: str) -> str:
    text = unicodedata.normalize("NFKD", str(name)).encode("ascii", "ignore").decode("ascii")
    text = re.sub(r"[^A-Za-z0-9_]+", "_", text)
    text = re.sub(r"_+", "_", text).strip("_")
    if not text:
        return "field"
    return f"f{text}" if text[0].isdigit() else text


def _abbreviate(name: str, width: int) -> str:
    """Shorten the longest word of ``name`` one letter at a time until ``name`` fits ``width``."""
    if len(name) <= width:
        return name
    words = [w for w in name.split("_") if w]
    while len("_".join(words)) > width:
        longest = max(range(len(words)), key=lambda i: (len(words[i]), -i))
        if len(words[longest]) <= 2:
            break
        words[longest] = words[longest][:-1]
    joined = "_".join(words)
    if len(joined) > width:
        joined = "".join(words)
    return joined[:width]


def short_field_names(columns: Sequence[str], *, width: int = SHP_NAME_WIDTH) -> dict[str, str]:
    """``{column: short name}``: ASCII, at most ``width`` characters, unique ignoring case.

    Names that fit are kept; longer names lose letters from their longest word first
    (``homicidios__contrib`` → ``homic_cont``); a clash gets ``_2``, ``_3``… in column
    order. The same columns in the same order always give the same names.
    """
    used: set[str] = set()
    out: dict[str, str] = {}
    for col in columns:
        short = _abbreviate(_ascii_name(col), width)
        candidate, n = short, 1
        while candidate.lower() in used:
            n += 1
            suffix = f"_{n}"
            candidate = short[: width - len(suffix)] + suffix
        used.add(candidate.lower())
        out[str(col)] = candidate
    return out


def _cut_bytes(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    raw = value.encode("utf-8")
    if len(raw) <= SHP_TEXT_BYTES:
        return value
    return raw[:SHP_TEXT_BYTES].decode("utf-8", "ignore")


def shapefile_ready(gdf: gpd.GeoDataFrame) -> tuple[gpd.GeoDataFrame, dict[str, str]]:
    """``gdf`` as a shapefile holds it, and ``{long name: short name}`` of its fields.

    Lists become text, dates and times ISO text (the dBase date type has no time), other
    objects text cut to 254 bytes; field names from :func:`short_field_names`.
    """
    geom = gdf.geometry.name
    attrs = pd.DataFrame(gdf.drop(columns=geom))
    attrs = _plain_table(attrs)
    for c in attrs.columns:
        col = attrs[c]
        if pd.api.types.is_datetime64_any_dtype(col.dtype) or pd.api.types.is_timedelta64_dtype(col.dtype):
            attrs[c] = col.astype(str).where(col.notna(), None).astype(object)
        elif col.dtype == object or pd.api.types.is_string_dtype(col.dtype):
            attrs[c] = col.map(lambda v: _cut_bytes(v if isinstance(v, str) or v is None or v is pd.NA else str(v)))
            attrs[c] = attrs[c].where(attrs[c].notna(), None).astype(object)
        elif isinstance(col.dtype, pd.CategoricalDtype):
            attrs[c] = col.astype(object).map(lambda v: None if pd.isna(v) else _cut_bytes(str(v)))
    names = short_field_names([str(c) for c in attrs.columns])
    attrs.columns = [names[str(c)] for c in attrs.columns]
    return gpd.GeoDataFrame(attrs, geometry=gdf.geometry.values, crs=gdf.crs), names


def shapefile_sidecar(names: Mapping[str, str], lang: str = DEFAULT_LANG, descriptions: Mapping[str, str] | None = None) -> pd.DataFrame:
    """The ``<name>.fields.csv`` table: each short field name, its long name and a description."""
    return pd.DataFrame(
        {
            label("columns", "sidecar_field", lang): list(names.values()),
            label("columns", "sidecar_column", lang): list(names.keys()),
            label("columns", "sidecar_description", lang): [describe_column(c, lang, descriptions) for c in names],
        }
    )


# --------------------------------------------------------------------------- workbook

_SHEET_BAD = re.compile(r"[\[\]:*?/\\]")


def workbook_sheet(name: str) -> str:
    """A valid Excel sheet name: at most 31 characters, none of ``[]:*?/`` nor a backslash."""
    return _SHEET_BAD.sub("_", name)[:31] or "hoja"


def workbook_tables(
    sheets: Mapping[str, pd.DataFrame], lang: str = DEFAULT_LANG, descriptions: Mapping[str, str] | None = None
) -> dict[str, pd.DataFrame]:
    """The sheets of a workbook: each table as a tabular format holds it (no geometry, lists as
    text), under a valid sheet name, then the sheet describing every column (``Columnas``).
    """
    tables: dict[str, pd.DataFrame] = {}
    for name, df in sheets.items():
        if isinstance(df, gpd.GeoDataFrame):
            df = pd.DataFrame(df.drop(columns=df.geometry.name))
        tables[workbook_sheet(name)] = _plain_table(df)
    sheet_col = label("columns", "sheet", lang)
    column_col = label("columns", "sidecar_column", lang)
    text_col = label("columns", "sidecar_description", lang)
    rows = [
        {sheet_col: sheet, column_col: str(c), text_col: describe_column(str(c), lang, descriptions)}
        for sheet, df in tables.items()
        for c in df.columns
    ]
    tables[workbook_sheet(label("columns", "columns_sheet", lang))] = pd.DataFrame(rows, columns=[sheet_col, column_col, text_col])
    return tables
