"""The plan de despliegue on next period's forecast: a forecast surface turned into per-place demand.

A forecast surface (``pronostico_superficie.{geojson,gpkg,csv}`` of ``geoprio forecast
--surface``, :mod:`geoprio.hotspots.forecast_layer`) gives each grid cell ``expected``, the
incidents expected there in the next period. The deployment plan needs a ``(places, 168)``
array; this module builds it from the surface and the places' past hours:

* **Expected incidents of a place** (:func:`place_expected`): the sum over the cells its
  influence area meets of the cell's expected incidents times the share of the *cell's* area
  inside the influence area, ``E_p = Σ_c expected_c · area(A_p ∩ c) / area(c)`` (areas in the
  places' metric CRS). The expected incidents are taken as spread evenly over each cell. A
  place half inside one cell and wholly covering another gets half the first cell's expected
  incidents plus all of the second's. Influence areas are taken whole whatever the overlap
  rule, as with ``overlap = "all"``: a cell part under two places counts for both.
* **Weekly profile of a place** (:func:`shrunk_profiles`): its own past hour-of-week shares
  (the weighted incidents the plan uses without a forecast, :attr:`PlaceProfiles.week`),
  shrunk toward the city's profile by ``k`` pseudo-incidents (``k`` =
  :data:`PROFILE_PRIOR_INCIDENTS`, 10 by default):
  ``profile_p = (week_p + k · city) / (n_p + k)``, where ``week_p`` holds the place's weighted
  incidents per slot, ``n_p = Σ week_p`` and ``city`` the city's shares (the weighted incidents
  of every selected record with a known weekday and hour, per slot, over their total). A place
  with ``n_p`` incidents keeps ``n_p / (n_p + k)`` of its own profile: with 10 incidents, half;
  with none, the city's. Each profile sums to 1.
* The plan's input is ``E_p · profile_p``: the expected incidents spread over the week.

:func:`read_forecast_surface` reads the surface by its columns (``cell_id``, ``expected``;
``method``, ``backtest_pai``, ``backtest_gain`` when present) and, from the ``manifest.json``
beside it when there is one (kind ``geoprio.forecast_surface``), its horizon and period. The
CSV carries only each cell's centre, not its shape (cells at the edge of the study area are
clipped), so the cells' polygons come from the surface's GeoJSON or GeoPackage written beside
it (same name), matched by ``cell_id``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geoprio.entornos.places import Places
from geoprio.errors import InputError
from geoprio.io import files as io
from geoprio.settings import OUTPUT_CRS

__all__ = [
    "PROFILE_PRIOR_INCIDENTS",
    "ForecastSurfaceCells",
    "PlaceForecast",
    "forecast_values",
    "place_expected",
    "place_forecast",
    "read_forecast_surface",
    "shrunk_profiles",
]

#: Pseudo-incidents of the city's profile added to each place's (see :func:`shrunk_profiles`).
PROFILE_PRIOR_INCIDENTS = 10.0

SURFACE_KIND = "geoprio.forecast_surface"  # the manifest kind of a forecast surface (geoprio.hotspots.forecast_layer)
_VECTOR_SUFFIXES = (".geojson", ".gpkg", ".parquet", ".json", ".shp", ".fgb")
_TABLE_SUFFIXES = (".csv", ".csv.gz", ".tsv", ".txt", ".xlsx", ".xls")
_NEED = ("cell_id", "expected")


# --------------------------------------------------------------------------- the numeric core


def shrunk_profiles(week: np.ndarray, city: np.ndarray, *, prior_incidents: float = PROFILE_PRIOR_INCIDENTS) -> np.ndarray:
    """Per-place hour-of-week shares shrunk toward the city's.

    ``profile_p = (week_p + k · city_share) / (n_p + k)`` with ``k = prior_incidents``,
    ``n_p = Σ week_p`` and ``city_share = city / Σ city`` (uniform, 1/168 each, when the city
    has no incident with a known hour). Rows sum to 1; a place with no incidents gets the
    city's shares.

    Parameters
    ----------
    week
        ``(places, 168)`` weighted incidents per weekly slot (``24 · weekday + hour``).
    city
        ``(168,)`` the city's weighted incidents per slot.
    prior_incidents
        ``k``, the weight of the city's profile in pseudo-incidents (> 0).
    """
    w = np.atleast_2d(np.asarray(week, dtype=float))
    c = np.asarray(city, dtype=float)
    if w.shape[1] != 168 or c.shape != (168,):
        raise InputError(f"profiles must have 168 weekly slots: got week {w.shape} and city {c.shape}")
    if not (np.isfinite(prior_incidents) and prior_incidents > 0):
        raise InputError(f"prior_incidents must be a positive number of pseudo-incidents, got {prior_incidents!r}")
    total = c.sum()
    share = c / total if total > 0 else np.full(168, 1 / 168)
    n = w.sum(axis=1, keepdims=True)
    return (w + prior_incidents * share[None, :]) / (n + prior_incidents)


def forecast_values(expected: np.ndarray, profiles: np.ndarray) -> np.ndarray:
    """The plan's ``(places, 168)`` input: each place's expected incidents spread over its weekly profile."""
    return np.asarray(expected, dtype=float)[:, None] * np.asarray(profiles, dtype=float)


def place_expected(influence: np.ndarray, cells: np.ndarray, expected: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Expected incidents per influence area from cells, by the share of each cell's area inside it.

    ``E_p = Σ_c expected_c · area(A_p ∩ c) / area(c)``: the cell's expected incidents taken as
    spread evenly over it. All geometries in one metric CRS.

    Returns
    -------
    expected, covered
        Per influence area, its expected incidents and the share of its area inside some cell
        (1 when the surface covers it wholly, 0 when no cell meets it).
    """
    infl = np.asarray(influence, dtype=object)
    cg = np.asarray(cells, dtype=object)
    e = np.asarray(expected, dtype=float)
    tree = shapely.STRtree(cg)
    p, c = tree.query(infl, predicate="intersects")
    inter = shapely.area(shapely.intersection(infl[p], cg[c]))
    cell_area = shapely.area(cg)
    with np.errstate(divide="ignore", invalid="ignore"):
        frac = np.where(cell_area[c] > 0, inter / cell_area[c], 0.0)
    out = np.bincount(p, weights=e[c] * frac, minlength=len(infl))
    inside = np.bincount(p, weights=inter, minlength=len(infl))
    area = shapely.area(infl)
    covered = np.clip(np.where(area > 0, inside / np.where(area > 0, area, 1.0), 0.0), 0.0, 1.0)
    return out, covered


# --------------------------------------------------------------------------- the surface files


@dataclass(frozen=True)
class ForecastSurfaceCells:
    """A forecast surface as read from its files: ``cells`` (EPSG:4326, ``cell_id``,
    ``expected``, polygons), what it says of itself (``method``, ``backtest_pai``,
    ``backtest_gain`` from its columns; ``horizon``, ``period_start``, ``period_end`` and the
    backtest score from its manifest, None where absent) and the files read.
    """

    cells: gpd.GeoDataFrame
    path: Path
    meta: dict[str, Any]
    files: tuple[Path, ...] = field(default=())


def _one_value(frame: pd.DataFrame, col: str) -> Any:
    if col not in frame.columns:
        return None
    vals = frame[col].dropna().unique()
    if len(vals) == 0:
        return None
    v = vals[0]
    if isinstance(v, str):
        try:
            return float(v) if col != "method" else v
        except ValueError:
            return v
    return v.item() if isinstance(v, np.generic) else v


def _manifest_beside(path: Path) -> tuple[dict[str, Any] | None, Path | None]:
    m = path.parent / "manifest.json"
    if not m.is_file():
        return None, None
    try:
        doc = json.loads(m.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None, None
    if not isinstance(doc, dict) or doc.get("kind") != SURFACE_KIND:
        return None, None
    names = {Path(str(o.get("path", o) if isinstance(o, dict) else o)).name for o in doc.get("outputs", [])}
    if names and path.name not in names:  # the manifest of another run in the same folder
        return None, None
    return doc, m


def _stem(path: Path) -> str:
    name = path.name
    for s in (".csv.gz", *_TABLE_SUFFIXES):
        if name.lower().endswith(s):
            return name[: -len(s)]
    return path.stem


def _polygons_beside(path: Path) -> tuple[gpd.GeoDataFrame, Path]:
    stem = _stem(path)
    for suffix in (".geojson", ".gpkg", ".parquet"):
        cand = path.with_name(stem + suffix)
        if cand.is_file():
            return io.read_layer(cand), cand
    raise InputError(
        f"{path}: a forecast surface CSV carries each cell's centre (lon, lat), not its shape; "
        f"give the surface's GeoJSON ({stem}.geojson, written beside it by geoprio forecast --surface) or keep it beside the CSV"
    )


def read_forecast_surface(path: str | Path) -> ForecastSurfaceCells:
    """Read a forecast surface (GeoJSON, GeoPackage or GeoParquet; or its CSV with one of those beside it).

    Raises
    ------
    InputError
        The file is missing or is not a forecast surface (no ``cell_id``/``expected``
        columns), its ``expected`` values are not numbers ≥ 0, it has no CRS or no polygon
        cells, or a CSV has no layer beside it to give the cells' shape.
    """
    p = Path(path)
    if not p.is_file():
        raise InputError(f"{p}: forecast surface not found")
    files = [p]
    is_table = p.name.lower().endswith(_TABLE_SUFFIXES)
    if is_table:
        table = io.read_table(p)
        layer, layer_path = _polygons_beside(p)
        files.append(layer_path)
    else:
        layer = io.read_layer(p)
        table = layer
    missing = [c for c in _NEED if c not in table.columns]
    if missing:
        raise InputError(
            f"{p}: not a forecast surface (geoprio forecast --surface writes pronostico_superficie.geojson/.csv); "
            f"missing column(s) {missing}, found {[str(c) for c in table.columns if c != 'geometry']}"
        )
    e = pd.to_numeric(table["expected"], errors="coerce").to_numpy(dtype=float)
    bad = np.flatnonzero(~np.isfinite(e) | (e < 0))
    if len(bad) and "suppressed" in table.columns:  # the same words as geoprio.placement.sites.forecast_demand
        raise InputError(
            f"{p}: a public release of a forecast surface (geoprio forecast --public): its {len(bad):,} suppressed "
            "cells have no expected value, so it cannot be a plan's demand; plan on the full surface (without --public)"
        )
    if len(bad):
        raise InputError(f"{p}: row {int(bad[0]) + 2}, column 'expected': {table['expected'].iloc[bad[0]]!r} is not a number ≥ 0")
    ids = table["cell_id"].astype(str).to_numpy()
    if len(set(ids)) != len(ids):
        raise InputError(f"{p}: column 'cell_id' repeats cells; a forecast surface has one row per cell")
    if layer.crs is None:
        raise InputError(f"{files[-1]}: the surface layer has no CRS (geoprio writes it in EPSG:4326)")
    if is_table:
        if "cell_id" not in layer.columns:
            raise InputError(f"{files[-1]}: the layer beside {p.name} has no 'cell_id' column to match its cells")
        geom = layer.set_index(layer["cell_id"].astype(str)).geometry
        absent = [c for c in ids if c not in geom.index]
        if absent:
            raise InputError(f"{p}: cells {absent[:5]} are not in {files[-1].name} (a layer of another surface?)")
        geometry = geom.reindex(ids).to_crs(OUTPUT_CRS).to_numpy()
    else:
        geometry = layer.geometry.to_crs(OUTPUT_CRS).to_numpy()
    kinds = set(shapely.get_type_id(np.asarray(geometry, dtype=object)).tolist())
    if not kinds <= {3, 6}:  # Polygon, MultiPolygon
        raise InputError(f"{files[-1]}: forecast cells must be polygons, got geometry types {sorted(kinds)} (shapely type ids)")
    cells = gpd.GeoDataFrame({"cell_id": ids, "expected": e}, geometry=geometry, crs=OUTPUT_CRS)
    lo_x, lo_y, hi_x, hi_y = cells.total_bounds
    if not (np.isfinite([lo_x, lo_y, hi_x, hi_y]).all() and -180 <= lo_x <= hi_x <= 180 and -90 <= lo_y <= hi_y <= 90):
        raise InputError(
            f"{files[-1]}: the cells' coordinates {np.round(cells.total_bounds, 1).tolist()} are not longitudes and latitudes "
            f"once in EPSG:4326: the layer's CRS ({layer.crs.to_string()}) does not match its coordinates"
        )
    meta: dict[str, Any] = {
        "file": p.name,
        "method": _one_value(table, "method"),
        "backtest_pai": _one_value(table, "backtest_pai"),
        "backtest_gain": _one_value(table, "backtest_gain"),
        "horizon": None,
        "period_start": None,
        "period_end": None,
        "cells": int(len(cells)),
        "expected_total": round(float(e.sum()), 6),
    }
    doc, mpath = _manifest_beside(p)
    if doc is not None and mpath is not None:
        notes = doc.get("notes") or {}
        meta.update({k: notes.get(k) for k in ("horizon", "period_start", "period_end")})
        if notes.get("backtest") is not None:
            meta["backtest"] = notes["backtest"]
        meta["method"] = meta["method"] or notes.get("method")
        files.append(mpath)
    return ForecastSurfaceCells(cells=cells, path=p, meta=meta, files=tuple(files))


# --------------------------------------------------------------------------- places on a surface


@dataclass(frozen=True)
class PlaceForecast:
    """Per place (the places' order): ``expected`` incidents next period, ``covered`` (share of
    the influence area inside the surface), the weekly ``profiles`` (rows sum to 1), the plan's
    ``values`` (``expected × profile``), and the surface's ``meta``.
    """

    place_ids: pd.Index
    expected: np.ndarray
    covered: np.ndarray
    profiles: np.ndarray
    values: np.ndarray
    meta: dict[str, Any]
    files: tuple[Path, ...] = ()
    prior_incidents: float = PROFILE_PRIOR_INCIDENTS

    def summary(self) -> dict[str, Any]:
        """What the outputs and the manifest record of the forecast demand (plain data)."""
        outside = self.place_ids[self.covered <= 0].astype(str).tolist()
        partial = self.place_ids[(self.covered > 0) & (self.covered < 1 - 1e-9)].astype(str).tolist()
        return {
            **self.meta,
            "rule": "expected incidents of the cells under each influence area, by area share; "
            f"weekly profile: the place's past shares shrunk toward the city's by {self.prior_incidents:g} pseudo-incidents",
            "prior_incidents": self.prior_incidents,
            "places_expected_total": round(float(self.expected.sum()), 6),
            "places_outside_surface": outside,
            "places_partly_outside_surface": partial,
        }


def place_forecast(
    places: Places,
    surface: ForecastSurfaceCells,
    week: np.ndarray,
    city: np.ndarray,
    *,
    prior_incidents: float = PROFILE_PRIOR_INCIDENTS,
    data_to: pd.Timestamp | None = None,
) -> PlaceForecast:
    """Each place's expected incidents next period and its weekly profile (see the module docstring).

    ``week`` is the places' ``(places, 168)`` past weighted incidents, ``city`` the city's
    ``(168,)``; ``data_to`` the last day of the incidents, checked against the surface's period.

    Raises
    ------
    InputError
        No cell of the surface meets any influence area (a surface of another city, or in the
        wrong CRS), or the surface forecasts a period the incidents already cover.
    """
    src = surface.path
    cells_m = np.asarray(surface.cells.geometry.to_crs(places.metric_crs).values, dtype=object)
    expected, covered = place_expected(places.influence_metric, cells_m, surface.cells["expected"].to_numpy())
    if not (covered > 0).any():
        sb = np.round(surface.cells.total_bounds, 4).tolist()
        pb = np.round(places.frame.total_bounds, 4).tolist()
        raise InputError(
            f"{src}: no cell of the forecast surface meets any place's influence area (surface bounds {sb}, "
            f"places bounds {pb}, lon/lat): a surface of another city, of other data or in a wrong CRS? Make it from the same incidents "
            "(geoprio forecast … --surface)"
        )
    end = surface.meta.get("period_end")
    if data_to is not None and end:
        last = pd.Timestamp(data_to).normalize()
        if pd.Timestamp(end) <= last:
            raise InputError(
                f"{src}: the surface forecasts {surface.meta.get('period_start')} to {end} (end excluded), a period the "
                f"incidents already cover (they run to {last.date()}); the plan needs next period's forecast, made from "
                "the same incidents (geoprio forecast … --surface)"
            )
    profiles = shrunk_profiles(week, city, prior_incidents=prior_incidents)
    return PlaceForecast(
        place_ids=places.ids,
        expected=expected,
        covered=covered,
        profiles=profiles,
        values=forecast_values(expected, profiles),
        meta=dict(surface.meta),
        files=surface.files,
        prior_incidents=float(prior_incidents),
    )
