"""Project-wide defaults, in one place so the CLI, the API and the library agree."""

from __future__ import annotations

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

#: Default language of what users read (tiers, printed tables, map labels).
DEFAULT_LANG = "es"
