"""OGC API – Features (Part 1 Core, GeoJSON, OpenAPI 3.0) under ``/ogc``.

``/ogc`` (landing page), ``/ogc/conformance``, ``/ogc/collections``, ``/ogc/collections/{id}``,
``/ogc/collections/{id}/items`` (``bbox``, ``limit`` up to :data:`LIMIT_MAX`, ``offset``,
``datetime``, and ``?property=value`` filters; ``next``/``prev`` links with absolute URLs, which
GDAL, QGIS and ArcGIS Pro follow) and ``/ogc/collections/{id}/items/{fid}``.

The same keys, scopes and disclosure policy as every other route: aggregates open unless
``GEOPRIO_REQUIRE_KEY_FOR_AGGREGATES`` is set; a caller without a key holding ``read:records``
gets the public release (:mod:`geoprio.api.features`).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterator
from typing import Annotated, Any, Final, Literal

import numpy as np
import pyproj
import shapely
from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request
from fastapi.responses import JSONResponse

from ..deps import PolicyDep, SettingsDep, StoreDep, aggregate_access
from ..features import Layer, collection_ids, layer_of
from ..schemas import Collection, Collections, Conformance, Extent, Feature, FeatureCollection, LandingPage, Link

__all__ = ["CONFORMANCE", "LIMIT_MAX", "router"]

#: The most features one page may hold (the ``limit`` maximum in the OpenAPI document, which GDAL reads).
LIMIT_MAX = 10_000
#: Features per page when ``limit`` is not given.
LIMIT_DEFAULT = 1_000

CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs",
]
CRS84: Final = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
#: The coordinate systems a client may ask for (Part 2): CRS84 (as stored), WGS 84, and the
#: metric systems of Colombia (MAGNA-SIRGAS Origen Nacional, and Bogotá zone); coordinates in
#: the axis order of each (EPSG:4326 latitude first; 9377 and 3116 northing first).
CRS_URIS = [CRS84, *(f"http://www.opengis.net/def/crs/EPSG/0/{code}" for code in (4326, 9377, 3116))]
GEOJSON = "application/geo+json"
JSON = "application/json"
_NUMBER = r"-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?"
BBOX_PATTERN = rf"^{_NUMBER},{_NUMBER},{_NUMBER},{_NUMBER}(,{_NUMBER},{_NUMBER})?$"
_INSTANT = r"[0-9]{4}(-[0-9]{2}(-[0-9]{2}(T[0-9:.]+(Z|[+-][0-9]{2}:[0-9]{2})?)?)?)?"
DATETIME_PATTERN = rf"^({_INSTANT}|({_INSTANT}|\.\.)?/({_INSTANT}|\.\.)?)$"
RESERVED = {"limit", "offset", "bbox", "bbox-crs", "crs", "datetime", "f"}
CrsUri = Literal[
    "http://www.opengis.net/def/crs/OGC/1.3/CRS84",
    "http://www.opengis.net/def/crs/EPSG/0/4326",
    "http://www.opengis.net/def/crs/EPSG/0/9377",
    "http://www.opengis.net/def/crs/EPSG/0/3116",
]


class GeoJSONResponse(JSONResponse):
    """JSON served as ``application/geo+json``."""

    media_type = GEOJSON


router = APIRouter(prefix="/ogc", tags=["ogc"], dependencies=[Depends(aggregate_access)])

CollectionId = Annotated[str, Path(description="a collection id from /ogc/collections")]


def _url(request: Request, path: str) -> str:
    return str(request.base_url).rstrip("/") + path


def _layer(store: Any, cid: str, policy: Any, lang: str) -> Layer:
    layer = layer_of(store, cid, policy, lang)
    if layer is None:
        raise HTTPException(404, f"collection {cid!r} not found; collections: {collection_ids(store)}")
    return layer


@router.get("", response_model=LandingPage, response_model_exclude_none=True)
def landing_page(request: Request, settings: SettingsDep) -> LandingPage:
    """The landing page of the OGC API – Features service."""
    en = settings.lang == "en"
    return LandingPage(
        title="geoprio",
        description=(
            "Prioritized zones, hot spots, surroundings, plans and tracking as OGC API – Features"
            if en
            else "Zonas priorizadas, puntos críticos, entornos, planes y seguimiento como OGC API – Features"
        ),
        links=[
            Link(href=_url(request, "/ogc"), rel="self", type=JSON, title="this document"),
            Link(href=_url(request, "/openapi.json"), rel="service-desc", type="application/vnd.oai.openapi+json;version=3.0"),
            Link(href=_url(request, "/docs"), rel="service-doc", type="text/html"),
            Link(href=_url(request, "/ogc/conformance"), rel="conformance", type=JSON),
            Link(href=_url(request, "/ogc/collections"), rel="data", type=JSON),
        ],
    )


@router.get("/conformance", response_model=Conformance, response_model_exclude_none=True)
def conformance() -> Conformance:
    """The conformance classes: Part 1 Core, GeoJSON and OpenAPI 3.0."""
    return Conformance(conformsTo=CONFORMANCE)


def _collection(request: Request, layer: Layer) -> Collection:
    base = f"/ogc/collections/{layer.id}"
    extent = layer.extent
    temporal = None
    if layer.years is not None and not np.isnan(layer.years).all():
        lo, hi = int(np.nanmin(layer.years)), int(np.nanmax(layer.years))
        temporal = {"interval": [[f"{lo}-01-01T00:00:00Z", f"{hi}-12-31T23:59:59Z"]]}
    return Collection(
        id=layer.id,
        title=layer.title,
        description=layer.description,
        links=[
            Link(href=_url(request, base), rel="self", type=JSON),
            Link(href=_url(request, base + "/items"), rel="items", type=GEOJSON),
        ],
        extent=Extent.model_validate({"spatial": {"bbox": [extent]} if extent else None, "temporal": temporal}),
        crs=CRS_URIS,
    )


@router.get("/collections", response_model=Collections, response_model_exclude_none=True)
def list_collections(request: Request, store: StoreDep, settings: SettingsDep, policy: PolicyDep) -> Collections:
    """Every collection the data directory holds (the index per level, hot spots, entornos, plans, tracking)."""
    layers = [_layer(store, cid, policy, settings.lang) for cid in collection_ids(store)]
    return Collections(
        links=[Link(href=_url(request, "/ogc/collections"), rel="self", type=JSON)],
        collections=[_collection(request, layer) for layer in layers],
    )


@router.get("/collections/{collection_id}", response_model=Collection, response_model_exclude_none=True)
def get_collection(collection_id: CollectionId, request: Request, store: StoreDep, settings: SettingsDep, policy: PolicyDep) -> Collection:
    """One collection: its title, extent and the link to its items."""
    return _collection(request, _layer(store, collection_id, policy, settings.lang))


def _crs(uri: str) -> pyproj.CRS:
    return pyproj.CRS.from_user_input("OGC:CRS84" if uri == CRS84 else "EPSG:" + uri.rsplit("/", 1)[-1])


def _bbox_crs84(bbox: str, bbox_crs: str) -> tuple[float, float, float, float]:
    """``bbox`` (2D or 3D, in ``bbox_crs`` and its axis order) as minx, miny, maxx, maxy in CRS84."""
    v = [float(x) for x in bbox.split(",")]
    a0, b0, a1, b1 = (v[0], v[1], v[3], v[4]) if len(v) == 6 else (v[0], v[1], v[2], v[3])
    if bbox_crs == CRS84:
        return a0, b0, a1, b1
    to84 = pyproj.Transformer.from_crs(_crs(bbox_crs), "OGC:CRS84")
    if not all(math.isfinite(x) for x in (a0, b0, a1, b1)) or a0 > a1 or b0 > b1:
        return (math.nan, math.nan, math.nan, math.nan)  # nothing can meet it
    try:
        x0, y0, x1, y1 = to84.transform_bounds(a0, b0, a1, b1, densify_pts=21)
    except pyproj.exceptions.ProjError:  # outside the system's area: nothing there
        return (math.nan, math.nan, math.nan, math.nan)
    return (float(x0), float(y0), float(x1), float(y1))


def _bbox_mask(layer: Layer, box: tuple[float, float, float, float]) -> np.ndarray:
    minx, miny, maxx, maxy = box
    b = layer.bounds
    with np.errstate(invalid="ignore"):
        ys = (b[:, 1] <= maxy) & (b[:, 3] >= miny)
        if minx <= maxx:
            xs = (b[:, 0] <= maxx) & (b[:, 2] >= minx)
        else:  # a box across the antimeridian
            xs = (b[:, 2] >= minx) | (b[:, 0] <= maxx)
    return np.asarray(xs & ys)


def _year_bound(text: str, default: float) -> float:
    return default if text in ("", "..") else float(text[:4])


def _datetime_mask(layer: Layer, value: str) -> np.ndarray | None:
    """Features whose year meets ``value`` (an instant or an interval); None: the collection has no time."""
    if layer.years is None:
        return None
    start, _, end = value.partition("/") if "/" in value else (value, "", value)
    lo, hi = _year_bound(start, -math.inf), _year_bound(end, math.inf)
    with np.errstate(invalid="ignore"):
        return np.asarray((layer.years >= lo) & (layer.years <= hi))


def _matches(value: Any, wanted: str) -> bool:
    if value is None:
        return wanted in ("", "null")
    if isinstance(value, bool):
        return wanted.lower() == str(value).lower()
    if isinstance(value, (int, float)):
        try:
            return float(wanted) == float(value)
        except ValueError:
            return False
    return str(value) == wanted


def _page_link(request: Request, rel: str, offset: int, limit: int) -> Link:
    url = request.url.include_query_params(offset=offset, limit=limit)
    return Link(href=str(url), rel=rel, type=GEOJSON, title=f"{rel} page")


@router.get("/collections/{collection_id}/items", response_model=FeatureCollection, response_class=GeoJSONResponse)
def get_items(
    collection_id: CollectionId,
    request: Request,
    store: StoreDep,
    settings: SettingsDep,
    policy: PolicyDep,
    limit: Annotated[int, Query(ge=1, le=LIMIT_MAX, description=f"features per page (at most {LIMIT_MAX:,})")] = LIMIT_DEFAULT,
    offset: Annotated[int, Query(ge=0, description="features to skip (the next link sets it)")] = 0,
    bbox: Annotated[
        str | None,
        Query(pattern=BBOX_PATTERN, description="minx,miny,maxx,maxy in CRS84 (longitude, latitude); features that intersect it"),
    ] = None,
    datetime: Annotated[
        str | None,
        Query(
            pattern=DATETIME_PATTERN,
            description="an instant or an interval (start/end, `..` open); applies to the tracking collection (by year), ignored elsewhere",
        ),
    ] = None,
    crs: Annotated[CrsUri, Query(description="coordinate system of the answer (Part 2), in its axis order")] = CRS84,
    bbox_crs: Annotated[CrsUri, Query(alias="bbox-crs", description="coordinate system of bbox, in its axis order")] = CRS84,
    f: Annotated[Literal["json", "geojson"] | None, Query(description="the format: GeoJSON")] = None,
) -> Any:
    """Features of a collection, one page at a time; ``?property=value`` keeps features whose
    property equals the value (e.g. ``?tier=alta``, ``?gi_class=…``).
    """
    layer = _layer(store, collection_id, policy, settings.lang)
    mask = np.ones(len(layer.features), dtype=bool)
    if bbox is not None:
        mask &= _bbox_mask(layer, _bbox_crs84(bbox, bbox_crs))
    if datetime is not None:
        when = _datetime_mask(layer, datetime)
        if when is not None:
            mask &= when
    filters = {k: v for k, v in request.query_params.items() if k not in RESERVED}
    unknown = sorted(set(filters) - set(layer.properties))
    if unknown:
        raise HTTPException(422, f"unknown parameter or property {', '.join(unknown)}; properties: {layer.properties}")
    positions = np.flatnonzero(mask)
    if filters:
        feats = layer.features
        positions = np.array(
            [i for i in positions if all(_matches(feats[i]["properties"].get(k), v) for k, v in filters.items())], dtype=np.int64
        )
    matched = len(positions)
    page = [layer.features[i] for i in positions[offset : offset + limit]]
    if crs != CRS84:
        page = _reprojected(page, crs)
    links = [
        Link(href=str(request.url), rel="self", type=GEOJSON),
        Link(href=_url(request, f"/ogc/collections/{layer.id}"), rel="collection", type=JSON),
    ]
    if offset + limit < matched:
        links.append(_page_link(request, "next", offset + limit, limit))
    if offset > 0:
        links.append(_page_link(request, "prev", max(0, offset - limit), limit))
    body = {
        "type": "FeatureCollection",
        "features": page,
        "links": [link.model_dump(exclude_none=True) for link in links],
        "numberMatched": matched,
        "numberReturned": len(page),
        "timeStamp": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    return GeoJSONResponse(body, headers={"Content-Crs": f"<{crs}>"})


def _reprojected(features: list[dict[str, Any]], crs: str) -> list[dict[str, Any]]:
    """``features`` with their geometries in ``crs`` (in its axis order)."""
    transformer = pyproj.Transformer.from_crs("OGC:CRS84", _crs(crs))
    geoms = [None if f.get("geometry") is None else shapely.geometry.shape(f["geometry"]) for f in features]
    present = [g for g in geoms if g is not None]
    moved: Iterator[Any] = iter(
        shapely.transform(np.array(present, dtype=object), lambda xy: np.column_stack(transformer.transform(xy[:, 0], xy[:, 1])))
        if present
        else []
    )
    out = []
    for f, g in zip(features, geoms, strict=True):
        geometry = None if g is None else shapely.geometry.mapping(next(moved))
        out.append({**f, "geometry": geometry})
    return out


@router.get("/collections/{collection_id}/items/{feature_id}", response_model=Feature, response_class=GeoJSONResponse)
def get_item(
    collection_id: CollectionId,
    feature_id: Annotated[str, Path(description="the feature's id")],
    request: Request,
    store: StoreDep,
    settings: SettingsDep,
    policy: PolicyDep,
    crs: Annotated[CrsUri, Query(description="coordinate system of the answer (Part 2), in its axis order")] = CRS84,
) -> Any:
    """One feature of a collection."""
    layer = _layer(store, collection_id, policy, settings.lang)
    i = layer.index_of(feature_id)
    if i is None:
        raise HTTPException(404, f"feature {feature_id!r} not found in {collection_id!r}")
    base = f"/ogc/collections/{layer.id}"
    links = [
        Link(href=_url(request, f"{base}/items/{feature_id}"), rel="self", type=GEOJSON),
        Link(href=_url(request, base), rel="collection", type=JSON),
    ]
    feature = layer.features[i] if crs == CRS84 else _reprojected([layer.features[i]], crs)[0]
    body = {**feature, "links": [link.model_dump(exclude_none=True) for link in links]}
    return GeoJSONResponse(body, headers={"Content-Crs": f"<{crs}>"})
