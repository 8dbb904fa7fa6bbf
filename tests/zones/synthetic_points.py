"""Four square zones and points on their shared edges and vertices, written as a partitioned
GeoParquet dataset: the fixture of the distributed-count tests (tests/zones, tests/cli).

Zones, listed A1, A2, B1, B2 (0.01° a side): A1 = [-74.10, -74.09] × [4.60, 4.61], A2 east
of it, B1 north of A1, B2 north of A2. A point on an edge or vertex shared by several zones
goes to the zone listed first (the in-memory tie rule of ``PointLocator``).
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
from shapely.geometry import Point, box

ZONES = {
    "A1": box(-74.10, 4.60, -74.09, 4.61),
    "A2": box(-74.09, 4.60, -74.08, 4.61),
    "B1": box(-74.10, 4.61, -74.09, 4.62),
    "B2": box(-74.09, 4.61, -74.08, 4.62),
}

# (lon, lat, date, category, weight, zone it belongs to by hand), split in three partitions
POINTS = [
    [
        (-74.095, 4.605, "2019-01-05", "hurto", 1, "A1"),  # inside A1
        (-74.09, 4.605, "2019-01-20", "hurto", 2, "A1"),  # edge A1|A2 → A1 (listed first)
        (-74.09, 4.61, "2019-02-01", "homicidio", 1, "A1"),  # vertex of all four → A1
    ],
    [
        (-74.085, 4.61, "2019-02-10", "hurto", 3, "A2"),  # edge A2|B2 → A2
        (-74.095, 4.615, "2019-02-11", "hurto", 1, "B1"),  # inside B1
        (-74.09, 4.615, "2019-03-01", "hurto", 1, "B1"),  # edge B1|B2 → B1
        (None, None, "2019-03-01", "hurto", 1, None),  # no geometry: outside every zone
    ],
    [
        (-74.08, 4.615, "2019-03-02", "homicidio", 1, "B2"),  # outer edge of B2 → B2
        (-74.07, 4.615, "2019-03-02", "hurto", 1, None),  # outside every zone
        (-74.085, 4.605, "2019-03-03", "hurto", 1, "A2"),  # inside A2
    ],
]

# zone × month × category, by hand from POINTS
EXPECTED = {
    ("A1", "2019-01", "hurto"): 2,
    ("A1", "2019-02", "homicidio"): 1,
    ("A2", "2019-02", "hurto"): 1,
    ("A2", "2019-03", "hurto"): 1,
    ("B1", "2019-02", "hurto"): 1,
    ("B1", "2019-03", "hurto"): 1,
    ("B2", "2019-03", "homicidio"): 1,
}


def write_zones(folder: Path) -> Path:
    path = folder / "zonas.geojson"
    gpd.GeoDataFrame({"codigo": list(ZONES)}, geometry=list(ZONES.values()), crs="EPSG:4326").to_file(path)
    return path


def points_frame(rows: list[tuple]) -> gpd.GeoDataFrame:
    geometry = [None if x is None else Point(x, y) for x, y, *_ in rows]
    return gpd.GeoDataFrame(
        {
            "date": pd.to_datetime([r[2] for r in rows]),
            "category": [r[3] for r in rows],
            "weight": np.array([r[4] for r in rows], dtype=float),
        },
        geometry=geometry,
        crs="EPSG:4326",
    )


def write_dataset(folder: Path) -> Path:
    """Three partitions: WKB (the fast path), WKB with a null geometry (shapely's path), GeoArrow points."""
    folder.mkdir(parents=True, exist_ok=True)
    for i, rows in enumerate(POINTS):
        encoding = "geoarrow" if i == 2 else "WKB"
        points_frame(rows).to_parquet(folder / f"part-{i:05d}.parquet", geometry_encoding=encoding)
    return folder


def all_points() -> gpd.GeoDataFrame:
    return points_frame([r for part in POINTS for r in part]).reset_index(drop=True)
