"""Project-wide defaults, in one place so the CLI, the API and the library agree."""

from __future__ import annotations

from typing import Literal

#: Projected CRS for distances, areas and radii: MAGNA-SIRGAS / Origen-Nacional (metres).
DEFAULT_METRIC_CRS = "EPSG:9377"

#: CRS of outputs meant for maps and the API.
OUTPUT_CRS = "EPSG:4326"

#: CRS assumed for point coordinates given in degrees without a declared CRS.
DEFAULT_POINT_CRS = "EPSG:4326"

#: (min_lon, min_lat, max_lon, max_lat) of Colombia, mainland and islands, with a margin.
#: Used to catch swapped or nonsense coordinates when no study area is given.
COLOMBIA_BBOX = (-82.0, -4.3, -66.8, 13.6)

#: Inhabitants per which rates are expressed.
RATE_PER = 100_000

#: Languages of what users read.
Lang = Literal["es", "en"]

#: Default language of what users read (tiers, printed tables, map labels).
DEFAULT_LANG: Lang = "es"

#: Seed of every random draw (Monte Carlo weights, permutations, the demo city) unless given.
DEFAULT_SEED = 20241

#: Formats of layer outputs (tables are also written as CSV without geometry); ``shp`` is a
#: shapefile with short field names and a ``.fields.csv`` sidecar, ``xlsx`` one workbook per
#: run (needs the ``excel`` extra).
OutputFormat = Literal["csv", "geojson", "gpkg", "parquet", "shp", "xlsx"]

#: The layer formats an index run writes when its configuration names none.
OUTPUT_FORMATS: tuple[OutputFormat, ...] = ("csv", "geojson", "gpkg", "parquet")

#: Every output format geoprio writes, in the order they are written.
EXPORT_FORMATS: tuple[OutputFormat, ...] = ("csv", "geojson", "gpkg", "parquet", "shp", "xlsx")

#: The formats written when none are asked for (GeoParquet needs the ``parquet`` extra).
DEFAULT_FORMATS: tuple[OutputFormat, ...] = ("csv", "geojson", "gpkg")
