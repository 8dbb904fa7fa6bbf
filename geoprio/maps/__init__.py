"""Offline-ready Leaflet maps (through Folium) of what the other stages computed.

The maps draw what ``geoprio index``, ``hotspots``, ``plan``, ``indicators`` and ``entornos``
computed and never compute an analysis themselves. One module per concern:

* :mod:`~geoprio.maps.text` — the labels (``resources/labels/maps.toml``) and number formats;
* :mod:`~geoprio.maps.style` — palettes, colour ramps, legend HTML;
* :mod:`~geoprio.maps.elements` — Leaflet/branca elements (legend panels, title, search), CSS;
* :mod:`~geoprio.maps.geometry` — layer checks, simplification in metres, rounding, GeoJSON;
  the only module that knows Leaflet's ``[lat, lon]``;
* one module per layer family: :mod:`~geoprio.maps.index_layer` (index choropleth, parent
  outline), :mod:`~geoprio.maps.hotspot_layers` (clusters, Gi* cells, density),
  :mod:`~geoprio.maps.placement_layers` (camera and garita plans, existing facilities),
  :mod:`~geoprio.maps.tracking_layer` (plan tracking), :mod:`~geoprio.maps.entornos_layer`
  (priority places), :mod:`~geoprio.maps.forecast_layer` (the forecast surface);
* :mod:`~geoprio.maps.provenance` — source, period, synthetic data and the parent level, read
  from the manifests of the runs that wrote a map's inputs (the map elements of a bulletin);
* :mod:`~geoprio.maps.assets` — the vendored web assets (folder, inline or CDN);
* :mod:`~geoprio.maps.page` — ``new_map``, ``finish_map``, ``build_map``, ``render_html``,
  ``write_map`` and the ``MapResult`` / ``MapOutput`` records;
* :mod:`~geoprio.maps.from_files` — the map job: ``MapOptions``, ``make_map``,
  ``replay_map``, ``map_from_files``;
* :mod:`~geoprio.maps.release` — public maps: ``check_public_inputs`` (a public map draws only
  public releases), ``map_disclosure`` and ``published_to`` (whether a written map is public);
* :mod:`~geoprio.maps.demo` — ``demo_maps``, the demo's maps (full maps).

Every map carries the elements of a printed map: a title band (title, subtitle), the source and
period line, north arrow, metric scale, a legend per layer, rank numbers on the top zones,
clusters and proposed sites, click popups that pan clear of every control, accent-insensitive
zone search and, on synthetic data, the SINTÉTICO stamp.

Labels are Spanish by default and English with ``lang="en"`` (numbers as Colombians write them
in Spanish: ``100.000``, ``12,5 %``). Only aggregates are drawn
(zones, clusters, cells, sites), never incident points: a map of a million incidents
aggregated to a city grid stays well under 5 MB (``tests/maps/test_maps.py``).
"""

from geoprio.maps.assets import ASSETS_DIR, AssetMode
from geoprio.maps.demo import DEMO_FILES, demo_maps
from geoprio.maps.elements import LayerInfo
from geoprio.maps.entornos_layer import add_entornos_layer
from geoprio.maps.forecast_layer import FORECAST_COLUMNS, add_forecast_layer, check_forecast
from geoprio.maps.from_files import MapOptions, make_map, map_from_files, map_options, replay_map
from geoprio.maps.geometry import DEFAULT_DECIMALS, DEFAULT_TOLERANCE_M, round_coordinates, simplify_m
from geoprio.maps.hotspot_layers import (
    DEFAULT_MAX_CELLS,
    DENSITY_COLUMNS,
    GI_CLASSES,
    GI_CODES,
    add_cluster_layer,
    add_density_layer,
    add_gistar_layer,
    gi_code_of_word,
)
from geoprio.maps.index_layer import DEFAULT_RANK_LABELS, ColorBy, add_index_layer, add_parent_outline, add_rank_labels
from geoprio.maps.page import (
    DEFAULT_MAP_NAME,
    MAP_KIND,
    MapOutput,
    MapResult,
    build_map,
    finish_map,
    new_map,
    render_html,
    write_map,
)
from geoprio.maps.placement_layers import PlanKind, add_facilities_layer, add_plan_layer, add_shore_layer
from geoprio.maps.provenance import Provenance, provenance_of
from geoprio.maps.release import check_public_inputs, map_disclosure, published_to
from geoprio.maps.style import PROGRESS_CLASSES, progress_color
from geoprio.maps.text import format_size, map_labels
from geoprio.maps.tracking_layer import add_tracking_layer
from geoprio.settings import Lang

__all__ = [
    "ASSETS_DIR",
    "DEFAULT_DECIMALS",
    "DEFAULT_MAP_NAME",
    "DEFAULT_MAX_CELLS",
    "DEFAULT_RANK_LABELS",
    "DEFAULT_TOLERANCE_M",
    "DEMO_FILES",
    "FORECAST_COLUMNS",
    "DENSITY_COLUMNS",
    "GI_CLASSES",
    "GI_CODES",
    "MAP_KIND",
    "PROGRESS_CLASSES",
    "AssetMode",
    "ColorBy",
    "Lang",
    "LayerInfo",
    "MapOptions",
    "MapOutput",
    "MapResult",
    "PlanKind",
    "Provenance",
    "add_cluster_layer",
    "add_density_layer",
    "add_entornos_layer",
    "add_facilities_layer",
    "add_forecast_layer",
    "add_gistar_layer",
    "add_index_layer",
    "add_parent_outline",
    "add_plan_layer",
    "add_rank_labels",
    "add_shore_layer",
    "add_tracking_layer",
    "build_map",
    "check_forecast",
    "check_public_inputs",
    "demo_maps",
    "finish_map",
    "format_size",
    "gi_code_of_word",
    "make_map",
    "map_from_files",
    "map_disclosure",
    "map_labels",
    "map_options",
    "new_map",
    "progress_color",
    "provenance_of",
    "published_to",
    "render_html",
    "replay_map",
    "round_coordinates",
    "simplify_m",
    "write_map",
]
