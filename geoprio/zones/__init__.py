"""Zones: polygon layers and grids, tying records to them, and counting points in them in memory or on a Dask cluster."""

from geoprio.zones.assign import (
    PointLocator,
    Predicate,
    count_by_zone,
    locate_points,
)
from geoprio.zones.bbox import BBox, parse_bbox, resolve_bbox
from geoprio.zones.counting import CountOptions, CountRun, replay_count, run_count
from geoprio.zones.distributed import (
    CountLayers,
    InfluenceAreas,
    PointColumns,
    PointCounts,
    count_layers,
    count_points,
    dataset_parts,
)
from geoprio.zones.lattice import SquareLattice
from geoprio.zones.layers import (
    Zones,
    as_zones,
    check_metric_crs,
    contiguity,
    join_parent,
    load_zones,
    make_grid,
    with_population,
)
from geoprio.zones.tie import (
    attach,
    match_keys,
    normalize_keys,
)

__all__ = [
    "BBox",
    "CountOptions",
    "CountLayers",
    "CountRun",
    "InfluenceAreas",
    "PointColumns",
    "PointCounts",
    "count_layers",
    "count_points",
    "dataset_parts",
    "replay_count",
    "run_count",
    "parse_bbox",
    "resolve_bbox",
    "PointLocator",
    "SquareLattice",
    "Predicate",
    "Zones",
    "attach",
    "check_metric_crs",
    "as_zones",
    "contiguity",
    "count_by_zone",
    "join_parent",
    "load_zones",
    "locate_points",
    "make_grid",
    "match_keys",
    "normalize_keys",
    "with_population",
]
