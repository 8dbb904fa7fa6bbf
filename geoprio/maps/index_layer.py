"""The index layer: the choropleth of one zone level (``geoprio index``'s output) and the
outline of the enclosing level.

* :func:`add_index_layer` — zones coloured by tier (or by index value on a 0–100 ramp),
  tooltips with name, index, rank, tier, the 5–95 % rank interval, ``P(top k)``, the
  ``drivers`` text and ``†`` for small denominators (dashed outline); optionally the zone
  search box;
* :func:`add_parent_outline` — the boundaries of the enclosing level (zones dissolved by
  ``parent_id``).

Expected columns: ``zone_id``, ``name``, ``index``, ``rank``, ``tier``; optional ``level``,
``parent_id``, ``parent_name``, ``rank_p05``, ``rank_p95``, ``p_top_<k>``, ``drivers``,
``small_denominator``, ``excluded``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from typing import Literal

import folium
import geopandas as gpd
import numpy as np
import pandas as pd

from geoprio.errors import InputError
from geoprio.index.denominators import DEFAULT_TOP, small_in_top
from geoprio.index.estimator import tier_labels
from geoprio.labels import labels
from geoprio.maps.elements import LayerInfo, Panel, RankMarkers, ZoneSearch
from geoprio.maps.geometry import (
    DEFAULT_DECIMALS,
    DEFAULT_TOLERANCE_M,
    check_frame,
    dissolve_by,
    feature_collection,
    label_points,
    prepare_geometries,
    require_columns,
    round_coordinates,
    simplify_m,
    to_metric,
)
from geoprio.maps.style import INDEX_STOPS, NO_DATA, TIER_COLORS, gradient_legend_html, legend_html, mix
from geoprio.maps.text import MAP_LANG, fmt_int, fmt_num, fmt_text, is_finite, map_labels
from geoprio.settings import DEFAULT_METRIC_CRS, Lang

__all__ = [
    "DEFAULT_RANK_LABELS",
    "ColorBy",
    "add_index_layer",
    "add_parent_outline",
    "add_rank_labels",
    "level_name",
    "plural_level",
    "tier_positions",
]

#: How index zones are coloured: by ``tier`` or by ``index`` value.
ColorBy = Literal["tier", "index"]
#: How many of the top zones carry their rank number on the map.
DEFAULT_RANK_LABELS = 10


def level_name(table: pd.DataFrame, level: str | None, lang: str = MAP_LANG) -> str:
    """How a map names the zone level: ``level``, else the table's ``level`` column (``UPZ``, ``Localidad``), else "zones"."""
    lv = level or (str(table["level"].dropna().iloc[0]) if "level" in table.columns and table["level"].notna().any() else "")
    if not lv:
        return map_labels(lang)["zones"]
    return lv.upper() if len(lv) <= 4 else lv.capitalize()


def tier_positions(tiers: pd.Series, index: np.ndarray, lang: str) -> tuple[dict[str, int], list[str]]:
    """Tier value → position (0 = lowest priority), and the tier names in the map's language.

    geoprio's tier names (``baja``…``alta``, ``low``…``high``, 2–5 tiers) are recognised in
    either language and translated; other names are kept and ordered by their zones' mean index.
    """
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


def _tier_legend(
    tiers: pd.Series,
    idx: np.ndarray,
    positions: dict[str, int],
    tier_names: list[str],
    palette: list[str],
    *,
    note: str | Sequence[str] | None,
    lab: Mapping[str, str],
    lang: str,
) -> str:
    """The tiers, highest first, each with the index range of its zones (from the data)."""
    rows = [(palette[i], "", n) for i, n in reversed(list(enumerate(tier_names)))]
    if not np.isfinite(idx).all():
        rows.append((NO_DATA, "", lab["no_index"]))
    for i, tname in enumerate(tier_names):
        sel = [j for j in range(len(tiers)) if positions.get(str(tiers.iloc[j])) == i and math.isfinite(idx[j])]
        if sel:
            lo, hi = float(np.min(idx[sel])), float(np.max(idx[sel]))
            k = len(tier_names) - 1 - i
            rows[k] = (rows[k][0], "", f"{tname} ({fmt_num(lo, 1, lang)}–{fmt_num(hi, 1, lang)})")
    return legend_html(f"{lab['tier']} — {lab['legend_index']}", rows, note)


def add_index_layer(
    m: folium.Map,
    table: gpd.GeoDataFrame,
    *,
    lang: Lang = MAP_LANG,
    level: str | None = None,
    color_by: ColorBy = "tier",
    tolerance_m: float = DEFAULT_TOLERANCE_M,
    decimals: int = DEFAULT_DECIMALS,
    metric_crs: str = DEFAULT_METRIC_CRS,
    show: bool = True,
    search: bool = False,
    top: int | None = None,
) -> LayerInfo:
    """The index choropleth of one zone level (``geoprio index`` output), with its legend.

    Zones are coloured by ``tier`` (default; the classes of the printed table) or by the
    ``index`` value on a 0–100 ramp; zones without an index are grey. Small-denominator
    zones have a dashed outline and ``†`` after their name, and when some sit in the first
    ``top`` ranks (default: the table's ``p_top_<k>``, else 10) the legend names them.
    ``search=True`` adds the zone search box for this layer.
    """
    lab = map_labels(lang)
    table = check_frame(table, "index", geom_types=("Polygon", "MultiPolygon"))
    require_columns(table, "index", ["zone_id", "name", "index", "rank", "tier"])
    if color_by not in ("tier", "index"):
        raise InputError(f"color_by must be 'tier' or 'index', got {color_by!r}")
    lvl = level_name(table, level, lang)
    geoms = prepare_geometries(table, tolerance_m=tolerance_m, decimals=decimals, metric_crs=metric_crs)
    small = table["small_denominator"].fillna(False).astype(bool).to_numpy() if "small_denominator" in table else np.zeros(len(table), bool)
    idx = pd.to_numeric(table["index"], errors="coerce").to_numpy(dtype=float)
    positions, tier_names = tier_positions(table["tier"], idx, lang)
    palette = TIER_COLORS.get(len(tier_names), TIER_COLORS[5])
    ptop = next((c for c in table.columns if re.fullmatch(r"p_top_\d+", str(c))), None)
    has_interval = "rank_p05" in table and "rank_p95" in table
    props, styles = [], {}
    for i, r in enumerate(pd.DataFrame(table.drop(columns=table.geometry.name)).to_dict("records")):
        ok = math.isfinite(idx[i])
        tier = str(r["tier"]) if ok and pd.notna(r["tier"]) else None
        pos = positions.get(tier) if tier is not None else None
        if not ok:
            fill = NO_DATA
        elif color_by == "index":
            fill = mix(INDEX_STOPS, idx[i] / 100.0)
        else:
            fill = palette[pos] if pos is not None else NO_DATA
        styles[str(i)] = {
            "fillColor": fill,
            "fillOpacity": 0.7,
            "color": "#333333",
            "weight": 1.6 if small[i] else 0.8,
            "dashArray": "5 4" if small[i] else None,
        }
        p = {
            "name": fmt_text(r["name"]) + (" †" if small[i] else ""),
            "zone_id": fmt_text(r["zone_id"]),
            "index": fmt_num(idx[i], 1, lang)
            if ok
            else lab["no_index"] + (f" ({fmt_text(r['excluded'])})" if fmt_text(r.get("excluded")) else ""),
            "rank": fmt_int(r["rank"], lang),
            "tier": (tier_names[pos] if pos is not None else fmt_text(tier)) if ok else "—",
        }
        if "parent_name" in r:
            p["parent"] = fmt_text(r["parent_name"])
        if has_interval:
            p["interval"] = f"{fmt_int(r['rank_p05'], lang)}–{fmt_int(r['rank_p95'], lang)}" if is_finite(r["rank_p05"]) else "—"
        if ptop:
            p["p_top"] = fmt_num(r[ptop], 2, lang)
        if "drivers" in r:
            p["drivers"] = fmt_text(r["drivers"])
        props.append(p)
    data = feature_collection(geoms, props)
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
        tooltip=folium.GeoJsonTooltip(fields=["name"], aliases=[aliases["name"]], sticky=True),
        popup=folium.GeoJsonPopup(fields=fields, aliases=[aliases[f] for f in fields], localize=False),
        smooth_factor=0.5,
    )
    layer.add_to(m)
    note = [lab["small_note"]] if small.any() else []
    warning = small_in_top(table, top=top or (int(str(ptop).rsplit("_", 1)[-1]) if ptop else DEFAULT_TOP))
    if warning:
        zones = ", ".join(f"{z.name or z.zone_id} ({z.rank})" for z in warning.zones)
        top_n = min(warning.top, warning.ranked)
        note.append(labels("denominators", lang)["map_note"].format(n=len(warning.zones), top=top_n, zones=zones))
    if color_by == "tier":
        legend = _tier_legend(table["tier"], idx, positions, tier_names, palette, note=note, lab=lab, lang=lang)
    else:
        legend = gradient_legend_html(lab["legend_index"], INDEX_STOPS, 0, 100, note)
    Panel(legend, layer=layer).add_to(m)
    if search:
        ZoneSearch(
            layer, search_label="name", placeholder=lab["search"], text_err=lab["not_found"], text_cancel=lab["cancel"], show=show
        ).add_to(m)
    return LayerInfo(name=name, kind="index", features=len(props), layer=layer)


def add_parent_outline(
    m: folium.Map,
    table: gpd.GeoDataFrame,
    *,
    lang: Lang = MAP_LANG,
    tolerance_m: float = DEFAULT_TOLERANCE_M,
    decimals: int = DEFAULT_DECIMALS,
    metric_crs: str = DEFAULT_METRIC_CRS,
    show: bool = True,
    level: str | None = None,
) -> LayerInfo | None:
    """Boundaries of the enclosing level (the index zones dissolved by ``parent_id``); ``None`` without parents.

    ``level``: the enclosing level's name (``localidad``; from the index run's configuration),
    which names the layer ("Localidades"); without it, "Límites del nivel superior".
    """
    lab = map_labels(lang)
    table = check_frame(table, "index", geom_types=("Polygon", "MultiPolygon"))
    if "parent_id" not in table or table["parent_id"].isna().all():
        return None
    keys = table["parent_id"].astype("string").fillna("").to_numpy(dtype=object)
    merged, uniq, _ = dissolve_by(to_metric(table, metric_crs).to_numpy(), keys)
    keep = uniq != ""
    gs = gpd.GeoSeries(merged[keep], crs=metric_crs)
    geoms = round_coordinates(simplify_m(gs, tolerance_m=tolerance_m, metric_crs=metric_crs), decimals)
    names = table.drop_duplicates("parent_id").set_index(table.drop_duplicates("parent_id")["parent_id"].astype("string"))
    props = [{"parent": fmt_text(names["parent_name"].get(k, k)) if "parent_name" in names else fmt_text(k)} for k in uniq[keep]]
    name = plural_level(level) if level else lab["parent_layer"]
    layer = folium.GeoJson(
        feature_collection(geoms, props),
        name=name,
        show=show,
        style_function=lambda f: {"color": "#252525", "weight": 2.2, "fill": False, "opacity": 0.8},
        interactive=False,
    )
    layer.add_to(m)
    legend = legend_html(name, [("transparent", "border:2.2px solid #252525;height:10px;", lab["parent_legend"])])
    Panel(legend, layer=layer).add_to(m)
    return LayerInfo(name=name, kind="parent", features=len(props), layer=layer)


def plural_level(level: str) -> str:
    """A zone level's name as a layer name: ``localidad`` → ``Localidades``, ``comuna`` →
    ``Comunas``, ``upz`` → ``UPZ`` (short names are acronyms).
    """
    name = level.replace("_", " ").strip()
    if len(name) <= 4:
        return name.upper()
    if name.endswith("s"):
        return name.capitalize()
    return (name + ("s" if name[-1].lower() in "aeiouáéíóú" else "es")).capitalize()


def add_rank_labels(
    m: folium.Map,
    table: gpd.GeoDataFrame,
    layer: LayerInfo,
    *,
    top: int = DEFAULT_RANK_LABELS,
    metric_crs: str = DEFAULT_METRIC_CRS,
) -> int:
    """The rank number of the first ``top`` zones (ranks 1…top) at their centroid (a point inside
    the zone when the centroid falls outside), on the map while the index ``layer`` is on.
    Returns how many labels were placed.
    """
    table = check_frame(table, "index", geom_types=("Polygon", "MultiPolygon"))
    rank = pd.to_numeric(table["rank"], errors="coerce").to_numpy(dtype=float)
    sel = np.flatnonzero(np.isfinite(rank) & (rank >= 1) & (rank <= top))
    if not len(sel):
        return 0
    geoms = to_metric(table.iloc[sel], metric_crs).to_numpy()
    ll = gpd.GeoSeries(label_points(geoms), crs=metric_crs).to_crs("EPSG:4326")
    points = [[round(float(p.y), 6), round(float(p.x), 6), int(rank[i])] for p, i in zip(ll, sel, strict=True)]
    points.sort(key=lambda p: p[2])
    RankMarkers(layer.layer, points).add_to(m)
    return len(points)
