"""The hot-spot layers: clusters, Gi* cells and kernel density (``geoprio hotspots``'s outputs).

* :func:`add_cluster_layer` — hot-spot clusters (polygons) outlined in dark red, tooltips with
  their profile;
* :func:`add_gistar_layer` — grid cells classed hot/cold at 90/95/99 % by Gi*;
* :func:`add_density_layer` — grid cells coloured by their kernel density, in quantile classes.

Above ``max_cells`` cells a cell layer is dissolved into one polygon per class.

A cell's Gi* class is read, first found, from ``gi_code`` (the codes ``hot_99`` … ``cold_99``,
``none``), ``gi_bin`` (−3…3) or the readable ``gi_class`` of files written before ``gi_code``
existed, whose words (Spanish or English) are mapped back to codes by :func:`gi_code_of_word`
— the one place that knows them.

Expected columns: clusters ``cluster_id``; optional ``complexity_rank`` [``rank``],
``complexity`` [``score``], ``complexity_tier`` [``tier``], ``incidents``, ``density_km2``
[``density``], ``area_km2``, ``top_categories``, ``peak_hours``, ``drivers``. Cells
``gi_code`` [``gi_bin``, ``gi_class``], ``gi_z``, ``gi_p``, ``gi_q``, ``incidents``,
``trend_class``; ``kde_km2`` [``kde``] for the density layer.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geoprio.errors import ColumnError, InputError
from geoprio.labels import LANGS, labels, topics
from geoprio.maps.elements import LayerInfo, Panel, RankMarkers
from geoprio.maps.geometry import (
    DEFAULT_DECIMALS,
    DEFAULT_TOLERANCE_M,
    check_frame,
    column_list,
    dissolve_by,
    feature_collection,
    first_column,
    label_points,
    layer_name,
    prepare_geometries,
    require_columns,
    round_coordinates,
    simplify_m,
    to_metric,
)
from geoprio.maps.index_layer import DEFAULT_RANK_LABELS, tier_positions
from geoprio.maps.style import DENSITY_COLORS, GI_COLORS, NO_DATA, TIER_COLORS, legend_html, quantile_classes, rgba
from geoprio.maps.text import MAP_LANG, approximate_line, fmt_int, fmt_num, fmt_pvalue, fmt_text, is_finite, map_labels
from geoprio.settings import DEFAULT_METRIC_CRS, Lang

__all__ = [
    "DEFAULT_MAX_CELLS",
    "DENSITY_COLUMNS",
    "GI_CLASSES",
    "GI_CODES",
    "GI_COLUMNS",
    "add_cluster_layer",
    "add_density_layer",
    "add_gistar_layer",
    "gi_code_of_word",
    "gi_codes",
    "has_gi_columns",
]

#: Clusters without tiers: fill, outline and fill opacity.
CLUSTER_COLOR, CLUSTER_LINE, CLUSTER_OPACITY = "#fb6a4a", "#67000d", 0.45
#: Above this many cells a cell layer is drawn as one polygon per class.
DEFAULT_MAX_CELLS = 5000
#: Columns read as the kernel density of cells (per km²), first found wins.
DENSITY_COLUMNS = ("kde_km2", "kde")
#: Every Gi* class code, hot first (``none``: not significant).
GI_CODES = ("hot_99", "hot_95", "hot_90", "none", "cold_90", "cold_95", "cold_99")
#: The significant classes, the ones drawn, hot first.
GI_CLASSES = tuple(c for c in GI_CODES if c != "none")
#: Columns a cell layer's Gi* class is read from, first found wins.
GI_COLUMNS = ("gi_code", "gi_bin", "gi_class")
_GI_BINS = {3: "hot_99", 2: "hot_95", 1: "hot_90", 0: "none", -1: "cold_90", -2: "cold_95", -3: "cold_99"}
#: The readable ``gi_class`` words of files ``geoprio hotspots`` wrote before ``gi_code``.
_LEGACY_GI_WORDS = {
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
#: The label topic whose Spanish and English texts of the Gi* codes ``geoprio hotspots`` writes.
HOTSPOTS_TOPIC = "hotspots"


def add_cluster_layer(
    m: folium.Map,
    clusters: gpd.GeoDataFrame,
    *,
    lang: Lang = MAP_LANG,
    tolerance_m: float = DEFAULT_TOLERANCE_M,
    decimals: int = DEFAULT_DECIMALS,
    metric_crs: str = DEFAULT_METRIC_CRS,
    show: bool = True,
    approximate: bool = False,
    rank_labels: int = DEFAULT_RANK_LABELS,
) -> LayerInfo:
    """Hot-spot clusters (polygons) filled by complexity tier, the first ``rank_labels`` numbered
    by rank; click popups with their profile.

    ``approximate=True`` (points placed by place name) adds the legend line that says so.
    """
    lab = map_labels(lang)
    clusters = check_frame(clusters, "clusters", geom_types=("Polygon", "MultiPolygon"))
    require_columns(clusters, "clusters", ["cluster_id"])
    rank_c = first_column(clusters, "rank", "complexity_rank")
    score_c = first_column(clusters, "score", "complexity")
    dens_c = first_column(clusters, "density", "density_km2")
    tier_c = first_column(clusters, "tier", "complexity_tier")
    if rank_c:
        clusters = clusters.sort_values(rank_c, kind="stable").reset_index(drop=True)
    geoms = prepare_geometries(clusters, tolerance_m=tolerance_m, decimals=decimals, metric_crs=metric_crs, coverage=False)
    area = shapely.area(to_metric(clusters, metric_crs).to_numpy()) / 1e6
    props = []
    for i, r in enumerate(clusters.to_dict("records")):
        p = {"cluster": fmt_text(r["cluster_id"])}
        if rank_c:
            p["rank"] = fmt_int(r[rank_c], lang)
        if score_c:
            p["score"] = fmt_num(r[score_c], 1, lang)
        if "incidents" in r:
            p["incidents"] = fmt_num(r["incidents"], 0, lang)
        if dens_c:
            p["density"] = fmt_num(r[dens_c], 0, lang)
        p["area"] = fmt_num(r["area_km2"] if is_finite(r.get("area_km2")) else area[i], 3, lang)
        if tier_c:
            p["tier"] = fmt_text(r[tier_c])
        for extra in ("top_categories", "peak_hours", "drivers"):
            if extra in r:
                p[extra] = fmt_text(r[extra])
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
    # fill by complexity tier (the index's palette), else one colour; the legend's swatches
    # are drawn with the fill's own opacity, so that they look like the map
    fills = [CLUSTER_COLOR] * len(props)
    rows = [(rgba(CLUSTER_COLOR, CLUSTER_OPACITY), f"border:2px solid {CLUSTER_LINE};", f"{lab['cluster']} ({len(props)})")]
    if tier_c and clusters[tier_c].notna().any():
        score = pd.to_numeric(clusters[score_c], errors="coerce").to_numpy(dtype=float) if score_c else np.zeros(len(clusters))
        positions, tier_names = tier_positions(clusters[tier_c], score, lang)
        palette = TIER_COLORS.get(len(tier_names), TIER_COLORS[5])
        fills = [palette[positions[str(t)]] if pd.notna(t) and str(t) in positions else NO_DATA for t in clusters[tier_c]]
        for i, p in enumerate(props):
            if "tier" in p and pd.notna(clusters[tier_c].iloc[i]) and str(clusters[tier_c].iloc[i]) in positions:
                p["tier"] = tier_names[positions[str(clusters[tier_c].iloc[i])]]
        counts = {n: sum(1 for f in fills if f == palette[k]) for k, n in enumerate(tier_names)}
        rows = [
            (rgba(palette[k], CLUSTER_OPACITY), f"border:2px solid {CLUSTER_LINE};", f"{n} ({counts[n]})")
            for k, n in reversed(list(enumerate(tier_names)))
        ]
        title = f"{name} — {lab['tier'].lower()}"
    else:
        title = name
    styles = {str(i): fill for i, fill in enumerate(fills)}
    layer = folium.GeoJson(
        feature_collection(geoms, props),
        name=name,
        show=show,
        style_function=lambda f: {"color": CLUSTER_LINE, "weight": 2, "fillColor": styles[f["id"]], "fillOpacity": CLUSTER_OPACITY},
        highlight_function=lambda f: {"weight": 4, "fillOpacity": 0.6},
        tooltip=folium.GeoJsonTooltip(fields=["cluster"], aliases=[alias["cluster"]], sticky=True) if fields else None,
        popup=folium.GeoJsonPopup(fields=fields, aliases=[alias[f] for f in fields], localize=False) if fields else None,
    )
    layer.add_to(m)
    Panel(legend_html(title, rows, approximate_line(approximate, lang)), layer=layer).add_to(m)
    if rank_c and rank_labels:
        metric = to_metric(clusters, metric_crs).to_numpy()
        spots = gpd.GeoSeries(label_points(metric), crs=metric_crs).to_crs("EPSG:4326")
        ranks = pd.to_numeric(clusters[rank_c], errors="coerce").to_numpy(dtype=float)
        points = [
            [round(float(pt.y), 6), round(float(pt.x), 6), int(k)]
            for pt, k in zip(spots, ranks, strict=True)
            if np.isfinite(k) and 1 <= k <= rank_labels
        ]
        RankMarkers(layer, points).add_to(m)
    return LayerInfo(name=name, kind="clusters", features=len(props), layer=layer)


@cache
def _words() -> Mapping[str, str]:
    words = dict(_LEGACY_GI_WORDS)
    if HOTSPOTS_TOPIC in topics():
        for lang in LANGS:
            for code, text in labels(HOTSPOTS_TOPIC, lang).items():
                if code in GI_CODES:
                    words[text.strip().lower()] = code
    return words


def gi_code_of_word(word: str) -> str | None:
    """The Gi* class code of a readable class (either language, any case), or ``None``.

    Knows the words of the ``hotspots`` label topic (what ``geoprio hotspots`` writes in
    ``gi_class``) and those of files written before it wrote ``gi_code``; a code is its own word.
    """
    w = word.strip().lower()
    return w if w in GI_CODES else _words().get(w)


def has_gi_columns(cells: pd.DataFrame) -> bool:
    """Whether a cell layer has a Gi* class column (:data:`GI_COLUMNS`)."""
    return any(c in cells.columns for c in GI_COLUMNS)


def gi_codes(cells: pd.DataFrame) -> np.ndarray:
    """Each cell's class code (``hot_99`` … ``none``), from ``gi_code``, ``gi_bin`` (−3…3) or ``gi_class``."""
    name = layer_name(cells, "cells")
    if "gi_code" in cells:
        codes = cells["gi_code"].astype("string").fillna("none").str.strip().str.lower().to_numpy(dtype=object)
        bad = sorted(set(codes) - set(GI_CODES))
        if bad:
            raise InputError(f"{name}: column 'gi_code' has unknown codes {bad[:5]}; expected {list(GI_CODES)}")
        return codes
    if "gi_bin" in cells:
        b = pd.to_numeric(cells["gi_bin"], errors="coerce").fillna(0).astype(int)
        bad_bins = sorted(set(b) - set(_GI_BINS))
        if bad_bins:
            raise InputError(f"{name}: column 'gi_bin' has values {bad_bins[:5]}; expected integers −3…3")
        return b.map(_GI_BINS).to_numpy(dtype=object)
    if "gi_class" not in cells:
        raise ColumnError(f"{name}: missing column 'gi_code' (or 'gi_bin', 'gi_class'); columns present: {column_list(cells)}")
    raw = cells["gi_class"].astype("string").fillna("none")
    cls = np.array([gi_code_of_word(v) or v for v in raw], dtype=object)
    bad = sorted(set(cls) - set(GI_CODES))
    if bad:
        raise InputError(f"{name}: column 'gi_class' has unknown classes {bad[:5]}; expected {list(GI_CLASSES)} or 'none'")
    return cls


def add_gistar_layer(
    m: folium.Map,
    cells: gpd.GeoDataFrame,
    *,
    lang: Lang = MAP_LANG,
    max_cells: int = DEFAULT_MAX_CELLS,
    tolerance_m: float = DEFAULT_TOLERANCE_M,
    decimals: int = DEFAULT_DECIMALS,
    metric_crs: str = DEFAULT_METRIC_CRS,
    show: bool = True,
    approximate: bool = False,
) -> LayerInfo | None:
    """Gi* cells classed hot/cold at 90/95/99 % (non-significant cells are not drawn).

    Up to ``max_cells`` significant cells are drawn one by one with their z and p (none in a
    public release, which has neither ``gi_z`` nor ``gi_p``); above that, one polygon per
    class. ``None`` when no cell is significant.
    """
    lab = map_labels(lang)
    cells = check_frame(cells, "cells", geom_types=("Polygon", "MultiPolygon"))
    cls = gi_codes(cells)
    sig = cls != "none"
    if not sig.any():
        return None
    sub = cells[sig].reset_index(drop=True)
    cls = cls[sig]
    if len(sub) <= max_cells:
        geoms = prepare_geometries(sub, tolerance_m=tolerance_m, decimals=decimals, metric_crs=metric_crs)
        rows = pd.DataFrame(sub.drop(columns=sub.geometry.name)).to_dict("records")
        props = []
        public = "gi_z" not in sub.columns and "gi_p" not in sub.columns  # a public release: classes only
        for c, r in zip(cls, rows, strict=True):
            p = (
                {"cls": lab[f"gi_{c}"]}
                if public
                else {"cls": lab[f"gi_{c}"], "z": fmt_num(r.get("gi_z"), 2, lang), "p": fmt_pvalue(r.get("gi_p"), lang)}
            )
            if "gi_q" in r:
                p["q"] = fmt_pvalue(r["gi_q"], lang)
            if "incidents" in r:
                p["n"] = fmt_num(r["incidents"], 0, lang)
            if "trend_class" in r:
                p["trend"] = fmt_text(r["trend_class"])
            props.append({**p, "_c": c})
        alias = {"cls": lab["gi_class"], "z": lab["gi_z"], "p": lab["gi_p"], "q": lab["gi_q"], "n": lab["incidents"], "trend": lab["trend"]}
        fields = [f for f in alias if f in props[0]]
        aliases, note = [alias[f] for f in fields], ""
    else:
        merged, keys, counts = dissolve_by(to_metric(sub, metric_crs).to_numpy(), cls)
        gs = gpd.GeoSeries(merged, crs=metric_crs)
        geoms = round_coordinates(simplify_m(gs, tolerance_m=tolerance_m, metric_crs=metric_crs), decimals)
        props = [{"cls": lab[f"gi_{c}"], "n": fmt_num(n, 0, lang), "_c": c} for c, n in zip(keys, counts, strict=True)]
        fields, aliases, note = ["cls", "n"], [lab["gi_class"], lab["cells"]], f"{fmt_int(len(sub), lang)} {lab['cells'].lower()}"
    name = lab["gistar_layer"]
    layer = folium.GeoJson(
        feature_collection(geoms, props),
        name=name,
        show=show,
        style_function=lambda f: {"fillColor": GI_COLORS[f["properties"]["_c"]], "fillOpacity": 0.7, "color": "#555555", "weight": 0.3},
        tooltip=folium.GeoJsonTooltip(fields=fields[:1], aliases=aliases[:1], sticky=True),
        popup=folium.GeoJsonPopup(fields=fields, aliases=aliases, localize=False),
    )
    layer.add_to(m)
    rows = [(GI_COLORS[c], "", lab[f"gi_{c}"]) for c in GI_CLASSES if c in set(cls)]
    Panel(legend_html(name, rows, [note, *approximate_line(approximate, lang)]), layer=layer).add_to(m)
    return LayerInfo(name=name, kind="gistar", features=len(props), layer=layer, note="dissolved" if note else "")


def add_density_layer(
    m: folium.Map,
    cells: gpd.GeoDataFrame,
    *,
    lang: Lang = MAP_LANG,
    column: str | None = None,
    classes: int = 7,
    max_cells: int = DEFAULT_MAX_CELLS,
    tolerance_m: float = DEFAULT_TOLERANCE_M,
    decimals: int = DEFAULT_DECIMALS,
    metric_crs: str = DEFAULT_METRIC_CRS,
    show: bool = True,
    approximate: bool = False,
) -> LayerInfo | None:
    """Grid cells coloured by their kernel density (per km²), in ``classes`` quantile classes.

    ``column``: the density column, by default ``kde_km2`` (``geoprio hotspots``) or ``kde``.
    Cells with zero density are not drawn. Above ``max_cells`` cells the layer is one
    polygon per class. ``None`` when every cell is zero.
    """
    lab = map_labels(lang)
    cells = check_frame(cells, "cells", geom_types=("Polygon", "MultiPolygon"))
    column = column or first_column(cells, *DENSITY_COLUMNS) or DENSITY_COLUMNS[0]
    require_columns(cells, "cells", [column])
    if not 2 <= classes <= len(DENSITY_COLORS):
        raise InputError(f"classes must be 2–{len(DENSITY_COLORS)}, got {classes!r}")
    v = pd.to_numeric(cells[column], errors="coerce").to_numpy(dtype=float)
    pos = np.isfinite(v) & (v > 0)
    if not pos.any():
        return None
    sub, v = cells[pos].reset_index(drop=True), v[pos]
    cls, colors, ranges = quantile_classes(v, classes, digits=1, lang=lang)
    if len(sub) <= max_cells:
        geoms = prepare_geometries(sub, tolerance_m=tolerance_m, decimals=decimals, metric_crs=metric_crs)
        props = [{"d": fmt_num(x, 1, lang), "_k": int(c)} for x, c in zip(v, cls, strict=True)]
        fields, aliases, note = ["d"], [f"{lab['density']} ({lab['density_unit']})"], None
    else:
        merged, keys, counts = dissolve_by(to_metric(sub, metric_crs).to_numpy(), cls)
        gs = gpd.GeoSeries(merged, crs=metric_crs)
        geoms = round_coordinates(simplify_m(gs, tolerance_m=tolerance_m, metric_crs=metric_crs), decimals)
        props = [{"d": ranges[int(c)], "n": fmt_num(n, 0, lang), "_k": int(c)} for c, n in zip(keys, counts, strict=True)]
        fields, aliases = ["d", "n"], [f"{lab['density']} ({lab['density_unit']})", lab["cells"]]
        note = f"{fmt_int(len(sub), lang)} {lab['cells'].lower()}"
    name = lab["density_layer"]
    layer = folium.GeoJson(
        feature_collection(geoms, props),
        name=name,
        show=show,
        style_function=lambda f: {"fillColor": colors[f["properties"]["_k"]], "fillOpacity": 0.65, "weight": 0, "stroke": False},
        tooltip=folium.GeoJsonTooltip(fields=fields[:1], aliases=aliases[:1], sticky=True),
        popup=folium.GeoJsonPopup(fields=fields, aliases=aliases, localize=False),
    )
    layer.add_to(m)
    rows = [(colors[i], "", ranges[i]) for i in reversed(range(len(colors)))]
    Panel(legend_html(f"{name} ({lab['density_unit']})", rows, [note or "", *approximate_line(approximate, lang)]), layer=layer).add_to(m)
    return LayerInfo(name=name, kind="density", features=len(props), layer=layer, note="dissolved" if note else "")
