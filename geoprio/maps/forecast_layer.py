"""The forecast layer: next period's expected incidents per cell (``geoprio forecast --surface``).

:func:`add_forecast_layer` draws the layer ``pronostico_superficie`` as a choropleth of
``expected`` in quantile classes, outlines in black the cells of the top ``area_share`` of the
area (``cum_area_share`` at most the backtest's share, 1 % unless the manifest says otherwise),
with a popup per cell (rank, expected incidents, share of the expected total, method, whether
it is in the top share). The legend names the period ("Incidentes esperados del 01/01/2022 al
31/01/2022") and the backtest score of the method ("PAI 16,7 al 1 % del área; +0,0 % frente a
los conteos previos (IC 95 %: …)"), read from the run's notes (the ``notes`` of the
``manifest.json`` beside the layer, kind ``geoprio.forecast_surface``) or, without them, from
the layer's ``backtest_pai`` / ``backtest_gain`` columns.

Cells whose ``expected`` is below :data:`MIN_EXPECTED` are not drawn (the legend counts them).
Above ``max_cells`` drawn cells, the layer is one polygon per class and one outline of the top share.

Expected columns: ``cell_id``, ``expected``, ``rank``, ``cum_area_share``; optional ``share``,
``method``, ``backtest_pai``, ``backtest_gain``.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from typing import Any

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geoprio.errors import ColumnError
from geoprio.labels import label, labels
from geoprio.maps.elements import LayerInfo, Panel
from geoprio.maps.geometry import (
    DEFAULT_DECIMALS,
    DEFAULT_TOLERANCE_M,
    check_frame,
    column_list,
    dissolve_by,
    feature_collection,
    layer_name,
    prepare_geometries,
    round_coordinates,
    simplify_m,
    to_metric,
)
from geoprio.maps.hotspot_layers import DEFAULT_MAX_CELLS
from geoprio.maps.style import DENSITY_COLORS, legend_html, quantile_classes
from geoprio.maps.text import MAP_LANG, fmt_int, fmt_num, fmt_pct, fmt_text, is_finite, map_labels
from geoprio.settings import DEFAULT_METRIC_CRS, Lang

__all__ = [
    "FORECAST_COLUMNS",
    "FORECAST_MANIFEST_KIND",
    "FORECAST_TOPIC",
    "MIN_EXPECTED",
    "add_forecast_layer",
    "check_forecast",
    "forecast_labels",
]

#: The label topic of the forecast layer (``geoprio/resources/labels/forecast_map.toml``).
FORECAST_TOPIC = "forecast_map"
#: The columns every forecast surface has (``geoprio forecast --surface``'s ``pronostico_superficie``).
FORECAST_COLUMNS = ("cell_id", "expected", "rank", "cum_area_share")
#: The manifest kind of the run that writes a forecast surface.
FORECAST_MANIFEST_KIND = "geoprio.forecast_surface"
#: Cells expecting fewer incidents than this are not drawn.
MIN_EXPECTED = 1e-6
#: The top share of the area outlined when the run's notes do not say.
DEFAULT_TOP_SHARE = 0.01
_OUTLINE = "#111111"


def forecast_labels(lang: str) -> Mapping[str, str]:
    """Every word of the forecast layer in ``lang`` (checked like the maps' language)."""
    map_labels(lang)
    return labels(FORECAST_TOPIC, lang)


def check_forecast(cells: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """``cells`` if it is a forecast surface (polygons with :data:`FORECAST_COLUMNS`); else a
    :class:`~geoprio.errors.ColumnError` naming the file and what is missing.
    """
    name = layer_name(cells, "forecast")
    missing = [c for c in FORECAST_COLUMNS if c not in cells.columns]
    if missing:
        raise ColumnError(
            f"{name}: not a forecast surface: missing column(s) {missing}; expected the layer pronostico_superficie written by "
            f"`geoprio forecast --surface` (columns {list(FORECAST_COLUMNS)}); columns present: {column_list(cells)}"
        )
    return check_frame(cells, "forecast", geom_types=("Polygon", "MultiPolygon"))


def _share_text(share: float, lang: str) -> str:
    """``0.01`` → ``1 %``, ``0.005`` → ``0,5 %`` (whole percentages without decimals)."""
    pct = 100 * share
    return fmt_pct(share, 0 if abs(pct - round(pct)) < 1e-9 else 1, lang)


def _signed_pct(x: Any, lang: str) -> str:
    """A relative change as a signed percentage: ``+1,4 %``, ``−2,0 %``."""
    if not is_finite(x):
        return "—"
    v = float(x)
    return ("−" if v < 0 and round(abs(v) * 100, 1) > 0 else "+") + fmt_pct(abs(v), 1, lang)


def _date(text: Any, lang: str, *, days: int = 0) -> str | None:
    try:
        d = pd.Timestamp(str(text)) + pd.Timedelta(days=days)
    except (TypeError, ValueError):
        return None
    return d.strftime("%d/%m/%Y") if lang == "es" else d.strftime("%Y-%m-%d")


def _backtest(notes: Mapping[str, Any]) -> Mapping[str, Any]:
    """The backtest score in a forecast run's notes (``{}`` when absent)."""
    bt = notes.get("backtest")
    return bt if isinstance(bt, Mapping) else {}


def _first(frame: pd.DataFrame, column: str) -> Any:
    return frame[column].iloc[0] if column in frame and len(frame) else None


def _legend_lines(cells: gpd.GeoDataFrame, notes: Mapping[str, Any], share: float, lang: str) -> tuple[str, str | None]:
    """The legend title (with the period when known) and the backtest line (or None)."""
    t = forecast_labels(lang)
    start, end = _date(notes.get("period_start"), lang), _date(notes.get("period_end"), lang, days=-1)
    title = t["legend_period"].format(start=start, end=end) if start and end else t["legend"]
    bt = _backtest(notes)
    pai = bt.get("pai", _first(cells, "backtest_pai"))
    gain = bt.get("gain", _first(cells, "backtest_gain"))
    method = notes.get("method") or _first(cells, "method")
    if not is_finite(pai):
        return title, None
    if method == "prior":  # the baseline itself: no comparison with itself
        return title, t["backtest_baseline"].format(
            method=_method_label(method, lang), pai=fmt_num(pai, 1, lang), share=_share_text(share, lang)
        )
    line = t["backtest_line"].format(
        method=_method_label(method, lang), pai=fmt_num(pai, 1, lang), share=_share_text(share, lang), gain=_signed_pct(gain, lang)
    )
    ci = bt.get("gain_ci")
    if isinstance(ci, (list, tuple)) and len(ci) == 2 and all(is_finite(v) for v in ci):
        line += " " + t["ci"].format(low=_signed_pct(ci[0], lang), high=_signed_pct(ci[1], lang))
    return title, line


def _method_label(method: Any, lang: str) -> str:
    if method is None or (isinstance(method, float) and np.isnan(method)):
        return "—"
    try:
        return label("forecast", f"method_{method}", lang)
    except KeyError:
        return str(method)


def add_forecast_layer(
    m: folium.Map,
    cells: gpd.GeoDataFrame,
    *,
    notes: Mapping[str, Any] | None = None,
    lang: Lang = MAP_LANG,
    classes: int = 5,
    max_cells: int = DEFAULT_MAX_CELLS,
    tolerance_m: float = DEFAULT_TOLERANCE_M,
    decimals: int = DEFAULT_DECIMALS,
    metric_crs: str = DEFAULT_METRIC_CRS,
    show: bool = True,
) -> LayerInfo | None:
    """The forecast surface as a choropleth of ``expected`` in ``classes`` quantile classes, the
    top share of the area outlined, a popup per cell and the period and backtest score in the
    legend (see the module docstring). ``notes``: the run's manifest notes (period, method,
    backtest score with its interval). ``None`` when no cell expects any incident.
    """
    t = forecast_labels(lang)
    notes = notes or {}
    cells = check_forecast(cells)
    if not 2 <= classes <= len(DENSITY_COLORS):
        raise ColumnError(f"classes must be 2–{len(DENSITY_COLORS)}, got {classes!r}")
    v = pd.to_numeric(cells["expected"], errors="coerce").to_numpy(dtype=float)
    drawn = np.isfinite(v) & (v >= MIN_EXPECTED)
    if not drawn.any():
        return None
    bt = _backtest(notes)
    share = float(bt["area_share"]) if is_finite(bt.get("area_share")) else DEFAULT_TOP_SHARE
    cum = pd.to_numeric(cells["cum_area_share"], errors="coerce").to_numpy(dtype=float)
    top_all = np.isfinite(cum) & (cum <= share + 1e-12)
    sub, v, top = cells[drawn].reset_index(drop=True), v[drawn], top_all[drawn]
    cls, colors, ranges = quantile_classes(v, classes, digits=2, lang=lang)
    share_text = _share_text(share, lang)
    in_top = t["in_top"].format(share=share_text)
    if len(sub) <= max_cells:
        geoms = prepare_geometries(sub, tolerance_m=tolerance_m, decimals=decimals, metric_crs=metric_crs)
        rank = pd.to_numeric(sub["rank"], errors="coerce").to_numpy(dtype=float)
        part = pd.to_numeric(sub["share"], errors="coerce").to_numpy(dtype=float) if "share" in sub else np.full(len(sub), np.nan)
        method = sub["method"].to_numpy(dtype=object) if "method" in sub else np.full(len(sub), None, dtype=object)
        labels_of = {mm: _method_label(mm, lang) for mm in set(method)}
        props = [
            {
                "rank": fmt_int(rank[i], lang),
                "e": fmt_num(v[i], 2, lang),
                "share": fmt_pct(part[i], 2, lang),
                "method": fmt_text(labels_of[method[i]]),
                "top": t["yes"] if top[i] else t["no"],
                "_k": int(cls[i]),
                "_top": int(top[i]),
            }
            for i in range(len(sub))
        ]
        fields = ["e", "rank", "share", "method", "top"]
        aliases = [t["expected"], t["rank"], t["share"], t["method"], in_top]
    else:
        metric = to_metric(sub, metric_crs).to_numpy()
        merged, keys, counts = dissolve_by(metric, cls)
        outline = shapely.union_all(metric[top]) if top.any() else None
        gs = gpd.GeoSeries([*merged, *([outline] if outline is not None else [])], crs=metric_crs)
        geoms = round_coordinates(simplify_m(gs, tolerance_m=tolerance_m, metric_crs=metric_crs), decimals)
        props = [{"e": ranges[int(c)], "n": fmt_int(n, lang), "_k": int(c), "_top": 0} for c, n in zip(keys, counts, strict=True)]
        if outline is not None:
            props.append({"e": in_top, "n": fmt_int(int(top.sum()), lang), "_k": -1, "_top": 1})
        fields, aliases = ["e", "n"], [t["expected"], t["cells"]]

    def style(feature: dict[str, Any]) -> dict[str, Any]:
        p = feature["properties"]
        if p["_k"] < 0:  # the dissolved outline of the top share
            return {"fill": False, "color": _OUTLINE, "weight": 2.5}
        base = {"fillColor": colors[p["_k"]], "fillOpacity": 0.7}
        return {**base, "color": _OUTLINE, "weight": 2.0} if p["_top"] else {**base, "weight": 0, "stroke": False}

    name = t["layer"]
    layer = folium.GeoJson(
        feature_collection(geoms, props),
        name=name,
        show=show,
        style_function=style,
        tooltip=folium.GeoJsonTooltip(fields=fields[:1], aliases=aliases[:1], sticky=True),
        popup=folium.GeoJsonPopup(fields=fields, aliases=[html.escape(a) for a in aliases], localize=False),
    )
    layer.add_to(m)
    title, backtest = _legend_lines(cells, notes, share, lang)
    rows = [(colors[i], "", ranges[i]) for i in reversed(range(len(colors)))]
    note = [t["top_line"].format(share=share_text, cells=fmt_int(int(top_all.sum()), lang))]
    if backtest:
        note.append(backtest)
    if (left := int((~drawn).sum())) > 0:
        note.append(t["left_out"].format(cells=fmt_int(left, lang)))
    Panel(legend_html(title, rows, note), layer=layer).add_to(m)
    return LayerInfo(name=name, kind="forecast", features=len(props), layer=layer, note="dissolved" if len(sub) > max_cells else "")
