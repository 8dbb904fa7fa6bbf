"""The plan-tracking layer: zones coloured by progress towards their target (``geoprio indicators``).

:func:`add_tracking_layer` draws ``seguimiento_zonas.geojson``: zones coloured by capped
progress towards their target (red far from it, green met, grey without data), one layer per
indicator, popups with the actual value, target, capped and uncapped progress and baseline.

Expected columns: ``indicator``, ``zone_id``, ``progress_capped`` (0–1); optional ``label``,
``name``, ``year``, ``unit``, ``per``, ``scope``, ``actual``, ``target``, ``baseline``,
``progress``, ``count``, ``share_of_shortfall``.
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping
from typing import Any

import folium
import geopandas as gpd
import numpy as np
import pandas as pd

from geoprio.errors import ColumnError, InputError
from geoprio.maps.elements import LayerInfo, Panel
from geoprio.maps.geometry import (
    DEFAULT_DECIMALS,
    DEFAULT_TOLERANCE_M,
    check_frame,
    feature_collection,
    layer_name,
    prepare_geometries,
    require_columns,
)
from geoprio.maps.style import NO_DATA, PROGRESS_CLASSES, legend_html, progress_color
from geoprio.maps.text import MAP_LANG, fmt_num, fmt_pct, fmt_text, is_finite, map_labels
from geoprio.settings import DEFAULT_METRIC_CRS, Lang

__all__ = ["add_tracking_layer"]


def _unit_text(unit: Any, per: Any, lab: Mapping[str, str], lang: str) -> str:
    u = str(unit) if unit is not None and not (isinstance(unit, float) and math.isnan(unit)) else ""
    if u == "rate":
        return lab["unit_rate"].format(per=fmt_num(per, 0, lang)) if is_finite(per) else lab["unit_rate_plain"]
    if u in ("count", "share"):
        return lab[f"unit_{u}"]
    return fmt_text(u)


def _tracking_value(v: Any, unit: Any, lang: str) -> str:
    s = fmt_num(v, 1, lang)
    return f"{s} %" if s != "—" and unit == "share" else s


def _select(frame: gpd.GeoDataFrame, indicator: str | None, year: int | None) -> tuple[gpd.GeoDataFrame, np.ndarray, int | None]:
    """The rows of ``indicator`` (all without one) in ``year`` (default the latest), their
    indicator ids, and the year shown.
    """
    ids = frame["indicator"].astype("string").fillna("").to_numpy(dtype=object)
    if indicator is not None:
        present = list(dict.fromkeys(ids))
        if indicator not in present:
            raise InputError(f"{layer_name(frame, 'tracking')}: indicator {indicator!r} is not in the layer; indicators: {present}")
        frame, ids = frame[ids == indicator].reset_index(drop=True), ids[ids == indicator]
    shown_year: int | None = None
    if "year" in frame:
        years = pd.to_numeric(frame["year"], errors="coerce")
        present_years = sorted({int(y) for y in years.dropna()})
        if year is not None and year not in present_years:
            raise InputError(f"{layer_name(frame, 'tracking')}: year {year!r} is not in the layer; years: {present_years}")
        shown_year = year if year is not None else (present_years[-1] if present_years else None)
        if shown_year is not None:
            keep = (years == shown_year).to_numpy()
            frame, ids = frame[keep].reset_index(drop=True), ids[keep]
    elif year is not None:
        raise ColumnError(f"{layer_name(frame, 'tracking')}: year {year!r} was asked for but the layer has no 'year' column")
    if not len(frame):
        raise InputError(f"{layer_name(frame, 'tracking')}: no zone with a geometry to draw")
    return frame, ids, shown_year


def _popup_rows(
    sub: pd.DataFrame, rows: list[dict[str, Any]], capped: np.ndarray, label: str, lab: Mapping[str, str], lang: str
) -> list[dict[str, str]]:
    """What each zone's popup shows (escaped text)."""
    breakdown = any(str(r.get("scope")) == "breakdown" for r in rows)
    props = []
    for r, pc in zip(rows, capped, strict=True):
        unit = r.get("unit")
        p = {
            "name": fmt_text(r.get("name")) or fmt_text(r["zone_id"]),
            "zone_id": fmt_text(r["zone_id"]),
            "indicator": fmt_text(label),
            "actual": _tracking_value(r.get("actual"), unit, lang),
            "target": _tracking_value(r.get("target"), unit, lang),
            "progress_capped": fmt_pct(pc, 1, lang),
            "progress": fmt_pct(r.get("progress"), 1, lang),
            "baseline": _tracking_value(r.get("baseline"), unit, lang),
        }
        if "count" in sub:
            p["count"] = fmt_num(r.get("count"), 0, lang)
        if "unit" in sub:
            p["unit"] = _unit_text(unit, r.get("per"), lab, lang)
        if "scope" in sub:
            p["target_kind"] = lab["scope_breakdown"] if str(r.get("scope")) == "breakdown" else lab["scope_zone"]
        if breakdown and "share_of_shortfall" in sub:
            p["share_of_shortfall"] = fmt_pct(r.get("share_of_shortfall"), 1, lang) if str(r.get("scope")) == "breakdown" else "—"
        props.append(p)
    return props


def _popup_aliases(lab: Mapping[str, str], year_text: str) -> dict[str, str]:
    return {
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


def _legend(capped: np.ndarray, *, title: str, breakdown: bool, lab: Mapping[str, str]) -> str:
    """The progress classes, how many zones meet the target, and the notes."""
    rows = [(PROGRESS_CLASSES[0][1], "", lab["progress_met"])]
    for (hi, _), (lo, color) in zip(PROGRESS_CLASSES[:-1], PROGRESS_CLASSES[1:], strict=True):
        rows.append((color, "", lab["progress_far"] if lo == 0 else f"{lo * 100:g}–{hi * 100:g} %"))
    if not np.isfinite(capped).all():
        rows.append((NO_DATA, "", lab["no_data"]))
    defined = capped[np.isfinite(capped)]
    met = lab["zones_met"].format(met=int((defined >= 1.0).sum()), n=len(capped))
    text = legend_html(title, rows, met)
    text += f'<div class="note">{html.escape(lab["tracking_note"])}</div>'
    if breakdown:
        text += f'<div class="note">{html.escape(lab["breakdown_note"])}</div>'
    return text


def add_tracking_layer(
    m: folium.Map,
    zones_progress: gpd.GeoDataFrame,
    *,
    indicator: str | None = None,
    year: int | None = None,
    lang: Lang = MAP_LANG,
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
    lab = map_labels(lang)
    frame = check_frame(zones_progress, "tracking", geom_types=("Polygon", "MultiPolygon"))
    require_columns(frame, "tracking", ["indicator", "zone_id", "progress_capped"])
    frame, ids, shown_year = _select(frame, indicator, year)
    year_text = str(shown_year) if shown_year is not None else "—"
    alias = _popup_aliases(lab, year_text)
    infos: list[LayerInfo] = []
    for k, ind in enumerate(dict.fromkeys(ids)):
        sub = frame[ids == ind].reset_index(drop=True)
        rows = pd.DataFrame(sub.drop(columns=sub.geometry.name)).to_dict("records")
        label = str(rows[0]["label"]) if fmt_text(rows[0].get("label")) else str(ind)
        geoms = prepare_geometries(sub, tolerance_m=tolerance_m, decimals=decimals, metric_crs=metric_crs)
        capped = pd.to_numeric(sub["progress_capped"], errors="coerce").to_numpy(dtype=float)
        props = _popup_rows(sub, rows, capped, label, lab, lang)
        fields = [f for f in alias if f in props[0]]
        name = lab["tracking_layer"].format(indicator=label, year=year_text)
        group = folium.FeatureGroup(name=html.escape(name), show=show and k == 0)
        styles = {str(i): progress_color(v) for i, v in enumerate(capped)}
        folium.GeoJson(
            feature_collection(geoms, props),
            style_function=lambda f, styles=styles: {"fillColor": styles[f["id"]], "fillOpacity": 0.7, "color": "#333333", "weight": 0.8},
            highlight_function=lambda f: {"weight": 3, "color": "#000000", "fillOpacity": 0.8},
            tooltip=folium.GeoJsonTooltip(fields=["name", "progress_capped"], aliases=[lab["zone"], lab["progress_capped"]], sticky=True),
            popup=folium.GeoJsonPopup(fields=fields, aliases=[html.escape(alias[f]) for f in fields], localize=False),
            smooth_factor=0.5,
        ).add_to(group)
        group.add_to(m)
        breakdown = any(str(r.get("scope")) == "breakdown" for r in rows)
        title = lab["legend_tracking"].format(indicator=label, year=year_text)
        Panel(_legend(capped, title=title, breakdown=breakdown, lab=lab), layer=group).add_to(m)
        infos.append(LayerInfo(name=name, kind="tracking", features=len(props), layer=group))
    return infos
