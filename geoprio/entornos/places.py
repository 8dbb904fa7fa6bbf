"""Places (*entornos*): public places with an influence area, and the incidents near them.

A place is any point, line or polygon feature with a **type** (TransMilenio station, park,
school, nightlife street) and a name. Its **influence area** is everything within
``radius_m`` of the feature's edge (the point itself, the line, the polygon's boundary or
inside), with one radius per type (100 m by default). Distances are measured in the metric
CRS (EPSG:9377 by default) on the exact geometry, not on a polygonised buffer: an incident
at exactly ``radius_m`` counts, one a centimetre further does not.

Where influence areas overlap, ``overlap`` chooses explicitly what an incident near several
places does: ``"all"`` counts it for every place it is near (the usual reading of "crimes
within 100 m of each station"); ``"nearest"`` counts it only for the closest one (ties go to
the place listed first), so place totals add up to the incidents near any place.

:func:`incident_pairs` returns the (incident, place) pairs; :func:`surroundings` compares
the density inside each influence area with the density in a ring around it, so a planner
can tell a place that attracts crime from one that merely sits in a bad area.
:meth:`Places.as_zones` presents the influence areas as :class:`~geoprio.zones.layers.Zones`, so the
index machinery (indicators, explanation, Monte Carlo) runs on places unchanged.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer
from scipy import stats

from geoprio.errors import ColumnError, ConfigError, CRSError, InputError
from geoprio.io import files as io
from geoprio.io.postgis import PostgisSource, path_or_source, read_layer_source
from geoprio.labels import label
from geoprio.records.report import ValidationReport
from geoprio.settings import DEFAULT_METRIC_CRS, DEFAULT_POINT_CRS, OUTPUT_CRS
from geoprio.zones.layers import Zones, check_metric_crs

__all__ = [
    "DEFAULT_RADIUS_M",
    "Overlap",
    "Places",
    "Surroundings",
    "incident_pairs",
    "load_places",
    "surroundings",
]

#: Influence radius of a place type that is not given one (metres from the feature's edge).
DEFAULT_RADIUS_M = 100.0

#: Segments per quarter circle when influence areas are measured as polygons (area within 0.04 %)...
_QUAD_SEGS = 32
#: ... and when they are drawn (outputs and maps: 32 vertices a circle).
_DRAWN_QUAD_SEGS = 8

Overlap = Literal["all", "nearest"]


@dataclass(frozen=True)
class Places:
    """Places with standard columns: ``place_id``, ``name``, ``type``, ``radius_m`` and
    the feature's geometry in EPSG:4326 (points, lines or polygons).
    """

    frame: gpd.GeoDataFrame
    metric_crs: str = DEFAULT_METRIC_CRS
    report: ValidationReport = field(default_factory=lambda: ValidationReport(source="<places>"))

    def __len__(self) -> int:
        return len(self.frame)

    @property
    def ids(self) -> pd.Index:
        return pd.Index(self.frame["place_id"], name="place_id")

    @cached_property
    def metric_geometry(self) -> np.ndarray:
        """Feature geometry in :attr:`metric_crs` (a shapely array)."""
        return np.asarray(self.frame.geometry.to_crs(self.metric_crs).values, dtype=object)

    @cached_property
    def influence_metric(self) -> np.ndarray:
        """Influence areas (the feature buffered by its radius) in :attr:`metric_crs`."""
        return shapely.buffer(self.metric_geometry, self.frame["radius_m"].to_numpy(dtype=float), quad_segs=_QUAD_SEGS)

    def influence_areas(self) -> gpd.GeoSeries:
        """Influence areas in EPSG:4326 for maps and outputs, drawn with 8 segments per quarter
        circle (areas and counts use the exact distance, not these polygons).
        """
        drawn = shapely.buffer(self.metric_geometry, self.frame["radius_m"].to_numpy(dtype=float), quad_segs=_DRAWN_QUAD_SEGS)
        return gpd.GeoSeries(drawn, crs=self.metric_crs, index=self.frame.index).to_crs(OUTPUT_CRS)

    def as_zones(self) -> Zones:
        """The influence areas as zones (``zone_id`` = place id, ``parent_id`` = type,
        ``area_km2`` = influence area), so indicators and the index run on places.
        """
        frame = gpd.GeoDataFrame(
            {
                "zone_id": self.frame["place_id"].to_numpy(),
                "name": self.frame["name"].to_numpy(),
                "parent_id": self.frame["type"].to_numpy(),
                "parent_name": self.frame["type"].to_numpy(),
                "area_km2": shapely.area(self.influence_metric) / 1e6,
                "population": np.nan,
                "ambient_population": np.nan,
            },
            geometry=self.influence_areas().values,
            crs=OUTPUT_CRS,
        )
        return Zones(frame=frame, level="entorno", metric_crs=self.metric_crs, report=self.report)

    def summary(self, lang: str = "es") -> str:
        """One line for the user: how many places, and how many of each type."""
        counts = self.frame["type"].value_counts()
        parts = ", ".join(f"{t} {n}" for t, n in counts.items())
        return label("entornos", "places_summary", lang).format(n=len(self), parts=parts)


def _radii(types: pd.Series, radius_m: float | Mapping[str, float], default_radius_m: float, source: str) -> np.ndarray:
    def check(value: Any, what: str) -> float:
        try:
            r = float(value)
        except (TypeError, ValueError):
            raise ConfigError(f"{source}: {what} must be a number of metres, got {value!r}") from None
        if not np.isfinite(r) or r <= 0:
            raise ConfigError(f"{source}: {what} must be a positive number of metres, got {value!r}")
        return r

    if isinstance(radius_m, Mapping):
        default = check(default_radius_m, "the default radius_m")
        by_type = {str(k): check(v, f"radius_m for type {k!r}") for k, v in radius_m.items()}
        unknown = sorted(set(by_type) - set(types.astype(str)))
        if unknown:
            raise ConfigError(f"{source}: radius_m names types that no place has: {unknown}; types present: {sorted(types.unique())}")
        return types.astype(str).map(lambda t: by_type.get(t, default)).to_numpy(dtype=float)
    return np.full(len(types), check(radius_m, "radius_m"))


def _read_places(
    path: Path | PostgisSource, *, layer: str | int | None, x: str | None, y: str | None, crs: str | None, source: str
) -> gpd.GeoDataFrame:
    if isinstance(path, PostgisSource):
        given = [k for k, v in (("layer", layer), ("x", x), ("y", y)) if v is not None]
        if given:
            raise ConfigError(f"{source}: {', '.join(given)} apply to files; a database table or query gives its geometry column")
        gdf = read_layer_source(path)
        if gdf.crs is None:  # SRID 0
            if crs is None:
                raise CRSError(f"{source}: the geometry column has no SRID (0); give crs=... (e.g. 'EPSG:4326') or set it with ST_SetSRID")
            gdf = gdf.set_crs(crs)
        return gdf
    name = path.name.lower()
    if not name.endswith((".csv", ".csv.gz", ".txt", ".tsv", ".tsv.gz", ".xlsx", ".xls")):
        gdf = io.read_layer(path, layer=layer)
        if gdf.crs is None:
            if crs is None:
                raise CRSError(f"{source}: the layer has no CRS; give crs=... (e.g. 'EPSG:4326')")
            gdf = gdf.set_crs(crs)
        return gdf
    from geoprio.records.load import detect_column, parse_numbers

    df = io.read_table(path)
    cols = [str(c) for c in df.columns]
    x_col = x or detect_column(cols, "x", source=source)
    y_col = y or detect_column(cols, "y", source=source)
    assert x_col is not None and y_col is not None  # required=True raises otherwise
    for c in (x_col, y_col):
        if c not in df.columns:
            raise ColumnError(f"{source}: coordinate column {c!r} not found; columns found: {cols}")
    decimal = str(df.attrs.get("geoprio_read", {}).get("decimal", "."))
    xs, xmiss, xbad = parse_numbers(df[x_col], decimal)
    ys, ymiss, ybad = parse_numbers(df[y_col], decimal)
    bad = xmiss | ymiss | xbad | ybad
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        col = x_col if (xmiss | xbad)[i] else y_col
        raise InputError(f"{source}: row {i + 2}, column {col!r}: {df[col].iloc[i]!r} is not a coordinate")
    return gpd.GeoDataFrame(df, geometry=shapely.points(xs, ys), crs=crs or DEFAULT_POINT_CRS)


def load_places(
    path: str | os.PathLike[str] | PostgisSource | gpd.GeoDataFrame,
    *,
    type: str | None = None,
    type_value: str | None = None,
    name: str | None = None,
    id: str | None = None,
    radius_m: float | Mapping[str, float] = DEFAULT_RADIUS_M,
    default_radius_m: float = DEFAULT_RADIUS_M,
    types: list[str] | None = None,
    where: dict[str, Any] | None = None,
    layer: str | int | None = None,
    x: str | None = None,
    y: str | None = None,
    crs: str | None = None,
    metric_crs: str = DEFAULT_METRIC_CRS,
    source: str | None = None,
) -> Places:
    """Load a layer of places.

    Parameters
    ----------
    path
        A vector layer (GeoJSON, GeoPackage, shapefile, GeoParquet) of points, lines or
        polygons; a CSV/Excel table of points with ``x``/``y`` columns; a PostGIS table or
        query with a geometry column (``"postgresql://host/db?table=schema.name"`` or a
        :class:`~geoprio.io.postgis.PostgisSource`, read by
        :func:`geoprio.io.postgis.read_layer_source`, attributes as text); or a GeoDataFrame.
    type, type_value
        The column holding each place's type (e.g. ``tipo_estacion``), or one type for every
        place of a layer that has no such column (``type_value="colegio"``); one of the two is
        required, since radii, filters and maps are per type.
    name, id
        Columns with the display name and a unique id (row numbers ``1..n`` when omitted).
    radius_m
        Influence radius in metres from the feature's edge: one number, or a mapping
        type → radius (types not named get ``default_radius_m``).
    types
        Keep only places of these types.
    where
        Keep only features whose columns equal the given values (compared as text).
    crs
        CRS of a layer that declares none (a database geometry of SRID 0), or of a table's
        coordinates (EPSG:4326 by default).

    Raises
    ------
    ColumnError
        A named column (type, name, id, coordinates) is missing.
    ConfigError
        A radius is not a positive number, or names a type no place has.
    InputError
        Empty layer, empty geometry, empty or duplicate id (the message names the feature).
    """
    check_metric_crs(metric_crs)
    if (type is None) == (type_value is None):
        raise ConfigError("give the places' type column (type=...) or one type for all of them (type_value=...), exactly one of the two")
    if isinstance(path, gpd.GeoDataFrame):
        gdf, src = path.copy(), source or "<places>"
        if gdf.crs is None:
            if crs is None:
                raise CRSError(f"{src}: the layer has no CRS; give crs=... (e.g. 'EPSG:4326')")
            gdf = gdf.set_crs(crs)
    else:
        located = path_or_source(path, where=source or "places")  # a postgresql:// string names a database source
        src = source or located.name
        gdf = _read_places(located, layer=layer, x=x, y=y, crs=crs, source=src)
    report = ValidationReport(source=src, n_read=len(gdf), row_word="feature")
    present = [c for c in gdf.columns if c != gdf.geometry.name]
    for col, role in ((type, "type"), (name, "name"), (id, "id")):
        if col is not None and col not in gdf.columns:
            raise ColumnError(f"{src}: column {col!r} (place {role}) not found; columns found: {present}")
        if col is not None:
            report.columns[role] = col
    if where:
        from geoprio.records.load import where_mask

        gdf = gdf.loc[where_mask(gdf, where, source=src)]
    feature = gdf.index.to_numpy() + 1 if isinstance(gdf.index, pd.RangeIndex) else np.arange(len(gdf)) + 1
    if type is None:
        gdf = gdf.assign(_type=type_value)
        type = "_type"
    kinds = gdf[type].astype("string").str.strip()
    if kinds.isna().any():
        i = int(np.flatnonzero(kinds.isna().to_numpy())[0])
        raise InputError(f"{src}: feature {feature[i]}, column {type!r}: empty place type")
    if types is not None:
        unknown = sorted(set(types) - set(kinds))
        if unknown:
            raise ConfigError(f"{src}: types {unknown} not found in column {type!r}; types present: {sorted(kinds.unique())}")
        keep = kinds.isin(types).to_numpy()
        gdf, kinds, feature = gdf.loc[keep], kinds[keep], feature[keep]
    if len(gdf) == 0:
        raise InputError(f"{src}: no places to rank (the layer is empty or every feature was filtered out)")
    ids = gdf[id].astype("string").str.strip() if id else pd.Series(feature.astype(str), index=gdf.index, dtype="string")
    if ids.isna().any():
        i = int(np.flatnonzero(ids.isna().to_numpy())[0])
        raise InputError(f"{src}: feature {feature[i]}, column {id!r}: empty place id")
    dup = ids.duplicated(keep=False).to_numpy()
    if dup.any():
        first = ids[dup].iloc[0]
        where_dup = feature[(ids == first).to_numpy()]
        raise InputError(
            f"{src}: place id {first!r} in column {id!r} appears in features {', '.join(map(str, where_dup))}; ids must be unique"
        )
    geoms = np.asarray(gdf.geometry.to_crs(OUTPUT_CRS).values, dtype=object)
    empty = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    if empty.any():
        i = int(np.flatnonzero(empty)[0])
        raise InputError(f"{src}: feature {feature[i]} (id {ids.iloc[i]!r}) has no geometry")
    invalid = ~shapely.is_valid(geoms)
    if invalid.any():
        report.correct("repaired_geometry", feature[invalid], "geometry", [shapely.is_valid_reason(g) for g in geoms[invalid]])
        geoms = geoms.copy()
        geoms[invalid] = shapely.make_valid(geoms[invalid])
    names = gdf[name].astype("string").str.strip().fillna(ids) if name else ids
    frame = gpd.GeoDataFrame(
        {
            "place_id": ids.to_numpy(),
            "name": names.to_numpy(),
            "type": kinds.to_numpy(),
            "radius_m": _radii(kinds, radius_m, default_radius_m, src),
        },
        geometry=geoms,
        crs=OUTPUT_CRS,
    )
    report.n_read = len(frame)  # features after the where/types filters, which are choices, not drops
    report.settings.update({"where": where, "types": types} if where or types else {})
    return Places(frame=frame, metric_crs=metric_crs, report=report)


# --------------------------------------------------------------------------- incidents near places


def _metric_points(x: np.ndarray, y: np.ndarray, metric_crs: str) -> np.ndarray:
    tr = Transformer.from_crs(OUTPUT_CRS, metric_crs, always_xy=True)
    mx, my = tr.transform(np.asarray(x, dtype=float), np.asarray(y, dtype=float))
    return shapely.points(mx, my)


def _within(
    points: np.ndarray, geoms: np.ndarray, radii: np.ndarray, *, inner: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(point, geometry, distance) for every point within its geometry's radius (and beyond
    ``inner`` when given), one STRtree query per distinct radius.
    """
    pi, gi, dist = [], [], []
    for r in np.unique(radii):
        sel = np.flatnonzero(radii == r)
        tree = shapely.STRtree(geoms[sel])
        p, g = tree.query(points, predicate="dwithin", distance=float(r))
        g = sel[g]
        d = shapely.distance(points[p], geoms[g])
        ok = d <= radii[g]  # dwithin is inclusive; guard against its tolerance
        if inner is not None:
            ok &= d > inner[g]
        pi.append(p[ok])
        gi.append(g[ok])
        dist.append(d[ok])
    if not pi:
        return np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0)
    p, g, d = np.concatenate(pi), np.concatenate(gi), np.concatenate(dist)
    order = np.lexsort((g, p))
    return p[order].astype(np.int64), g[order].astype(np.int64), d[order]


def incident_pairs(places: Places, x: np.ndarray, y: np.ndarray, *, overlap: Overlap = "all") -> pd.DataFrame:
    """The incidents within each place's influence area.

    Parameters
    ----------
    places
        The places (radii included).
    x, y
        Incident longitudes and latitudes (EPSG:4326).
    overlap
        ``"all"``: an incident counts for every place it is near; ``"nearest"``: only for
        the closest one (ties: the place listed first).

    Returns
    -------
    DataFrame
        ``incident`` (position in ``x``/``y``), ``place`` (position in ``places``) and
        ``distance_m`` (to the feature's edge), sorted by incident then place.
    """
    if overlap not in ("all", "nearest"):
        raise ConfigError(f"overlap must be 'all' or 'nearest', got {overlap!r}")
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if x.shape != y.shape:
        raise InputError(f"x and y must have the same length, got {x.shape} and {y.shape}")
    pts = _metric_points(x, y, places.metric_crs)
    p, g, d = _within(pts, places.metric_geometry, places.frame["radius_m"].to_numpy(dtype=float))
    if overlap == "nearest" and len(p):
        order = np.lexsort((g, d, p))  # by incident, then distance, then place order
        p, g, d = p[order], g[order], d[order]
        first = np.r_[True, p[1:] != p[:-1]]
        p, g, d = p[first], g[first], d[first]
    return pd.DataFrame({"incident": p, "place": g, "distance_m": d})


@dataclass(frozen=True)
class Surroundings:
    """Density inside each influence area against a ring around it (see :func:`surroundings`)."""

    table: pd.DataFrame
    ring_width_m: float
    alpha: float


def surroundings(
    places: Places,
    x: np.ndarray,
    y: np.ndarray,
    weight: np.ndarray | None = None,
    *,
    ring_width_m: float = 200.0,
    alpha: float = 0.05,
    lang: str = "es",
) -> Surroundings:
    """Compare each place with its surroundings.

    The *inside* is the influence area (within ``radius_m``); the *ring* is the band from
    ``radius_m`` to ``radius_m + ring_width_m``. Every incident in the band counts for the
    ring whatever the overlap rule (the ring describes the area, not the place). With
    ``n_in`` and ``n_ring`` records and areas ``a_in`` and ``a_ring``, a place that merely
    reflects its area would hold each of the ``n = n_in + n_ring`` records with probability
    ``a_in / (a_in + a_ring)``; ``p_value`` is the one-sided binomial probability of ``n_in``
    or more. ``ratio`` is the weighted density inside over the weighted density in the ring.
    ``pattern`` says *atrae* (attracts: ratio > 1 and p < ``alpha``), *refleja su zona*
    (reflects its area) or *sin incidentes* (no incident inside or in the ring).
    """
    if not (np.isfinite(ring_width_m) and ring_width_m > 0):
        raise ConfigError(f"ring_width_m must be a positive number of metres, got {ring_width_m!r}")
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    w = np.ones(len(x)) if weight is None else np.asarray(weight, dtype=float)
    pts = _metric_points(x, y, places.metric_crs)
    r = places.frame["radius_m"].to_numpy(dtype=float)
    geoms = places.metric_geometry
    p_in, g_in, _ = _within(pts, geoms, r)
    p_ring, g_ring, _ = _within(pts, geoms, r + ring_width_m, inner=r)
    n = len(places)
    n_in = np.bincount(g_in, minlength=n)
    n_ring = np.bincount(g_ring, minlength=n)
    w_in = np.bincount(g_in, weights=w[p_in], minlength=n)
    w_ring = np.bincount(g_ring, weights=w[p_ring], minlength=n)
    a_in = shapely.area(places.influence_metric) / 1e6
    a_out = shapely.area(shapely.buffer(geoms, r + ring_width_m, quad_segs=_QUAD_SEGS)) / 1e6 - a_in
    d_in, d_ring = w_in / a_in, w_ring / a_out
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(d_ring > 0, d_in / d_ring, np.nan)
    total = n_in + n_ring
    p_value = np.where(total > 0, stats.binom.sf(n_in - 1, total, a_in / (a_in + a_out)), np.nan)
    names = [label("entornos", code, lang) for code in ("attracts", "reflects", "no_incidents")]
    attracts = (total > 0) & (p_value < alpha) & ((d_in > d_ring) | (d_ring == 0))
    pattern = np.where(total == 0, names[2], np.where(attracts, names[0], names[1]))
    table = pd.DataFrame(
        {
            "incidents_in": w_in,
            "records_in": n_in,
            "area_in_km2": a_in,
            "density_in_km2": d_in,
            "incidents_ring": w_ring,
            "records_ring": n_ring,
            "area_ring_km2": a_out,
            "density_ring_km2": d_ring,
            "ratio_ring": ratio,
            "p_value_ring": p_value,
            "pattern": pattern,
        },
        index=places.ids,
    )
    return Surroundings(table=table, ring_width_m=float(ring_width_m), alpha=float(alpha))
