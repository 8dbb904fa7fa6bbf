"""The planner's workspace on the server: the data a proposal is evaluated on, and saved scenarios.

:func:`workspace_data` loads, once per zone level and index weight (:meth:`Store.cached`), the
demand a camera plan job would see (:func:`geoprio.placement.camera_demand` on the crime
points behind the served index, the same inputs :mod:`~geoprio.api.worker` gives
:func:`~geoprio.placement.plan_cameras`), its KD-tree
(:class:`~geoprio.placement.CoverageEvaluator`), the city (the union of the level's zones)
and the existing cameras of the layers folder. :func:`evaluate` evaluates a proposal (sites in
lon/lat) on it; :func:`public_evaluation` is what a key without ``read:records`` sees.

A :class:`Scenario` is a proposal saved with a name by a key (table ``workspace_scenarios``,
migration ``0004``); :func:`compare` sets two side by side and :func:`export_gpkg` /
:func:`export_xlsx` write one as a GeoPackage or a workbook, :func:`export_pdf` as its print
layout (:func:`print_html`, printed offline to one A4 landscape page).
"""

from __future__ import annotations

import datetime as dt
import html
import io
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer
from shapely.geometry import mapping, shape
from sqlalchemy import JSON, DateTime, Integer, String, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Mapped, mapped_column

from geoprio.errors import InputError
from geoprio.io import files as geo_io
from geoprio.labels import labels
from geoprio.maps.printing import print_page
from geoprio.numbers import fmt_int, fmt_number, fmt_pct
from geoprio.placement.evaluate import CoverageEvaluator, Evaluation, ShoreEvaluator, camera_demand, garita_demand
from geoprio.settings import DEFAULT_METRIC_CRS, OUTPUT_CRS

from .db import Base, now, sessions
from .keys import KeyInfo, owner_filter
from .settings import Settings
from .store import Store
from .worker import facility_layer, incident_frame, layer_path

__all__ = [
    "FAR_M",
    "MAX_SITES",
    "NEAR_DEG",
    "PRINT_MAX_ROWS",
    "PUBLIC_SHARE_STEP",
    "SHORE_SNAP_M",
    "Scenario",
    "WorkspaceData",
    "UnknownReference",
    "check_proposal",
    "compare",
    "completion_workspace",
    "evaluate",
    "existing_xy",
    "export_gpkg",
    "export_pdf",
    "export_xlsx",
    "facilities_geojson",
    "get_scenario",
    "list_scenarios",
    "near_city",
    "print_html",
    "proposal_sites",
    "public_evaluation",
    "public_summary",
    "run_evaluation",
    "save_scenario",
    "scenario_dict",
    "shore_geojson",
    "site_xy",
    "to_metric",
    "workspace_data",
]

#: Most sites a proposal may have (the plan routes' largest ``p``).
MAX_SITES = 5000
#: A site farther than this (degrees) from the city's bounding box covers nothing (radius ≤ 1 km).
NEAR_DEG = 1.0
#: Where such a site is evaluated: this many metres beyond every demand point, on both axes.
FAR_M = 1e6
#: Without ``read:records``, shares are published rounded to this step (whole percents).
PUBLIC_SHARE_STEP = 0.01
#: A proposed garita farther than this from the shore covers nothing (the garita plan's
#: ``max_snap_m`` for beach incidents); nearer, it is snapped to the shore.
SHORE_SNAP_M = 200.0
#: The layers (in the layers folder) a workspace of each kind reads its existing facilities from.
FACILITY_FILES = {"cameras": "camaras.geojson", "garitas": "garitas.geojson"}


class Scenario(Base):
    """A proposal saved with a name by a key: its sites, locks, retirements and exclusions."""

    __tablename__ = "workspace_scenarios"
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=lambda: str(uuid.uuid4()))
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))
    owner_key_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    proposal: Mapped[dict[str, Any]] = mapped_column(JSON)
    summary: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=now)


# --------------------------------------------------------------------------- the data


@dataclass(frozen=True, eq=False)
class WorkspaceData:
    """What proposals of one kind, level and index weight are evaluated on."""

    level: str
    evaluator: CoverageEvaluator | ShoreEvaluator
    city: Any  # cameras: the union of the level's zones; garitas: the shore lines (lon/lat, prepared)
    facilities: gpd.GeoDataFrame  # existing cameras or garitas, lon/lat, with ``facility_id``
    facilities_xy: np.ndarray  # their metric coordinates
    n_incidents: int
    kind: str = "cameras"
    shore: gpd.GeoDataFrame | None = None  # garitas: the shore lines (lon/lat) with names and lengths


_TO_METRIC = Transformer.from_crs(OUTPUT_CRS, DEFAULT_METRIC_CRS, always_xy=True)


def to_metric(lonlat: Any) -> np.ndarray:
    """``(n, 2)`` lon/lat → metric x/y (EPSG:9377)."""
    a = np.asarray(lonlat, dtype=float).reshape(-1, 2)
    if not len(a):
        return np.empty((0, 2))
    x, y = _TO_METRIC.transform(a[:, 0], a[:, 1])
    return np.column_stack([x, y])


def _facilities(settings: Settings, name: str) -> gpd.GeoDataFrame:
    layer = facility_layer(layer_path(settings, name))
    if layer is None:
        return gpd.GeoDataFrame({"facility_id": pd.Series(dtype=int)}, geometry=gpd.GeoSeries([], crs=OUTPUT_CRS), crs=OUTPUT_CRS)
    return layer


def workspace_data(
    store: Store, settings: Settings, level: str | None, index_weight: float, kind: str = "cameras", beach_incidents: bool = True
) -> WorkspaceData:
    """The demand, city (or shore) and existing facilities of ``level`` for ``kind`` (built once
    per kind, level and weight). Cameras: :func:`~geoprio.placement.camera_demand` on the crime
    points behind the index. Garitas: the shore of ``costa.geojson`` / ``playas.geojson`` in the
    layers folder and its demand (:func:`~geoprio.placement.evaluate.garita_demand`): the crime
    points snapped to the shore (``beach_incidents``, when there are any) or metres of shore,
    as a garita plan job builds it (:func:`~geoprio.api.worker.plan_inputs`).
    """
    lvl, zones = store.table(level)

    def build() -> WorkspaceData:
        incidents = incident_frame(store, lvl)
        fac = _facilities(settings, FACILITY_FILES[kind])
        xy = to_metric(np.column_stack([fac.geometry.x, fac.geometry.y])) if len(fac) else np.empty((0, 2))
        if kind == "garitas":
            beaches, coast = layer_path(settings, "playas.geojson"), layer_path(settings, "costa.geojson")
            if beaches is None and coast is None:
                raise LookupError("the layers directory has no playas.geojson or costa.geojson: there is no shore to place garitas on")
            points = incidents if beach_incidents and not incidents.empty else None
            try:
                shore, demand = garita_demand(coast=coast, beaches=beaches, incidents=points)
            except InputError as exc:
                raise LookupError(f"no garita demand: {exc}") from None
            frame = shore.frame()
            lines = shapely.union_all(frame.geometry.values)
            shapely.prepare(lines)
            n = len(demand.weight) if points is not None else 0
            return WorkspaceData(lvl, ShoreEvaluator(shore, demand), lines, fac, xy, n, kind="garitas", shore=frame)
        if incidents.empty:
            raise LookupError("the served index has no incident points: there is no demand to evaluate proposals on")
        demand = camera_demand(incidents, index_zones=zones, index_weight=index_weight)
        city = shapely.union_all(zones.to_crs(OUTPUT_CRS).geometry.values)
        shapely.prepare(city)
        return WorkspaceData(lvl, CoverageEvaluator(demand.xy, demand.weight), city, fac, xy, len(incidents))

    key = ("workspace", lvl, float(index_weight)) if kind == "cameras" else ("workspace-garitas", lvl, bool(beach_incidents))
    data: WorkspaceData = store.cached(key, build)
    return data


def shore_geojson(data: WorkspaceData) -> dict[str, Any]:
    """The shore lines of a garita workspace as GeoJSON (empty for cameras)."""
    import json

    if data.shore is None:
        return {"type": "FeatureCollection", "features": []}
    return dict(json.loads(data.shore.to_json(drop_id=True)))


def facilities_geojson(data: WorkspaceData) -> dict[str, Any]:
    """The existing cameras or garitas as GeoJSON (``facility_id`` is what ``retired`` lists)."""
    import json

    keep = ["facility_id", *[c for c in ("id", "codigo", "nombre", "name") if c in data.facilities], "geometry"]
    return dict(json.loads(data.facilities[keep].to_json(drop_id=True)))


# --------------------------------------------------------------------------- evaluation


class UnknownReference(LookupError):
    """A proposal names something the served data do not hold (a retired ``facility_id``)."""

    def __str__(self) -> str:  # LookupError (a KeyError's parent) would not quote, but be sure
        return str(self.args[0]) if self.args else ""


def proposal_sites(proposal: dict[str, Any]) -> np.ndarray:
    """The proposal's sites (``[{"lon", "lat", …}, …]``) as an ``(m, 2)`` lon/lat array."""
    sites = proposal.get("sites") or []
    return np.asarray([[s["lon"], s["lat"]] for s in sites], dtype=float).reshape(-1, 2)


def check_proposal(data: WorkspaceData, proposal: dict[str, Any]) -> np.ndarray:
    """The proposal's sites as an ``(m, 2)`` lon/lat array, or an :class:`UnknownReference` naming
    the first retired ``facility_id`` that is not an existing camera's.
    """
    sites = proposal_sites(proposal)
    if len(sites) > MAX_SITES:
        raise InputError(f"the proposal has {len(sites)} sites; the limit is {MAX_SITES}")
    ids = set(data.facilities["facility_id"].tolist())
    unknown = [i for i in proposal.get("retired") or [] if i not in ids]
    if unknown:
        what = "garita" if data.kind == "garitas" else "camera"
        raise UnknownReference(
            f"retired: {unknown[0]} is not an existing {what}'s facility_id (GET /workspace/facilities lists {len(ids)}"
            + (f": 0 … {max(ids)})" if ids else ")")
        )
    return sites


def near_city(data: WorkspaceData, lonlat: np.ndarray) -> np.ndarray:
    """Which lon/lat points lie within :data:`NEAR_DEG` degrees of the city's bounding box: the
    only ones a site (radius at most 1 km) can cover demand from, and the only ones whose metric
    coordinates (EPSG:9377, a transverse Mercator for Colombia) are meaningful.
    """
    x0, y0, x1, y1 = data.city.bounds
    lon, lat = lonlat[:, 0], lonlat[:, 1]
    return (lon >= x0 - NEAR_DEG) & (lon <= x1 + NEAR_DEG) & (lat >= y0 - NEAR_DEG) & (lat <= y1 + NEAR_DEG)


def site_xy(data: WorkspaceData, lonlat: np.ndarray) -> np.ndarray:
    """Metric coordinates of sites; a site far from the city is put :data:`FAR_M` metres beyond
    every demand point (it covers nothing, as where it really is).
    """
    xy = to_metric(lonlat)
    far = ~near_city(data, lonlat) | ~np.isfinite(xy).all(axis=1)
    if far.any():
        origin = data.evaluator.xy.min(axis=0) if data.evaluator.n_demand else np.zeros(2)
        xy[far] = origin - FAR_M
    return xy


def existing_xy(data: WorkspaceData, proposal: dict[str, Any]) -> np.ndarray:
    """Metric coordinates of the existing cameras kept (none when ``use_existing`` is false; minus ``retired``)."""
    if not proposal.get("use_existing", True) or not len(data.facilities_xy):
        return np.empty((0, 2))
    keep = ~data.facilities["facility_id"].isin(set(proposal.get("retired") or [])).to_numpy()
    return data.facilities_xy[keep]


def run_evaluation(data: WorkspaceData, proposal: dict[str, Any]) -> tuple[np.ndarray, Evaluation]:
    """The proposal's lon/lat sites and their exact evaluation."""
    sites = check_proposal(data, proposal)
    common = {"radius_m": float(proposal["radius_m"]), "existing_xy": existing_xy(data, proposal), "order": proposal.get("order", "given")}
    if isinstance(data.evaluator, ShoreEvaluator):
        return sites, data.evaluator.evaluate(site_xy(data, sites), max_snap_m=SHORE_SNAP_M, **common)
    return sites, data.evaluator.evaluate(site_xy(data, sites), **common)


def completion_workspace(data: WorkspaceData, proposal: dict[str, Any]) -> dict[str, Any]:
    """What a "complete the plan" job is given (see :func:`~geoprio.api.worker.workspace_layers`):
    the locked sites (``[k, [lon, lat]]``, ``k`` their index in the proposal), the retired
    ``facility_id``s, the excluded areas (repaired with :func:`shapely.make_valid`, their
    polygonal part clipped to the city's surroundings, as GeoJSON) and the excluded sites. Locked
    sites, areas and sites far from the city (:func:`near_city`) are left out: the candidates
    all lie in the city, and a site far away covers nothing.
    """
    sites = check_proposal(data, proposal)
    near = near_city(data, sites) if len(sites) else np.zeros(0, bool)
    locked = [
        [k, [float(sites[k, 0]), float(sites[k, 1])]] for k, s in enumerate(proposal.get("sites") or []) if s.get("locked") and near[k]
    ]
    x0, y0, x1, y1 = data.city.bounds
    box = shapely.box(x0 - NEAR_DEG, y0 - NEAR_DEG, x1 + NEAR_DEG, y1 + NEAR_DEG)
    areas = []
    for g in proposal.get("exclude_areas") or []:
        polygonal = _polygonal(_polygonal(shapely.make_valid(shape(g))).intersection(box))
        if not polygonal.is_empty:
            areas.append(mapping(polygonal))
    points = np.asarray(proposal.get("exclude_sites") or [], dtype=float).reshape(-1, 2)
    return {
        "locked": locked,
        "retired": list(proposal.get("retired") or []),
        "exclude_areas": areas,
        "exclude_sites": [[float(x), float(y)] for x, y in points[near_city(data, points)]] if len(points) else [],
    }


def _polygonal(geom: Any) -> Any:
    """The polygons of ``geom`` (a MultiPolygon, possibly empty): its points and lines dropped."""
    parts = [g for g in shapely.get_parts(geom) if g.geom_type in ("Polygon", "MultiPolygon")]
    flat = [p for g in parts for p in shapely.get_parts(g)]
    return shapely.MultiPolygon(flat) if flat else shapely.MultiPolygon()


def evaluate(data: WorkspaceData, proposal: dict[str, Any]) -> dict[str, Any]:
    """The full evaluation of a proposal as JSON: totals, shares, per-site gains, the curve."""
    sites, ev = run_evaluation(data, proposal)
    table = ev.sites_table()
    given = proposal.get("sites") or []
    locked = {i for i, s in enumerate(given) if s.get("locked")}
    costs = [float(s.get("cost", 1.0)) for s in given]
    figures = ("rank", "gain_weight", "gain_share", "unique_weight", "reach_weight")
    columns = {k: table[k].astype(int if k == "rank" else float).tolist() for k in figures}  # plain Python numbers, at once
    lon, lat = sites[:, 0].tolist(), sites[:, 1].tolist()
    rows = [
        {"i": i, "lon": lon[i], "lat": lat[i], "locked": i in locked, "cost": costs[i], **{k: columns[k][i] for k in figures}}
        for i in range(len(sites))
    ]
    return {
        "level": data.level,
        "radius_m": float(proposal["radius_m"]),
        "n_sites": len(sites),
        "n_existing": len(existing_xy(data, proposal)),
        "cost": float(sum(costs)),
        "total_weight": ev.total_weight,
        "existing_weight": ev.existing_weight,
        "covered_weight": ev.covered_weight,
        "existing_share": ev.existing_share,
        "covered_share": ev.covered_share,
        "sites": rows,
        "curve": [float(v) for v in ev.curve],
        "disclosure": {"public": False},
    }


def _round_share(v: float) -> float:
    return round(round(v / PUBLIC_SHARE_STEP) * PUBLIC_SHARE_STEP, 4)


def public_summary(summary: dict[str, Any] | None) -> dict[str, Any] | None:
    """A stored scenario summary as a key without ``read:records`` sees it (shares rounded)."""
    if summary is None:
        return None
    return {**summary, **{k: _round_share(summary[k]) for k in ("covered_share", "existing_share") if summary.get(k) is not None}}


def public_evaluation(full: dict[str, Any]) -> dict[str, Any]:
    """What a key without ``read:records`` sees: shares rounded to whole percents, no weights,
    no per-site figures (a site's gain is the demand in a circle the caller chose).
    """
    out = {**full}
    for k in ("total_weight", "existing_weight", "covered_weight"):
        out[k] = None
    out["existing_share"] = _round_share(full["existing_share"])
    out["covered_share"] = _round_share(full["covered_share"])
    out["curve"] = [_round_share(v) for v in full["curve"]]
    figures = ("rank", "gain_weight", "gain_share", "unique_weight", "reach_weight")
    out["sites"] = [{**s, **dict.fromkeys(figures)} for s in full["sites"]]
    out["disclosure"] = {"public": True, "share_step": PUBLIC_SHARE_STEP, "site_figures": False, "weights": False}
    return out


# --------------------------------------------------------------------------- scenarios


def _summary(ev: dict[str, Any]) -> dict[str, Any]:
    return {k: ev[k] for k in ("level", "radius_m", "n_sites", "n_existing", "cost", "covered_share", "existing_share")}


def save_scenario(engine: Engine, name: str, proposal: dict[str, Any], evaluation: dict[str, Any], owner: KeyInfo) -> Scenario:
    """Store ``proposal`` under ``name`` for ``owner`` with the summary of its evaluation."""
    with sessions(engine)() as s, s.begin():
        sc = Scenario(
            name=name, kind=proposal.get("kind", "cameras"), owner_key_id=owner.id, proposal=proposal, summary=_summary(evaluation)
        )
        s.add(sc)
    return sc


def list_scenarios(engine: Engine, viewer: KeyInfo) -> list[Scenario]:
    """The scenarios ``viewer`` may see (its own; every key's for an admin key), oldest first."""
    with sessions(engine)() as s:
        q = select(Scenario).where(owner_filter(viewer, Scenario.owner_key_id)).order_by(Scenario.created_at)
        return list(s.scalars(q))


def get_scenario(engine: Engine, scenario_id: str, viewer: KeyInfo) -> Scenario | None:
    """One scenario, if ``viewer`` may see it (else None, as if it did not exist)."""
    with sessions(engine)() as s:
        sc = s.get(Scenario, scenario_id)
    return sc if sc is not None and viewer.sees(sc.owner_key_id) else None


def scenario_dict(sc: Scenario) -> dict[str, Any]:
    """A scenario's stored fields as JSON."""
    created = sc.created_at
    return {
        "id": sc.id,
        "name": sc.name,
        "kind": sc.kind,
        "created_at": created.isoformat() if created is not None else None,
        "proposal": _current(sc.proposal),
        "summary": sc.summary,
    }


def _current(proposal: dict[str, Any]) -> dict[str, Any]:
    """A stored proposal in today's form. Scenarios saved before sites were objects had
    ``[lon, lat]`` sites with parallel ``locked`` (indices) and ``costs`` lists, MultiPolygon
    areas (now their polygons) and excluded sites not checked to be lon/lat (those that are not
    are dropped: they excluded nothing).
    """
    sites = proposal.get("sites") or []
    areas = proposal.get("exclude_areas") or []
    if (
        "locked" not in proposal
        and "costs" not in proposal
        and not any(isinstance(s, list) for s in sites)
        and not any(g.get("type") == "MultiPolygon" for g in areas)
    ):
        return proposal
    out = {k: v for k, v in proposal.items() if k not in ("locked", "costs")}
    locked, costs = set(proposal.get("locked") or []), proposal.get("costs")
    out["sites"] = [
        {"lon": float(s[0]), "lat": float(s[1]), "locked": i in locked, "cost": float(costs[i]) if costs else 1.0}
        if isinstance(s, list)
        else s
        for i, s in enumerate(sites)
    ]
    out["exclude_areas"] = [
        {"type": "Polygon", "coordinates": rings}
        for g in areas
        for rings in (g["coordinates"] if g.get("type") == "MultiPolygon" else [g["coordinates"]])
    ]
    out["exclude_sites"] = [[x, y] for x, y in proposal.get("exclude_sites") or [] if -180 <= x <= 180 and -90 <= y <= 90]
    return out


def _keys(sites: list[dict[str, Any]]) -> list[tuple[float, float]]:
    """Sites as (lon, lat) rounded to 1e-6 degrees (about 0.1 m): how two scenarios' sites are matched."""
    return [(round(float(s["lon"]), 6), round(float(s["lat"]), 6)) for s in sites]


def compare(a: dict[str, Any], b: dict[str, Any], ev_a: dict[str, Any], ev_b: dict[str, Any]) -> dict[str, Any]:
    """Two scenarios side by side: coverage, cost, curves, and the sites ``b`` adds to and removes from ``a``."""
    ka, kb = _keys(a["proposal"]["sites"]), _keys(b["proposal"]["sites"])
    sa, sb = set(ka), set(kb)
    side = ("covered_share", "existing_share", "covered_weight", "cost", "n_sites", "n_existing", "curve")
    return {
        "a": {"id": a["id"], "name": a["name"], **{k: ev_a.get(k) for k in side}},
        "b": {"id": b["id"], "name": b["name"], **{k: ev_b.get(k) for k in side}},
        "added": [list(k) for k in kb if k not in sa],
        "removed": [list(k) for k in ka if k not in sb],
        "kept": len(sa & sb),
        "covered_share_change": None if ev_a["covered_share"] is None else ev_b["covered_share"] - ev_a["covered_share"],
        "cost_change": ev_b["cost"] - ev_a["cost"],
        "disclosure": ev_b["disclosure"],
    }


def _sites_frame(evaluation: dict[str, Any]) -> gpd.GeoDataFrame:
    rows = pd.DataFrame(evaluation["sites"])
    if rows.empty:
        rows = pd.DataFrame(
            columns=["i", "lon", "lat", "locked", "cost", "rank", "gain_weight", "gain_share", "unique_weight", "reach_weight"]
        )
    rows = rows.rename(columns={"i": "sitio", "locked": "fijado"})
    return gpd.GeoDataFrame(rows, geometry=gpd.points_from_xy(rows["lon"].astype(float), rows["lat"].astype(float)), crs=OUTPUT_CRS)


def export_gpkg(name: str, evaluation: dict[str, Any]) -> bytes:
    """The scenario's sites with their figures as a GeoPackage (layer ``sitios``)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "escenario.gpkg"
        frame = _sites_frame(evaluation)
        frame["escenario"] = name
        frame["fijado"] = frame["fijado"].astype(bool)
        geo_io.write_layer(frame, path, layer="sitios")
        return path.read_bytes()


def export_xlsx(name: str, evaluation: dict[str, Any]) -> bytes:
    """The scenario as a workbook: ``resumen``, ``sitios`` and ``curva`` sheets."""
    keys = ("level", "radius_m", "n_sites", "n_existing", "cost", "covered_share", "existing_share", "covered_weight", "total_weight")
    summary = pd.DataFrame([("escenario", name), *((k, evaluation.get(k)) for k in keys)])
    cols = ["i", "lon", "lat", "locked", "cost", "rank", "gain_weight", "gain_share", "unique_weight", "reach_weight"]
    sites = pd.DataFrame([[row.get(c) for c in cols] for row in evaluation["sites"]], columns=cols)
    curve = pd.DataFrame({"n_sites": range(len(evaluation["curve"])), "covered_share": evaluation["curve"]})
    buf = io.BytesIO()
    with pd.ExcelWriter(buf, engine="openpyxl") as writer:
        summary.to_excel(writer, sheet_name="resumen", index=False, header=False)
        sites.to_excel(writer, sheet_name="sitios", index=False)
        curve.to_excel(writer, sheet_name="curva", index=False)
    return buf.getvalue()


# --------------------------------------------------------------------------- the print layout

#: The map of the print layout, in CSS pixels (the sheet is A4 landscape: 1123 × 794).
_MAP_W, _MAP_H = 660.0, 640.0
#: Most sites listed in the print layout's table (all are drawn and numbered on the map).
PRINT_MAX_ROWS = 12


def _svg_map(data: WorkspaceData, proposal: dict[str, Any], evaluation: dict[str, Any]) -> str:
    """The scenario's map as SVG: the city outline (cameras) or the shore (garitas), the
    existing facilities kept, and the sites numbered 1 … n in the proposal's order.
    """
    geoms = [data.city] if data.shore is None else list(data.shore.geometry.values)
    sites = proposal_sites(proposal)
    near = sites[near_city(data, sites)] if len(sites) else sites
    keep = ~data.facilities["facility_id"].isin(set(proposal.get("retired") or [])).to_numpy()
    fac = data.facilities[keep] if proposal.get("use_existing", True) else data.facilities.iloc[0:0]
    fxy = np.column_stack([fac.geometry.x, fac.geometry.y]) if len(fac) else np.empty((0, 2))
    x0, y0, x1, y1 = shapely.total_bounds([*geoms, *np.asarray(shapely.points(near)).tolist()]) if len(near) else data.city.bounds
    # an equirectangular view, scaled so that a degree of longitude is cos(lat) of one of latitude
    k = float(np.cos(np.radians((y0 + y1) / 2)))
    span_x, span_y = max((x1 - x0) * k, 1e-6), max(y1 - y0, 1e-6)
    s = 0.92 * min(_MAP_W / span_x, _MAP_H / span_y)
    ox, oy = (_MAP_W - span_x * s) / 2, (_MAP_H - span_y * s) / 2

    def px(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return ox + (np.asarray(lon) - x0) * k * s, oy + (y1 - np.asarray(lat)) * s

    def path(g: Any) -> str:
        out = []
        for part in shapely.get_parts(g):
            rings = [part.exterior, *part.interiors] if part.geom_type == "Polygon" else [part]
            for ring in rings:
                c = np.asarray(ring.coords)
                if len(c) < 2:
                    continue
                x, y = px(c[:, 0], c[:, 1])
                out.append("M" + " L".join(f"{a:.1f},{b:.1f}" for a, b in zip(x, y, strict=True)))
        return " ".join(out)

    fill = "#eef2f7" if data.shore is None else "none"
    stroke = "#7a8aa0" if data.shore is None else "#1f78b4"
    width = 1 if data.shore is None else 3
    parts = [f'<path d="{path(g)}" fill="{fill}" stroke="{stroke}" stroke-width="{width}" fill-rule="evenodd"/>' for g in geoms]
    fx, fy = px(fxy[:, 0], fxy[:, 1]) if len(fxy) else (np.empty(0), np.empty(0))
    parts += [f'<circle cx="{a:.1f}" cy="{b:.1f}" r="3" fill="#888"/>' for a, b in zip(fx, fy, strict=True)]
    locked = {s["i"] for s in evaluation["sites"] if s.get("locked")}
    for i, (lon, lat) in enumerate(sites):
        if not near_city(data, sites[i : i + 1])[0]:
            continue
        (a,), (b,) = px(np.array([lon]), np.array([lat]))
        color = "#6a3d9a" if i in locked else "#d7301f"
        parts.append(
            f'<circle cx="{a:.1f}" cy="{b:.1f}" r="8" fill="{color}" stroke="#fff" stroke-width="1.5"/>'
            f'<text x="{a:.1f}" y="{b + 3.5:.1f}" font-size="9" text-anchor="middle" fill="#fff">{html.escape(str(i + 1))}</text>'
        )
    return f'<svg class="map" width="{_MAP_W:.0f}" height="{_MAP_H:.0f}" viewBox="0 0 {_MAP_W:.0f} {_MAP_H:.0f}">{"".join(parts)}</svg>'


def _svg_curve(curve: list[float], lang: str) -> str:
    """The coverage curve as SVG: covered share (0 … 100 %) against the number of sites."""
    w, h, m = 380.0, 170.0, 34.0
    n = max(len(curve) - 1, 1)
    top = max(max(curve, default=0.0), 1e-9)
    xs = [m + (w - m - 8) * j / n for j in range(len(curve))]
    ys = [h - m + 4 - (h - m - 8) * v / top for v in curve]
    line = " ".join(f"{a:.1f},{b:.1f}" for a, b in zip(xs, ys, strict=True))
    return (
        f'<svg class="curve" width="{w:.0f}" height="{h:.0f}">'
        f'<line x1="{m}" y1="{h - m + 4}" x2="{w - 8}" y2="{h - m + 4}" stroke="#444"/>'
        f'<line x1="{m}" y1="4" x2="{m}" y2="{h - m + 4}" stroke="#444"/>'
        f'<polyline points="{line}" fill="none" stroke="#d7301f" stroke-width="2"/>'
        f'<text x="{m - 4}" y="12" font-size="9" text-anchor="end">{fmt_pct(top, lang, 0)}</text>'
        f'<text x="{m - 4}" y="{h - m + 4}" font-size="9" text-anchor="end">0</text>'
        f'<text x="{w - 8}" y="{h - m + 18}" font-size="9" text-anchor="end">{n}</text>'
        "</svg>"
    )


def print_html(name: str, data: WorkspaceData, proposal: dict[str, Any], evaluation: dict[str, Any], lang: str = "es") -> str:
    """The scenario's print layout (one A4 landscape sheet): title, the summary figures, the map
    with the sites numbered, the coverage curve and the first sites' gains. Everything inline
    (SVG), nothing fetched: it prints offline. The figures are ``evaluation``'s (the public
    evaluation for a key without ``read:records``: rounded shares, no weights).
    """
    t = labels("workspace", lang)
    ev = evaluation
    kind = t["kind_garitas"] if data.kind == "garitas" else t["kind_cameras"]
    digits = 0 if ev["disclosure"].get("public") else 1
    rows = [
        (t["kind"], kind),
        (t["level"], html.escape(str(ev["level"]))),
        (t["radius"], fmt_int(ev["radius_m"], lang)),
        (t["print_sites_count"], fmt_int(ev["n_sites"], lang)),
        (t["print_existing_count"], fmt_int(ev["n_existing"], lang)),
        (t["cost"], fmt_number(ev["cost"], lang, 1)),
        (t["covered_share"], fmt_pct(ev["covered_share"], lang, digits)),
        (t["existing_share"], fmt_pct(ev["existing_share"], lang, digits)),
    ]
    if ev.get("covered_weight") is not None:
        rows.append((t["covered_demand"], fmt_number(ev["covered_weight"], lang, 1)))
    summary = "".join(f"<tr><th>{k}</th><td>{v}</td></tr>" for k, v in rows)
    site_rows = ""
    if ev["sites"] and ev["sites"][0].get("gain_share") is not None:
        head = f"<tr><th>{t['print_site']}</th><th>{t['print_gain_share']}</th></tr>"
        body = "".join(f"<tr><td>{s['i'] + 1}</td><td>{fmt_pct(s['gain_share'], lang, 1)}</td></tr>" for s in ev["sites"][:PRINT_MAX_ROWS])
        more = len(ev["sites"]) - PRINT_MAX_ROWS
        tail = f'<tr><td colspan="2">… {fmt_int(more, lang)} {t["print_more"]}</td></tr>' if more > 0 else ""
        site_rows = f'<table class="sites">{head}{body}{tail}</table>'
    style = (
        "*{box-sizing:border-box}body{font-family:'DejaVu Sans',Arial,sans-serif;margin:0;padding:18px 24px;color:#222;font-size:12px}"
        "h1{font-size:20px;margin:0 0 10px}.grid{display:flex;gap:18px}.side{width:390px}"
        "table{border-collapse:collapse;margin-bottom:10px}th,td{padding:2px 8px;text-align:left;border-bottom:1px solid #ddd}"
        ".map{border:1px solid #ccc}.note{color:#666;font-size:10px;margin-top:6px}"
    )
    return (
        f'<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8"><title>{html.escape(name)}</title>'
        f"<style>{style}</style></head><body>"
        f"<h1>{t['print_title']}: {html.escape(name)}</h1>"
        f'<div class="grid">{_svg_map(data, proposal, ev)}<div class="side">'
        f"<table>{summary}</table><h2 style='font-size:13px;margin:4px 0'>{t['curve']}</h2>{_svg_curve(ev['curve'], lang)}"
        f"{site_rows}</div></div><p class='note'>{t['print_note']}</p></body></html>"
    )


def export_pdf(name: str, data: WorkspaceData, proposal: dict[str, Any], evaluation: dict[str, Any], lang: str = "es") -> bytes:
    """The scenario's print layout (:func:`print_html`) as a one-page A4 landscape PDF, printed
    offline by headless Chromium (:func:`geoprio.maps.printing.print_page`).
    """
    with tempfile.TemporaryDirectory(prefix="geoprio-escenario-") as tmp:
        page, pdf = Path(tmp) / "escenario.html", Path(tmp) / "escenario.pdf"
        page.write_text(print_html(name, data, proposal, evaluation, lang), encoding="utf-8")
        print_page(page, pdf=pdf, paper="a4", fit=True, wait_ms=500)
        return pdf.read_bytes()
