"""The placement layers: camera and garita plans (``geoprio plan``) and existing facilities.

* :func:`add_plan_layer` — proposed sites with coverage circles of ``radius_m`` (or, for
  garitas, the stretches of shore they cover), existing ones in grey, and the coverage curve
  as a small SVG chart;
* :func:`add_facilities_layer` — existing facilities alone (grey dots, dashed circles).

Expected columns: sites (points) optional ``rank``, ``site_id``, ``estado``
(``nueva``/``existente``) [``existing`` bool], ``marginal_share`` [``marginal_gain``],
``cumulative_share`` (0–1), ``radius_m``; coverage curve ``n_sites``, ``covered_share``
(0–1); stretches (lines) ``site_id``, ``estado``.
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geoprio.errors import InputError
from geoprio.maps.elements import LayerInfo, Panel, RankMarkers, popup_table
from geoprio.maps.geometry import (
    DEFAULT_DECIMALS,
    check_frame,
    feature_collection,
    first_column,
    layer_name,
    require_columns,
    round_coordinates,
    to_metric,
)
from geoprio.maps.style import EXISTING_COLOR, PLAN_COLORS, legend_html
from geoprio.maps.text import MAP_LANG, approximate_line, fmt_int, fmt_num, fmt_pct, fmt_text, is_finite, map_labels
from geoprio.numbers import fmt_spec
from geoprio.settings import DEFAULT_METRIC_CRS, OUTPUT_CRS, Lang

__all__ = [
    "PLAN_KINDS",
    "SHORE_COLOR",
    "UNCOVERED_COLOR",
    "PlanKind",
    "add_facilities_layer",
    "add_plan_layer",
    "add_shore_layer",
    "check_curve",
    "existing_mask",
]

#: The two kinds of plan.
PlanKind = Literal["cameras", "garitas"]
PLAN_KINDS: tuple[PlanKind, ...] = ("cameras", "garitas")


def _points(frame: gpd.GeoDataFrame, name: str) -> gpd.GeoDataFrame:
    return check_frame(frame, name, geom_types=("Point",))


def _site_layers(
    group: folium.FeatureGroup,
    pts: np.ndarray,
    radius_m: np.ndarray,
    props: list[dict[str, Any]],
    fields: Sequence[str],
    aliases: Sequence[str],
    *,
    color: str,
    existing: bool,
    circles_group: folium.FeatureGroup | None = None,
) -> None:
    """Coverage circles (metres) and centre dots of a set of sites, in ``group`` (the circles in
    ``circles_group`` when given: a layer of their own).
    """
    data = feature_collection(pts, props)
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
            tooltip=folium.GeoJsonTooltip(fields=list(fields), aliases=list(aliases), sticky=True),
        ).add_to(circles_group if circles_group is not None else group)
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
        tooltip=folium.GeoJsonTooltip(fields=list(fields[:1]), aliases=list(aliases[:1]), sticky=True),
        popup=folium.GeoJsonPopup(fields=list(fields), aliases=list(aliases), localize=False),
    ).add_to(group)


def add_facilities_layer(
    m: folium.Map,
    points: gpd.GeoDataFrame,
    *,
    kind: PlanKind,
    lang: Lang = MAP_LANG,
    radius_m: float | None = None,
    decimals: int = DEFAULT_DECIMALS,
    show: bool = True,
    circles: bool = True,
) -> LayerInfo:
    """Existing cameras or garitas (grey dots; dashed coverage circles when a radius is known).

    The radius is the ``radius_m`` column when present, else the ``radius_m`` argument; it is
    shown in the popup, and drawn as a circle unless ``circles=False`` (garitas whose coverage
    is drawn along the shore).
    """
    lab = map_labels(lang)
    if kind not in PLAN_KINDS:
        raise InputError(f"kind must be 'cameras' or 'garitas', got {kind!r}")
    points = _points(points, f"existing {kind}")
    pts = round_coordinates(points.geometry.to_crs(OUTPUT_CRS), decimals)
    r = _radii(points, radius_m, f"existing {kind}")
    id_c = first_column(points, "site_id", "id", "nombre", "name")
    props = [
        {
            "site": lab[f"site_existing_{kind}"] + (f" {fmt_text(s)}" if id_c else ""),
            "radius": f"{fmt_num(rr, 0, lang)} m" if math.isfinite(rr) else "—",
        }
        for s, rr in zip(points[id_c] if id_c else [None] * len(points), r, strict=True)
    ]
    name = lab[f"existing_{kind}"]
    group = folium.FeatureGroup(name=name, show=show)
    drawn = r if circles else np.full(len(r), np.nan)
    _site_layers(group, pts, drawn, props, ["site", "radius"], [lab["site"], lab["radius_m"]], color=EXISTING_COLOR, existing=True)
    group.add_to(m)
    Panel(legend_html(name, [(EXISTING_COLOR, "border-radius:50%;", f"{name} ({len(points)})")]), layer=group).add_to(m)
    return LayerInfo(name=name, kind=f"existing_{kind}", features=len(points), layer=group)


def _radii(points: pd.DataFrame, radius_m: float | None, name: str) -> np.ndarray:
    if "radius_m" in points:
        r = pd.to_numeric(points["radius_m"], errors="coerce").to_numpy(dtype=float)
    elif radius_m is not None:
        r = np.full(len(points), float(radius_m))
    else:
        r = np.full(len(points), np.nan)
    if (r[np.isfinite(r)] < 0).any():
        raise InputError(f"{layer_name(points, name)}: radius_m must be non-negative metres, got {float(r[np.isfinite(r)].min())!r}")
    return r


def check_curve(curve: pd.DataFrame) -> pd.DataFrame:
    """A coverage curve's ``n_sites`` and ``covered_share`` (a share in [0, 1]), numeric and sorted."""
    require_columns(curve, "coverage curve", ["n_sites", "covered_share"])
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


def _curve_svg(curve: pd.DataFrame, *, chosen: int | None, color: str, lab: Mapping[str, str], what: str, lang: str = MAP_LANG) -> str:
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
        parts.append(f'<text x="{px(t):.1f}" y="{h - mb + 12}" font-size="10" text-anchor="middle">{fmt_spec(t, "g", lang)}</text>')
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


def existing_mask(sites: pd.DataFrame) -> np.ndarray:
    """Which rows are existing facilities: ``existing`` true or ``estado`` = ``existente``."""
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
    lang: Lang = MAP_LANG,
    radius_m: float | None = None,
    decimals: int = DEFAULT_DECIMALS,
    show: bool = True,
    approximate: bool = False,
) -> list[LayerInfo]:
    """A camera or garita plan: proposed sites with their coverage, existing ones in grey.

    Existing facilities are the rows with ``existing`` true or ``estado`` = ``existente``
    (``geoprio plan``'s sites layer); they get their own layer. Coverage is drawn as circles
    of ``radius_m`` (the column, else the argument) or, when ``stretches`` is given (garitas:
    the shore each garita covers, lines with ``site_id``/``estado``), as those stretches. The
    coverage ``curve`` (``n_sites``, ``covered_share``) is a small chart shown with the
    proposed sites; its dashed line marks the number of proposed sites.
    """
    lab = map_labels(lang)
    if kind not in PLAN_KINDS:
        raise InputError(f"kind must be 'cameras' or 'garitas', got {kind!r}")
    sites = _points(sites, f"{kind} plan")
    existing = existing_mask(sites)
    out: list[LayerInfo] = []
    new = sites[~existing].reset_index(drop=True)
    if "rank" in new:
        new = new.sort_values("rank", kind="stable").reset_index(drop=True)
    color = PLAN_COLORS[kind]
    lines = None
    if stretches is not None:
        lines = check_frame(stretches, f"{kind} stretches", geom_types=("LineString", "MultiLineString"))
    if len(new):
        pts = round_coordinates(new.geometry.to_crs(OUTPUT_CRS), decimals)
        r = _radii(new, radius_m, f"{kind} plan")
        rank = new["rank"].to_numpy() if "rank" in new else np.arange(1, len(new) + 1)
        props = []
        for i, row in enumerate(new.to_dict("records")):
            p = {"site": lab[f"site_new_{kind}"].format(rank=fmt_int(rank[i], lang))}
            if "site_id" in row:
                p["id"] = fmt_text(row["site_id"])
            if "marginal_share" in row:
                p["gain"] = fmt_pct(row["marginal_share"], 1, lang)
            elif "marginal_gain" in row:
                p["gain"] = fmt_num(row["marginal_gain"], 1, lang)
            if "cumulative_share" in row:
                p["share"] = fmt_pct(row["cumulative_share"], 1, lang)
            p["radius"] = f"{fmt_num(r[i], 0, lang)} m" if math.isfinite(r[i]) else "—"
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
            _stretch_layer(group, lines[~existing_mask(lines)], color=color, decimals=decimals, existing=False)
            r = np.full(len(new), np.nan)  # the stretches are the coverage: no circles
        # the coverage circles: a layer of their own, off at opening (shown on demand)
        cover = folium.FeatureGroup(name=lab[f"coverage_layer_{kind}"], show=False) if np.isfinite(r).any() else None
        _site_layers(group, pts, r, props, fields, [alias[f] for f in fields], color=color, existing=False, circles_group=cover)
        group.add_to(m)
        # the rank on each proposed site, clickable (numbered circles do not hide each other's number)
        ll = shapely.get_coordinates(pts)
        labels_at = [
            [float(y), float(x), int(k), popup_table(p, fields, [alias[f] for f in fields])]
            for (x, y), k, p in zip(ll, rank, props, strict=True)
            if is_finite(k)
        ]
        RankMarkers(group, labels_at, color=color).add_to(m)
        out.append(LayerInfo(name=name, kind=f"plan_{kind}", features=len(new), layer=group))
        if cover is not None:
            cover.add_to(m)
            out.append(LayerInfo(name=cover.layer_name, kind=f"coverage_{kind}", features=len(new), layer=cover))
        rows = [(color, "border-radius:50%;", f"{name} ({len(new)})")]
        Panel(legend_html(name, rows, approximate_line(approximate, lang)), layer=group).add_to(m)
        if curve is not None:
            c = check_curve(curve)
            Panel(
                _curve_svg(c, chosen=len(new), color=color, lab=lab, what=lab[kind], lang=lang),
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
            radius_m=radius_m,
            decimals=decimals,
            show=show,
            circles=lines is None,
        )
        if lines is not None:
            _stretch_layer(info.layer, lines[existing_mask(lines)], color=EXISTING_COLOR, decimals=decimals, existing=True)
        out.append(info)
    return out


def _stretch_layer(group: folium.FeatureGroup, lines: gpd.GeoDataFrame, *, color: str, decimals: int, existing: bool) -> None:
    """Covered stretches of shore (lines), under the site dots."""
    if not len(lines):
        return
    geoms = round_coordinates(lines.geometry.to_crs(OUTPUT_CRS), decimals)
    props = [{"id": fmt_text(v)} for v in (lines["site_id"] if "site_id" in lines else [""] * len(lines))]
    folium.GeoJson(
        feature_collection(geoms, props),
        style_function=lambda f: {
            "color": color,
            "weight": 4 if existing else 6,
            "opacity": 0.75,
            "dashArray": "6 4" if existing else None,
        },
        interactive=False,
    ).add_to(group)


#: Colours of the shore: the beaches (sand) and their uncovered parts (red).
SHORE_COLOR, UNCOVERED_COLOR = "#c8a45a", "#d7191c"


def add_shore_layer(
    m: folium.Map,
    shore: gpd.GeoDataFrame,
    *,
    stretches: gpd.GeoDataFrame | None = None,
    lang: Lang = MAP_LANG,
    decimals: int = DEFAULT_DECIMALS,
    metric_crs: str = DEFAULT_METRIC_CRS,
    show: bool = True,
) -> LayerInfo:
    """The shore a garita plan watches (``garitas_costa``: lines, ``name``), drawn as sand, and
    the parts no garita covers (the shore minus the covered ``stretches``, within 1 m) in red,
    with the uncovered and total length in the legend.
    """
    lab = map_labels(lang)
    shore = check_frame(shore, "garitas shore", geom_types=("LineString", "MultiLineString"))
    metric = to_metric(shore, metric_crs).to_numpy()
    total_m = float(shapely.length(metric).sum())
    if stretches is not None and len(stretches):
        lines = check_frame(stretches, "garitas stretches", geom_types=("LineString", "MultiLineString"))
        covered = shapely.buffer(shapely.union_all(to_metric(lines, metric_crs).to_numpy()), 1.0)
        open_parts = shapely.difference(metric, covered)
    else:
        open_parts = metric
    open_parts = np.array([g if not g.is_empty else None for g in open_parts], dtype=object)
    uncovered_m = float(sum(shapely.length(g) for g in open_parts if g is not None))
    names = shore["name"].map(fmt_text).tolist() if "name" in shore else [""] * len(shore)
    props = [{"name": n, "length": fmt_num(length, 0, lang)} for n, length in zip(names, shapely.length(metric), strict=True)]
    name = lab["shore_layer"]
    group = folium.FeatureGroup(name=name, show=show)
    folium.GeoJson(
        feature_collection(round_coordinates(gpd.GeoSeries(metric, crs=metric_crs).to_crs(OUTPUT_CRS), decimals), props),
        style_function=lambda f: {"color": SHORE_COLOR, "weight": 9, "opacity": 0.7, "lineCap": "butt"},
        tooltip=folium.GeoJsonTooltip(fields=["name"], aliases=[lab["shore_name"]], sticky=True),
        popup=folium.GeoJsonPopup(fields=["name", "length"], aliases=[lab["shore_name"], lab["shore_length"]], localize=False),
    ).add_to(group)
    keep = [i for i, g in enumerate(open_parts) if g is not None]
    if keep:
        gaps = gpd.GeoSeries(list(open_parts[keep]), crs=metric_crs).to_crs(OUTPUT_CRS)
        folium.GeoJson(
            feature_collection(round_coordinates(gaps, decimals), [props[i] for i in keep]),
            style_function=lambda f: {"color": UNCOVERED_COLOR, "weight": 3, "opacity": 0.95, "dashArray": "7 5"},
            interactive=False,
        ).add_to(group)
    group.add_to(m)
    rows = [
        (SHORE_COLOR, "height:6px;", lab["shore_beach"]),
        (PLAN_COLORS["garitas"], "height:6px;", lab["shore_covered"]),
        (UNCOVERED_COLOR, "height:3px;", lab["shore_uncovered"]),
    ]
    note = lab["shore_note"].format(uncovered=fmt_num(uncovered_m / 1000, 1, lang), total=fmt_num(total_m / 1000, 1, lang))
    Panel(legend_html(name, rows, note), layer=group).add_to(m)
    return LayerInfo(name=name, kind="shore", features=len(shore), layer=group, note=note)
