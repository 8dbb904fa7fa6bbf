"""Folium maps of geoprio's outputs: the index, hot spots, density and placement plans.

This is the only module of geoprio that knows Folium (and Leaflet's ``[lat, lon]`` order).
It draws what the other commands computed and never computes an analysis itself:

* :func:`add_index_layer` — the index choropleth of one zone level (coloured by tier, or by
  index value), tooltips with name, index, rank, tier, the 5–95 % rank interval, the
  ``drivers`` text and ``†`` for small denominators (dashed outline);
  :func:`add_parent_outline` — the boundaries of the enclosing level;
* :func:`add_cluster_layer` — hot-spot clusters (polygons); :func:`add_gistar_layer` — Gi*
  cells classed hot/cold at 90/95/99 %; :func:`add_density_layer` — grid cells coloured by
  their kernel density;
* :func:`add_plan_layer` — a camera or garita plan: new sites with coverage circles of
  ``radius_m``, existing facilities in grey, the coverage curve as a small chart;
  :func:`add_facilities_layer` — existing facilities alone;
* :func:`add_tracking_layer` — plan tracking (``geoprio indicators``'s
  ``seguimiento_zonas.geojson``): zones coloured by capped progress towards their target
  (red far from it, green met, grey without data), one layer per indicator, popups with the
  actual value, target, capped and uncapped progress and baseline;
* :func:`build_map` puts them on a map with a light basemap (CARTO Positron) and
  OpenStreetMap, a layer control, legends that follow their layers, zone search, fullscreen,
  measure and a metric scale; :func:`write_map` writes the HTML and its manifest.

Labels are Spanish by default and English with ``lang="en"`` (:data:`LABELS`).

**Light pages.** Only aggregates are drawn (zones, clusters, cells, sites), never incident
points. Polygons are simplified in a metric CRS (EPSG:9377 by default) with a tolerance in
metres — zone layers with :func:`shapely.coverage_simplify`, so neighbouring zones keep one
shared border (no gaps or slivers) — then coordinates are rounded (5 decimals ≈ 1 m). Above
``max_cells`` cells a cell layer is dissolved into one polygon per class. A map of a
million incidents aggregated to a city grid stays well under 5 MB (``tests/test_maps.py``).

**Offline pages.** Folium loads Leaflet, jQuery and the plugins from CDNs. geoprio ships
copies from the npm registry (``geoprio/resources/web``, see its README and
``scripts/vendor_web_assets.py``) and :func:`render_html` rewrites every CDN address to them:
``assets="folder"`` (default) copies them into an ``assets/`` folder beside the HTML and
links them relatively; ``assets="inline"`` embeds them (one self-contained file, images as
``data:`` URIs); ``assets="cdn"`` keeps folium's links. Folium's defaults that the maps do
not use (Bootstrap, Font Awesome, glyphicons, awesome-markers) are left out of the page.
Only the basemap tiles come from the network; ``tiles="none"`` draws no basemap and a tile
URL template (``https://tiles.intranet/{z}/{x}/{y}.png``) uses a local tile server.

Expected columns (EPSG:4326 or any CRS set on the frame), as ``geoprio index``,
``geoprio hotspots`` and ``geoprio plan`` write them; alternatives in brackets:

==============  ==========================================================================
index           ``zone_id``, ``name``, ``index``, ``rank``, ``tier``; optional ``level``,
                ``parent_id``, ``parent_name``, ``rank_p05``, ``rank_p95``, ``p_top_<k>``,
                ``drivers``, ``small_denominator``, ``excluded``
clusters        polygons: ``cluster_id``; optional ``complexity_rank`` [``rank``],
                ``complexity`` [``score``], ``complexity_tier``, ``incidents``,
                ``density_km2`` [``density``], ``area_km2``, ``top_categories``,
                ``peak_hours``, ``drivers``
cells           polygons: ``gi_bin`` (−3…3) [``gi_class``: ``hot_99`` … ``none`` or
                geoprio's readable ``caliente 99 %``], ``gi_z``, ``gi_p``, ``gi_q``,
                ``incidents``, ``trend_class``; ``kde_km2`` [``kde``] for the density layer
plan sites      points; optional ``rank``, ``site_id``, ``estado`` (``nueva``/``existente``)
                [``existing`` bool], ``marginal_share`` [``marginal_gain``],
                ``cumulative_share`` (0–1), ``radius_m``
coverage curve  table: ``n_sites``, ``covered_share`` (0–1)
stretches       lines (garitas: the shore each one covers): ``site_id``, ``estado``
tracking        polygons: ``indicator``, ``zone_id``, ``progress_capped`` (0–1); optional
                ``label``, ``name``, ``year``, ``unit``, ``per``, ``scope``, ``actual``,
                ``target``, ``baseline``, ``progress``, ``count``, ``share_of_shortfall``
==============  ==========================================================================
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import math
import posixpath
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import folium
import folium.plugins
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from branca.element import Figure, MacroElement
from jinja2 import Template

from geoprio.errors import ColumnError, CRSError, InputError
from geoprio.io import files as io
from geoprio.settings import DEFAULT_METRIC_CRS

__all__ = [
    "ASSETS_DIR",
    "DEFAULT_DECIMALS",
    "DEFAULT_MAX_CELLS",
    "DEFAULT_TOLERANCE_M",
    "DEMO_FILES",
    "DENSITY_COLUMNS",
    "GI_CLASSES",
    "LABELS",
    "LayerInfo",
    "PROGRESS_CLASSES",
    "MapOutput",
    "MapResult",
    "add_cluster_layer",
    "add_density_layer",
    "add_facilities_layer",
    "add_gistar_layer",
    "add_index_layer",
    "add_parent_outline",
    "add_plan_layer",
    "add_tracking_layer",
    "add_entornos_layer",
    "build_map",
    "demo_maps",
    "finish_map",
    "format_size",
    "map_from_files",
    "new_map",
    "progress_color",
    "render_html",
    "round_coordinates",
    "simplify_m",
    "write_map",
]

Lang = Literal["es", "en"]
AssetMode = Literal["folder", "inline", "cdn"]
ColorBy = Literal["tier", "index"]
PlanKind = Literal["cameras", "garitas"]

#: Simplification tolerance of polygons, metres.
DEFAULT_TOLERANCE_M = 10.0
#: Decimals kept in longitudes and latitudes (5 ≈ 1.1 m).
DEFAULT_DECIMALS = 5
#: Above this many cells a cell layer is drawn as one polygon per class.
DEFAULT_MAX_CELLS = 5000
#: Folder of the copied web assets, beside the HTML.
ASSETS_DIR = "assets"

# --------------------------------------------------------------------------- labels

#: Everything a map shows in words, per language.
LABELS: dict[str, dict[str, str]] = {
    "es": {
        "title_index": "Índice de priorización — {level}",
        "title_hotspots": "Puntos calientes de incidentes",
        "title_plan_cameras": "Plan de cámaras",
        "title_plan_garitas": "Plan de garitas",
        "title_map": "Mapa de geoprio",
        "basemap_light": "Mapa claro (OpenStreetMap en gris)",
        "basemap_positron": "Mapa claro (CARTO Positron)",
        "basemap_osm": "OpenStreetMap",
        "basemap_custom": "Mapa base",
        "index_layer": "Índice de priorización — {level}",
        "parent_layer": "Límites del nivel superior",
        "clusters_layer": "Puntos calientes (clústeres)",
        "gistar_layer": "Puntos calientes y fríos (Gi*)",
        "density_layer": "Densidad de incidentes",
        "new_cameras": "Cámaras propuestas",
        "new_garitas": "Garitas propuestas",
        "existing_cameras": "Cámaras existentes",
        "existing_garitas": "Garitas existentes",
        "site_new_cameras": "Cámara propuesta n.º {rank}",
        "site_new_garitas": "Garita propuesta n.º {rank}",
        "site_existing_cameras": "Cámara existente",
        "site_existing_garitas": "Garita existente",
        "zone": "Zona",
        "zones": "zonas",
        "zone_id": "Código",
        "parent": "Nivel superior",
        "index": "Índice (0–100)",
        "rank": "Posición",
        "tier": "Prioridad",
        "interval": "Rango 5–95 %",
        "p_top": "P(top {k})",
        "drivers": "Principales factores",
        "no_index": "sin índice",
        "small_note": "† denominador pequeño (borde punteado)",
        "legend_index": "Índice de priorización",
        "cluster": "Punto caliente",
        "score": "Puntaje de complejidad",
        "incidents": "Incidentes",
        "density_km2": "Densidad (por km²)",
        "area_km2": "Área (km²)",
        "top_categories": "Principales delitos",
        "peak_hours": "Horas pico",
        "gi_class": "Clase",
        "gi_z": "z de Gi*",
        "gi_p": "Valor p",
        "gi_q": "Valor p ajustado (FDR)",
        "trend": "Tendencia",
        "gi_hot_99": "Caliente, 99 % de confianza",
        "gi_hot_95": "Caliente, 95 % de confianza",
        "gi_hot_90": "Caliente, 90 % de confianza",
        "gi_cold_90": "Frío, 90 % de confianza",
        "gi_cold_95": "Frío, 95 % de confianza",
        "gi_cold_99": "Frío, 99 % de confianza",
        "density": "Densidad",
        "density_unit": "incidentes por km²",
        "cells": "Celdas",
        "site": "Sitio",
        "marginal_gain": "Ganancia marginal",
        "cumulative_share": "Cobertura acumulada",
        "radius_m": "Radio de cobertura",
        "curve_title": "Curva de cobertura — {what}",
        "curve_x": "sitios nuevos",
        "curve_y": "cobertura",
        "cameras": "cámaras",
        "garitas": "garitas",
        "search": "Buscar zona…",
        "not_found": "Zona no encontrada",
        "cancel": "Cancelar",
        "fullscreen": "Pantalla completa",
        "fullscreen_exit": "Salir de pantalla completa",
        "title_tracking": "Seguimiento del plan",
        "tracking_layer": "Seguimiento {year} — {indicator}",
        "title_entornos": "Entornos priorizados",
        "entornos_layer": "Entornos priorizados — área de influencia",
        "entornos_legend": "Índice del entorno (0–100)",
        "place": "Lugar",
        "place_type": "Tipo",
        "radius": "Radio (m)",
        "weighted_incidents": "Incidentes ponderados",
        "surroundings": "Frente a su entorno",
        "peak_hours_label": "Horas pico",
        "hour_profile": "Incidentes por hora del día",
        "peak_note": "En rojo, las horas pico",
        "legend_tracking": "Avance hacia la meta {year} — {indicator}",
        "progress_met": "Meta cumplida (100 %)",
        "progress_far": "0–25 % (lejos de la meta)",
        "no_data": "Sin datos",
        "zones_met": "{met} de {n} zonas cumplen la meta",
        "tracking_note": "Avance con tope (0–100 %); en un año incompleto el observado está anualizado.",
        "breakdown_note": "Indicador de ciudad: cada zona frente a la meta de la ciudad repartida en proporción a su línea base.",
        "indicator": "Indicador",
        "actual": "Observado {year}",
        "target": "Meta {year}",
        "baseline": "Línea base",
        "progress_capped": "Avance",
        "progress_uncapped": "Avance sin tope",
        "count": "Casos {year}",
        "unit": "Unidad",
        "unit_count": "casos",
        "unit_rate": "tasa por {per} habitantes",
        "unit_rate_plain": "tasa",
        "unit_share": "porcentaje (%)",
        "target_kind": "Meta de referencia",
        "scope_breakdown": "meta de la ciudad, proporcional a la línea base de la zona",
        "scope_zone": "meta propia de la zona",
        "share_of_shortfall": "Parte del rezago de la ciudad",
    },
    "en": {
        "title_index": "Prioritization index — {level}",
        "title_hotspots": "Incident hot spots",
        "title_plan_cameras": "Camera plan",
        "title_plan_garitas": "Garita (police post) plan",
        "title_map": "geoprio map",
        "basemap_light": "Light map (OpenStreetMap in grey)",
        "basemap_positron": "Light map (CARTO Positron)",
        "basemap_osm": "OpenStreetMap",
        "basemap_custom": "Basemap",
        "index_layer": "Prioritization index — {level}",
        "parent_layer": "Parent-level boundaries",
        "clusters_layer": "Hot spots (clusters)",
        "gistar_layer": "Hot and cold spots (Gi*)",
        "density_layer": "Incident density",
        "new_cameras": "Proposed cameras",
        "new_garitas": "Proposed garitas",
        "existing_cameras": "Existing cameras",
        "existing_garitas": "Existing garitas",
        "site_new_cameras": "Proposed camera no. {rank}",
        "site_new_garitas": "Proposed garita no. {rank}",
        "site_existing_cameras": "Existing camera",
        "site_existing_garitas": "Existing garita",
        "zone": "Zone",
        "zones": "zones",
        "zone_id": "Code",
        "parent": "Parent",
        "index": "Index (0–100)",
        "rank": "Rank",
        "tier": "Priority",
        "interval": "Rank 5–95 %",
        "p_top": "P(top {k})",
        "drivers": "Main drivers",
        "no_index": "no index",
        "small_note": "† small denominator (dashed outline)",
        "legend_index": "Prioritization index",
        "cluster": "Hot spot",
        "score": "Complexity score",
        "incidents": "Incidents",
        "density_km2": "Density (per km²)",
        "area_km2": "Area (km²)",
        "top_categories": "Main crimes",
        "peak_hours": "Peak hours",
        "gi_class": "Class",
        "gi_z": "Gi* z-score",
        "gi_p": "p-value",
        "gi_q": "Adjusted p-value (FDR)",
        "trend": "Trend",
        "gi_hot_99": "Hot, 99 % confidence",
        "gi_hot_95": "Hot, 95 % confidence",
        "gi_hot_90": "Hot, 90 % confidence",
        "gi_cold_90": "Cold, 90 % confidence",
        "gi_cold_95": "Cold, 95 % confidence",
        "gi_cold_99": "Cold, 99 % confidence",
        "density": "Density",
        "density_unit": "incidents per km²",
        "cells": "Cells",
        "site": "Site",
        "marginal_gain": "Marginal gain",
        "cumulative_share": "Cumulative coverage",
        "radius_m": "Coverage radius",
        "curve_title": "Coverage curve — {what}",
        "curve_x": "new sites",
        "curve_y": "coverage",
        "cameras": "cameras",
        "garitas": "garitas",
        "search": "Search zone…",
        "not_found": "Zone not found",
        "cancel": "Cancel",
        "fullscreen": "Full screen",
        "fullscreen_exit": "Exit full screen",
        "title_tracking": "Plan tracking",
        "tracking_layer": "Plan tracking {year} — {indicator}",
        "title_entornos": "Priority places",
        "entornos_layer": "Priority places — influence area",
        "entornos_legend": "Place index (0–100)",
        "place": "Place",
        "place_type": "Type",
        "radius": "Radius (m)",
        "weighted_incidents": "Weighted incidents",
        "surroundings": "Against its surroundings",
        "peak_hours_label": "Peak hours",
        "hour_profile": "Incidents by hour of day",
        "peak_note": "Peak hours in red",
        "legend_tracking": "Progress towards the target {year} — {indicator}",
        "progress_met": "Target met (100 %)",
        "progress_far": "0–25 % (far from the target)",
        "no_data": "No data",
        "zones_met": "{met} of {n} zones meet the target",
        "tracking_note": "Capped progress (0–100 %); in a partial year the actual is annualized.",
        "breakdown_note": "City indicator: each zone against the city target scaled to the zone's baseline.",
        "indicator": "Indicator",
        "actual": "Actual {year}",
        "target": "Target {year}",
        "baseline": "Baseline",
        "progress_capped": "Progress",
        "progress_uncapped": "Uncapped progress",
        "count": "Cases {year}",
        "unit": "Unit",
        "unit_count": "cases",
        "unit_rate": "rate per {per} residents",
        "unit_rate_plain": "rate",
        "unit_share": "percentage (%)",
        "target_kind": "Reference target",
        "scope_breakdown": "the city target, scaled to the zone's baseline",
        "scope_zone": "the zone's own target",
        "share_of_shortfall": "Share of the city's shortfall",
    },
}

# ColorBrewer palettes (colorbrewer2.org): YlOrRd for priority and density, RdBu for Gi*.
_TIER_COLORS = {
    2: ["#ffeda0", "#f03b20"],
    3: ["#ffeda0", "#feb24c", "#f03b20"],
    4: ["#ffffb2", "#fecc5c", "#fd8d3c", "#e31a1c"],
    5: ["#ffffb2", "#fecc5c", "#fd8d3c", "#f03b20", "#bd0026"],
}
_INDEX_STOPS = ["#ffffcc", "#ffeda0", "#fed976", "#feb24c", "#fd8d3c", "#fc4e2a", "#e31a1c", "#bd0026", "#800026"]
_DENSITY_COLORS = ["#ffffb2", "#fed976", "#feb24c", "#fd8d3c", "#fc4e2a", "#e31a1c", "#b10026"]
#: Columns read as the kernel density of cells (per km²), first found wins.
DENSITY_COLUMNS = ("kde_km2", "kde")
GI_CLASSES = ("hot_99", "hot_95", "hot_90", "cold_90", "cold_95", "cold_99")
_GI_COLORS = {
    "hot_99": "#b2182b",
    "hot_95": "#ef8a62",
    "hot_90": "#fddbc7",
    "cold_90": "#d1e5f0",
    "cold_95": "#67a9cf",
    "cold_99": "#2166ac",
}
_GI_BINS = {3: "hot_99", 2: "hot_95", 1: "hot_90", 0: "none", -1: "cold_90", -2: "cold_95", -3: "cold_99"}
_NO_DATA = "#bdbdbd"
#: Classes of capped progress towards a target: ``(lower bound, colour)``, met first
#: (ColorBrewer RdYlGn, 5 classes: red far from the target, green met).
PROGRESS_CLASSES: tuple[tuple[float, str], ...] = (
    (1.0, "#1a9641"),
    (0.75, "#a6d96a"),
    (0.5, "#ffffbf"),
    (0.25, "#fdae61"),
    (0.0, "#d7191c"),
)
_PLAN_COLORS = {"cameras": "#1f78b4", "garitas": "#6a3d9a"}
_EXISTING_COLOR = "#525252"

_CSS = """
.geoprio-panel{background:rgba(255,255,255,.93);padding:6px 9px;border-radius:5px;box-shadow:0 1px 5px rgba(0,0,0,.35);
 font:12px/1.35 system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;color:#222;max-width:290px}
.geoprio-panel h4{margin:0 0 4px;font-size:12.5px;font-weight:600}
.geoprio-panel .row{display:flex;align-items:center;margin:1px 0}
.geoprio-panel .sw{width:16px;height:12px;margin-right:6px;border:1px solid #777;flex:none}
.geoprio-panel .ring{border-radius:50%}
.geoprio-panel .grad{height:10px;border:1px solid #777;margin:2px 0}
.geoprio-panel .ticks{display:flex;justify-content:space-between;font-size:11px}
.geoprio-panel .note{margin-top:3px;font-size:11px;color:#444}
.geoprio-light{filter:grayscale(1) brightness(1.12) contrast(.82)}
.geoprio-title{position:absolute;top:10px;left:50%;transform:translateX(-50%);z-index:800;pointer-events:none;
 background:rgba(255,255,255,.9);padding:4px 12px;border-radius:5px;box-shadow:0 1px 5px rgba(0,0,0,.3);
 font:600 14px system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;color:#222;white-space:nowrap}
.foliumtooltip{font:12px/1.35 system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;max-width:340px;white-space:normal}
.foliumtooltip table{border-collapse:collapse}.foliumtooltip th{text-align:left;padding-right:8px;vertical-align:top;font-weight:600}
.foliumpopup{font:12px/1.35 system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;max-width:360px}
.foliumpopup table{border-collapse:collapse}.foliumpopup th{text-align:left;padding-right:8px;vertical-align:top;font-weight:600}
"""


def _labels(lang: str) -> dict[str, str]:
    if lang not in LABELS:
        raise InputError(f"lang must be 'es' or 'en', got {lang!r}")
    return LABELS[lang]


# --------------------------------------------------------------------------- formatting


def _num(x: Any, digits: int = 1) -> str:
    try:
        v = float(x)
    except (TypeError, ValueError):
        return "—"
    if not math.isfinite(v):
        return "—"
    return f"{v:,.{digits}f}"


def _pct(x: Any, digits: int = 1) -> str:
    s = _num(100 * float(x) if _finite(x) else None, digits)
    return s if s == "—" else f"{s} %"


def _finite(x: Any) -> bool:
    try:
        return math.isfinite(float(x))
    except (TypeError, ValueError):
        return False


def _int(x: Any) -> str:
    return str(int(round(float(x)))) if _finite(x) else "—"


def _text(x: Any) -> str:
    """Escaped text for tooltips (they are inserted as HTML)."""
    if x is None or (isinstance(x, float) and math.isnan(x)) or x is pd.NA:
        return ""
    return html.escape(str(x))


def format_size(n_bytes: int) -> str:
    """``1,234,567`` → ``"1.23 MB"`` (decimal units)."""
    for unit, size in (("MB", 1e6), ("kB", 1e3)):
        if n_bytes >= size:
            return f"{n_bytes / size:.2f} {unit}"
    return f"{n_bytes} B"


# --------------------------------------------------------------------------- geometry


def _name(frame: Any, role: str) -> str:
    """How errors name a layer: its file (``attrs["source"]``, set when read from disk) and role."""
    src = getattr(frame, "attrs", {}).get("source")
    return f"{src} ({role})" if src else role


def _check_frame(frame: gpd.GeoDataFrame, name: str, *, geom_types: tuple[str, ...]) -> gpd.GeoDataFrame:
    if not isinstance(frame, gpd.GeoDataFrame):
        raise InputError(f"{name}: expected a GeoDataFrame, got {type(frame).__name__}")
    source = frame.attrs.get("source")
    name = _name(frame, name)
    if frame.crs is None:
        raise CRSError(f"{name}: the layer has no CRS; set one (geoprio writes EPSG:4326)")
    frame = frame[frame.geometry.notna() & ~frame.geometry.is_empty]
    bad = sorted(set(frame.geom_type) - set(geom_types))
    if bad:
        raise InputError(f"{name}: expected {' or '.join(geom_types)} geometries, got {', '.join(bad)}")
    frame = frame.reset_index(drop=True)
    if source:
        frame.attrs["source"] = source
    return frame


def _columns(frame: pd.DataFrame) -> list[str]:
    return [str(c) for c in frame.columns if c != "geometry"]


def _require(frame: pd.DataFrame, name: str, columns: Sequence[str]) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ColumnError(f"{_name(frame, name)}: missing column(s) {missing}; columns present: {_columns(frame)}")


def _first_column(frame: pd.DataFrame, *candidates: str) -> str | None:
    return next((c for c in candidates if c in frame.columns), None)


def _metric(frame: gpd.GeoDataFrame, metric_crs: str) -> gpd.GeoSeries:
    from geoprio.zones.layers import check_metric_crs

    check_metric_crs(metric_crs)
    return frame.geometry.to_crs(metric_crs)


def simplify_m(
    frame: gpd.GeoDataFrame | gpd.GeoSeries,
    *,
    tolerance_m: float,
    metric_crs: str = DEFAULT_METRIC_CRS,
    coverage: bool = True,
) -> gpd.GeoSeries:
    """Simplify polygons with a tolerance in metres; the result is in EPSG:4326.

    The geometries are projected to ``metric_crs`` (MAGNA-SIRGAS Origen-Nacional by
    default), simplified there and projected back. With ``coverage=True`` (zones, grid
    classes: polygons that tile without overlapping) GEOS's coverage simplification
    (Visvalingam–Whyatt) simplifies each shared border once, so neighbours stay exactly
    adjacent; a vertex goes when the triangle it makes with its neighbours has an area under
    ``tolerance_m²``. Layers that are not a valid coverage (overlapping clusters) are
    simplified one by one (:func:`shapely.simplify`, Douglas–Peucker keeping topology), which
    drops the vertices that lie within about ``tolerance_m`` of the simplified line.
    """
    if not isinstance(tolerance_m, (int, float)) or not math.isfinite(tolerance_m) or tolerance_m < 0:
        raise InputError(f"tolerance_m must be a non-negative number of metres, got {tolerance_m!r}")
    gs = frame.geometry if isinstance(frame, gpd.GeoDataFrame) else frame
    if gs.crs is None:
        raise CRSError("simplify_m: the geometries have no CRS")
    g = _metric(gpd.GeoDataFrame(geometry=gs), metric_crs).to_numpy()
    if tolerance_m > 0 and len(g):
        polygonal = np.isin(shapely.get_type_id(g), (3, 6))
        if coverage and polygonal.all() and bool(shapely.coverage_is_valid(g)):
            g = shapely.coverage_simplify(g, tolerance_m, simplify_boundary=True)
        else:
            g = shapely.simplify(g, tolerance_m, preserve_topology=True)
    return gpd.GeoSeries(g, index=gs.index, crs=metric_crs).to_crs("EPSG:4326")


def round_coordinates(geoms: gpd.GeoSeries | np.ndarray, decimals: int = DEFAULT_DECIMALS) -> np.ndarray:
    """Round every coordinate to ``decimals`` and drop the repeated vertices this creates."""
    arr = geoms.to_numpy() if isinstance(geoms, gpd.GeoSeries) else np.asarray(geoms)
    rounded = shapely.transform(arr, lambda c: np.round(c, decimals))
    return shapely.remove_repeated_points(rounded, 0.0)


def _prepare(frame: gpd.GeoDataFrame, *, tolerance_m: float, decimals: int, metric_crs: str, coverage: bool = True) -> np.ndarray:
    polys = frame.geom_type.isin(["Polygon", "MultiPolygon"]).all()
    if polys:
        geoms = simplify_m(frame, tolerance_m=tolerance_m, metric_crs=metric_crs, coverage=coverage)
    else:
        geoms = frame.geometry.to_crs("EPSG:4326")
    return round_coordinates(geoms, decimals)


def _collection(geoms: np.ndarray, props: list[dict[str, Any]]) -> dict[str, Any]:
    """A compact GeoJSON FeatureCollection (string ids for folium's style lookup)."""
    shapes = shapely.to_geojson(geoms)
    return {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "id": str(i), "properties": p, "geometry": json.loads(s)}
            for i, (p, s) in enumerate(zip(props, shapes, strict=True))
        ],
    }


def _dissolve(geoms_metric: np.ndarray, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One (multi)polygon per distinct key: ``(geometries, keys, cell counts)``."""
    uniq, inv, counts = np.unique(keys, return_inverse=True, return_counts=True)
    merged = np.array([shapely.union_all(geoms_metric[inv == i]) for i in range(len(uniq))], dtype=object)
    return merged, uniq, counts


# --------------------------------------------------------------------------- elements


class _Panel(MacroElement):
    """A legend or chart box (Leaflet control) shown while its layer is on the map."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function() {
            var map = {{ this._parent.get_name() }};
            var panel = L.control({position: {{ this.position|tojson }}});
            panel.onAdd = function() {
                var div = L.DomUtil.create('div', 'geoprio-panel {{ this.css_class }}');
                div.innerHTML = {{ this.html|tojson }};
                L.DomEvent.disableClickPropagation(div);
                L.DomEvent.disableScrollPropagation(div);
                return div;
            };
            {%- if this.layer %}
            var layer = {{ this.layer.get_name() }};
            if (map.hasLayer(layer)) { panel.addTo(map); }
            map.on('layeradd', function(e) { if (e.layer === layer) { panel.addTo(map); } });
            map.on('layerremove', function(e) { if (e.layer === layer) { panel.remove(); } });
            {%- else %}
            panel.addTo(map);
            {%- endif %}
        })();
        {% endmacro %}
        """
    )

    def __init__(self, html_text: str, *, layer: Any = None, position: str = "bottomright", css_class: str = "geoprio-legend"):
        super().__init__()
        self._name = "GeoprioPanel"
        self.html = html_text
        self.layer = layer
        self.position = position
        self.css_class = css_class


class _MapChrome(MacroElement):
    """Style sheet, title box and metric scale of a geoprio map."""

    _template = Template(
        """
        {% macro header(this, kwargs) %}
        <style>{{ this.css }}</style>
        {% endmacro %}
        {% macro script(this, kwargs) %}
        (function() {
            var map = {{ this._parent.get_name() }};
            L.control.scale({imperial: false, position: 'bottomleft'}).addTo(map);
            {%- if this.title %}
            var t = L.DomUtil.create('div', 'geoprio-title', map.getContainer());
            t.innerHTML = {{ this.title|tojson }};
            {%- endif %}
        })();
        {% endmacro %}
        """
    )

    def __init__(self, title: str | None):
        super().__init__()
        self._name = "GeoprioChrome"
        self.title = html.escape(title) if title else None
        self.css = _CSS


class _ZoneSearch(folium.plugins.Search):
    """folium's Search with the layer's own styles restored after a search (``resetStyle``)."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
            var {{ this.get_name() }} = new L.Control.Search({
                layer: {{ this.layer.get_name() }},
                propertyName: {{ this.search_label|tojson }},
                collapsed: {{ this.collapsed|tojson }},
                textPlaceholder: {{ this.placeholder|tojson }},
                textErr: {{ this.text_err|tojson }},
                textCancel: {{ this.text_cancel|tojson }},
                position: {{ this.position|tojson }},
                initial: false,
                marker: false,
                moveToLocation: function(latlng, title, map) {
                    map.fitBounds(latlng.layer.getBounds(), {maxZoom: 16});
                }
            });
            {{ this.get_name() }}.on('search:locationfound', function(e) {
                var map = {{ this._parent.get_name() }};
                if (!map.hasLayer({{ this.layer.get_name() }})) { map.addLayer({{ this.layer.get_name() }}); }
                {{ this.layer.get_name() }}.resetStyle();
                e.layer.setStyle({weight: 4, color: '#00e5ff'});
                e.layer.bringToFront();
            });
            {{ this.get_name() }}.on('search:collapsed', function(e) {
                {{ this.layer.get_name() }}.resetStyle();
            });
            {{ this._parent.get_name() }}.addControl({{ this.get_name() }});
            {%- if not this.show %}
            // leaflet-search puts its layer on the map; keep it off until asked for
            {{ this._parent.get_name() }}.removeLayer({{ this.layer.get_name() }});
            {%- endif %}
        {% endmacro %}
        """
    )

    def __init__(
        self,
        layer: folium.GeoJson,
        *,
        search_label: str,
        placeholder: str,
        text_err: str,
        text_cancel: str,
        show: bool,
        position: str = "topleft",
    ):
        super().__init__(layer, search_label=search_label, geom_type="Polygon", position=position, placeholder=placeholder)
        self.text_err = text_err
        self.text_cancel = text_cancel
        self.show = show


# --------------------------------------------------------------------------- legends


def _legend(title: str, rows: Sequence[tuple[str, str, str]], note: str | None = None) -> str:
    """Legend HTML: rows of ``(fill colour, border css, label)``."""
    out = [f"<h4>{html.escape(title)}</h4>"]
    for color, border, label in rows:
        out.append(f'<div class="row"><span class="sw" style="background:{color};{border}"></span>{html.escape(label)}</div>')
    if note:
        out.append(f'<div class="note">{html.escape(note)}</div>')
    return "".join(out)


def _gradient_legend(title: str, stops: Sequence[str], lo: float, hi: float, note: str | None = None) -> str:
    grad = ",".join(stops)
    mid = (lo + hi) / 2
    out = (
        f"<h4>{html.escape(title)}</h4>"
        f'<div class="grad" style="background:linear-gradient(to right,{grad})"></div>'
        f'<div class="ticks"><span>{lo:g}</span><span>{mid:g}</span><span>{hi:g}</span></div>'
    )
    if note:
        out += f'<div class="note">{html.escape(note)}</div>'
    return out


def _mix(stops: Sequence[str], t: float) -> str:
    """Colour at ``t`` ∈ [0, 1] on a piecewise-linear ramp through ``stops``."""
    t = min(1.0, max(0.0, t))
    pos = t * (len(stops) - 1)
    i = min(int(pos), len(stops) - 2)
    f = pos - i
    a = np.array([int(stops[i][k : k + 2], 16) for k in (1, 3, 5)])
    b = np.array([int(stops[i + 1][k : k + 2], 16) for k in (1, 3, 5)])
    c = np.round(a + (b - a) * f).astype(int)
    return "#" + "".join(f"{v:02x}" for v in c)


# --------------------------------------------------------------------------- result types


@dataclass(frozen=True)
class LayerInfo:
    """What one call drew: the layer's name in the layer control, its kind and feature count."""

    name: str
    kind: str
    features: int
    layer: Any = field(repr=False, compare=False, default=None)
    note: str = ""


@dataclass
class MapResult:
    """A built map and the layers on it."""

    map: folium.Map
    layers: list[LayerInfo]
    lang: str
    parameters: dict[str, Any]


@dataclass(frozen=True)
class MapOutput:
    """A written map: the HTML file, its size, the copied assets and the manifest."""

    path: Path
    bytes: int
    assets: tuple[Path, ...]
    assets_bytes: int
    manifest: Path
    layers: tuple[LayerInfo, ...]


# --------------------------------------------------------------------------- the map


def _bounds(frames: Sequence[gpd.GeoDataFrame]) -> tuple[float, float, float, float] | None:
    boxes = [f.to_crs("EPSG:4326").total_bounds for f in frames if f is not None and len(f) and f.crs is not None]
    if not boxes:
        return None
    b = np.array(boxes)
    return float(b[:, 0].min()), float(b[:, 1].min()), float(b[:, 2].max()), float(b[:, 3].max())


_OSM_URL = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
_OSM_ATTR = '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors'
_CARTO_URL = "https://{s}.basemaps.cartocdn.com/light_all/{z}/{x}/{y}{r}.png?key={key}"
_CARTO_ATTR = _OSM_ATTR + ' &copy; <a href="https://carto.com/attributions">CARTO</a>'


def _basemaps(tiles: str | Sequence[str], carto_key: str | None) -> list[str]:
    names = [tiles] if isinstance(tiles, str) else list(tiles)
    if names == ["auto"]:
        return ["positron", "osm"] if carto_key else ["light", "osm"]
    if names == ["none"]:
        return []
    return names


def new_map(
    frames: Sequence[gpd.GeoDataFrame] = (),
    *,
    lang: Lang = "es",
    tiles: str | Sequence[str] = "auto",
    tiles_attribution: str | None = None,
    carto_key: str | None = None,
    title: str | None = None,
) -> folium.Map:
    """An empty map fitted to ``frames``, with the basemaps and only the assets geoprio uses.

    ``tiles`` (the first one listed is shown at opening):

    * ``"light"`` — OpenStreetMap drawn in light grey (a CSS filter), no key needed;
    * ``"positron"`` — CARTO's light basemap; CARTO requires an API key since August 2026
      (``carto_key``; it is written into the page, as CARTO's browser keys are meant to be);
    * ``"osm"`` — OpenStreetMap;
    * a tile URL template ``https://…/{z}/{x}/{y}.png`` (an intranet tile server; needs
      ``tiles_attribution``);
    * ``"auto"`` (default) — ``positron`` and ``osm`` with a CARTO key, else ``light`` and ``osm``;
    * ``"none"`` — no basemap: nothing at all is fetched from the network.
    """
    lab = _labels(lang)
    fig = Figure(title=title or lab["title_map"])
    bounds = _bounds(frames)
    centre = [4.6, -74.1] if bounds is None else [(bounds[1] + bounds[3]) / 2, (bounds[0] + bounds[2]) / 2]  # [lat, lon]
    m = folium.Map(location=centre, zoom_start=12, tiles=None, control_scale=False, prefer_canvas=False)
    fig.add_child(m)
    # only what the maps use: Leaflet and jQuery (folium's popups); no Bootstrap or icon fonts
    m.default_js = [(n, u) for n, u in folium.Map.default_js if n in ("leaflet", "jquery")]
    m.default_css = [(n, u) for n, u in folium.Map.default_css if n == "leaflet_css"]
    for i, t in enumerate(_basemaps(tiles, carto_key)):
        common = {"show": i == 0, "control": True, "max_zoom": 19}
        if t == "light":
            layer = folium.TileLayer(_OSM_URL, attr=_OSM_ATTR, name=lab["basemap_light"], class_name="geoprio-light", **common)
        elif t == "positron":
            if not carto_key:
                raise InputError(
                    "tiles: CARTO's 'positron' basemap needs an API key since August 2026 (https://carto.com/basemaps/apikey/); "
                    "give carto_key (--carto-key or GEOPRIO_CARTO_KEY) or use tiles 'light'"
                )
            url = _CARTO_URL.replace("{key}", carto_key)
            layer = folium.TileLayer(url, attr=_CARTO_ATTR, name=lab["basemap_positron"], subdomains="abcd", **common)
        elif t == "osm":
            layer = folium.TileLayer(_OSM_URL, attr=_OSM_ATTR, name=lab["basemap_osm"], **common)
        elif t.startswith(("http://", "https://")) and "{z}" in t:
            if not tiles_attribution:
                raise InputError(f"tiles: the tile URL {t!r} needs an attribution (tiles_attribution / --tiles-attribution)")
            layer = folium.TileLayer(t, attr=tiles_attribution, name=lab["basemap_custom"], **common)
        else:
            raise InputError(
                f"tiles: expected 'auto', 'light', 'positron', 'osm', 'none' or a URL template with {{z}}/{{x}}/{{y}}, got {t!r}"
            )
        layer.add_to(m)
    if bounds is not None:
        m.fit_bounds([[bounds[1], bounds[0]], [bounds[3], bounds[2]]])  # [[south, west], [north, east]]
    return m


def _level_name(table: pd.DataFrame, level: str | None, lang: str = "es") -> str:
    lv = level or (str(table["level"].dropna().iloc[0]) if "level" in table.columns and table["level"].notna().any() else "")
    if not lv:
        return _labels(lang)["zones"]
    return lv.upper() if len(lv) <= 4 else lv.capitalize()


def _tier_positions(tiers: pd.Series, index: np.ndarray, lang: str) -> tuple[dict[str, int], list[str]]:
    """Tier value → position (0 = lowest priority), and the tier names in the map's language.

    geoprio's tier names (``baja``…``alta``, ``low``…``high``, 2–5 tiers) are recognised in
    either language and translated; other names are kept and ordered by their zones' mean index.
    """
    from geoprio.index.estimator import tier_labels

    present = {str(t) for t in tiers.dropna().unique()}
    for k in (3, 2, 4, 5):
        for data_lang in ("es", "en"):
            names = tier_labels(k, data_lang)
            if present <= set(names):
                return {n: i for i, n in enumerate(names)}, tier_labels(k, lang)
    if len(present) > 5:
        raise InputError(f"index: column 'tier' has {len(present)} distinct values {sorted(present)[:8]}; expected 2–5 tiers")
    t = tiers.astype("string").fillna("").to_numpy(dtype=object)
    mean = {n: float(np.nanmean(np.where(t == n, index, np.nan))) if np.isfinite(index[t == n]).any() else -np.inf for n in present}
    names = sorted(present, key=lambda n: (mean[n], n))
    return {n: i for i, n in enumerate(names)}, names


def add_index_layer(
    m: folium.Map,
    table: gpd.GeoDataFrame,
    *,
    lang: Lang = "es",
    level: str | None = None,
    color_by: ColorBy = "tier",
    tolerance_m: float = DEFAULT_TOLERANCE_M,
    decimals: int = DEFAULT_DECIMALS,
    metric_crs: str = DEFAULT_METRIC_CRS,
    show: bool = True,
    search: bool = False,
) -> LayerInfo:
    """The index choropleth of one zone level (``geoprio index`` output), with its legend.

    Zones are coloured by ``tier`` (default; the classes of the printed table) or by the
    ``index`` value on a 0–100 ramp; zones without an index are grey. Small-denominator
    zones have a dashed outline and ``†`` after their name. ``search=True`` adds the zone
    search box for this layer.
    """
    lab = _labels(lang)
    table = _check_frame(table, "index", geom_types=("Polygon", "MultiPolygon"))
    _require(table, "index", ["zone_id", "name", "index", "rank", "tier"])
    if color_by not in ("tier", "index"):
        raise InputError(f"color_by must be 'tier' or 'index', got {color_by!r}")
    lvl = _level_name(table, level, lang)
    geoms = _prepare(table, tolerance_m=tolerance_m, decimals=decimals, metric_crs=metric_crs)
    small = table["small_denominator"].fillna(False).astype(bool).to_numpy() if "small_denominator" in table else np.zeros(len(table), bool)
    idx = pd.to_numeric(table["index"], errors="coerce").to_numpy(dtype=float)
    positions, tier_names = _tier_positions(table["tier"], idx, lang)
    palette = _TIER_COLORS.get(len(tier_names), _TIER_COLORS[5])
    ptop = next((c for c in table.columns if re.fullmatch(r"p_top_\d+", str(c))), None)
    has_interval = "rank_p05" in table and "rank_p95" in table
    props, styles = [], {}
    for i, r in enumerate(pd.DataFrame(table.drop(columns=table.geometry.name)).to_dict("records")):
        ok = math.isfinite(idx[i])
        tier = str(r["tier"]) if ok and pd.notna(r["tier"]) else None
        pos = positions.get(tier) if tier is not None else None
        if not ok:
            fill = _NO_DATA
        elif color_by == "index":
            fill = _mix(_INDEX_STOPS, idx[i] / 100.0)
        else:
            fill = palette[pos] if pos is not None else _NO_DATA
        styles[str(i)] = {
            "fillColor": fill,
            "fillOpacity": 0.7,
            "color": "#333333",
            "weight": 1.6 if small[i] else 0.8,
            "dashArray": "5 4" if small[i] else None,
        }
        p = {
            "name": _text(r["name"]) + (" †" if small[i] else ""),
            "zone_id": _text(r["zone_id"]),
            "index": _num(idx[i], 1) if ok else lab["no_index"] + (f" ({_text(r['excluded'])})" if _text(r.get("excluded")) else ""),
            "rank": _int(r["rank"]),
            "tier": (tier_names[pos] if pos is not None else _text(tier)) if ok else "—",
        }
        if "parent_name" in r:
            p["parent"] = _text(r["parent_name"])
        if has_interval:
            p["interval"] = f"{_int(r['rank_p05'])}–{_int(r['rank_p95'])}" if _finite(r["rank_p05"]) else "—"
        if ptop:
            p["p_top"] = _num(r[ptop], 2)
        if "drivers" in r:
            p["drivers"] = _text(r["drivers"])
        props.append(p)
    data = _collection(geoms, props)
    fields = ["name", "zone_id", "parent", "index", "rank", "tier", "interval", "p_top", "drivers"]
    aliases = {
        "name": lab["zone"],
        "zone_id": lab["zone_id"],
        "parent": lab["parent"],
        "index": lab["index"],
        "rank": lab["rank"],
        "tier": lab["tier"],
        "interval": lab["interval"],
        "p_top": lab["p_top"].format(k=str(ptop).rsplit("_", 1)[-1]) if ptop else "",
        "drivers": lab["drivers"],
    }
    fields = [f for f in fields if f in props[0]] if props else ["name"]
    name = lab["index_layer"].format(level=lvl)
    layer = folium.GeoJson(
        data,
        name=name,
        show=show,
        style_function=lambda f: {k: v for k, v in styles[f["id"]].items() if v is not None},
        highlight_function=lambda f: {"weight": 3, "color": "#000000", "fillOpacity": 0.8},
        tooltip=folium.GeoJsonTooltip(fields=fields, aliases=[aliases[f] for f in fields], sticky=True),
        smooth_factor=0.5,
    )
    layer.add_to(m)
    if color_by == "tier":
        rows = [(palette[i], "", n) for i, n in reversed(list(enumerate(tier_names)))]
        if not np.isfinite(idx).all():
            rows.append((_NO_DATA, "", lab["no_index"]))
        for i, tname in enumerate(tier_names):  # index range of each tier, from the data
            sel = [j for j in range(len(table)) if positions.get(str(table["tier"].iloc[j])) == i and math.isfinite(idx[j])]
            if sel:
                lo, hi = float(np.min(idx[sel])), float(np.max(idx[sel]))
                k = len(tier_names) - 1 - i
                rows[k] = (rows[k][0], "", f"{tname} ({lo:.1f}–{hi:.1f})")
        legend = _legend(f"{lab['tier']} — {lab['legend_index']}", rows, lab["small_note"] if small.any() else None)
    else:
        legend = _gradient_legend(lab["legend_index"], _INDEX_STOPS, 0, 100, lab["small_note"] if small.any() else None)
    _Panel(legend, layer=layer).add_to(m)
    if search:
        _ZoneSearch(
            layer, search_label="name", placeholder=lab["search"], text_err=lab["not_found"], text_cancel=lab["cancel"], show=show
        ).add_to(m)
    return LayerInfo(name=name, kind="index", features=len(props), layer=layer)


def add_parent_outline(
    m: folium.Map,
    table: gpd.GeoDataFrame,
    *,
    lang: Lang = "es",
    tolerance_m: float = DEFAULT_TOLERANCE_M,
    decimals: int = DEFAULT_DECIMALS,
    metric_crs: str = DEFAULT_METRIC_CRS,
    show: bool = True,
) -> LayerInfo | None:
    """Boundaries of the enclosing level (the index zones dissolved by ``parent_id``); ``None`` without parents."""
    lab = _labels(lang)
    table = _check_frame(table, "index", geom_types=("Polygon", "MultiPolygon"))
    if "parent_id" not in table or table["parent_id"].isna().all():
        return None
    keys = table["parent_id"].astype("string").fillna("").to_numpy(dtype=object)
    merged, uniq, _ = _dissolve(_metric(table, metric_crs).to_numpy(), keys)
    keep = uniq != ""
    gs = gpd.GeoSeries(merged[keep], crs=metric_crs)
    geoms = round_coordinates(simplify_m(gs, tolerance_m=tolerance_m, metric_crs=metric_crs), decimals)
    names = table.drop_duplicates("parent_id").set_index(table.drop_duplicates("parent_id")["parent_id"].astype("string"))
    props = [{"parent": _text(names["parent_name"].get(k, k)) if "parent_name" in names else _text(k)} for k in uniq[keep]]
    name = lab["parent_layer"]
    layer = folium.GeoJson(
        _collection(geoms, props),
        name=name,
        show=show,
        style_function=lambda f: {"color": "#252525", "weight": 2.2, "fill": False, "opacity": 0.8},
        interactive=False,
    )
    layer.add_to(m)
    return LayerInfo(name=name, kind="parent", features=len(props), layer=layer)


def add_cluster_layer(
    m: folium.Map,
    clusters: gpd.GeoDataFrame,
    *,
    lang: Lang = "es",
    tolerance_m: float = DEFAULT_TOLERANCE_M,
    decimals: int = DEFAULT_DECIMALS,
    metric_crs: str = DEFAULT_METRIC_CRS,
    show: bool = True,
) -> LayerInfo:
    """Hot-spot clusters (polygons), outlined in dark red; tooltips with their profile."""
    lab = _labels(lang)
    clusters = _check_frame(clusters, "clusters", geom_types=("Polygon", "MultiPolygon"))
    _require(clusters, "clusters", ["cluster_id"])
    rank_c = _first_column(clusters, "rank", "complexity_rank")
    score_c = _first_column(clusters, "score", "complexity")
    dens_c = _first_column(clusters, "density", "density_km2")
    tier_c = _first_column(clusters, "tier", "complexity_tier")
    if rank_c:
        clusters = clusters.sort_values(rank_c, kind="stable").reset_index(drop=True)
    geoms = _prepare(clusters, tolerance_m=tolerance_m, decimals=decimals, metric_crs=metric_crs, coverage=False)
    area = shapely.area(_metric(clusters, metric_crs).to_numpy()) / 1e6
    props = []
    for i, r in enumerate(clusters.to_dict("records")):
        p = {"cluster": _text(r["cluster_id"])}
        if rank_c:
            p["rank"] = _int(r[rank_c])
        if score_c:
            p["score"] = _num(r[score_c], 1)
        if "incidents" in r:
            p["incidents"] = _num(r["incidents"], 0)
        if dens_c:
            p["density"] = _num(r[dens_c], 0)
        p["area"] = _num(r["area_km2"] if _finite(r.get("area_km2")) else area[i], 3)
        if tier_c:
            p["tier"] = _text(r[tier_c])
        for extra in ("top_categories", "peak_hours", "drivers"):
            if extra in r:
                p[extra] = _text(r[extra])
        props.append(p)
    order = ("cluster", "rank", "tier", "score", "incidents", "density", "area", "top_categories", "peak_hours", "drivers")
    fields = [f for f in order if props and f in props[0]]
    alias = {
        "cluster": lab["cluster"],
        "rank": lab["rank"],
        "tier": lab["tier"],
        "score": lab["score"],
        "incidents": lab["incidents"],
        "density": lab["density_km2"],
        "area": lab["area_km2"],
        "top_categories": lab["top_categories"],
        "peak_hours": lab["peak_hours"],
        "drivers": lab["drivers"],
    }
    name = lab["clusters_layer"]
    layer = folium.GeoJson(
        _collection(geoms, props),
        name=name,
        show=show,
        style_function=lambda f: {"color": "#67000d", "weight": 2.5, "fillColor": "#fb6a4a", "fillOpacity": 0.12},
        highlight_function=lambda f: {"weight": 4, "fillOpacity": 0.3},
        tooltip=folium.GeoJsonTooltip(fields=fields, aliases=[alias[f] for f in fields], sticky=True) if fields else None,
    )
    layer.add_to(m)
    _Panel(_legend(name, [("#fb6a4a", "border:2px solid #67000d;", f"{lab['cluster']} ({len(props)})")]), layer=layer).add_to(m)
    return LayerInfo(name=name, kind="clusters", features=len(props), layer=layer)


# geoprio hotspots' readable class names (``gi_class``), in both languages
_GI_READABLE = {
    "caliente 99 %": "hot_99",
    "caliente 95 %": "hot_95",
    "caliente 90 %": "hot_90",
    "no significativo": "none",
    "frío 90 %": "cold_90",
    "frío 95 %": "cold_95",
    "frío 99 %": "cold_99",
    "hot 99 %": "hot_99",
    "hot 95 %": "hot_95",
    "hot 90 %": "hot_90",
    "not significant": "none",
    "cold 90 %": "cold_90",
    "cold 95 %": "cold_95",
    "cold 99 %": "cold_99",
}


def _gi_classes(cells: pd.DataFrame) -> np.ndarray:
    """Each cell's class code (``hot_99`` … ``none``), from ``gi_bin`` (−3…3) or ``gi_class``."""
    if "gi_bin" in cells:
        b = pd.to_numeric(cells["gi_bin"], errors="coerce").fillna(0).astype(int)
        bad_bins = sorted(set(b) - set(_GI_BINS))
        if bad_bins:
            raise InputError(f"{_name(cells, 'cells')}: column 'gi_bin' has values {bad_bins[:5]}; expected integers −3…3")
        return b.map(_GI_BINS).to_numpy(dtype=object)
    if "gi_class" not in cells:
        raise ColumnError(f"{_name(cells, 'cells')}: missing column 'gi_bin' (or 'gi_class'); columns present: {_columns(cells)}")
    raw = cells["gi_class"].astype("string").fillna("none").str.strip().str.lower()
    cls = raw.map(lambda v: _GI_READABLE.get(v, v)).to_numpy(dtype=object)
    bad = sorted(set(cls) - set(GI_CLASSES) - {"none"})
    if bad:
        raise InputError(f"{_name(cells, 'cells')}: column 'gi_class' has unknown classes {bad[:5]}; expected {list(GI_CLASSES)} or 'none'")
    return cls


def add_gistar_layer(
    m: folium.Map,
    cells: gpd.GeoDataFrame,
    *,
    lang: Lang = "es",
    max_cells: int = DEFAULT_MAX_CELLS,
    tolerance_m: float = DEFAULT_TOLERANCE_M,
    decimals: int = DEFAULT_DECIMALS,
    metric_crs: str = DEFAULT_METRIC_CRS,
    show: bool = True,
) -> LayerInfo | None:
    """Gi* cells classed hot/cold at 90/95/99 % (non-significant cells are not drawn).

    Up to ``max_cells`` significant cells are drawn one by one with their z and p; above
    that, one polygon per class. ``None`` when no cell is significant.
    """
    lab = _labels(lang)
    cells = _check_frame(cells, "cells", geom_types=("Polygon", "MultiPolygon"))
    cls = _gi_classes(cells)
    sig = cls != "none"
    if not sig.any():
        return None
    sub = cells[sig].reset_index(drop=True)
    cls = cls[sig]
    if len(sub) <= max_cells:
        geoms = _prepare(sub, tolerance_m=tolerance_m, decimals=decimals, metric_crs=metric_crs)
        rows = pd.DataFrame(sub.drop(columns=sub.geometry.name)).to_dict("records")
        props = []
        for c, r in zip(cls, rows, strict=True):
            p = {"cls": lab[f"gi_{c}"], "z": _num(r.get("gi_z"), 2), "p": _pvalue(r.get("gi_p"))}
            if "gi_q" in r:
                p["q"] = _pvalue(r["gi_q"])
            if "incidents" in r:
                p["n"] = _num(r["incidents"], 0)
            if "trend_class" in r:
                p["trend"] = _text(r["trend_class"])
            props.append({**p, "_c": c})
        alias = {"cls": lab["gi_class"], "z": lab["gi_z"], "p": lab["gi_p"], "q": lab["gi_q"], "n": lab["incidents"], "trend": lab["trend"]}
        fields = [f for f in alias if f in props[0]]
        aliases, note = [alias[f] for f in fields], ""
    else:
        merged, keys, counts = _dissolve(_metric(sub, metric_crs).to_numpy(), cls)
        gs = gpd.GeoSeries(merged, crs=metric_crs)
        geoms = round_coordinates(simplify_m(gs, tolerance_m=tolerance_m, metric_crs=metric_crs), decimals)
        props = [{"cls": lab[f"gi_{c}"], "n": _num(n, 0), "_c": c} for c, n in zip(keys, counts, strict=True)]
        fields, aliases, note = ["cls", "n"], [lab["gi_class"], lab["cells"]], f"{len(sub):,} {lab['cells'].lower()}"
    name = lab["gistar_layer"]
    layer = folium.GeoJson(
        _collection(geoms, props),
        name=name,
        show=show,
        style_function=lambda f: {"fillColor": _GI_COLORS[f["properties"]["_c"]], "fillOpacity": 0.7, "color": "#555555", "weight": 0.3},
        tooltip=folium.GeoJsonTooltip(fields=fields, aliases=aliases, sticky=True),
    )
    layer.add_to(m)
    rows = [(_GI_COLORS[c], "", lab[f"gi_{c}"]) for c in GI_CLASSES if c in set(cls)]
    _Panel(_legend(name, rows, note or None), layer=layer).add_to(m)
    return LayerInfo(name=name, kind="gistar", features=len(props), layer=layer, note="dissolved" if note else "")


def _pvalue(p: Any) -> str:
    return "< 0.001" if _finite(p) and float(p) < 0.001 else _num(p, 3)


def _class_breaks(values: np.ndarray, k: int) -> np.ndarray:
    """Quantile class edges of the positive values (at most ``k`` classes, distinct edges)."""
    q = np.quantile(values, np.linspace(0, 1, k + 1))
    return np.unique(q)


def add_density_layer(
    m: folium.Map,
    cells: gpd.GeoDataFrame,
    *,
    lang: Lang = "es",
    column: str | None = None,
    classes: int = 7,
    max_cells: int = DEFAULT_MAX_CELLS,
    tolerance_m: float = DEFAULT_TOLERANCE_M,
    decimals: int = DEFAULT_DECIMALS,
    metric_crs: str = DEFAULT_METRIC_CRS,
    show: bool = True,
) -> LayerInfo | None:
    """Grid cells coloured by their kernel density (per km²), in ``classes`` quantile classes.

    ``column``: the density column, by default ``kde_km2`` (``geoprio hotspots``) or ``kde``.
    Cells with zero density are not drawn. Above ``max_cells`` cells the layer is one
    polygon per class. ``None`` when every cell is zero.
    """
    lab = _labels(lang)
    cells = _check_frame(cells, "cells", geom_types=("Polygon", "MultiPolygon"))
    column = column or _first_column(cells, *DENSITY_COLUMNS) or DENSITY_COLUMNS[0]
    _require(cells, "cells", [column])
    if not 2 <= classes <= len(_DENSITY_COLORS):
        raise InputError(f"classes must be 2–{len(_DENSITY_COLORS)}, got {classes!r}")
    v = pd.to_numeric(cells[column], errors="coerce").to_numpy(dtype=float)
    pos = np.isfinite(v) & (v > 0)
    if not pos.any():
        return None
    sub, v = cells[pos].reset_index(drop=True), v[pos]
    edges = _class_breaks(v, classes)
    k = max(1, len(edges) - 1)
    cls = np.clip(np.searchsorted(edges, v, side="right") - 1, 0, k - 1) if k > 1 else np.zeros(len(v), int)
    colors = [_DENSITY_COLORS[round(i * (len(_DENSITY_COLORS) - 1) / max(1, k - 1))] for i in range(k)]
    ranges = [f"{_num(edges[i], 1)}–{_num(edges[i + 1], 1)}" for i in range(k)] if k > 1 else [f"{_num(v.min(), 1)}–{_num(v.max(), 1)}"]
    if len(sub) <= max_cells:
        geoms = _prepare(sub, tolerance_m=tolerance_m, decimals=decimals, metric_crs=metric_crs)
        props = [{"d": _num(x, 1), "_k": int(c)} for x, c in zip(v, cls, strict=True)]
        fields, aliases, note = ["d"], [f"{lab['density']} ({lab['density_unit']})"], None
    else:
        merged, keys, counts = _dissolve(_metric(sub, metric_crs).to_numpy(), cls)
        gs = gpd.GeoSeries(merged, crs=metric_crs)
        geoms = round_coordinates(simplify_m(gs, tolerance_m=tolerance_m, metric_crs=metric_crs), decimals)
        props = [{"d": ranges[int(c)], "n": _num(n, 0), "_k": int(c)} for c, n in zip(keys, counts, strict=True)]
        fields, aliases = ["d", "n"], [f"{lab['density']} ({lab['density_unit']})", lab["cells"]]
        note = f"{len(sub):,} {lab['cells'].lower()}"
    name = lab["density_layer"]
    layer = folium.GeoJson(
        _collection(geoms, props),
        name=name,
        show=show,
        style_function=lambda f: {"fillColor": colors[f["properties"]["_k"]], "fillOpacity": 0.65, "weight": 0, "stroke": False},
        tooltip=folium.GeoJsonTooltip(fields=fields, aliases=aliases, sticky=True),
    )
    layer.add_to(m)
    rows = [(colors[i], "", ranges[i]) for i in reversed(range(k))]
    _Panel(_legend(f"{name} ({lab['density_unit']})", rows, note), layer=layer).add_to(m)
    return LayerInfo(name=name, kind="density", features=len(props), layer=layer, note="dissolved" if note else "")


def progress_color(progress_capped: Any) -> str:
    """Fill colour of a capped progress value (:data:`PROGRESS_CLASSES`; grey without data)."""
    if not _finite(progress_capped):
        return _NO_DATA
    v = float(progress_capped)
    return next((color for lo, color in PROGRESS_CLASSES if v >= lo), PROGRESS_CLASSES[-1][1])


def _unit_text(unit: Any, per: Any, lab: dict[str, str]) -> str:
    u = str(unit) if unit is not None and not (isinstance(unit, float) and math.isnan(unit)) else ""
    if u == "rate":
        return lab["unit_rate"].format(per=f"{float(per):,.0f}") if _finite(per) else lab["unit_rate_plain"]
    if u in ("count", "share"):
        return lab[f"unit_{u}"]
    return _text(u)


def _tracking_value(v: Any, unit: Any) -> str:
    s = _num(v, 1)
    return f"{s} %" if s != "—" and unit == "share" else s


def add_tracking_layer(
    m: folium.Map,
    zones_progress: gpd.GeoDataFrame,
    *,
    indicator: str | None = None,
    year: int | None = None,
    lang: Lang = "es",
    tolerance_m: float = DEFAULT_TOLERANCE_M,
    decimals: int = DEFAULT_DECIMALS,
    metric_crs: str = DEFAULT_METRIC_CRS,
    show: bool = True,
) -> list[LayerInfo]:
    """Plan tracking per zone (``geoprio indicators``'s ``seguimiento_zonas.geojson``).

    Zones are coloured by ``progress_capped`` in the classes of :data:`PROGRESS_CLASSES`
    (red 0–25 % far from the target … green 100 % met; grey without progress). Each
    indicator is its own layer (a FeatureGroup with its legend: the classes, how many zones
    meet the target); only the first is on at opening (``show``). ``indicator`` draws that
    one only. ``year`` picks the rows of one year when the layer has a ``year`` column
    (default: the latest). The tooltip gives the zone and its progress; the popup the
    indicator, actual value, target, capped and uncapped progress, baseline, cases, unit
    and, for a city indicator's breakdown (``scope = "breakdown"``), which target the zone
    is measured against and its share of the city's shortfall.
    """
    lab = _labels(lang)
    frame = _check_frame(zones_progress, "tracking", geom_types=("Polygon", "MultiPolygon"))
    _require(frame, "tracking", ["indicator", "zone_id", "progress_capped"])
    ids = frame["indicator"].astype("string").fillna("").to_numpy(dtype=object)
    if indicator is not None:
        present = list(dict.fromkeys(ids))
        if indicator not in present:
            raise InputError(f"{_name(frame, 'tracking')}: indicator {indicator!r} is not in the layer; indicators: {present}")
        frame, ids = frame[ids == indicator].reset_index(drop=True), ids[ids == indicator]
    shown_year: int | None = None
    if "year" in frame:
        years = pd.to_numeric(frame["year"], errors="coerce")
        present_years = sorted({int(y) for y in years.dropna()})
        if year is not None and year not in present_years:
            raise InputError(f"{_name(frame, 'tracking')}: year {year!r} is not in the layer; years: {present_years}")
        shown_year = year if year is not None else (present_years[-1] if present_years else None)
        if shown_year is not None:
            keep = (years == shown_year).to_numpy()
            frame, ids = frame[keep].reset_index(drop=True), ids[keep]
    elif year is not None:
        raise ColumnError(f"{_name(frame, 'tracking')}: year {year!r} was asked for but the layer has no 'year' column")
    if not len(frame):
        raise InputError(f"{_name(frame, 'tracking')}: no zone with a geometry to draw")
    year_text = str(shown_year) if shown_year is not None else "—"
    infos: list[LayerInfo] = []
    for k, ind in enumerate(dict.fromkeys(ids)):
        sub = frame[ids == ind].reset_index(drop=True)
        rows = pd.DataFrame(sub.drop(columns=sub.geometry.name)).to_dict("records")
        label = str(rows[0]["label"]) if _text(rows[0].get("label")) else str(ind)
        geoms = _prepare(sub, tolerance_m=tolerance_m, decimals=decimals, metric_crs=metric_crs)
        capped = pd.to_numeric(sub["progress_capped"], errors="coerce").to_numpy(dtype=float)
        fills = [progress_color(v) for v in capped]
        breakdown = any(str(r.get("scope")) == "breakdown" for r in rows)
        props = []
        for r, pc in zip(rows, capped, strict=True):
            unit = r.get("unit")
            p = {
                "name": _text(r.get("name")) or _text(r["zone_id"]),
                "zone_id": _text(r["zone_id"]),
                "indicator": _text(label),
                "actual": _tracking_value(r.get("actual"), unit),
                "target": _tracking_value(r.get("target"), unit),
                "progress_capped": _pct(pc, 1),
                "progress": _pct(r.get("progress"), 1),
                "baseline": _tracking_value(r.get("baseline"), unit),
            }
            if "count" in sub:
                p["count"] = _num(r.get("count"), 0)
            if "unit" in sub:
                p["unit"] = _unit_text(unit, r.get("per"), lab)
            if "scope" in sub:
                p["target_kind"] = lab["scope_breakdown"] if str(r.get("scope")) == "breakdown" else lab["scope_zone"]
            if breakdown and "share_of_shortfall" in sub:
                p["share_of_shortfall"] = _pct(r.get("share_of_shortfall"), 1) if str(r.get("scope")) == "breakdown" else "—"
            props.append(p)
        alias = {
            "name": lab["zone"],
            "zone_id": lab["zone_id"],
            "indicator": lab["indicator"],
            "actual": lab["actual"].format(year=year_text),
            "target": lab["target"].format(year=year_text),
            "progress_capped": lab["progress_capped"],
            "progress": lab["progress_uncapped"],
            "baseline": lab["baseline"],
            "count": lab["count"].format(year=year_text),
            "unit": lab["unit"],
            "target_kind": lab["target_kind"],
            "share_of_shortfall": lab["share_of_shortfall"],
        }
        fields = [f for f in alias if f in props[0]]
        name = lab["tracking_layer"].format(indicator=label, year=year_text)
        group = folium.FeatureGroup(name=html.escape(name), show=show and k == 0)
        styles = {str(i): f for i, f in enumerate(fills)}
        folium.GeoJson(
            _collection(geoms, props),
            style_function=lambda f, styles=styles: {"fillColor": styles[f["id"]], "fillOpacity": 0.7, "color": "#333333", "weight": 0.8},
            highlight_function=lambda f: {"weight": 3, "color": "#000000", "fillOpacity": 0.8},
            tooltip=folium.GeoJsonTooltip(fields=["name", "progress_capped"], aliases=[lab["zone"], lab["progress_capped"]], sticky=True),
            popup=folium.GeoJsonPopup(fields=fields, aliases=[html.escape(alias[f]) for f in fields], localize=False),
            smooth_factor=0.5,
        ).add_to(group)
        group.add_to(m)
        legend_rows = [(PROGRESS_CLASSES[0][1], "", lab["progress_met"])]
        for (hi, _), (lo, color) in zip(PROGRESS_CLASSES[:-1], PROGRESS_CLASSES[1:], strict=True):
            legend_rows.append((color, "", lab["progress_far"] if lo == 0 else f"{lo * 100:g}–{hi * 100:g} %"))
        if not np.isfinite(capped).all():
            legend_rows.append((_NO_DATA, "", lab["no_data"]))
        defined = capped[np.isfinite(capped)]
        met = lab["zones_met"].format(met=int((defined >= 1.0).sum()), n=len(sub))
        legend = _legend(lab["legend_tracking"].format(indicator=label, year=year_text), legend_rows, met)
        legend += f'<div class="note">{html.escape(lab["tracking_note"])}</div>'
        if breakdown:
            legend += f'<div class="note">{html.escape(lab["breakdown_note"])}</div>'
        _Panel(legend, layer=group).add_to(m)
        infos.append(LayerInfo(name=name, kind="tracking", features=len(props), layer=group))
    return infos


def _hours_svg(profile: Sequence[float], peak: Sequence[bool], *, lab: dict[str, str]) -> str:
    """A place's 24-hour profile as a small inline SVG bar chart, peak hours in red."""
    w, h, ml, mb, mt = 240, 90, 4, 14, 4
    top = max(max(profile), 1e-9)
    bw = (w - 2 * ml) / 24
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" role="img" aria-label="{html.escape(lab["hour_profile"])}">'
    ]
    for hour, (v, pk) in enumerate(zip(profile, peak, strict=True)):
        bh = (h - mb - mt) * v / top
        color = "#e31a1c" if pk else "#9e9e9e"
        parts.append(f'<rect x="{ml + hour * bw:.1f}" y="{h - mb - bh:.1f}" width="{bw - 1:.1f}" height="{bh:.1f}" fill="{color}"/>')
    for hour in (0, 6, 12, 18):
        parts.append(f'<text x="{ml + hour * bw:.1f}" y="{h - 2}" font-size="9">{hour:02d}</text>')
    parts.append("</svg>")
    return "".join(parts)


def add_entornos_layer(
    m: folium.Map,
    places: gpd.GeoDataFrame,
    *,
    lang: Lang = "es",
    tolerance_m: float = 1.0,
    decimals: int = DEFAULT_DECIMALS,
    metric_crs: str = DEFAULT_METRIC_CRS,
    show: bool = True,
) -> LayerInfo:
    """Places ranked by ``geoprio entornos``: each influence area coloured by its index on a
    0–100 ramp (grey without an index), a tooltip with name, type and rank, and a popup
    with the explanation, the comparison with the surroundings and the 24-hour profile
    (peak hours in red).
    """
    lab = _labels(lang)
    places = _check_frame(places, "entornos", geom_types=("Polygon", "MultiPolygon"))
    _require(places, "entornos", ["place_id", "name", "type", "index", "rank"])
    geoms = _prepare(places, tolerance_m=tolerance_m, decimals=decimals, metric_crs=metric_crs, coverage=False)
    idx = pd.to_numeric(places["index"], errors="coerce").to_numpy(dtype=float)
    props, styles = [], {}
    has_interval = "rank_p05" in places and "rank_p95" in places
    for i, r in enumerate(pd.DataFrame(places.drop(columns=places.geometry.name)).to_dict("records")):
        ok = math.isfinite(idx[i])
        fill = _mix(_INDEX_STOPS, idx[i] / 100.0) if ok else _NO_DATA
        styles[str(i)] = {"fillColor": fill, "fillOpacity": 0.65, "color": "#333333", "weight": 0.8}
        p = {
            "name": _text(r["name"]),
            "type": _text(r["type"]),
            "index": _num(idx[i], 1) if ok else lab["no_index"],
            "rank": _int(r["rank"]),
        }
        if has_interval:
            p["interval"] = f"{_int(r['rank_p05'])}–{_int(r['rank_p95'])}" if _finite(r["rank_p05"]) else "—"
        if "radius_m" in r:
            p["radius"] = _num(r["radius_m"], 0)
        if "weighted_incidents" in r:
            p["incidents"] = _num(r["weighted_incidents"], 0)
        if "pattern" in r:
            ratio = f" (×{_num(r['ratio_ring'], 1)})" if _finite(r.get("ratio_ring")) else ""
            p["pattern"] = _text(r["pattern"]) + ratio
        if "peak_hours" in r:
            p["peak"] = _text(r["peak_hours"])
        if "drivers" in r:
            p["drivers"] = _text(r["drivers"])
        profile, peak = str(r.get("hours_profile") or "").split(), str(r.get("hours_peak") or "")
        if len(profile) == 24 and len(peak) == 24:
            chart = _hours_svg([float(v) for v in profile], [c == "1" for c in peak], lab=lab)
            p["chart"] = f"{chart}<br><small>{html.escape(lab['peak_note'])}</small>"
        props.append(p)
    alias = {
        "name": lab["place"],
        "type": lab["place_type"],
        "index": lab["index"],
        "rank": lab["rank"],
        "interval": lab["interval"],
        "radius": lab["radius"],
        "incidents": lab["weighted_incidents"],
        "pattern": lab["surroundings"],
        "peak": lab["peak_hours_label"],
        "drivers": lab["drivers"],
        "chart": lab["hour_profile"],
    }
    fields = [f for f in alias if props and f in props[0]]
    name = lab["entornos_layer"]
    layer = folium.GeoJson(
        _collection(geoms, props),
        name=name,
        show=show,
        style_function=lambda f: styles[f["id"]],
        highlight_function=lambda f: {"weight": 3, "color": "#000000", "fillOpacity": 0.8},
        tooltip=folium.GeoJsonTooltip(fields=["name", "type", "rank"], aliases=[lab["place"], lab["place_type"], lab["rank"]], sticky=True),
        popup=folium.GeoJsonPopup(fields=fields, aliases=[html.escape(alias[f]) for f in fields], localize=False, max_width=320),
    )
    layer.add_to(m)
    _Panel(_gradient_legend(lab["entornos_legend"], _INDEX_STOPS, 0, 100, None), layer=layer).add_to(m)
    return LayerInfo(name=name, kind="entornos", features=len(props), layer=layer)


def _points(frame: gpd.GeoDataFrame, name: str) -> gpd.GeoDataFrame:
    return _check_frame(frame, name, geom_types=("Point",))


def _site_layers(
    group: folium.FeatureGroup,
    pts: np.ndarray,
    radius_m: np.ndarray,
    props: list[dict[str, Any]],
    fields: list[str],
    aliases: list[str],
    *,
    color: str,
    existing: bool,
) -> None:
    """Coverage circles (metres) and centre dots of a set of sites, in ``group``."""
    data = _collection(pts, props)
    tip = {"fields": fields, "aliases": aliases, "sticky": True}
    radii = {str(i): float(r) for i, r in enumerate(radius_m)}
    if np.isfinite(radius_m).any():
        folium.GeoJson(
            data,
            marker=folium.Circle(radius=1, fill=True),
            style_function=lambda f: {
                "radius": radii[f["id"]] if math.isfinite(radii[f["id"]]) else 0,
                "color": color,
                "weight": 1 if existing else 2,
                "opacity": 0.8,
                "fillColor": color,
                "fillOpacity": 0.06 if existing else 0.15,
                "dashArray": "4 3" if existing else None,
            },
            tooltip=folium.GeoJsonTooltip(**tip),
        ).add_to(group)
    folium.GeoJson(
        data,
        marker=folium.CircleMarker(radius=4, fill=True),
        style_function=lambda f: {
            "radius": 4 if existing else 6,
            "color": "#222222" if existing else "#ffffff",
            "weight": 0.8 if existing else 2,
            "fillColor": color,
            "fillOpacity": 0.9 if existing else 1.0,
        },
        tooltip=folium.GeoJsonTooltip(**tip),
    ).add_to(group)


def add_facilities_layer(
    m: folium.Map,
    points: gpd.GeoDataFrame,
    *,
    kind: PlanKind,
    lang: Lang = "es",
    radius_m: float | None = None,
    decimals: int = DEFAULT_DECIMALS,
    show: bool = True,
) -> LayerInfo:
    """Existing cameras or garitas (grey dots; dashed coverage circles when a radius is known).

    The radius is the ``radius_m`` column when present, else the ``radius_m`` argument.
    """
    lab = _labels(lang)
    if kind not in _PLAN_COLORS:
        raise InputError(f"kind must be 'cameras' or 'garitas', got {kind!r}")
    points = _points(points, f"existing {kind}")
    pts = round_coordinates(points.geometry.to_crs("EPSG:4326"), decimals)
    r = _radii(points, radius_m, f"existing {kind}")
    id_c = _first_column(points, "site_id", "id", "nombre", "name")
    props = [
        {
            "site": lab[f"site_existing_{kind}"] + (f" {_text(s)}" if id_c else ""),
            "radius": f"{_num(rr, 0)} m" if math.isfinite(rr) else "—",
        }
        for s, rr in zip(points[id_c] if id_c else [None] * len(points), r, strict=True)
    ]
    name = lab[f"existing_{kind}"]
    group = folium.FeatureGroup(name=name, show=show)
    _site_layers(group, pts, r, props, ["site", "radius"], [lab["site"], lab["radius_m"]], color=_EXISTING_COLOR, existing=True)
    group.add_to(m)
    _Panel(_legend(name, [(_EXISTING_COLOR, "border-radius:50%;", f"{name} ({len(points)})")]), layer=group).add_to(m)
    return LayerInfo(name=name, kind=f"existing_{kind}", features=len(points), layer=group)


def _radii(points: pd.DataFrame, radius_m: float | None, name: str) -> np.ndarray:
    if "radius_m" in points:
        r = pd.to_numeric(points["radius_m"], errors="coerce").to_numpy(dtype=float)
    elif radius_m is not None:
        r = np.full(len(points), float(radius_m))
    else:
        r = np.full(len(points), np.nan)
    if (r[np.isfinite(r)] < 0).any():
        raise InputError(f"{_name(points, name)}: radius_m must be non-negative metres, got {float(r[np.isfinite(r)].min())!r}")
    return r


def _check_curve(curve: pd.DataFrame) -> pd.DataFrame:
    _require(curve, "coverage curve", ["n_sites", "covered_share"])
    c = pd.DataFrame(
        {
            "n_sites": pd.to_numeric(curve["n_sites"], errors="coerce"),
            "covered_share": pd.to_numeric(curve["covered_share"], errors="coerce"),
        }
    ).dropna()
    if c.empty:
        raise InputError("coverage curve: no row has numeric n_sites and covered_share")
    bad = c[(c["covered_share"] < 0) | (c["covered_share"] > 1 + 1e-9)]
    if len(bad):
        raise InputError(
            f"coverage curve: covered_share must be a share in [0, 1], got {float(bad['covered_share'].iloc[0]):g} "
            f"at n_sites={float(bad['n_sites'].iloc[0]):g} (a percentage? divide by 100)"
        )
    return c.sort_values("n_sites", kind="stable").reset_index(drop=True)


def _curve_svg(curve: pd.DataFrame, *, chosen: int | None, color: str, lab: dict[str, str], what: str) -> str:
    """The coverage curve as a small inline SVG chart (no JavaScript library)."""
    w, h, ml, mr, mt, mb = 250, 130, 34, 10, 8, 24
    x = curve["n_sites"].to_numpy(dtype=float)
    y = curve["covered_share"].to_numpy(dtype=float)
    xmax = max(1.0, float(x.max()))
    ymax = 1.0

    def px(v: float) -> float:
        return ml + (w - ml - mr) * v / xmax

    def py(v: float) -> float:
        return mt + (h - mt - mb) * (1 - v / ymax)

    pts = " ".join(f"{px(a):.1f},{py(b):.1f}" for a, b in zip(x, y, strict=True))
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" role="img" aria-label="{html.escape(what)}">']
    for t in (0, 0.5, 1.0):
        parts.append(f'<line x1="{ml}" x2="{w - mr}" y1="{py(t):.1f}" y2="{py(t):.1f}" stroke="#ddd"/>')
        parts.append(f'<text x="{ml - 4}" y="{py(t) + 4:.1f}" font-size="10" text-anchor="end">{int(t * 100)} %</text>')
    for t in (0, xmax / 2, xmax):
        parts.append(f'<text x="{px(t):.1f}" y="{h - mb + 12}" font-size="10" text-anchor="middle">{t:g}</text>')
    parts.append(f'<line x1="{ml}" x2="{ml}" y1="{mt}" y2="{h - mb}" stroke="#888"/>')
    parts.append(f'<line x1="{ml}" x2="{w - mr}" y1="{h - mb}" y2="{h - mb}" stroke="#888"/>')
    if chosen is not None and 0 <= chosen <= xmax:
        parts.append(f'<line x1="{px(chosen):.1f}" x2="{px(chosen):.1f}" y1="{mt}" y2="{h - mb}" stroke="{color}" stroke-dasharray="3 3"/>')
    parts.append(f'<polyline fill="none" stroke="{color}" stroke-width="2" points="{pts}"/>')
    if len(x) <= 60:
        parts += [f'<circle cx="{px(a):.1f}" cy="{py(b):.1f}" r="2" fill="{color}"/>' for a, b in zip(x, y, strict=True)]
    parts.append(f'<text x="{(ml + w - mr) / 2:.0f}" y="{h - 1}" font-size="10" text-anchor="middle">{html.escape(lab["curve_x"])}</text>')
    parts.append("</svg>")
    return f"<h4>{html.escape(lab['curve_title'].format(what=what))}</h4>" + "".join(parts)


#: Values of ``estado`` (geoprio plan's sites layer) that mark an existing facility.
_EXISTING_STATES = {"existente", "existing"}


def _existing_mask(sites: pd.DataFrame) -> np.ndarray:
    if "existing" in sites:
        return sites["existing"].fillna(False).astype(bool).to_numpy()
    if "estado" in sites:
        return sites["estado"].astype("string").str.strip().str.lower().isin(_EXISTING_STATES).fillna(False).to_numpy(dtype=bool)
    return np.zeros(len(sites), bool)


def add_plan_layer(
    m: folium.Map,
    sites: gpd.GeoDataFrame,
    *,
    kind: PlanKind,
    curve: pd.DataFrame | None = None,
    stretches: gpd.GeoDataFrame | None = None,
    lang: Lang = "es",
    radius_m: float | None = None,
    decimals: int = DEFAULT_DECIMALS,
    show: bool = True,
) -> list[LayerInfo]:
    """A camera or garita plan: proposed sites with their coverage, existing ones in grey.

    Existing facilities are the rows with ``existing`` true or ``estado`` = ``existente``
    (``geoprio plan``'s sites layer); they get their own layer. Coverage is drawn as circles
    of ``radius_m`` (the column, else the argument) or, when ``stretches`` is given (garitas:
    the shore each garita covers, lines with ``site_id``/``estado``), as those stretches. The
    coverage ``curve`` (``n_sites``, ``covered_share``) is a small chart shown with the
    proposed sites; its dashed line marks the number of proposed sites.
    """
    lab = _labels(lang)
    if kind not in _PLAN_COLORS:
        raise InputError(f"kind must be 'cameras' or 'garitas', got {kind!r}")
    sites = _points(sites, f"{kind} plan")
    existing = _existing_mask(sites)
    out: list[LayerInfo] = []
    new = sites[~existing].reset_index(drop=True)
    if "rank" in new:
        new = new.sort_values("rank", kind="stable").reset_index(drop=True)
    color = _PLAN_COLORS[kind]
    lines = None
    if stretches is not None:
        lines = _check_frame(stretches, f"{kind} stretches", geom_types=("LineString", "MultiLineString"))
    if len(new):
        pts = round_coordinates(new.geometry.to_crs("EPSG:4326"), decimals)
        r = _radii(new, radius_m, f"{kind} plan")
        rank = new["rank"].to_numpy() if "rank" in new else np.arange(1, len(new) + 1)
        props = []
        for i, row in enumerate(new.to_dict("records")):
            p = {"site": lab[f"site_new_{kind}"].format(rank=_int(rank[i]))}
            if "site_id" in row:
                p["id"] = _text(row["site_id"])
            if "marginal_share" in row:
                p["gain"] = _pct(row["marginal_share"], 1)
            elif "marginal_gain" in row:
                p["gain"] = _num(row["marginal_gain"], 1)
            if "cumulative_share" in row:
                p["share"] = _pct(row["cumulative_share"], 1)
            p["radius"] = f"{_num(r[i], 0)} m" if math.isfinite(r[i]) else "—"
            props.append(p)
        alias = {
            "site": lab["site"],
            "id": lab["zone_id"],
            "gain": lab["marginal_gain"],
            "share": lab["cumulative_share"],
            "radius": lab["radius_m"],
        }
        fields = [f for f in ("site", "id", "gain", "share", "radius") if f in props[0]]
        name = lab[f"new_{kind}"]
        group = folium.FeatureGroup(name=name, show=show)
        if lines is not None:
            _stretch_layer(group, lines[~_existing_mask(lines)], color=color, decimals=decimals, existing=False)
            r = np.full(len(new), np.nan)  # the stretches are the coverage: no circles
        _site_layers(group, pts, r, props, fields, [alias[f] for f in fields], color=color, existing=False)
        group.add_to(m)
        out.append(LayerInfo(name=name, kind=f"plan_{kind}", features=len(new), layer=group))
        _Panel(_legend(name, [(color, "border-radius:50%;", f"{name} ({len(new)})")]), layer=group).add_to(m)
        if curve is not None:
            c = _check_curve(curve)
            _Panel(
                _curve_svg(c, chosen=len(new), color=color, lab=lab, what=lab[kind]),
                layer=group,
                position="bottomleft",
                css_class="geoprio-curve",
            ).add_to(m)
    if existing.any():
        info = add_facilities_layer(
            m,
            sites[existing].reset_index(drop=True),
            kind=kind,
            lang=lang,
            radius_m=None if lines is not None else radius_m,
            decimals=decimals,
            show=show,
        )
        if lines is not None:
            _stretch_layer(info.layer, lines[_existing_mask(lines)], color=_EXISTING_COLOR, decimals=decimals, existing=True)
        out.append(info)
    return out


def _stretch_layer(group: folium.FeatureGroup, lines: gpd.GeoDataFrame, *, color: str, decimals: int, existing: bool) -> None:
    """Covered stretches of shore (lines), under the site dots."""
    if not len(lines):
        return
    geoms = round_coordinates(lines.geometry.to_crs("EPSG:4326"), decimals)
    props = [{"id": _text(v)} for v in (lines["site_id"] if "site_id" in lines else [""] * len(lines))]
    folium.GeoJson(
        _collection(geoms, props),
        style_function=lambda f: {
            "color": color,
            "weight": 4 if existing else 6,
            "opacity": 0.75,
            "dashArray": "6 4" if existing else None,
        },
        interactive=False,
    ).add_to(group)


def _plan_radius(path: str | Path, kind: str) -> float | None:
    """``radius_m`` of a ``geoprio plan`` run, from the ``manifest.json`` beside its sites layer."""
    manifest = Path(path).with_name("manifest.json")
    if not manifest.is_file():
        return None
    try:
        doc = json.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if doc.get("run") != f"plan {kind}":
        return None
    r = (doc.get("parameters") or {}).get("radius_m")
    return float(r) if isinstance(r, (int, float)) and r > 0 else None


def finish_map(m: folium.Map, *, lang: Lang = "es", title: str | None = None) -> folium.Map:
    """Layer control, fullscreen, measure (metres/hectares), metric scale and the title box."""
    lab = _labels(lang)
    folium.plugins.Fullscreen(position="topleft", title=lab["fullscreen"], title_cancel=lab["fullscreen_exit"]).add_to(m)
    folium.plugins.MeasureControl(
        position="topleft",
        primary_length_unit="meters",
        secondary_length_unit="kilometers",
        primary_area_unit="sqmeters",
        secondary_area_unit="hectares",
        localization=lang,
    ).add_to(m)
    _MapChrome(title).add_to(m)
    folium.LayerControl(position="topright", collapsed=False).add_to(m)
    return m


def _as_list(x: gpd.GeoDataFrame | Sequence[gpd.GeoDataFrame] | None) -> list[gpd.GeoDataFrame]:
    if x is None:
        return []
    return [x] if isinstance(x, gpd.GeoDataFrame) else list(x)


def build_map(
    *,
    index: gpd.GeoDataFrame | Sequence[gpd.GeoDataFrame] | None = None,
    clusters: gpd.GeoDataFrame | None = None,
    cells: gpd.GeoDataFrame | None = None,
    cameras: gpd.GeoDataFrame | None = None,
    cameras_curve: pd.DataFrame | None = None,
    garitas: gpd.GeoDataFrame | None = None,
    garitas_curve: pd.DataFrame | None = None,
    existing_cameras: gpd.GeoDataFrame | None = None,
    existing_garitas: gpd.GeoDataFrame | None = None,
    garitas_stretches: gpd.GeoDataFrame | None = None,
    cameras_radius_m: float | None = None,
    garitas_radius_m: float | None = None,
    tracking: gpd.GeoDataFrame | None = None,
    tracking_indicator: str | None = None,
    tracking_year: int | None = None,
    entornos: gpd.GeoDataFrame | None = None,
    lang: Lang = "es",
    title: str | None = None,
    tiles: str | Sequence[str] = "auto",
    tiles_attribution: str | None = None,
    carto_key: str | None = None,
    color_by: ColorBy = "tier",
    tolerance_m: float = DEFAULT_TOLERANCE_M,
    decimals: int = DEFAULT_DECIMALS,
    max_cells: int = DEFAULT_MAX_CELLS,
    metric_crs: str = DEFAULT_METRIC_CRS,
) -> MapResult:
    """One map with every given layer, its legends and controls.

    ``index`` may hold one table per zone level (each its own layer; the first is
    searchable). ``tracking`` is ``geoprio indicators``'s zone layer
    (:func:`add_tracking_layer`, one layer per indicator, or ``tracking_indicator`` only,
    in ``tracking_year`` or the latest). What is shown at opening: the hot-spot, plan and
    tracking layers when given (the index is then listed but off; of the tracking layers the
    first indicator), otherwise the index; the density layer is off when Gi* cells are
    drawn. Everything stays switchable in the layer control.
    """
    lab = _labels(lang)
    if not isinstance(decimals, int) or not 0 <= decimals <= 8:
        raise InputError(f"decimals must be an integer 0–8, got {decimals!r}")
    if not isinstance(max_cells, int) or max_cells < 0:
        raise InputError(f"max_cells must be a non-negative integer, got {max_cells!r}")
    indexes = _as_list(index)
    frames = [*indexes, clusters, cells, cameras, garitas, existing_cameras, existing_garitas, garitas_stretches, tracking, entornos]
    given = [f for f in frames if f is not None]
    if not given:
        raise InputError(
            "build_map: give at least one layer (index, clusters, cells, cameras, garitas, existing facilities, tracking or entornos)"
        )
    if tracking is None and (tracking_indicator is not None or tracking_year is not None):
        raise InputError("a tracking indicator or year was given without the tracking layer (seguimiento_zonas.geojson)")
    if title is None:
        if cameras is not None and garitas is None:
            title = lab["title_plan_cameras"]
        elif garitas is not None and cameras is None:
            title = lab["title_plan_garitas"]
        elif clusters is not None or cells is not None:
            title = lab["title_hotspots"]
        elif tracking is not None:
            title = lab["title_tracking"]
        elif entornos is not None:
            title = lab["title_entornos"]
        elif indexes:
            title = lab["title_index"].format(level=_level_name(indexes[0], None, lang))
    geo = dict(tolerance_m=tolerance_m, decimals=decimals, metric_crs=metric_crs)
    m = new_map(given, lang=lang, tiles=tiles, tiles_attribution=tiles_attribution, carto_key=carto_key, title=title)
    layers: list[LayerInfo] = []
    topical = any(f is not None for f in (clusters, cells, cameras, garitas, tracking, entornos))
    for i, table in enumerate(indexes):
        layers.append(add_index_layer(m, table, lang=lang, color_by=color_by, show=(i == 0 and not topical), search=(i == 0), **geo))
    if indexes:
        outline = add_parent_outline(m, indexes[0], lang=lang, **geo)
        if outline:
            layers.append(outline)
    if cells is not None:
        has_gi = "gi_class" in cells or "gi_bin" in cells
        has_kde = _first_column(cells, *DENSITY_COLUMNS) is not None
        if not has_gi and not has_kde:
            raise ColumnError(
                f"{_name(cells, 'cells')}: expected 'gi_bin'/'gi_class' (Gi*) or 'kde_km2'/'kde' (density); "
                f"columns present: {_columns(cells)}"
            )
        if has_kde:
            dens = add_density_layer(m, cells, lang=lang, max_cells=max_cells, show=not has_gi, **geo)
            if dens:
                layers.append(dens)
        if has_gi:
            gi = add_gistar_layer(m, cells, lang=lang, max_cells=max_cells, **geo)
            if gi:
                layers.append(gi)
    if tracking is not None:
        layers += add_tracking_layer(m, tracking, indicator=tracking_indicator, year=tracking_year, lang=lang, **geo)
    if entornos is not None:
        layers.append(add_entornos_layer(m, entornos, lang=lang, tolerance_m=0.2, decimals=decimals, metric_crs=metric_crs))
    if clusters is not None:
        layers.append(add_cluster_layer(m, clusters, lang=lang, **geo))
    plans = (
        ("cameras", cameras, cameras_curve, existing_cameras, None, cameras_radius_m),
        ("garitas", garitas, garitas_curve, existing_garitas, garitas_stretches, garitas_radius_m),
    )
    for kind, plan, curve, existing, lines, radius in plans:
        if existing is not None:
            layers.append(
                add_facilities_layer(m, existing, kind=kind, lang=lang, decimals=decimals, show=plan is not None)  # type: ignore[arg-type]
            )
        if plan is not None:
            layers += add_plan_layer(
                m,
                plan,
                kind=kind,  # type: ignore[arg-type]
                curve=curve,
                stretches=lines,
                radius_m=radius,
                lang=lang,
                decimals=decimals,
            )
        elif curve is not None or lines is not None:
            raise InputError(f"a {kind} coverage curve or stretches were given without the {kind} plan")
    finish_map(m, lang=lang, title=title)
    params = {
        "lang": lang,
        "tiles": _basemaps(tiles, carto_key),
        "carto_key": "given" if carto_key else None,
        "color_by": color_by,
        "tolerance_m": tolerance_m,
        "decimals": decimals,
        "max_cells": max_cells,
        "metric_crs": metric_crs,
        "title": title,
    }
    if tracking is not None:
        params.update(tracking_indicator=tracking_indicator, tracking_year=tracking_year)
    return MapResult(map=m, layers=layers, lang=lang, parameters=params)


# --------------------------------------------------------------------------- offline HTML

_SCRIPT_TAG = re.compile(r'<script src="(?P<url>[^"]+)"></script>')
_LINK_TAG = re.compile(r'<link rel="stylesheet" href="(?P<url>[^"]+)"/>')
_CSS_URL = re.compile(r"url\(\s*(['\"]?)([^'\")]+)\1\s*\)")
_REMOTE_TAG = re.compile(r"<(?:script|link|img|iframe)\b[^>]*(?:src|href)=[\"'](?:https?:)?//", re.I)
_MIME = {
    ".png": "image/png",
    ".gif": "image/gif",
    ".svg": "image/svg+xml",
    ".jpg": "image/jpeg",
    ".woff2": "font/woff2",
    ".woff": "font/woff",
}


def _web(rel: str) -> Any:
    return resources.files("geoprio").joinpath("resources/web").joinpath(rel)


@cache
def _registry() -> dict[str, dict[str, Any]]:
    """CDN address → vendored asset (``resources/web/assets.json``)."""
    doc = json.loads(_web("assets.json").read_text(encoding="utf-8"))
    reg = {}
    for a in doc["assets"]:
        pkg = doc["packages"][a["package"]]
        reg[a["url"]] = {**a, "license_file": pkg["license_file"]}
    return reg


def _inline_css(rel: str) -> str:
    css = _web(rel).read_text(encoding="utf-8")
    base = posixpath.dirname(rel)

    def repl(mt: re.Match[str]) -> str:
        ref = mt.group(2)
        if ref.startswith(("data:", "#", "http:", "https:", "/")):
            return mt.group(0)
        target = posixpath.normpath(posixpath.join(base, ref.split("?")[0].split("#")[0]))
        mime = _MIME.get(posixpath.splitext(target)[1].lower(), "application/octet-stream")
        return f'url("data:{mime};base64,{base64.b64encode(_web(target).read_bytes()).decode("ascii")}")'

    return _CSS_URL.sub(repl, css)


def render_html(m: folium.Map, *, assets: AssetMode = "folder", lang: Lang = "es") -> tuple[str, dict[str, bytes]]:
    """The page's HTML with CDN addresses rewritten, and the asset files it needs.

    ``assets="folder"``: links to ``assets/<package>/<version>/…`` and returns those files
    (with the licences) to copy beside the HTML; ``"inline"``: scripts and styles embedded,
    their images as ``data:`` URIs, no files; ``"cdn"``: folium's CDN links, no files.
    Raises :class:`InputError` if the page links a script or style geoprio has not vendored.
    """
    if assets not in ("folder", "inline", "cdn"):
        raise InputError(f"assets must be 'folder', 'inline' or 'cdn', got {assets!r}")
    page = m.get_root().render()
    page = page.replace("<html>", f'<html lang="{lang}">', 1)
    if assets == "cdn":
        return page, {}
    reg = _registry()
    needed: dict[str, bytes] = {}
    unknown: list[str] = []

    def local(url: str) -> dict[str, Any] | None:
        if url in reg:
            return reg[url]
        if url.startswith(("http:", "https:", "//")):
            unknown.append(url)
        return None

    def script(mt: re.Match[str]) -> str:
        a = local(mt["url"])
        if a is None:
            return mt.group(0)
        if assets == "inline":
            code = _web(a["file"]).read_text(encoding="utf-8").replace("</script", "<\\/script")
            return f"<script>/* {a['package']} {a['file']} */\n{code}\n</script>"
        for rel in [*a["files"], a["license_file"]]:
            needed[rel] = _web(rel).read_bytes()
        return f'<script src="{ASSETS_DIR}/{a["file"]}"></script>'

    def link(mt: re.Match[str]) -> str:
        a = local(mt["url"])
        if a is None:
            return mt.group(0)
        if assets == "inline":
            return f"<style>/* {a['package']} {a['file']} */\n{_inline_css(a['file'])}\n</style>"
        for rel in [*a["files"], a["license_file"]]:
            needed[rel] = _web(rel).read_bytes()
        return f'<link rel="stylesheet" href="{ASSETS_DIR}/{a["file"]}"/>'

    page = _SCRIPT_TAG.sub(script, page)
    page = _LINK_TAG.sub(link, page)
    left = _REMOTE_TAG.findall(page)
    if unknown or left:
        raise InputError(
            f"the map links web assets that geoprio has not vendored: {sorted(set(unknown)) or left}; "
            "add them to scripts/vendor_web_assets.py (USED) and re-run it, or write with assets='cdn'"
        )
    return page, {f"{ASSETS_DIR}/{k}": v for k, v in needed.items()}


def _write_bytes(data: bytes, path: Path) -> Path:
    with io.atomic_path(path) as tmp:
        tmp.write_bytes(data)
    return path


def write_map(
    result: MapResult | folium.Map,
    path: str | Path,
    *,
    assets: AssetMode = "folder",
    inputs: Sequence[tuple[str, str | Path]] = (),
    command: str | None = None,
) -> MapOutput:
    """Write the map's HTML (atomically), its assets and ``<name>.manifest.json`` beside it.

    ``inputs`` are ``(role, path)`` pairs recorded in the manifest with their SHA-256.
    The manifest also lists the parameters, the layers and their feature counts, the
    assets copied and the library versions.
    """
    path = Path(path)
    if path.suffix.lower() not in (".html", ".htm"):
        raise InputError(f"{path}: a map is written as .html")
    res = result if isinstance(result, MapResult) else MapResult(map=result, layers=[], lang="es", parameters={})
    page, files = render_html(res.map, assets=assets, lang=res.lang)  # type: ignore[arg-type]
    written = []
    for rel, data in files.items():
        dest = path.parent / rel
        if not (dest.is_file() and dest.stat().st_size == len(data) and io.sha256_file(dest) == hashlib.sha256(data).hexdigest()):
            _write_bytes(data, dest)
        written.append(dest)
    io.write_text(page, path)
    size = path.stat().st_size
    from geoprio.io import manifest as run_manifest

    doc = run_manifest.document(
        kind="geoprio.map",
        command=command,
        inputs=list(inputs),
        outputs=[path],
        map={"path": str(path), "bytes": size, "sha256": io.sha256_file(path), "assets": assets},
        parameters=res.parameters,
        layers=[{"name": li.name, "kind": li.kind, "features": li.features, "note": li.note} for li in res.layers],
        assets=[{"path": str(p), "sha256": hashlib.sha256(files[str(p.relative_to(path.parent))]).hexdigest()} for p in written],
    )
    manifest = run_manifest.write(doc, path.with_name(f"{path.stem}.manifest.json"))
    return MapOutput(
        path=path,
        bytes=size,
        assets=tuple(written),
        assets_bytes=sum(len(v) for v in files.values()),
        manifest=manifest,
        layers=tuple(res.layers),
    )


# --------------------------------------------------------------------------- from files


def _read_layer(path: str | Path | None, *, dates_as_text: bool = False) -> gpd.GeoDataFrame | None:
    if path is None:
        return None
    frame = io.read_layer(path, dates_as_text=dates_as_text)
    frame.attrs["source"] = str(path)  # error messages name the file
    return frame


def _read_curve(path: str | Path | None) -> pd.DataFrame | None:
    if path is None:
        return None
    df = io.read_table(path)
    try:
        return _check_curve(df)
    except InputError as exc:
        raise type(exc)(f"{path}: {exc}") from None


def map_from_files(
    out: str | Path,
    *,
    index: Sequence[str | Path] = (),
    clusters: str | Path | None = None,
    cells: str | Path | None = None,
    cameras: str | Path | None = None,
    cameras_curve: str | Path | None = None,
    garitas: str | Path | None = None,
    garitas_curve: str | Path | None = None,
    existing_cameras: str | Path | None = None,
    existing_garitas: str | Path | None = None,
    garitas_stretches: str | Path | None = None,
    cameras_radius_m: float | None = None,
    garitas_radius_m: float | None = None,
    tracking: str | Path | None = None,
    entornos: str | Path | None = None,
    assets: AssetMode = "folder",
    command: str | None = None,
    **options: Any,
) -> MapOutput:
    """Read the output files of ``geoprio index`` / ``hotspots`` / ``plan`` / ``indicators``, draw them and write the map.

    ``tracking`` is ``seguimiento_zonas.geojson`` of ``geoprio indicators``; ``entornos`` is
    ``entornos.geojson`` of ``geoprio entornos``. ``options`` are
    :func:`build_map`'s (``lang``, ``title``, ``tiles``, ``color_by``, ``tolerance_m``,
    ``decimals``, ``max_cells``, ``tracking_indicator``, ``tracking_year`` …). A plan's coverage radius is its
    ``radius_m`` column, else ``cameras_radius_m`` / ``garitas_radius_m``, else the
    ``radius_m`` recorded in the ``manifest.json`` of ``geoprio plan`` beside the sites layer.
    """
    roles = {
        "clusters": clusters,
        "cells": cells,
        "cameras": cameras,
        "cameras_curve": cameras_curve,
        "garitas": garitas,
        "garitas_curve": garitas_curve,
        "existing_cameras": existing_cameras,
        "existing_garitas": existing_garitas,
        "garitas_stretches": garitas_stretches,
        "tracking": tracking,
        "entornos": entornos,
    }
    inputs = [("index", p) for p in index] + [(k, v) for k, v in roles.items() if v is not None]
    frames: dict[str, Any] = {
        k: (_read_curve(v) if k.endswith("_curve") else _read_layer(v, dates_as_text=k == "entornos")) for k, v in roles.items()
    }
    radii = {"cameras_radius_m": cameras_radius_m, "garitas_radius_m": garitas_radius_m}
    for kind in ("cameras", "garitas"):
        if radii[f"{kind}_radius_m"] is None and roles[kind] is not None:
            radii[f"{kind}_radius_m"] = _plan_radius(roles[kind], kind)  # type: ignore[arg-type]
    result = build_map(index=[_read_layer(p) for p in index] or None, **frames, **radii, **options)
    return write_map(result, out, assets=assets, inputs=inputs, command=command)


#: Where :func:`demo_maps` looks for each input, relative to the demo folder (first found wins).
#: A plan's curve and (garitas) covered stretches are looked for beside its sites layer.
DEMO_FILES: dict[str, tuple[str, ...]] = {
    "index": ("output/indice_upz.geojson",),
    "clusters": ("output/hotspots/hotspots_clusters.geojson", "output/hotspots_clusters.geojson"),
    "cells": ("output/hotspots/hotspots_celdas.geojson", "output/hotspots_celdas.geojson"),
    "cameras": ("output/camaras/camaras_sitios.geojson", "output/camaras_sitios.geojson"),
    "garitas": ("output/garitas/garitas_sitios.geojson", "output/garitas_sitios.geojson"),
    "existing_cameras": ("camaras.geojson",),
    "existing_garitas": ("garitas.geojson",),
    "entornos": ("output/entornos/entornos.geojson", "output/entornos.geojson"),
}
_PREFIX = {"cameras": "camaras", "garitas": "garitas"}


def demo_maps(
    data_dir: str | Path = "data/demo",
    out_dir: str | Path = "maps",
    *,
    lang: Lang = "es",
    assets: AssetMode = "folder",
    command: str | None = None,
) -> list[MapOutput]:
    """The demo's maps, from whatever outputs the demo folder holds (:data:`DEMO_FILES`).

    ``indice.html`` always (index, parent boundaries, existing cameras and garitas, off);
    ``puntos_calientes.html`` when hot-spot outputs exist; ``plan_camaras.html`` and
    ``plan_garitas.html`` when plans exist (with ``<camaras|garitas>_curva.csv`` and
    ``garitas_tramos.geojson`` from the plan's folder); ``entornos.html`` when ranked places
    exist. All share one ``assets/`` folder.
    """
    data_dir, out_dir = Path(data_dir), Path(out_dir)
    found = {role: next((data_dir / c for c in cands if (data_dir / c).is_file()), None) for role, cands in DEMO_FILES.items()}
    if found["index"] is None:
        raise InputError(f"{data_dir / DEMO_FILES['index'][0]}: not found; run `geoprio demo` first")
    common = {"index": [found["index"]], "assets": assets, "command": command, "lang": lang}
    outs = [
        map_from_files(
            out_dir / "indice.html", existing_cameras=found["existing_cameras"], existing_garitas=found["existing_garitas"], **common
        )
    ]
    if found["clusters"] or found["cells"]:
        outs.append(map_from_files(out_dir / "puntos_calientes.html", clusters=found["clusters"], cells=found["cells"], **common))
    for kind in ("cameras", "garitas"):
        plan = found[kind]
        if plan is None:
            continue
        prefix = _PREFIX[kind]
        curve = plan.with_name(f"{prefix}_curva.csv")
        extra: dict[str, Any] = {f"{kind}_curve": curve if curve.is_file() else None}
        if kind == "garitas" and plan.with_name("garitas_tramos.geojson").is_file():
            extra["garitas_stretches"] = plan.with_name("garitas_tramos.geojson")
        if not _has_existing(plan):
            extra[f"existing_{kind}"] = found[f"existing_{kind}"]
        outs.append(map_from_files(out_dir / f"plan_{prefix}.html", **{kind: plan}, **extra, **common))
    if found["entornos"]:
        outs.append(map_from_files(out_dir / "entornos.html", entornos=found["entornos"], **common))
    return outs


def _has_existing(path: Path) -> bool:
    return bool(_existing_mask(io.read_layer(path)).any())
