"""``GET /hotspots``: high-complexity clusters and Gi* / density grid cells from ``geoprio hotspots``.

Public callers (no key, or a key without ``read:records``) get the layers through
:func:`geoprio.hotspots.public_cells` / :func:`~geoprio.hotspots.public_clusters` under the
server's policy: Gi* classes only (no z, p or q), no count of 1 to ``min_count - 1`` nor
anything derived from it, no cluster under ``min_count`` incidents; without zones, the cells
cut at the study area's edge (arcs around single incidents) are served as whole squares. A key with
``read:records`` gets the layers as written.
"""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import JSONResponse

from geoprio.disclosure import DisclosurePolicy
from geoprio.hotspots import public_cells, public_clusters
from geoprio.hotspots.public import cut_around_points

from ..deps import PolicyDep, SettingsDep, StoreDep, aggregate_access
from ..serialize import json_value, page_links
from ..store import Store

router = APIRouter(prefix="/hotspots", tags=["hotspots"], dependencies=[Depends(aggregate_access)])


def _grid_cut_around_points(store: Store) -> tuple[float, str] | None:
    """The cell size and metric CRS of the served cells when their study area was drawn around the points."""
    manifest = store.beside("cells", "manifest.json")
    if not isinstance(manifest, dict):
        return None
    notes, parameters = manifest.get("notes"), manifest.get("parameters")
    return cut_around_points(notes if isinstance(notes, dict) else None, parameters if isinstance(parameters, dict) else None)


def _features(store: Store, kind: str, policy: DisclosurePolicy | None) -> list[dict[str, Any]]:
    gdf = store.layers[kind]
    if kind == "cells":
        gdf = public_cells(gdf, policy, grid=_grid_cut_around_points(store) if policy is not None else None)
    else:
        gdf = public_clusters(gdf, policy)
    fc = gdf.__geo_interface__
    out = []
    for f in fc["features"]:
        props = {k: json_value(v) for k, v in f["properties"].items()}
        out.append({"type": "Feature", "properties": props, "geometry": f["geometry"]})
    return out


def hotspot_features(store: Store, kind: str, policy: DisclosurePolicy | None) -> list[dict[str, Any]]:
    """The GeoJSON features of ``kind`` (cells or clusters) as ``policy`` publishes them, built once per policy."""
    release = None if policy is None else (policy.min_count, policy.protection_level, policy.min_site_spacing_m)
    return store.cached(("hotspots", kind, release), lambda: _features(store, kind, policy))


@router.get("", responses={200: {"content": {"application/geo+json": {}}}})
def list_hotspots(
    request: Request,
    store: StoreDep,
    settings: SettingsDep,
    policy: PolicyDep,
    kind: Annotated[Literal["clusters", "cells"], Query(description="clusters (ranked public spaces) or grid cells")] = "clusters",
    gi_class: Annotated[
        str | None, Query(description="keep the cells of this Gi* class (e.g. the 99 % hot class); clusters have no class: none is kept")
    ] = None,
    top: Annotated[int | None, Query(ge=1, description="the top N clusters by complexity_rank; cells have no rank: none is kept")] = None,
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=10_000)] = 100,
    format: Annotated[Literal["json", "geojson"], Query()] = "json",
) -> Any:
    """Hot spots as written by ``geoprio hotspots``, as JSON rows or GeoJSON features (public
    callers: the public release of :mod:`geoprio.hotspots.public`).
    """
    if kind not in store.layers:
        raise HTTPException(404, f"no {kind} in the data directory; run `geoprio hotspots` first")
    if page_size > settings.page_size_max:
        raise HTTPException(422, f"page_size must be at most {settings.page_size_max}")
    feats = hotspot_features(store, kind, policy)
    if gi_class is not None:
        # the classes of the cells (the schema's enum); clusters have none, so none of them matches
        cells = hotspot_features(store, "cells", policy) if "cells" in store.layers else []
        classes = sorted({str(f["properties"].get("gi_class")) for f in cells})
        if gi_class not in classes:
            raise HTTPException(422, f"unknown gi_class {gi_class!r}; classes: {classes}")
        feats = [f for f in feats if f["properties"].get("gi_class") == gi_class]
    if top is not None:  # cells have no complexity_rank: none of them is in the top N
        feats = [f for f in feats if (f["properties"].get("complexity_rank") or math.inf) <= top]
    total = len(feats)
    chunk = feats[(page - 1) * page_size : page * page_size]
    nxt = page + 1 if page * page_size < total else None
    if format == "geojson":
        links = page_links(request, page, nxt is not None)
        body = {"type": "FeatureCollection", "features": chunk, "total": total, "page": page, "next": nxt, "links": links}
        return JSONResponse(body, media_type="application/geo+json")
    return {"total": total, "page": page, "page_size": page_size, "next": nxt, "items": [f["properties"] for f in chunk]}
