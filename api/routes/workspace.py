"""The planner's workspace: ``GET /workspace`` (the page), ``POST /workspace/evaluate``,
``POST /workspace/complete``, ``GET /workspace/facilities`` and the saved scenarios
(``POST``/``GET /workspace/scenarios``, ``GET /workspace/scenarios/{id}``, ``…/compare``,
``…/{id}/export``).

Who may do what: evaluating a proposal and reading scenarios need a key (any valid key; each
key sees its own scenarios, an admin key every key's); saving a scenario and completing a
plan need the ``submit:plans`` scope, like ``POST /plans/*``. The completion is a camera plan
job (``GET /jobs/{id}``, then ``GET /plans/{id}`` with the bound and gap), so the admission
and queue limits of the plan routes apply.

What an evaluation shows: in full (demand weights, per-site gains, the curve) to a key with
``read:records``; to any other key, only the covered shares and the curve rounded to whole
percents, no weights and no per-site figures (:func:`~geoprio.api.scenarios.public_evaluation`):
a site's gain is the demand inside a circle the caller chose, so it is an incident count.
"""

from __future__ import annotations

from importlib import resources
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response, status
from fastapi.responses import HTMLResponse, JSONResponse
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from shapely.geometry import shape

from geoprio.disclosure import DisclosurePolicy
from geoprio.errors import InputError
from geoprio.labels import labels

from ..admission import AdmissionRefused
from ..deps import EngineDep, KeyDep, PolicyDep, SettingsDep, StoreDep, aggregate_access, require_scope
from ..jobs import QueueFull
from ..keys import KeyInfo
from ..scenarios import (
    MAX_SITES,
    WorkspaceData,
    check_proposal,
    compare,
    evaluate,
    export_gpkg,
    export_xlsx,
    facilities_geojson,
    get_scenario,
    list_scenarios,
    public_evaluation,
    public_summary,
    save_scenario,
    scenario_dict,
    workspace_data,
)
from ..settings import Settings
from ..store import Store

__all__ = ["CompleteBody", "ProposalBody", "ScenarioBody", "router"]

router = APIRouter(tags=["workspace"])

SubmitKey = Annotated[KeyInfo, Depends(require_scope("submit:plans"))]
LonLat = tuple[float, float]


class ProposalBody(BaseModel):
    """A proposal: sites (``[lon, lat]``), which are locked, which existing cameras retire."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["cameras"] = Field("cameras", description="cameras (garitas are not in the workspace yet)")
    level: str | None = Field(None, description="zone level whose index weights the demand (as POST /plans/cameras)")
    radius_m: float = Field(100.0, gt=0, le=1000, description="useful range of a camera")
    index_weight: float = Field(1.0, ge=0, le=10, description="demand × (1 + index_weight × zone index / 100)")
    use_existing: bool = Field(True, description="count the existing cameras (GET /workspace/facilities)")
    sites: list[LonLat] = Field(default_factory=list, description=f"[lon, lat] of each proposed site (at most {MAX_SITES})")
    locked: list[int] = Field(default_factory=list, description="indices of sites the completion must keep")
    retired: list[int] = Field(default_factory=list, description="facility_id of existing cameras to remove")
    costs: list[float] | None = Field(None, description="cost of each site (default 1 each)")
    exclude_areas: list[dict[str, Any]] = Field(default_factory=list, description="GeoJSON polygons (lon/lat) no site may use")
    exclude_sites: list[LonLat] = Field(default_factory=list, description="[lon, lat] of places no site may use")
    order: Literal["given", "greedy"] = Field("given", description="order of the marginal gains and the curve")

    @field_validator("index_weight")
    @classmethod
    def _tenths(cls, v: float) -> float:
        # the demand is built and kept once per level and weight: tenths bound that to 101 weights
        if abs(v * 10 - round(v * 10)) > 1e-9:
            raise ValueError("index_weight must be a multiple of 0.1 (0, 0.1, … 10)")
        return round(v, 1)

    @field_validator("costs")
    @classmethod
    def _positive(cls, v: list[float] | None) -> list[float] | None:
        if v is not None and any(not c > 0 for c in v):
            raise ValueError("every cost must be > 0")
        return v

    @field_validator("exclude_areas")
    @classmethod
    def _polygons(cls, v: list[dict[str, Any]]) -> list[dict[str, Any]]:
        for i, g in enumerate(v):
            try:
                geom = shape(g)
            except Exception:  # shapely raises several types for a malformed geometry
                raise ValueError(f"exclude_areas[{i}] is not a GeoJSON geometry") from None
            if geom.geom_type not in ("Polygon", "MultiPolygon") or not geom.is_valid:
                raise ValueError(f"exclude_areas[{i}] must be a valid Polygon or MultiPolygon, got a {geom.geom_type}")
        return v


class CompleteBody(ProposalBody):
    """Complete a proposal: choose ``p`` new sites (or the fewest for ``target_share``, or up to
    ``budget`` sites at unit cost) on a grid, keeping the locked sites and the existing cameras
    not retired, never inside an excluded area or near an excluded site.
    """

    p: int | None = Field(None, ge=1, le=MAX_SITES)
    target_share: float | None = Field(None, gt=0, le=1)
    budget: float | None = Field(None, gt=0, le=MAX_SITES)
    grid_spacing_m: float = Field(100.0, ge=10, le=2000)
    min_spacing_m: float | None = Field(None, gt=0, le=5000)
    time_limit_s: float = Field(30.0, gt=0, le=300)

    @model_validator(mode="after")
    def _one_goal(self) -> CompleteBody:
        if sum(v is not None for v in (self.p, self.target_share, self.budget)) != 1:
            raise ValueError("give exactly one of p (new sites), target_share (share of demand) and budget")
        return self


class ScenarioBody(BaseModel):
    """A scenario to save: a name and the proposal."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    proposal: ProposalBody


class WorkspaceJob(BaseModel):
    """The plan job completing a proposal: poll ``GET /jobs/{id}``; when done, ``GET /plans/{id}``."""

    id: str
    status: str
    job_url: str
    plan_url: str
    estimate: dict[str, Any] | None = None


def _data(store: Store, settings: Settings, level: str | None, index_weight: float) -> WorkspaceData:
    try:
        return workspace_data(store, settings, level, index_weight)
    except LookupError as exc:
        raise HTTPException(422, str(exc).strip("'\"")) from None


def _evaluation(
    data: WorkspaceData, proposal: dict[str, Any], policy: DisclosurePolicy | None, *, allow_empty: bool = False
) -> dict[str, Any]:
    full = evaluate(data, proposal, allow_empty=allow_empty)
    return full if policy is None else public_evaluation(full)


@router.post("/workspace/evaluate")
def post_evaluate(body: ProposalBody, store: StoreDep, settings: SettingsDep, key: KeyDep, policy: PolicyDep) -> dict[str, Any]:
    """The exact coverage of a proposal: covered demand and share, each site's marginal gain
    and unique demand, the coverage curve (full figures with ``read:records``, see the module).
    """
    data = _data(store, settings, body.level, body.index_weight)
    return _evaluation(data, body.model_dump(), policy)


@router.get("/workspace/facilities", dependencies=[Depends(aggregate_access)])
def get_facilities(store: StoreDep, settings: SettingsDep, level: str | None = None) -> dict[str, Any]:
    """The existing cameras (GeoJSON); ``facility_id`` is what a proposal's ``retired`` lists."""
    return facilities_geojson(_data(store, settings, level, 1.0))


@router.post(
    "/workspace/complete",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=WorkspaceJob,
    responses={422: {"description": "invalid proposal or over the admission limits"}, 429: {"description": "queue full"}},
)
def post_complete(body: CompleteBody, request: Request, store: StoreDep, settings: SettingsDep, key: SubmitKey) -> WorkspaceJob:
    """Solve for the remaining sites with the exact solver, as a camera plan job."""
    data = _data(store, settings, body.level, body.index_weight)
    sites = check_proposal(data, body.model_dump(), allow_empty=True)
    for i, (lon, lat) in enumerate(body.exclude_sites):
        if not (-180 <= lon <= 180 and -90 <= lat <= 90):
            raise InputError(f"exclude_sites[{i}] is not a lon/lat pair: {[lon, lat]}")
    params = {
        "p": body.p,
        "target_share": body.target_share,
        "budget": body.budget,
        "use_existing": body.use_existing,
        "min_spacing_m": body.min_spacing_m,
        "time_limit_s": body.time_limit_s,
        "level": data.level,
        "radius_m": body.radius_m,
        "grid_spacing_m": body.grid_spacing_m,
        "index_weight": body.index_weight,
        "workspace": {
            "locked": [[k, [float(sites[k, 0]), float(sites[k, 1])]] for k in sorted(set(body.locked))],
            "retired": list(body.retired),
            "exclude_areas": body.exclude_areas,
            "exclude_sites": [list(s) for s in body.exclude_sites],
        },
    }
    try:
        job = request.app.state.jobs.submit("cameras", params, owner=key)
    except AdmissionRefused as exc:
        raise HTTPException(422, exc.detail) from None
    except QueueFull as exc:
        raise HTTPException(exc.status_code, str(exc), headers={"Retry-After": str(exc.retry_after)}) from None
    return WorkspaceJob(id=job.id, status=job.status, job_url=f"/jobs/{job.id}", plan_url=f"/plans/{job.id}", estimate=job.estimate)


@router.post("/workspace/scenarios", status_code=status.HTTP_201_CREATED)
def post_scenario(body: ScenarioBody, engine: EngineDep, store: StoreDep, settings: SettingsDep, key: SubmitKey) -> dict[str, Any]:
    """Save a proposal under a name (owner: this key); its summary is the evaluation at saving."""
    proposal = body.proposal.model_dump()
    data = _data(store, settings, body.proposal.level, body.proposal.index_weight)
    full = evaluate(data, proposal, allow_empty=True)
    sc = save_scenario(engine, body.name, proposal, full, key)
    return {"id": sc.id, "name": sc.name, "url": f"/workspace/scenarios/{sc.id}"}


@router.get("/workspace/scenarios")
def get_scenarios(engine: EngineDep, key: KeyDep, policy: PolicyDep) -> list[dict[str, Any]]:
    """The scenarios of this key (of every key for an admin key), oldest first, without their
    sites; the summary's shares rounded as in an evaluation without ``read:records``.
    """
    out = []
    for sc in list_scenarios(engine, key):
        d = scenario_dict(sc)
        d.pop("proposal")
        if policy is not None:
            d["summary"] = public_summary(d["summary"])
        out.append(d)
    return out


def _scenario(engine: Any, scenario_id: str, key: KeyInfo) -> dict[str, Any]:
    sc = get_scenario(engine, scenario_id, key)
    if sc is None:
        raise HTTPException(404, f"scenario {scenario_id!r} not found")
    return scenario_dict(sc)


def _scenario_evaluation(sc: dict[str, Any], store: Store, settings: Settings, policy: DisclosurePolicy | None) -> dict[str, Any]:
    p = sc["proposal"]
    return _evaluation(_data(store, settings, p.get("level"), p.get("index_weight", 1.0)), p, policy, allow_empty=True)


@router.get("/workspace/scenarios/compare")
def get_compare(
    engine: EngineDep, store: StoreDep, settings: SettingsDep, key: KeyDep, policy: PolicyDep, a: str = Query(...), b: str = Query(...)
) -> dict[str, Any]:
    """Two scenarios side by side: coverage, cost, curves, the sites ``b`` adds and removes."""
    sa, sb = _scenario(engine, a, key), _scenario(engine, b, key)
    return compare(sa, sb, _scenario_evaluation(sa, store, settings, policy), _scenario_evaluation(sb, store, settings, policy))


@router.get("/workspace/scenarios/{scenario_id}")
def get_one_scenario(
    scenario_id: str, engine: EngineDep, store: StoreDep, settings: SettingsDep, key: KeyDep, policy: PolicyDep
) -> dict[str, Any]:
    """One scenario: its proposal and its evaluation on the data served now."""
    sc = _scenario(engine, scenario_id, key)
    if policy is not None:
        sc["summary"] = public_summary(sc["summary"])
    return {**sc, "evaluation": _scenario_evaluation(sc, store, settings, policy)}


_EXPORTS = {
    "gpkg": ("application/geopackage+sqlite3", export_gpkg),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", export_xlsx),
}


@router.get("/workspace/scenarios/{scenario_id}/export")
def get_export(
    scenario_id: str,
    engine: EngineDep,
    store: StoreDep,
    settings: SettingsDep,
    key: KeyDep,
    policy: PolicyDep,
    format: Literal["gpkg", "xlsx"] = Query("xlsx"),
) -> Response:
    """The scenario as a GeoPackage (``sitios`` layer) or a workbook (``resumen``, ``sitios``, ``curva``)."""
    sc = _scenario(engine, scenario_id, key)
    media, write = _EXPORTS[format]
    body = write(sc["name"], _scenario_evaluation(sc, store, settings, policy))
    return Response(body, media_type=media, headers={"Content-Disposition": f'attachment; filename="escenario-{scenario_id[:8]}.{format}"'})


# --------------------------------------------------------------------------- the page

_PAGE_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".png": "image/png",
}


def _resource(root: str, rel: str) -> bytes:
    parts = [p for p in rel.split("/") if p]
    if not parts or any(p in (".", "..") or p.startswith(".") for p in parts):
        raise HTTPException(404, f"{rel!r} not found")
    node = resources.files("geoprio").joinpath("resources").joinpath(root)
    for p in parts:
        node = node.joinpath(p)
    if not node.is_file():
        raise HTTPException(404, f"{rel!r} not found")
    return node.read_bytes()


@router.get("/workspace", response_class=HTMLResponse)
def get_page() -> HTMLResponse:
    """The workspace page (Spanish; ``?lang=en`` for English), with its scripts served offline."""
    return HTMLResponse(_resource("workspace", "index.html").decode("utf-8"))


@router.get("/workspace/static/{path:path}")
def get_static(path: str) -> Response:
    """The page's own scripts and styles, its labels, and the vendored Leaflet (``web/…``)."""
    if path == "labels.json":
        return JSONResponse(_labels())
    if path.startswith("web/"):
        data = _resource("web", path.removeprefix("web/"))
    else:
        data = _resource("workspace", path)
    suffix = "." + path.rsplit(".", 1)[-1] if "." in path else ""
    return Response(data, media_type=_PAGE_TYPES.get(suffix, "application/octet-stream"))


def _labels() -> dict[str, dict[str, str]]:
    """The page's words (``resources/labels/workspace.toml``): code → {es, en}."""
    es, en = labels("workspace", "es"), labels("workspace", "en")
    return {k: {"es": es[k], "en": en[k]} for k in es}
