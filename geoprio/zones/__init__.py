"""Zones: polygon layers and grids, and tying records to them (point location, key matching)."""

from geoprio.zones.assign import (
    PointLocator,
    Predicate,
    count_by_zone,
    locate_points,
)
from geoprio.zones.bbox import BBox, parse_bbox, resolve_bbox
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
    "parse_bbox",
    "resolve_bbox",
    "PointLocator",
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
