"""The map page: an empty map with its basemaps, the map with every layer, and the HTML file.

* :func:`new_map` — an empty map fitted to the layers, with the chosen basemaps and only the
  web assets geoprio uses (Leaflet and jQuery; no Bootstrap or icon fonts);
* :func:`finish_map` — layer control, fullscreen, measure, metric scale and the title box;
* :func:`build_map` — both, and every layer given (:mod:`geoprio.maps.index_layer`,
  :mod:`~geoprio.maps.hotspot_layers`, :mod:`~geoprio.maps.tracking_layer`,
  :mod:`~geoprio.maps.entornos_layer`, :mod:`~geoprio.maps.placement_layers`), returning a
  :class:`MapResult`; nothing is written;
* :func:`render_html` — the page's HTML (element names numbered in order, so the same map
  renders to the same bytes) with its web assets made local (:mod:`geoprio.maps.assets`);
* :func:`write_map` and :meth:`MapResult.write` — the HTML (atomically), its ``assets/``
  folder and ``<name>.manifest.json`` beside it, returning a :class:`MapOutput`.

A map's output is a file: ``MapResult.write(path)`` takes the HTML path (``maps/x.html``); given
a folder it writes :data:`DEFAULT_MAP_NAME` there. Its manifest is ``<name>.manifest.json``
beside the HTML (not ``manifest.json``), so that several maps share one folder and one
``assets/``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import folium
import folium.plugins
import geopandas as gpd
import pandas as pd
from branca.element import Element, Figure

from geoprio.disclosure import DisclosurePolicy, disclosure_record
from geoprio.errors import ColumnError, InputError
from geoprio.io import files as io
from geoprio.io import manifest as run_manifest
from geoprio.io.results import Written
from geoprio.maps.assets import AssetMode, localize_assets
from geoprio.maps.elements import LayerControl, LayerInfo, MapChrome, PopupPolicy
from geoprio.maps.entornos_layer import add_entornos_layer
from geoprio.maps.forecast_layer import add_forecast_layer, forecast_labels
from geoprio.maps.geometry import DEFAULT_DECIMALS, DEFAULT_TOLERANCE_M, column_list, first_column, layer_name, leaflet_view
from geoprio.maps.hotspot_layers import (
    DEFAULT_MAX_CELLS,
    DENSITY_COLUMNS,
    add_cluster_layer,
    add_density_layer,
    add_gistar_layer,
    has_gi_columns,
)
from geoprio.maps.index_layer import DEFAULT_RANK_LABELS, ColorBy, add_index_layer, add_parent_outline, add_rank_labels, level_name
from geoprio.maps.placement_layers import PLAN_KINDS, add_facilities_layer, add_plan_layer, add_shore_layer
from geoprio.maps.text import MAP_LANG, approximate_of, map_labels
from geoprio.maps.tracking_layer import add_tracking_layer
from geoprio.options import Options
from geoprio.settings import DEFAULT_METRIC_CRS, Lang

__all__ = [
    "APPROXIMATE_TOPICS",
    "DEFAULT_MAP_NAME",
    "MAP_KIND",
    "MapOutput",
    "MapResult",
    "basemap_names",
    "build_map",
    "finish_map",
    "manifest_path",
    "new_map",
    "render_html",
    "write_map",
]

#: The manifest kind of a map.
MAP_KIND = "geoprio.map"
#: The HTML file a map is written to when only a folder is given.
DEFAULT_MAP_NAME = "mapa.html"
#: The layers of :func:`build_map` that can be drawn from points placed by place name.
APPROXIMATE_TOPICS = ("clusters", "cells", "cameras", "garitas", "entornos")

_OSM_URL = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
_OSM_ATTR = '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors'
_CARTO_URL = "https://{s}.basemaps.cartocdn.com/light_all/{z}/{x}/{y}{r}.png?key={key}"
_CARTO_ATTR = _OSM_ATTR + ' &copy; <a href="https://carto.com/attributions">CARTO</a>'


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class MapOutput(Written):
    """A written map: the HTML file (``files``, ``path``), its size, the copied assets and the manifest."""

    path: Path
    bytes: int
    assets: tuple[Path, ...]
    assets_bytes: int
    layers: tuple[LayerInfo, ...]


@dataclass
class MapResult:
    """A built map and the layers on it; :meth:`write` writes it.

    ``options`` and ``inputs`` are set by :func:`geoprio.maps.from_files.make_map` (the map
    job), so that the manifest can replay the run; a map built in memory has neither.
    ``disclosure``: the policy of a public map (recorded in its manifest), None for a full map.
    """

    map: folium.Map
    layers: list[LayerInfo]
    lang: Lang
    parameters: dict[str, Any]
    options: Options | None = None
    inputs: tuple[tuple[str, Path], ...] = ()
    assets: AssetMode = "folder"
    disclosure: DisclosurePolicy | None = None
    kind: str = field(default=MAP_KIND, init=False)

    def write(
        self,
        out_dir: str | Path,
        formats: Sequence[str] | None = None,
        *,
        assets: AssetMode | None = None,
        command: str | None = None,
    ) -> MapOutput:
        """Write the HTML, its assets and ``<name>.manifest.json``; return what was written.

        ``out_dir`` is the HTML path (``maps/x.html``) or a folder (then ``mapa.html`` in it;
        a path without a suffix is taken for a folder).
        A map has one format, HTML: ``formats`` is there for the run protocol and must be
        empty or ``["html"]``. ``assets`` overrides the options' asset mode.
        """
        if formats and list(formats) != ["html"]:
            raise InputError(f"a map is written as HTML only, got formats {list(formats)}")
        target = Path(out_dir)
        if not target.suffix or target.is_dir():
            target = target / DEFAULT_MAP_NAME
        return write_map(self, target, assets=assets or self.assets, inputs=self.inputs, command=command)


# --------------------------------------------------------------------------- the page


def basemap_names(tiles: str | Sequence[str], carto_key: str | None) -> list[str]:
    """The basemaps ``tiles`` stands for (``"auto"`` and ``"none"`` resolved)."""
    names = [tiles] if isinstance(tiles, str) else list(tiles)
    if names == ["auto"]:
        return ["positron", "osm"] if carto_key else ["light", "osm"]
    if names == ["none"]:
        return []
    return names


def _tile_layer(name: str, *, lang: str, carto_key: str | None, tiles_attribution: str | None, show: bool) -> folium.TileLayer:
    lab = map_labels(lang)
    common: dict[str, Any] = {"show": show, "control": True, "max_zoom": 19}
    if name == "light":
        return folium.TileLayer(_OSM_URL, attr=_OSM_ATTR, name=lab["basemap_light"], class_name="geoprio-light", **common)
    if name == "positron":
        if not carto_key:
            raise InputError(
                "tiles: CARTO's 'positron' basemap needs an API key since August 2026 (https://carto.com/basemaps/apikey/); "
                "give carto_key (--carto-key or GEOPRIO_CARTO_KEY) or use tiles 'light'"
            )
        url = _CARTO_URL.replace("{key}", carto_key)
        return folium.TileLayer(url, attr=_CARTO_ATTR, name=lab["basemap_positron"], subdomains="abcd", **common)
    if name == "osm":
        return folium.TileLayer(_OSM_URL, attr=_OSM_ATTR, name=lab["basemap_osm"], **common)
    if name.startswith(("http://", "https://")) and "{z}" in name:
        if not tiles_attribution:
            raise InputError(f"tiles: the tile URL {name!r} needs an attribution (tiles_attribution / --tiles-attribution)")
        return folium.TileLayer(name, attr=tiles_attribution, name=lab["basemap_custom"], **common)
    raise InputError(f"tiles: expected 'auto', 'light', 'positron', 'osm', 'none' or a URL template with {{z}}/{{x}}/{{y}}, got {name!r}")


def new_map(
    frames: Sequence[gpd.GeoDataFrame] = (),
    *,
    lang: Lang = MAP_LANG,
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
    lab = map_labels(lang)
    fig = Figure(title=title or lab["title_map"])
    centre, bounds = leaflet_view(frames)
    m = folium.Map(location=centre, zoom_start=12, tiles=None, control_scale=False, prefer_canvas=False)
    fig.add_child(m)
    # only what the maps use: Leaflet and jQuery (folium's popups); no Bootstrap or icon fonts
    m.default_js = [(n, u) for n, u in folium.Map.default_js if n in ("leaflet", "jquery")]
    m.default_css = [(n, u) for n, u in folium.Map.default_css if n == "leaflet_css"]
    for i, name in enumerate(basemap_names(tiles, carto_key)):
        _tile_layer(name, lang=lang, carto_key=carto_key, tiles_attribution=tiles_attribution, show=i == 0).add_to(m)
    if bounds is not None:
        # at once, not animated: a page printed by headless Chromium (virtual time) would
        # otherwise be caught mid-zoom, its markers and shapes drawn at different scales
        fit = folium.FitBounds(bounds)
        fit.options["animate"] = False
        fit.add_to(m)
    PopupPolicy().add_to(m)  # before any layer binds a popup
    return m


def source_line(lang: str, *, source: str | None = None, period: str | None = None) -> str:
    """The map's source line: "Fuente: … · Periodo: … · Elaborado con geoprio"."""
    lab = map_labels(lang)
    parts = [lab["source_line"].format(source=source)] if source else []
    if period:
        parts.append(lab["period_line"].format(period=period))
    return " · ".join([*parts, lab["made_with"]])


def finish_map(
    m: folium.Map,
    *,
    lang: Lang = MAP_LANG,
    title: str | None = None,
    subtitle: str | None = None,
    source: str | None = None,
    period: str | None = None,
    synthetic: bool = False,
) -> folium.Map:
    """Layer control, fullscreen, measure (metres/hectares), and the map elements: the title
    band (title, subtitle), the source line (source and period), north arrow, metric scale and,
    on synthetic data, the SINTÉTICO stamp.
    """
    lab = map_labels(lang)
    folium.plugins.Fullscreen(position="topleft", title=lab["fullscreen"], title_cancel=lab["fullscreen_exit"]).add_to(m)
    folium.plugins.MeasureControl(
        position="topleft",
        primary_length_unit="meters",
        secondary_length_unit="kilometers",
        primary_area_unit="sqmeters",
        secondary_area_unit="hectares",
        localization=lang,
    ).add_to(m)
    MapChrome(
        title,
        subtitle=subtitle,
        source=source_line(lang, source=source, period=period),
        stamp=(lab["synthetic_stamp"], lab["synthetic_note"]) if synthetic else None,
        north_title=lab["north"],
    ).add_to(m)
    LayerControl().add_to(m)
    return m


def _as_list(x: gpd.GeoDataFrame | Sequence[gpd.GeoDataFrame] | None) -> list[gpd.GeoDataFrame]:
    if x is None:
        return []
    return [x] if isinstance(x, gpd.GeoDataFrame) else list(x)


def _default_title(lang: str, indexes: Sequence[gpd.GeoDataFrame], **given: bool) -> str | None:
    """The title of a map without one: what it is mostly about."""
    lab = map_labels(lang)
    if given["cameras"] and not given["garitas"]:
        return lab["title_plan_cameras"]
    if given["garitas"] and not given["cameras"]:
        return lab["title_plan_garitas"]
    if given["clusters"] or given["cells"]:
        return lab["title_hotspots"]
    if given["tracking"]:
        return lab["title_tracking"]
    if given["entornos"]:
        return lab["title_entornos"]
    if given["forecast"]:
        return str(forecast_labels(lang)["title"])
    if indexes:
        return lab["title_index"].format(level=level_name(indexes[0], None, lang))
    return None


def _add_cells(
    m: folium.Map,
    cells: gpd.GeoDataFrame,
    *,
    lang: Lang,
    max_cells: int,
    tolerance_m: float,
    decimals: int,
    metric_crs: str,
    approximate: bool = False,
) -> list[LayerInfo]:
    """The density layer (off when Gi* cells are drawn too) and the Gi* layer of one cell layer."""
    has_gi = has_gi_columns(cells)
    has_kde = first_column(cells, *DENSITY_COLUMNS) is not None
    if not has_gi and not has_kde:
        raise ColumnError(
            f"{layer_name(cells, 'cells')}: expected 'gi_code'/'gi_bin'/'gi_class' (Gi*) or 'kde_km2'/'kde' (density); "
            f"columns present: {column_list(cells)}"
        )
    geo: dict[str, Any] = {"tolerance_m": tolerance_m, "decimals": decimals, "metric_crs": metric_crs}
    layers = []
    if has_kde:
        dens = add_density_layer(m, cells, lang=lang, max_cells=max_cells, show=not has_gi, approximate=approximate, **geo)
        if dens:
            layers.append(dens)
    if has_gi:
        gi = add_gistar_layer(m, cells, lang=lang, max_cells=max_cells, approximate=approximate, **geo)
        if gi:
            layers.append(gi)
    return layers


def _layer_of(value: Any, name: str, attr: str) -> Any:
    """``value`` if it is a GeoDataFrame (or None), else the layer ``value.<attr>`` of a geoprio result."""
    if value is None or isinstance(value, gpd.GeoDataFrame):
        return value
    layer = getattr(value, attr, None)
    if isinstance(layer, gpd.GeoDataFrame):
        return layer
    raise InputError(f"build_map: {name} must be a GeoDataFrame or a geoprio result with a .{attr} layer, got {type(value).__name__}")


def _radius_of(plan: Any) -> float | None:
    """The coverage radius a plan was solved with, when it records one."""
    radius = getattr(getattr(plan, "options", None), "radius_m", None)
    return float(radius) if isinstance(radius, (int, float)) else None


def build_map(
    *,
    index: Any = None,
    clusters: Any = None,
    cells: Any = None,
    cameras: Any = None,
    cameras_curve: pd.DataFrame | None = None,
    garitas: Any = None,
    garitas_curve: pd.DataFrame | None = None,
    existing_cameras: gpd.GeoDataFrame | None = None,
    existing_garitas: gpd.GeoDataFrame | None = None,
    garitas_stretches: gpd.GeoDataFrame | None = None,
    garitas_shore: gpd.GeoDataFrame | None = None,
    cameras_radius_m: float | None = None,
    garitas_radius_m: float | None = None,
    tracking: gpd.GeoDataFrame | None = None,
    tracking_indicator: str | None = None,
    tracking_year: int | None = None,
    entornos: Any = None,
    forecast: gpd.GeoDataFrame | None = None,
    forecast_notes: Mapping[str, Any] | None = None,
    lang: Lang = MAP_LANG,
    title: str | None = None,
    tiles: str | Sequence[str] = "auto",
    tiles_attribution: str | None = None,
    carto_key: str | None = None,
    color_by: ColorBy = "tier",
    tolerance_m: float = DEFAULT_TOLERANCE_M,
    decimals: int = DEFAULT_DECIMALS,
    max_cells: int = DEFAULT_MAX_CELLS,
    metric_crs: str = DEFAULT_METRIC_CRS,
    approximate: Collection[str] = (),
    subtitle: str | None = None,
    source: str | None = None,
    period: str | None = None,
    synthetic: bool = False,
    parent_level: str | None = None,
    rank_labels: int = DEFAULT_RANK_LABELS,
) -> MapResult:
    """One map with every given layer, its legends and controls; nothing is written.

    Layers are GeoDataFrames as geoprio writes them, or geoprio's own results: an
    :class:`~geoprio.index.IndexRun` (``index=``, its ``.table``), a
    :class:`~geoprio.hotspots.HotspotRun` (``clusters=`` / ``cells=``), a
    :class:`~geoprio.placement.PlanRun` (``cameras=`` / ``garitas=``: its sites, coverage
    curve, radius and, for garitas, the shore stretches and the shore: ``garitas_shore``,
    drawn as beaches with their uncovered parts) or an entornos run (``entornos=``).
    ``forecast`` is the layer of ``geoprio forecast --surface`` (``pronostico_superficie``),
    with the notes of its run (``forecast_notes``: the period and the backtest score).

    ``index`` may hold one table per zone level (each its own layer; the first is
    searchable). ``tracking`` is ``geoprio indicators``'s zone layer
    (:func:`~geoprio.maps.tracking_layer.add_tracking_layer`, one layer per indicator, or
    ``tracking_indicator`` only, in ``tracking_year`` or the latest). What is shown at
    opening: the hot-spot, plan and tracking layers when given (the index is then listed but
    off; of the tracking layers the first indicator), otherwise the index; the density layer
    is off when Gi* cells are drawn. Everything stays switchable in the layer control.

    Layers drawn from points placed by place name (a gazetteer) say so in their legend
    ("ubicación aproximada"): those of results whose notes count ``approximate_locations``,
    and those named in ``approximate`` (``clusters``, ``cells``, ``cameras``, ``garitas``,
    ``entornos``; for layers given as GeoDataFrames).

    The map elements of a printed map: ``title`` and ``subtitle`` (a band across the top),
    ``source`` and ``period`` (the source line, bottom left, with the north arrow and the
    metric scale), ``synthetic`` (the SINTÉTICO stamp), ``parent_level`` (names the parent
    boundaries, "Localidades"), ``rank_labels`` (the rank number on the first N zones of the
    index; 0 for none).
    """
    map_labels(lang)  # checks the language first
    if not isinstance(rank_labels, int) or isinstance(rank_labels, bool) or rank_labels < 0:
        raise InputError(f"rank_labels must be a non-negative integer (how many top zones carry their rank), got {rank_labels!r}")
    unknown = sorted(set(approximate) - set(APPROXIMATE_TOPICS))
    if unknown:
        raise InputError(f"approximate: unknown layer(s) {unknown}; choose among {list(APPROXIMATE_TOPICS)}")
    given_results = {"clusters": clusters, "cells": cells, "cameras": cameras, "garitas": garitas, "entornos": entornos}
    approx = set(approximate) | {k for k, v in given_results.items() if approximate_of(getattr(v, "notes", None))}
    # geoprio's own results stand for their layers: an index run for its table, a hot-spot run
    # for its clusters or cells, a plan for its sites (with its coverage curve and radius).
    if isinstance(index, Sequence) and not isinstance(index, gpd.GeoDataFrame):
        index = [_layer_of(t, "index", "table") for t in index]
    else:
        index = _layer_of(index, "index", "table")
    clusters = _layer_of(clusters, "clusters", "clusters")
    cells = _layer_of(cells, "cells", "cells")
    entornos = _layer_of(entornos, "entornos", "table")
    if cameras is not None and not isinstance(cameras, gpd.GeoDataFrame):
        cameras_curve = cameras_curve if cameras_curve is not None else getattr(cameras, "curve", None)
        cameras_radius_m = cameras_radius_m if cameras_radius_m is not None else _radius_of(cameras)
    if garitas is not None and not isinstance(garitas, gpd.GeoDataFrame):
        garitas_curve = garitas_curve if garitas_curve is not None else getattr(garitas, "curve", None)
        garitas_radius_m = garitas_radius_m if garitas_radius_m is not None else _radius_of(garitas)
        garitas_stretches = garitas_stretches if garitas_stretches is not None else getattr(garitas, "stretches", None)
        garitas_shore = garitas_shore if garitas_shore is not None else getattr(garitas, "shore", None)
    cameras = _layer_of(cameras, "cameras", "sites")
    garitas = _layer_of(garitas, "garitas", "sites")
    if not isinstance(decimals, int) or not 0 <= decimals <= 8:
        raise InputError(f"decimals must be an integer 0–8, got {decimals!r}")
    if not isinstance(max_cells, int) or max_cells < 0:
        raise InputError(f"max_cells must be a non-negative integer, got {max_cells!r}")
    indexes = _as_list(index)
    frames = [
        *indexes,
        clusters,
        cells,
        cameras,
        garitas,
        existing_cameras,
        existing_garitas,
        garitas_stretches,
        garitas_shore,
        tracking,
        entornos,
        forecast,
    ]
    given = [f for f in frames if f is not None]
    if not given:
        raise InputError(
            "build_map: give at least one layer (index, clusters, cells, cameras, garitas, existing facilities, tracking, entornos "
            "or forecast)"
        )
    if tracking is None and (tracking_indicator is not None or tracking_year is not None):
        raise InputError("a tracking indicator or year was given without the tracking layer (seguimiento_zonas.geojson)")
    topics = {"cameras": cameras, "garitas": garitas, "clusters": clusters, "cells": cells, "tracking": tracking, "entornos": entornos}
    topics["forecast"] = forecast
    if title is None:
        title = _default_title(lang, indexes, **{k: v is not None for k, v in topics.items()})
    m = new_map(given, lang=lang, tiles=tiles, tiles_attribution=tiles_attribution, carto_key=carto_key, title=title)
    geo: dict[str, Any] = {"tolerance_m": tolerance_m, "decimals": decimals, "metric_crs": metric_crs}
    layers: list[LayerInfo] = []
    topical = any(f is not None for f in topics.values())
    for i, table in enumerate(indexes):
        info = add_index_layer(m, table, lang=lang, color_by=color_by, show=(i == 0 and not topical), search=(i == 0), **geo)
        layers.append(info)
        if i == 0 and rank_labels:
            add_rank_labels(m, table, info, top=rank_labels, metric_crs=metric_crs)
    if indexes:
        outline = add_parent_outline(m, indexes[0], lang=lang, level=parent_level, **geo)
        if outline:
            layers.append(outline)
    if cells is not None:
        layers += _add_cells(m, cells, lang=lang, max_cells=max_cells, approximate="cells" in approx, **geo)
    if tracking is not None:
        layers += add_tracking_layer(m, tracking, indicator=tracking_indicator, year=tracking_year, lang=lang, **geo)
    if forecast is not None:
        drawn = add_forecast_layer(m, forecast, notes=forecast_notes, lang=lang, max_cells=max_cells, **geo)
        if drawn is not None:
            layers.append(drawn)
    if entornos is not None:
        layers.append(
            add_entornos_layer(
                m, entornos, lang=lang, tolerance_m=0.2, decimals=decimals, metric_crs=metric_crs, approximate="entornos" in approx
            )
        )
    if clusters is not None:
        layers.append(add_cluster_layer(m, clusters, lang=lang, approximate="clusters" in approx, rank_labels=rank_labels, **geo))
    plans = {
        "cameras": (cameras, cameras_curve, existing_cameras, None, cameras_radius_m),
        "garitas": (garitas, garitas_curve, existing_garitas, garitas_stretches, garitas_radius_m),
    }
    if garitas_shore is not None:
        layers.append(add_shore_layer(m, garitas_shore, stretches=garitas_stretches, lang=lang, decimals=decimals, metric_crs=metric_crs))
    for kind in PLAN_KINDS:
        plan, curve, existing, lines, radius = plans[kind]
        if existing is not None:
            layers.append(add_facilities_layer(m, existing, kind=kind, lang=lang, decimals=decimals, show=plan is not None))
        if plan is not None:
            layers += add_plan_layer(
                m, plan, kind=kind, curve=curve, stretches=lines, radius_m=radius, lang=lang, decimals=decimals, approximate=kind in approx
            )
        elif curve is not None or lines is not None:
            raise InputError(f"a {kind} coverage curve or stretches were given without the {kind} plan")
    finish_map(m, lang=lang, title=title, subtitle=subtitle, source=source, period=period, synthetic=synthetic)
    params: dict[str, Any] = {
        "lang": lang,
        "tiles": basemap_names(tiles, carto_key),
        "carto_key": "given" if carto_key else None,
        "color_by": color_by,
        "tolerance_m": tolerance_m,
        "decimals": decimals,
        "max_cells": max_cells,
        "metric_crs": metric_crs,
        "title": title,
    }
    extras = {"subtitle": subtitle, "source": source, "period": period, "parent_level": parent_level}
    params.update({k: v for k, v in extras.items() if v})
    if synthetic:
        params["synthetic"] = True
    if rank_labels != DEFAULT_RANK_LABELS:
        params["rank_labels"] = rank_labels
    if tracking is not None:
        params.update(tracking_indicator=tracking_indicator, tracking_year=tracking_year)
    if approx:
        params["approximate"] = sorted(approx)
    return MapResult(map=m, layers=layers, lang=lang, parameters=params)


# --------------------------------------------------------------------------- the HTML file


def _number_elements(root: Element) -> None:
    """Name every element of the page by its position (folium draws random names), so the
    same map renders to the same bytes and a replayed map can be compared with the first.
    """
    queue, n = [root], 0
    while queue:
        element = queue.pop(0)
        element._id = f"{n:032x}"
        n += 1
        queue.extend(element._children.values())


def render_html(m: folium.Map, *, assets: AssetMode = "folder", lang: Lang = MAP_LANG) -> tuple[str, dict[str, bytes]]:
    """The page's HTML with CDN addresses rewritten, and the asset files it needs.

    ``assets="folder"``: links to ``assets/<package>/<version>/…`` and returns those files
    (with the licences) to copy beside the HTML; ``"inline"``: scripts and styles embedded,
    their images as ``data:`` URIs, no files; ``"cdn"``: folium's CDN links, no files.
    Raises :class:`InputError` if the page links a script or style geoprio has not vendored.
    """
    root = m.get_root()
    _number_elements(root)
    page = root.render().replace("<html>", f'<html lang="{lang}">', 1)
    return localize_assets(page, assets)


def manifest_path(html_path: str | Path) -> Path:
    """The manifest of the map ``x.html``: ``x.manifest.json`` beside it."""
    p = Path(html_path)
    return p.with_name(f"{p.stem}.manifest.json")


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
    The manifest also lists the options (when the map came from :func:`make_map`, for
    replay), the parameters, the layers and their feature counts, the assets copied and the
    library versions, and for a public map (``result.disclosure``) its ``disclosure``
    (:func:`geoprio.disclosure.disclosure_record`). Asset files already there with the same
    bytes are left alone.
    """
    path = Path(path)
    if path.suffix.lower() not in (".html", ".htm"):
        raise InputError(f"{path}: a map is written as .html")
    res = result if isinstance(result, MapResult) else MapResult(map=result, layers=[], lang=MAP_LANG, parameters={})
    page, files = render_html(res.map, assets=assets, lang=res.lang)
    written = []
    for rel, data in files.items():
        dest = path.parent / rel
        if not (dest.is_file() and dest.stat().st_size == len(data) and io.sha256_file(dest) == hashlib.sha256(data).hexdigest()):
            _write_bytes(data, dest)
        written.append(dest)
    io.write_text(page, path)
    size = path.stat().st_size
    options = res.options.model_dump(mode="json") if res.options is not None else None
    if options is not None and options.get("public", False) is None:
        del options["public"]  # a full map's manifest stays as it was before public maps existed
    release = {"disclosure": disclosure_record(res.disclosure)} if res.disclosure is not None else {}
    # The same document as geoprio.io.results.write_result, under this map's own manifest name.
    doc = run_manifest.document(
        kind=MAP_KIND,
        command=command,
        inputs=list(inputs),
        outputs=[path],
        options=options,
        formats=None,
        map={"path": str(path), "bytes": size, "sha256": io.sha256_file(path), "assets": assets},
        parameters=res.parameters,
        layers=[{"name": li.name, "kind": li.kind, "features": li.features, "note": li.note} for li in res.layers],
        assets=[{"path": str(p), "sha256": hashlib.sha256(files[str(p.relative_to(path.parent))]).hexdigest()} for p in written],
        **release,
    )
    manifest = run_manifest.write(doc, manifest_path(path))
    return MapOutput(
        files=(path,),
        manifest=manifest,
        path=path,
        bytes=size,
        assets=tuple(written),
        assets_bytes=sum(len(v) for v in files.values()),
        layers=tuple(res.layers),
    )
