"""The feature collections OGC API – Features serves (:mod:`geoprio.api.routes.ogc`): what the other routes serve, as feature layers.

Each collection is built from the same public release the other routes serve to the caller
(:mod:`geoprio.api.routes`: the index per level, hot-spot cells and clusters, entornos, the
sites of each plan written by ``geoprio plan``, the tracking zone layer), once per collection
and disclosure policy, and kept with the bounding box of every feature so that a ``bbox``
request is one vectorized comparison and a page is a slice of a list.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import shapely

from geoprio.disclosure import DisclosurePolicy
from geoprio.errors import InputError

from .routes.entornos import place_geometries, place_rows
from .routes.hotspots import hotspot_features
from .routes.indicators import zone_layer
from .routes.plans import file_plan_release
from .routes.zones import public_table, summaries
from .store import Store

__all__ = ["Layer", "collection_ids", "layer_of"]

#: Titles and descriptions of the collections, by kind: (es, en).
_TITLES: dict[str, tuple[str, str]] = {
    "zones": ("Índice de priorización por {level}", "Prioritization index by {level}"),
    "hotspots-cells": ("Puntos críticos: celdas de la grilla (Gi*)", "Hot spots: grid cells (Gi*)"),
    "hotspots-clusters": ("Puntos críticos: conglomerados de alta complejidad", "Hot spots: high-complexity clusters"),
    "entornos": ("Entornos: lugares priorizados y su área de influencia", "Surroundings: ranked places and their influence area"),
    "plan": ("Sitios del plan {plan}", "Sites of plan {plan}"),
    "seguimiento": ("Seguimiento: avance por zona", "Tracking: progress by zone"),
}
_DESCRIPTION = (
    "Versión pública (sin conteos pequeños) salvo para una clave con read:records.",
    "Public release (no small counts) except for a key with read:records.",
)


@dataclass
class Layer:
    """One collection under one disclosure policy: its features (GeoJSON, EPSG:4326, each with
    an ``id``) and their bounding boxes (``bounds[i] = minx, miny, maxx, maxy``; NaN without a
    geometry), plus the years of each feature when the collection has a time (else None).
    """

    id: str
    title: str
    description: str
    features: list[dict[str, Any]]
    bounds: np.ndarray
    years: np.ndarray | None = None
    properties: list[str] = field(default_factory=list)

    @property
    def extent(self) -> list[float] | None:
        """The bounding box of every feature, or None when no feature has a geometry."""
        ok = ~np.isnan(self.bounds).any(axis=1)
        if not ok.any():
            return None
        b = self.bounds[ok]
        return [float(b[:, 0].min()), float(b[:, 1].min()), float(b[:, 2].max()), float(b[:, 3].max())]

    def index_of(self, fid: str) -> int | None:
        """The position of the feature with id ``fid``, or None."""
        positions: dict[str, int] = self.__dict__.setdefault("_positions", {str(f["id"]): i for i, f in enumerate(self.features)})
        return positions.get(fid)


def _policy_key(policy: DisclosurePolicy | None) -> tuple[Any, ...] | None:
    return None if policy is None else (policy.min_count, policy.protection_level, policy.min_site_spacing_m)


def _box(geometry: dict[str, Any] | None) -> tuple[float, float, float, float]:
    """The bounding box of a GeoJSON geometry (NaN for none), from its outer coordinates."""
    if not geometry:
        return (math.nan, math.nan, math.nan, math.nan)
    kind: Any = geometry.get("type")
    coords: Any = geometry.get("coordinates")
    if kind == "Point":
        return (coords[0], coords[1], coords[0], coords[1])
    if kind == "Polygon":
        parts = [coords[0]]  # the exterior ring holds the holes
    elif kind == "MultiPolygon":
        parts = [p[0] for p in coords]
    elif kind in ("LineString", "MultiPoint"):
        parts = [coords]
    elif kind == "MultiLineString":
        parts = list(coords)
    else:  # a geometry collection: through shapely
        b = shapely.bounds(shapely.geometry.shape(geometry))
        return (float(b[0]), float(b[1]), float(b[2]), float(b[3]))
    xy = np.concatenate([np.asarray(p, dtype=float)[:, :2] for p in parts])
    lo, hi = xy.min(axis=0), xy.max(axis=0)
    return (lo[0], lo[1], hi[0], hi[1])


def _bounds(geometries: list[Any]) -> np.ndarray:
    return np.array([_box(g) for g in geometries], dtype=float).reshape(len(geometries), 4)


def _make(cid: str, kind: str, lang: str, features: list[dict[str, Any]], id_of: Callable[[dict[str, Any], int], Any], **fmt: str) -> Layer:
    ids = [str(id_of(f["properties"], i)) for i, f in enumerate(features)]
    if len(set(ids)) != len(ids):  # no unique id in the data: the position (1-based)
        ids = [str(i + 1) for i in range(len(features))]
    props: list[dict[str, Any]] = [f["properties"] for f in features]  # JSON-safe already: the routes' own rows
    feats: list[dict[str, Any]] = [
        {"type": "Feature", "id": fid, "geometry": f.get("geometry"), "properties": p}
        for fid, f, p in zip(ids, features, props, strict=True)
    ]
    es, en = _TITLES[kind]
    title = (en if lang == "en" else es).format(**fmt)
    description = _DESCRIPTION[1 if lang == "en" else 0]
    names: dict[str, None] = {}
    for p in props:
        names.update(dict.fromkeys(p))
    years = None
    if kind == "seguimiento":
        years = np.array([_year(p.get("year")) for p in props], dtype=np.float64)
    return Layer(cid, title, description, feats, _bounds([f["geometry"] for f in feats]), years, list(names))


def _year(v: Any) -> float:
    try:
        return float(int(str(v)[:4]))
    except (TypeError, ValueError):
        return float("nan")


def collection_ids(store: Store) -> list[str]:
    """The ids of the collections this data directory holds, in a stable order."""
    ids = [f"zones-{level}" for level in store.levels]
    ids += [f"hotspots-{kind}" for kind in ("cells", "clusters") if kind in store.layers]
    if "entornos" in store.layers:
        ids.append("entornos")
    ids += [f"plan-{pid.removeprefix('file-')}" for pid, p in store.plans().items() if p.get("sites")]
    try:
        if zone_layer(store, None) is not None:
            ids.append("seguimiento-zones")
    except InputError:  # an unreadable tracking output: /indicators says why; no collection here
        pass
    return ids


def _build(store: Store, cid: str, policy: DisclosurePolicy | None, lang: str) -> Layer:
    if cid.startswith("zones-"):
        level = cid.removeprefix("zones-")
        table = public_table(store, level, policy).table
        shapes = store.cached(("ogc", "zone-shapes", level), lambda: _zone_shapes(store, level))
        rows = summaries(table, level)
        feats = [{"properties": r, "geometry": shapes.get(r["zone_id"])} for r in rows]
        return _make(cid, "zones", lang, feats, lambda p, _i: p["zone_id"], level=level)
    if cid.startswith("hotspots-"):
        kind = cid.removeprefix("hotspots-")
        id_field = "cell_id" if kind == "cells" else "cluster_id"
        feats = hotspot_features(store, kind, policy)
        return _make(cid, cid, lang, feats, lambda p, i: p.get(id_field, i + 1))
    if cid == "entornos":
        shapes = place_geometries(store)
        feats = [{"properties": r, "geometry": shapes.get(r["place_id"])} for r in place_rows(store, policy)]
        return _make(cid, "entornos", lang, feats, lambda p, _i: p["place_id"])
    if cid.startswith("plan-"):
        pid = "file-" + cid.removeprefix("plan-")
        _, sites = file_plan_release(store, pid, policy)
        feats = list(sites.get("features") or [])
        return _make(cid, "plan", lang, feats, lambda p, i: p.get("site_id", i + 1), plan=pid.removeprefix("file-"))
    layer = zone_layer(store, policy) or {"features": []}
    feats = list(layer["features"])
    return _make(cid, "seguimiento", lang, feats, lambda p, i: f"{p.get('indicator')}-{p.get('zone_id')}-{p.get('year')}")


def _zone_shapes(store: Store, level: str) -> dict[str, Any]:
    _, t = store.table(level)
    fc = t[["zone_id", t.geometry.name]].to_crs("EPSG:4326").__geo_interface__
    return {str(f["properties"]["zone_id"]): f["geometry"] for f in fc["features"]}


def layer_of(store: Store, cid: str, policy: DisclosurePolicy | None, lang: str = "es") -> Layer | None:
    """The collection ``cid`` as ``policy`` publishes it (built once per policy), or None when
    the data directory does not hold it.
    """
    if cid not in store.cached(("ogc", "ids"), lambda: collection_ids(store)):
        return None
    return store.cached(("ogc", cid, _policy_key(policy), lang), lambda: _build(store, cid, policy, lang))
