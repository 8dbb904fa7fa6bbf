"""The entornos layer: priority places (``geoprio entornos``) on the map.

:func:`add_entornos_layer` draws each place's influence area coloured by its index on a
0–100 ramp (grey without an index), with a tooltip (name, type, rank) and a popup with the
explanation, the comparison with the surroundings and the 24-hour profile as a small SVG
chart (peak hours in red).

Expected columns: ``place_id``, ``name``, ``type``, ``index``, ``rank``; optional
``rank_p05``, ``rank_p95``, ``radius_m``, ``weighted_incidents``, ``pattern``,
``ratio_ring``, ``peak_hours``, ``drivers``, ``hours_profile`` (24 numbers),
``hours_peak`` (24 characters ``0``/``1``).
"""

from __future__ import annotations

import html
import json
import math
from collections.abc import Mapping, Sequence
from typing import Any

import folium
import geopandas as gpd
import numpy as np
import pandas as pd

from geoprio.maps.elements import LayerInfo, Panel, RankMarkers, popup_table
from geoprio.maps.geometry import (
    DEFAULT_DECIMALS,
    check_frame,
    feature_collection,
    label_points,
    prepare_geometries,
    require_columns,
    to_metric,
)
from geoprio.maps.style import INDEX_STOPS, NO_DATA, gradient_legend_html, mix
from geoprio.maps.text import MAP_LANG, approximate_line, fmt_int, fmt_num, fmt_text, is_finite, map_labels
from geoprio.settings import DEFAULT_METRIC_CRS, OUTPUT_CRS, Lang

__all__ = ["PLACE_MARKER", "add_entornos_layer"]

#: The fill of the numbered place markers (dark grey, white number).
PLACE_MARKER = "#37474f"


def _hours_svg(profile: Sequence[float], peak: Sequence[bool], *, lab: Mapping[str, str]) -> str:
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
    lang: Lang = MAP_LANG,
    tolerance_m: float = 1.0,
    decimals: int = DEFAULT_DECIMALS,
    metric_crs: str = DEFAULT_METRIC_CRS,
    show: bool = True,
    approximate: bool = False,
) -> LayerInfo:
    """Places ranked by ``geoprio entornos``: each influence area coloured by its index on a
    0–100 ramp (grey without an index), a tooltip with name, type and rank, and a popup
    with the explanation, the comparison with the surroundings and the 24-hour profile
    (peak hours in red).
    """
    lab = map_labels(lang)
    places = check_frame(places, "entornos", geom_types=("Polygon", "MultiPolygon"))
    require_columns(places, "entornos", ["place_id", "name", "type", "index", "rank"])
    geoms = prepare_geometries(places, tolerance_m=tolerance_m, decimals=decimals, metric_crs=metric_crs, coverage=False)
    idx = pd.to_numeric(places["index"], errors="coerce").to_numpy(dtype=float)
    props, styles = [], {}
    has_interval = "rank_p05" in places and "rank_p95" in places
    for i, r in enumerate(pd.DataFrame(places.drop(columns=places.geometry.name)).to_dict("records")):
        ok = math.isfinite(idx[i])
        fill = mix(INDEX_STOPS, idx[i] / 100.0) if ok else NO_DATA
        styles[str(i)] = {"fillColor": fill, "fillOpacity": 0.65, "color": "#333333", "weight": 0.8}
        p = {
            "name": fmt_text(r["name"]),
            "type": fmt_text(r["type"]),
            "index": fmt_num(idx[i], 1, lang) if ok else lab["no_index"],
            "rank": fmt_int(r["rank"], lang),
        }
        if has_interval:
            p["interval"] = f"{fmt_int(r['rank_p05'], lang)}–{fmt_int(r['rank_p95'], lang)}" if is_finite(r["rank_p05"]) else "—"
        if "radius_m" in r:
            p["radius"] = fmt_num(r["radius_m"], 0, lang)
        if "weighted_incidents" in r:
            p["incidents"] = fmt_num(r["weighted_incidents"], 0, lang)
        if "pattern" in r:
            ratio = f" (×{fmt_num(r['ratio_ring'], 1, lang)})" if is_finite(r.get("ratio_ring")) else ""
            p["pattern"] = fmt_text(r["pattern"]) + ratio
        if "peak_hours" in r:
            p["peak"] = fmt_text(r["peak_hours"])
        if "drivers" in r:
            p["drivers"] = fmt_text(r["drivers"])
        profile, peak = _sequence(r.get("hours_profile")), _sequence(r.get("hours_peak"), chars=True)
        if len(profile) == 24 and len(peak) == 24:
            chart = _hours_svg([float(v) for v in profile], [str(c) in ("1", "True", "true") for c in peak], lab=lab)
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
        feature_collection(geoms, props),
        name=name,
        show=show,
        style_function=lambda f: styles[f["id"]],
        highlight_function=lambda f: {"weight": 3, "color": "#000000", "fillOpacity": 0.8},
        tooltip=folium.GeoJsonTooltip(fields=["name", "type", "rank"], aliases=[lab["place"], lab["place_type"], lab["rank"]], sticky=True),
        popup=folium.GeoJsonPopup(fields=fields, aliases=[html.escape(alias[f]) for f in fields], localize=False, max_width=320),
    )
    layer.add_to(m)
    Panel(gradient_legend_html(lab["entornos_legend"], INDEX_STOPS, 0, 100, approximate_line(approximate, lang)), layer=layer).add_to(m)
    # a numbered marker on each place (its rank; ringed in its index colour), visible at city
    # zoom where a 100-m area is a speck
    spots = gpd.GeoSeries(label_points(to_metric(places, metric_crs).to_numpy()), crs=metric_crs).to_crs(OUTPUT_CRS)
    rank = pd.to_numeric(places["rank"], errors="coerce").to_numpy(dtype=float)
    aliases = [html.escape(alias[f]) for f in fields]
    points = [
        [round(float(pt.y), 6), round(float(pt.x), 6), int(k), popup_table(p, fields, aliases), styles[str(i)]["fillColor"]]
        for i, (pt, k, p) in enumerate(zip(spots, rank, props, strict=True))
        if np.isfinite(k)
    ]
    RankMarkers(layer, sorted(points, key=lambda q: q[2]), color=PLACE_MARKER).add_to(m)
    return LayerInfo(name=name, kind="entornos", features=len(props), layer=layer)


def _sequence(value: Any, *, chars: bool = False) -> list[Any]:
    """An hour profile as written (a list, a JSON array, space-separated text, or 0/1 characters)."""
    if isinstance(value, (list, tuple, np.ndarray)):
        return list(value)
    text = "" if value is None or (isinstance(value, float) and math.isnan(value)) else str(value).strip()
    if text.startswith("["):
        try:
            return list(json.loads(text))
        except ValueError:
            return []
    if chars and " " not in text:
        return list(text)
    return text.split()
