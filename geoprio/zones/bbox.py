"""Where points may lie: the one ``--bbox`` grammar of every command that loads points.

``colombia`` (Colombia's box, islands included), ``zones`` (the zone layer's box grown by
0.05°), ``auto`` (the zones' box when zones are given, else Colombia), ``none`` (no check),
or ``minlon,minlat,maxlon,maxlat``. :func:`parse_bbox` reads the words, :func:`resolve_bbox`
turns them into the lon/lat box that :func:`geoprio.records.load_points` checks points
against.
"""

from __future__ import annotations

from typing import Literal

from geoprio.errors import InputError
from geoprio.settings import COLOMBIA_BBOX
from geoprio.zones.layers import Zones

__all__ = ["BBox", "parse_bbox", "resolve_bbox"]

#: Where points must lie: ``"auto"`` (the zones' box when zones are given, else Colombia),
#: ``"colombia"``, ``"zones"`` (the zones' box grown by 0.05°), ``"none"`` (no check), or
#: ``(min_lon, min_lat, max_lon, max_lat)``.
BBox = Literal["auto", "colombia", "zones", "none"] | tuple[float, float, float, float]

_ZONES_MARGIN_DEG = 0.05


def parse_bbox(text: str | None) -> BBox:
    """A ``--bbox`` value: ``colombia``, ``zones``, ``none``, ``auto`` or ``minlon,minlat,maxlon,maxlat`` (None: ``auto``)."""
    if text is None:
        return "auto"
    word = text.strip().lower()
    if word in ("auto", "colombia", "zones", "none"):
        return word  # type: ignore[return-value]
    try:
        vals = tuple(float(v) for v in text.split(","))
    except ValueError:
        raise InputError(f"--bbox: expected 'colombia', 'zones', 'none' or 'minlon,minlat,maxlon,maxlat', got {text!r}") from None
    if len(vals) != 4 or not (vals[0] < vals[2] and vals[1] < vals[3]):
        raise InputError(f"--bbox: expected 'minlon,minlat,maxlon,maxlat' with min < max, got {text!r}")
    return (vals[0], vals[1], vals[2], vals[3])


def resolve_bbox(bbox: BBox, zones: Zones | None) -> tuple[float, float, float, float] | None:
    """The lon/lat box points are checked against (None: no check)."""
    if bbox == "none":
        return None
    if bbox == "colombia" or (bbox == "auto" and zones is None):
        return COLOMBIA_BBOX
    if bbox in ("zones", "auto"):
        if zones is None:
            raise InputError("bbox 'zones' needs a zone layer")
        x0, y0, x1, y1 = (float(v) for v in zones.frame.total_bounds)
        m = _ZONES_MARGIN_DEG
        return (x0 - m, y0 - m, x1 + m, y1 + m)
    if isinstance(bbox, tuple) and len(bbox) == 4:
        return bbox
    raise InputError(f"bbox: expected 'auto', 'colombia', 'zones', 'none' or (minlon, minlat, maxlon, maxlat), got {bbox!r}")
