"""A gazetteer path from place names to points: records that only name a place, located.

Colombia's open police records name a barrio instead of giving coordinates. This module
matches those names to a layer of named places (barrio centroids or polygons) and gives
each matched record a point, so that hot spots, entornos and plans can take the records
like any point records, marked as approximate:

1. :func:`load_gazetteer` reads the place layer (points or polygons, any CRS, returned in
   EPSG:4326) with its name column and, optionally, an id and a *group* column (e.g. the
   localidad) that tells apart places sharing a name;
2. :func:`match_places` matches the records' names with the accent-, case- and
   punctuation-insensitive rule of :func:`normalize_names` (the one
   :func:`geoprio.zones.tie.match_keys` uses for zones), a ``pattern`` that extracts the
   name (``"LAS DELICIAS E-8"`` → ``"LAS DELICIAS"``), ``aliases`` and an optional fuzzy
   pass, and returns a :class:`PlaceMatch` report: records matched, unmatched (with the
   most frequent unmatched names) and ambiguous (a name several places share that the
   group does not settle);
3. :func:`geocode` places each matched record at its place's point (a point layer), at a
   point inside its polygon (``method="point"``), or spread uniformly within the polygon
   (``method="spread"``, the default for polygons), reproducibly: the points of a polygon
   depend only on the seed, the polygon and how many of its records come before.

The result (:class:`Geocoded`) holds point :class:`~geoprio.records.load.Records` with
``x``/``y`` in EPSG:4326 and the columns ``approximate`` (True), ``location_method``,
``place_id`` and ``place_name``; unmatched and ambiguous records are dropped and reported as
``unmatched_place`` and ``ambiguous_place``. :meth:`Geocoded.write` writes them as a point file
that :func:`~geoprio.records.load.load_points` reads back with its ``approximate`` mark.
:func:`run_geocode` is the file-level job (``geoprio geocode``), built on one frozen
:class:`GeocodeOptions`; a configured source uses the same steps with ``gazetteer = {…}``
(:class:`GazetteerConfig`).
"""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pydantic import Field

from geoprio.errors import ColumnError, CRSError, InputError
from geoprio.io import files as io
from geoprio.labels import label, labels
from geoprio.numbers import fmt_int, fmt_number
from geoprio.options import Options
from geoprio.records.load import APPROXIMATE_COLUMN, DuplicateRows, Kind, Records, load_keyed
from geoprio.records.parse import column_hint
from geoprio.records.report import ValidationReport
from geoprio.records.text import fold_series
from geoprio.records.times import DEFAULT_OFFSETS, Offsets
from geoprio.settings import DEFAULT_POINT_CRS, DEFAULT_SEED

__all__ = [
    "APPROXIMATE_COLUMN",
    "Gazetteer",
    "GazetteerConfig",
    "GeocodeOptions",
    "Geocoded",
    "LocationMethod",
    "PlaceMatch",
    "approximate_locations",
    "approximate_note",
    "approximate_summary",
    "public_approximate",
    "geocode",
    "geocode_records",
    "load_gazetteer",
    "match_places",
    "normalize_names",
    "run_geocode",
]

#: How a record was placed: at the place's point, at one point inside its polygon, or spread in it.
LocationMethod = Literal["place_point", "polygon_point", "polygon_spread"]

#: Unmatched and ambiguous names listed in a match report.
TOP_NAMES = 20

# --------------------------------------------------------------------------- the place layer


def normalize_names(values: pd.Series) -> pd.Series:
    """Fold names (accents, case, punctuation); codes made only of digits lose leading zeros.

    ``"Chicó Lago"``, ``"CHICO  LAGO"`` and ``"chico-lago"`` all give ``"chico lago"``;
    ``"08"`` gives ``"8"``. Missing stays missing.
    """
    folded = fold_series(values.astype("string"))
    digits = folded.str.fullmatch(r"\d+").fillna(False)
    return folded.where(~digits, folded.str.lstrip("0").replace("", "0"))


@dataclass(frozen=True)
class Gazetteer:
    """A layer of named places in EPSG:4326.

    ``frame`` has ``place_id`` (text), ``name`` (as written), ``key`` (the normalized
    name), ``group`` (normalized, or missing) and the geometry; ``kind`` says whether the
    places are points or polygons. ``report`` counts the places dropped (no name, no
    geometry) and repaired (invalid polygons).
    """

    frame: gpd.GeoDataFrame
    kind: Literal["point", "polygon"]
    report: ValidationReport
    name_column: str
    group_column: str | None = None

    @property
    def source(self) -> str:
        """The layer's file name (or label)."""
        return self.report.source

    def __len__(self) -> int:
        return len(self.frame)


def load_gazetteer(
    path: str | os.PathLike[str] | gpd.GeoDataFrame,
    *,
    name: str,
    id: str | None = None,
    group: str | None = None,
    layer: str | int | None = None,
    crs: str | None = None,
    source: str | None = None,
) -> Gazetteer:
    """Read a point or polygon layer of named places (barrio centroids or polygons).

    Parameters
    ----------
    path
        A vector layer (GeoJSON, GeoPackage, shapefile, GeoParquet) or a GeoDataFrame.
    name
        Column holding each place's name, matched to the records' place names.
    id
        Column of place ids (the row number from 1 when omitted).
    group
        Column that tells apart places sharing a name (e.g. the localidad code), matched
        to a group of the records by :func:`match_places`.
    crs
        CRS of a layer that does not declare one (degrees are read as EPSG:4326).

    Raises
    ------
    InputError
        When the layer mixes points and polygons, holds other geometries or no named place.
    """
    if isinstance(path, gpd.GeoDataFrame):
        gdf, label_ = path.copy(), source or "<GeoDataFrame>"
    else:
        gdf, label_ = io.read_layer(path, layer=layer), source or Path(path).name
    report = ValidationReport(source=label_, n_read=len(gdf), row_word="feature")
    for role, col in (("name", name), ("id", id), ("group", group)):
        if col is not None and col not in gdf.columns:
            raise ColumnError(
                f"{label_}: column {col!r} (place {role}) not found{column_hint(col, [str(c) for c in gdf.columns if c != 'geometry'])}"
            )
        if col is not None:
            report.columns[role] = col
    gdf = _to_lonlat(gdf, crs, label_)
    features = np.arange(1, len(gdf) + 1)
    names = gdf[name].astype("string").str.strip()
    keys = normalize_names(names)
    no_name = keys.isna().to_numpy() | (keys == "").fillna(True).to_numpy()
    report.drop("missing_key", features[no_name], name, names.to_numpy()[no_name])
    geom = gdf.geometry.to_numpy()
    no_geom = ~no_name & (shapely.is_missing(geom) | shapely.is_empty(geom))
    report.drop("missing_coordinates", features[no_geom], None, names.to_numpy()[no_geom])
    keep = ~no_name & ~no_geom
    if not keep.any():
        raise InputError(f"{label_}: no place with a name and a geometry in column {name!r} ({len(gdf):,} features read)")
    types = set(shapely.get_type_id(geom[keep]).tolist())
    kind = _layer_kind(types, label_)
    if kind == "polygon":
        invalid = keep & ~shapely.is_valid(geom)
        report.correct("repaired_geometry", features[invalid], None, names.to_numpy()[invalid])
        geom = np.where(invalid, shapely.buffer(geom, 0), geom)
    ids = gdf[id].astype("string").str.strip() if id is not None else pd.Series(features.astype(str), dtype="string")
    frame = gpd.GeoDataFrame(
        {
            "place_id": ids.to_numpy()[keep],
            "name": names.to_numpy()[keep],
            "key": keys.to_numpy()[keep],
            "group": normalize_names(gdf[group]).to_numpy()[keep] if group is not None else pd.NA,
        },
        geometry=geom[keep],
        crs=DEFAULT_POINT_CRS,
    )
    return Gazetteer(frame=frame.reset_index(drop=True), kind=kind, report=report, name_column=name, group_column=group)


def _to_lonlat(gdf: gpd.GeoDataFrame, crs: str | None, source: str) -> gpd.GeoDataFrame:
    if crs is not None:
        gdf = gdf.set_crs(crs, allow_override=True)
    elif gdf.crs is None:
        x0, y0, x1, y1 = gdf.total_bounds if len(gdf) else (0, 0, 0, 0)
        if max(abs(x0), abs(x1)) > 180 or max(abs(y0), abs(y1)) > 90:
            raise CRSError(f"{source}: the layer declares no CRS and its coordinates look projected; pass crs=..., e.g. 'EPSG:3116'")
        gdf = gdf.set_crs(DEFAULT_POINT_CRS)
    return gdf.to_crs(DEFAULT_POINT_CRS)


def _layer_kind(types: set[int], source: str) -> Literal["point", "polygon"]:
    points, polygons = {0, 4}, {3, 6}  # shapely type ids: Point, MultiPoint; Polygon, MultiPolygon
    if types and types <= points:
        return "point"
    if types and types <= polygons:
        return "polygon"
    return_error = "points and polygons mixed" if types & points and types & polygons else "lines or other geometries"
    raise InputError(f"{source}: a gazetteer is a layer of points or of polygons; this one has {return_error}")


# --------------------------------------------------------------------------- matching


@dataclass(frozen=True)
class PlaceMatch:
    """How the records' place names matched a gazetteer (the match report).

    Counts are records; ``*_weight`` the same weighted by the records' count column.
    ``unmatched_names`` and ``ambiguous_names`` list the most frequent names (as
    extracted by the pattern) with their records; ``ambiguous_places`` how many places
    share each ambiguous name. ``by_group`` counts the records whose name several places
    share that the group settled.
    """

    source: str
    gazetteer: str
    n_records: int
    matched: int
    unmatched: int
    ambiguous: int
    matched_weight: float
    total_weight: float
    by_group: int = 0
    fuzzy: int = 0
    n_names: int = 0
    n_names_matched: int = 0
    unmatched_names: dict[str, int] = field(default_factory=dict)
    ambiguous_names: dict[str, int] = field(default_factory=dict)
    ambiguous_places: dict[str, int] = field(default_factory=dict)
    method: str | None = None
    seed: int | None = None

    @property
    def rate(self) -> float:
        """Share of records matched to exactly one place."""
        return self.matched / self.n_records if self.n_records else 0.0

    @property
    def weighted_rate(self) -> float:
        """Share of the records' weight matched to exactly one place."""
        return self.matched_weight / self.total_weight if self.total_weight else 0.0

    def to_dict(self) -> dict[str, Any]:
        """Plain data for reports, manifests and the API (rates rounded to 4 decimals)."""
        d = asdict(self)
        d["rate"] = round(self.rate, 4)
        d["weighted_rate"] = round(self.weighted_rate, 4)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> PlaceMatch:
        """The report back from :meth:`to_dict`'s plain data."""
        return cls(**{k: v for k, v in d.items() if k in cls.__dataclass_fields__})

    def summary(self, lang: str = "es", *, top: int = 10) -> str:
        """A few human lines: matched, unmatched and ambiguous, with the frequent names."""
        t = labels("gazetteer", lang)
        lines = [
            t["match_head"].format(source=self.source, gazetteer=self.gazetteer),
            "  "
            + t["matched"].format(
                n=fmt_int(self.matched, lang),
                total=fmt_int(self.n_records, lang),
                pct=fmt_number(100 * self.rate, lang, 1),
                wpct=fmt_number(100 * self.weighted_rate, lang, 1),
            ),
        ]
        if self.by_group:
            lines.append("    " + t["by_group"].format(n=fmt_int(self.by_group, lang)))
        if self.fuzzy:
            lines.append("    " + t["fuzzy"].format(n=fmt_int(self.fuzzy, lang)))
        lines.append(
            "  "
            + t["unmatched"].format(n=fmt_int(self.unmatched, lang), pct=fmt_number(100 * _share(self.unmatched, self.n_records), lang, 1))
        )
        if self.unmatched_names:
            names = ", ".join(f"{k} ({fmt_int(v, lang)})" for k, v in list(self.unmatched_names.items())[:top])
            lines.append(f"    {t['most_frequent']}: {names}")
        lines.append(
            "  "
            + t["ambiguous"].format(n=fmt_int(self.ambiguous, lang), pct=fmt_number(100 * _share(self.ambiguous, self.n_records), lang, 1))
        )
        if self.ambiguous_names:
            shown = list(self.ambiguous_names.items())[:top]
            names = ", ".join(f"{k} ({fmt_int(v, lang)}; {fmt_int(self.ambiguous_places.get(k, 0), lang)} {t['places']})" for k, v in shown)
            lines.append(f"    {t['most_frequent']}: {names}")
        if self.method is not None:
            lines.append("  " + t[f"method_{self.method}"].format(seed=self.seed))
        return "\n".join(lines)


def approximate_summary(report: ValidationReport, lang: str = "es") -> str | None:
    """The line that says a load's points are approximate (None when none is).

    Reads what :func:`~geoprio.records.load.load_points` notes of a file written by
    :meth:`Geocoded.write` (``report.settings["approximate"]``) or what :func:`geocode` notes.
    """
    return approximate_note(report.settings.get("approximate"), lang)


def approximate_locations(data: pd.DataFrame) -> dict[str, Any] | None:
    """How many rows of ``data`` have an approximate location (``approximate`` column true),
    their weight and location methods; ``None`` when none has.

    The notes of every step that uses points (hot spots, plans, entornos) keep this, so that
    their outputs and maps can say the locations are approximate.
    """
    if APPROXIMATE_COLUMN not in data.columns or not len(data):
        return None
    marked = data[APPROXIMATE_COLUMN].astype("boolean").fillna(False).to_numpy(dtype=bool)
    n = int(marked.sum())
    if not n:
        return None
    info: dict[str, Any] = {"records": n, "share": round(n / len(data), 4)}
    if "weight" in data.columns:
        info["weight"] = float(data.loc[marked, "weight"].sum())
    if "location_method" in data.columns:
        methods = data.loc[marked, "location_method"].astype("string").value_counts()
        info["methods"] = {str(k): int(v) for k, v in methods.items()}
    return info


def approximate_note(info: Mapping[str, Any] | None, lang: str = "es") -> str | None:
    """The line that says a result's locations are approximate, from
    :func:`approximate_locations`'s data (``None`` when none is): for notes, consoles and maps.
    """
    if not info:
        return None
    if "records" not in info:  # a public release's note: the methods without any count
        names = ", ".join(str(m) for m in info.get("methods") or ()) or "-"
        return label("gazetteer", "approximate_points_public", lang).format(methods=names) if info.get("methods") else None
    if not int(info.get("records", 0)):
        return None
    methods = ", ".join(f"{k} {fmt_int(v, lang)}" for k, v in dict(info.get("methods") or {}).items()) or "-"
    return label("gazetteer", "approximate_points", lang).format(n=fmt_int(int(info["records"]), lang), methods=methods)


def public_approximate(info: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """:func:`approximate_locations`'s data as a public release may say it: that locations are
    approximate and by which methods, without any count (a count of approximate points can be
    small, and with the published totals it would tell how many records were exactly placed).
    """
    if not info or not int(info.get("records", 0)):
        return None
    return {"methods": sorted(str(m) for m in dict(info.get("methods") or {"place": 1}))}


def _share(n: int, total: int) -> float:
    return n / total if total else 0.0


def _extract(keys: pd.Series, pattern: str | None) -> pd.Series:
    """The part of each key the pattern's group captures (the whole key where it does not match)."""
    if pattern is None:
        return keys
    try:
        rx = re.compile(pattern)
    except re.error as exc:
        raise InputError(f"invalid key pattern {pattern!r}: {exc}") from exc
    if rx.groups < 1:
        raise InputError(f"key pattern {pattern!r} needs one capturing group, e.g. '^(.*?)\\s*E-\\d+$'")
    got = keys.str.extract(rx, expand=True).iloc[:, 0]
    return got.fillna(keys)


def match_places(
    keys: pd.Series,
    gazetteer: Gazetteer,
    *,
    pattern: str | None = None,
    aliases: dict[str, str] | None = None,
    fuzzy: float | None = None,
    groups: pd.Series | None = None,
    weights: pd.Series | None = None,
    source: str = "<records>",
) -> tuple[np.ndarray, PlaceMatch]:
    r"""Match place names to the gazetteer: each key's place position (-1 none, -2 ambiguous).

    Parameters
    ----------
    keys
        Place names as written in the records.
    pattern
        Regular expression with one group that extracts the name, e.g.
        ``r"^(.*?)\s*E-\d+$"`` takes ``"LAS DELICIAS"`` from ``"LAS DELICIAS E-8"``; a
        key the pattern does not match is used whole.
    aliases
        Extra spellings: key as written (before ``pattern``) → place name of the
        gazetteer; they take precedence over the normal match.
    fuzzy
        If given (0–1), names still unmatched are compared with
        :func:`difflib.get_close_matches` at this cutoff; off by default (a wrong
        place is worse than none).
    groups
        Per record, the group (e.g. the police station number, equal to the localidad
        code) that chooses among places sharing a name, compared with the gazetteer's
        ``group`` column after :func:`normalize_names`. A name only one place has matches
        whatever its group.
    weights
        Per record weight for the weighted rates (1 each by default).
    """
    keys = keys.astype("string").reset_index(drop=True)
    n = len(keys)
    w = np.ones(n) if weights is None else np.asarray(weights, dtype=float)
    written = normalize_names(keys)
    names = _extract(keys.str.strip(), pattern)
    folded = normalize_names(names)
    frame = gazetteer.frame
    positions: dict[str, list[int]] = {}
    for i, k in enumerate(frame["key"]):
        positions.setdefault(str(k), []).append(i)
    unique = {k: v[0] for k, v in positions.items() if len(v) == 1}
    shared = {k: v for k, v in positions.items() if len(v) > 1}
    place = np.array([unique.get(k, -2 if k in shared else -1) if isinstance(k, str) else -1 for k in folded], dtype=np.int64)
    if aliases:
        for raw, target in aliases.items():
            t = normalize_names(pd.Series([str(target)])).iloc[0]
            if t not in positions:
                raise InputError(f"alias {raw!r} → {target!r}: no place of {gazetteer.source} has that name")
            hit = (written == normalize_names(pd.Series([raw])).iloc[0]).fillna(False).to_numpy(dtype=bool)
            place[hit] = unique.get(t, -2)
            folded = folded.where(~pd.Series(hit), t)
    by_group = 0
    if groups is not None and gazetteer.group_column is not None:
        g = normalize_names(groups.astype("string").reset_index(drop=True)).to_numpy(dtype=object)
        by_key_group: dict[tuple[str, str], list[int]] = {}
        for k, v in shared.items():
            for i in v:
                by_key_group.setdefault((k, str(frame["group"].iloc[i])), []).append(i)
        amb = np.flatnonzero(place == -2)
        for j in amb.tolist():
            hit = by_key_group.get((str(folded.iloc[j]), str(g[j])), [])
            if len(hit) == 1:
                place[j] = hit[0]
                by_group += 1
    n_fuzzy = 0
    if fuzzy is not None:
        todo = folded[(place == -1) & folded.notna().to_numpy()].unique()
        extra: dict[str, int] = {}
        candidates = list(unique)
        for k in todo:
            close = difflib.get_close_matches(str(k), candidates, n=1, cutoff=fuzzy)
            if close:
                extra[str(k)] = unique[close[0]]
        hit = (place == -1) & folded.isin(list(extra)).fillna(False).to_numpy(dtype=bool)
        place[hit] = folded[hit].map(extra).to_numpy(dtype=np.int64)
        n_fuzzy = int(hit.sum())
    shown = names.str.strip().str.upper()
    unmatched = pd.Series(shown[place == -1]).value_counts().head(TOP_NAMES)
    ambiguous = pd.Series(shown[place == -2]).value_counts().head(TOP_NAMES)
    amb_places = {str(k): len(shared.get(str(normalize_names(pd.Series([k])).iloc[0]), [])) for k in ambiguous.index}
    ok = place >= 0
    report = PlaceMatch(
        source=source,
        gazetteer=gazetteer.source,
        n_records=n,
        matched=int(ok.sum()),
        unmatched=int((place == -1).sum()),
        ambiguous=int((place == -2).sum()),
        matched_weight=float(w[ok].sum()),
        total_weight=float(w.sum()),
        by_group=by_group,
        fuzzy=n_fuzzy,
        n_names=int(folded.nunique()),
        n_names_matched=int(folded[ok].nunique()),
        unmatched_names={str(k): int(v) for k, v in unmatched.items()},
        ambiguous_names={str(k): int(v) for k, v in ambiguous.items()},
        ambiguous_places=amb_places,
    )
    return place, report


# --------------------------------------------------------------------------- placing


def _spread(polygon: shapely.Geometry, n: int, seed: int, index: int) -> tuple[np.ndarray, np.ndarray]:
    """``n`` points uniform in ``polygon`` (rejection sampling in its bounds), from the seed and
    the polygon's index alone: other polygons' records do not move these points.
    """
    rng = np.random.default_rng([seed, index])
    x0, y0, x1, y1 = (float(v) for v in shapely.bounds(polygon))
    xs: list[np.ndarray] = []
    ys: list[np.ndarray] = []
    got = 0
    fill = max(float(shapely.area(polygon)) / max((x1 - x0) * (y1 - y0), 1e-30), 0.01)
    for _ in range(100):
        k = int((n - got) / fill * 1.2) + 16
        x = rng.uniform(x0, x1, k)
        y = rng.uniform(y0, y1, k)
        inside = shapely.contains_xy(polygon, x, y)
        xs.append(x[inside])
        ys.append(y[inside])
        got += int(inside.sum())
        if got >= n:
            break
    x_all = np.concatenate(xs)[:n]
    y_all = np.concatenate(ys)[:n]
    if len(x_all) < n:  # a sliver the samples missed: its representative point, still inside
        p = shapely.point_on_surface(polygon)
        x_all = np.concatenate([x_all, np.full(n - len(x_all), shapely.get_x(p))])
        y_all = np.concatenate([y_all, np.full(n - len(y_all), shapely.get_y(p))])
    return x_all, y_all


def _locate(gazetteer: Gazetteer, place: np.ndarray, method: LocationMethod, seed: int) -> tuple[np.ndarray, np.ndarray]:
    geom = gazetteer.frame.geometry.to_numpy()
    if method == "place_point":
        pts = shapely.centroid(geom)  # a Point's centroid is itself; a MultiPoint's its mean
    else:
        pts = shapely.point_on_surface(geom)
    px, py = shapely.get_x(pts), shapely.get_y(pts)
    x, y = px[place], py[place]
    if method == "polygon_spread":
        order = np.argsort(place, kind="stable")
        bounds = np.flatnonzero(np.diff(place[order])) + 1
        for chunk in np.split(order, bounds):
            if len(chunk):
                p = int(place[chunk[0]])
                x[chunk], y[chunk] = _spread(geom[p], len(chunk), seed, p)
    return x, y


def _method(gazetteer: Gazetteer, method: Literal["point", "spread"] | None) -> LocationMethod:
    if gazetteer.kind == "point":
        if method == "spread":
            raise InputError(f"{gazetteer.source}: method 'spread' spreads records within polygons; this layer holds points")
        return "place_point"
    return "polygon_point" if method == "point" else "polygon_spread"


@dataclass(frozen=True)
class Geocoded:
    """Records located through a gazetteer: point :class:`Records` and the :class:`PlaceMatch`."""

    records: Records
    match: PlaceMatch
    gazetteer: Gazetteer

    def table(self) -> pd.DataFrame:
        """The points as a file holds them: columns :func:`~geoprio.records.load.load_points`
        detects (``id``, ``date``, ``hour``, ``category``, ``count``, ``lon``, ``lat``), the
        place (``key`` as written, ``place_id``, ``place_name``), ``approximate`` and
        ``location_method``, then any columns kept from the source.
        """
        d = self.records.data
        dates = d["date"]
        timed = dates.notna().any() and bool((dates.dt.hour.ne(0) | dates.dt.minute.ne(0)).any())
        fmt = "%Y-%m-%dT%H:%M:%S" if timed else "%Y-%m-%d"
        standard = {"row", "record_id", "date", "hour", "time_heaped", "category", "weight", "key", "x", "y"}
        standard |= {"place_id", "place_name", APPROXIMATE_COLUMN, "location_method"}
        out = pd.DataFrame(
            {
                "id": d["record_id"],
                "date": dates.dt.strftime(fmt),
                "hour": d["hour"],
                "category": d["category"],
                "count": d["weight"],
                "key": d["key"],
                "place_id": d["place_id"],
                "place_name": d["place_name"],
                "lon": d["x"].round(7),
                "lat": d["y"].round(7),
                APPROXIMATE_COLUMN: d[APPROXIMATE_COLUMN],
                "location_method": d["location_method"],
            }
        )
        for col in d.columns:
            if col not in standard and col not in out.columns:
                out[col] = d[col].to_numpy()
        return out

    def write(self, path: str | os.PathLike[str]) -> Path:
        """Write the points: CSV (``.csv``), or a point layer (``.geojson``, ``.gpkg``, ``.parquet``)."""
        p = Path(path)
        t = self.table()
        if p.suffix.lower() in (".csv", ".txt", ".gz"):
            return io.write_table(t, p)
        gdf = gpd.GeoDataFrame(t, geometry=gpd.points_from_xy(t["lon"], t["lat"]), crs=DEFAULT_POINT_CRS)
        return io.write_layer(gdf, p)


def geocode(
    records: Records,
    gazetteer: Gazetteer,
    *,
    pattern: str | None = None,
    aliases: dict[str, str] | None = None,
    fuzzy: float | None = None,
    group: str | None = None,
    method: Literal["point", "spread"] | None = None,
    seed: int = DEFAULT_SEED,
) -> Geocoded:
    """Place keyed records at their places: point records marked approximate, and the match report.

    ``records`` come from :func:`~geoprio.records.load.load_keyed`; ``pattern``,
    ``aliases``, ``fuzzy`` as in :func:`match_places`; ``group`` names a column of the
    records (kept with ``keep=[...]`` when loading) holding each record's group. With a
    polygon layer, ``method="spread"`` (default) draws each record uniformly within its
    polygon (seeded by ``seed``), ``"point"`` puts them all at one point inside it; with a
    point layer every record sits at its place's point. Unmatched and ambiguous records
    are dropped and reported as ``unmatched_place`` and ``ambiguous_place``; the match report is also kept in the
    records' report settings (``gazetteer``).
    """
    if not isinstance(records, Records) or records.layout != "keyed":
        raise InputError("geocode needs keyed records (load_keyed: records that name a place), got " + type(records).__name__)
    if method not in (None, "point", "spread"):
        raise InputError(f"method must be 'point' or 'spread', got {method!r}")
    data = records.data
    groups = None
    if group is not None:
        if group not in data.columns:
            raise ColumnError(
                f"{records.report.source}: group column {group!r} not found among the loaded columns; "
                f"load it with keep=[{group!r}]{column_hint(group, list(data.columns))}"
            )
        if gazetteer.group_column is None:
            raise InputError(f"group {group!r} needs the gazetteer's group column (load_gazetteer(..., group=...))")
        groups = data[group]
    place, match = match_places(
        data["key"],
        gazetteer,
        pattern=pattern,
        aliases=aliases,
        fuzzy=fuzzy,
        groups=groups,
        weights=data["weight"],
        source=records.report.source,
    )
    how = _method(gazetteer, method)
    match = replace(match, method=how, seed=seed if how == "polygon_spread" else None)
    report = records.report.copy()
    bad = place < 0
    rows, keys = data["row"].to_numpy(), data["key"].to_numpy()
    for reason, code in (("unmatched_place", -1), ("ambiguous_place", -2)):
        hit = place == code
        if hit.any():
            report.drop(reason, rows[hit], report.columns.get("key"), keys[hit])
    report.settings["gazetteer"] = match.to_dict()
    ok = ~bad
    if not ok.any():
        raise InputError(
            f"{records.report.source}: none of {len(data):,} place names matches a place of {gazetteer.source} "
            f"(most frequent: {', '.join(list(match.unmatched_names)[:5]) or '-'}); check the key column, the pattern and the name column"
        )
    placed = data.loc[ok].reset_index(drop=True)
    x, y = _locate(gazetteer, place[ok], how, seed)
    frame = gazetteer.frame
    placed["x"] = x
    placed["y"] = y
    placed["place_id"] = pd.array(frame["place_id"].to_numpy()[place[ok]], dtype="string")
    placed["place_name"] = pd.array(frame["name"].to_numpy()[place[ok]], dtype="string")
    placed[APPROXIMATE_COLUMN] = True
    placed["location_method"] = how
    report.columns.update({"x": f"{gazetteer.source}:{how}", "y": f"{gazetteer.source}:{how}"})
    report.settings["crs"] = DEFAULT_POINT_CRS
    report.settings["approximate"] = {"records": int(ok.sum()), "methods": {how: int(ok.sum())}}
    out = Records(data=placed, report=report, kind=records.kind, layout="points", path=records.path)
    return Geocoded(records=out, match=match, gazetteer=gazetteer)


# --------------------------------------------------------------------------- the job


class GazetteerConfig(Options):
    """The gazetteer of a configured source (``[sources.<name>.gazetteer]``) or a geocode job.

    ``path`` is the place layer and ``name`` its name column; ``id`` and ``group`` its id and
    group columns; ``record_group`` the records' column with each record's group (used only
    to choose among places sharing a name); ``method`` ``"spread"`` (polygons' default) or
    ``"point"``; ``seed`` the spread's seed.
    """

    path: Path
    name: str
    id: str | None = None
    group: str | None = None
    record_group: str | None = None
    layer: str | int | None = None
    crs: str | None = None
    method: Literal["point", "spread"] | None = None
    seed: int = DEFAULT_SEED

    def resolved(self, base: Path) -> GazetteerConfig:
        """A copy with a relative ``path`` made absolute against ``base``."""
        return self if self.path.is_absolute() else self.model_copy(update={"path": (base / self.path).resolve()})

    def load(self) -> Gazetteer:
        """Read the place layer this section names."""
        return load_gazetteer(self.path, name=self.name, id=self.id, group=self.group, layer=self.layer, crs=self.crs)


def geocode_records(
    records: Records,
    cfg: GazetteerConfig,
    *,
    pattern: str | None = None,
    aliases: dict[str, str] | None = None,
    fuzzy: float | None = None,
) -> Geocoded:
    """:func:`geocode` ``records`` with the gazetteer a :class:`GazetteerConfig` describes."""
    gz = cfg.load()
    return geocode(records, gz, pattern=pattern, aliases=aliases, fuzzy=fuzzy, group=cfg.record_group, method=cfg.method, seed=cfg.seed)


class GeocodeOptions(Options):
    """A geocode job: the records file, its columns, and the gazetteer (``geoprio geocode``)."""

    path: Path
    key: str
    gazetteer: GazetteerConfig
    kind: Kind = "crime"
    key_pattern: str | None = None
    aliases: dict[str, str] | None = None
    fuzzy: float | None = Field(default=None, ge=0, le=1)
    date: str | None = None
    hour: str | None = None
    category: str | None = None
    id: str | None = None
    count: str | None = None
    date_format: str | None = None
    timezone: str = "America/Bogota"
    offsets: Offsets = DEFAULT_OFFSETS
    duplicate_rows: DuplicateRows = "flag"
    keep: list[str] | None = None
    sep: str | None = None
    encoding: str | None = None


def run_geocode(options: GeocodeOptions) -> Geocoded:
    """Load the keyed records of ``options.path`` and place them through the gazetteer; write nothing."""
    o = options
    read: dict[str, Any] = {k: v for k, v in (("sep", o.sep), ("encoding", o.encoding)) if v is not None}
    keep = list(o.keep or [])
    if o.gazetteer.record_group is not None and o.gazetteer.record_group not in keep:
        keep.append(o.gazetteer.record_group)
    records = load_keyed(
        o.path,
        key=o.key,
        kind=o.kind,
        date=o.date,
        hour=o.hour,
        category=o.category,
        id=o.id,
        count=o.count,
        date_format=o.date_format,
        timezone=o.timezone,
        offsets=o.offsets,
        duplicate_rows=o.duplicate_rows,
        keep=keep or None,
        **read,
    )
    return geocode_records(records, o.gazetteer, pattern=o.key_pattern, aliases=o.aliases, fuzzy=o.fuzzy)
