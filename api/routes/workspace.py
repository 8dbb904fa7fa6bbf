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

from geoprio.disclosure import DisclosurePolicy
from geoprio.errors import GeoprioError
from geoprio.labels import labels

from ..admission import AdmissionRefused
from ..deps import EngineDep, KeyDep, PolicyDep, SettingsDep, StoreDep, aggregate_access, require_scope
from ..errors import ErrorBody
from ..jobs import QueueFull
from ..keys import KeyInfo
from ..scenarios import (
    MAX_SITES,
    UnknownReference,
    WorkspaceData,
    compare,
    completion_workspace,
    evaluate,
    export_gpkg,
    export_pdf,
    export_xlsx,
    facilities_geojson,
    get_scenario,
    list_scenarios,
    public_evaluation,
    public_summary,
    save_scenario,
    scenario_dict,
    shore_geojson,
    workspace_data,
)
from ..settings import Settings
from ..store import Store

__all__ = ["CompleteBody", "PlanProposal", "ProposalBody", "ScenarioBody", "Site", "router"]

router = APIRouter(tags=["workspace"])

SubmitKey = Annotated[KeyInfo, Depends(require_scope("submit:plans"))]
Lon = Annotated[float, Field(ge=-180, le=180, description="longitude (EPSG:4326)")]
Lat = Annotated[float, Field(ge=-90, le=90, description="latitude (EPSG:4326)")]
#: Most vertices of a ring of an excluded area, holes of an area, excluded areas, excluded sites.
MAX_VERTICES, MAX_HOLES, MAX_AREAS, MAX_EXCLUDED_SITES = 10_000, 100, 100, 10_000
#: Most facility ids a proposal may retire.
MAX_RETIRED = 100_000
#: Highest cost of a site (any unit: pesos, points…).
MAX_COST = 1e12
Position = tuple[Lon, Lat]
Ring = Annotated[
    list[Position],
    Field(min_length=4, max_length=MAX_VERTICES, description="[lon, lat] positions, the last one the first (closed if not)"),
]


class Site(BaseModel):
    """A proposed site: where it is, whether the completion must keep it, what it costs."""

    model_config = ConfigDict(extra="forbid")

    lon: Lon
    lat: Lat
    locked: bool = Field(False, description='kept by "complete the plan" (as an existing camera)')
    cost: float = Field(1.0, gt=0, le=MAX_COST, description="the site's cost (any unit; the proposal's cost is the sum)")


class Area(BaseModel):
    """A GeoJSON Polygon (lon/lat): an outer ring, then any holes (a MultiPolygon goes as its
    polygons). A self-crossing ring is repaired (:func:`shapely.make_valid`); the polygonal part
    of the repaired area counts.
    """

    model_config = ConfigDict(extra="forbid")

    type: Literal["Polygon"]
    coordinates: list[Ring] = Field(min_length=1, max_length=1 + MAX_HOLES, description="[outer ring, hole, …]")


class _Proposal(BaseModel):
    """What every proposal states besides its sites."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["cameras", "garitas"] = Field(
        "cameras", description="cameras (demand: the crime points) or garitas (demand along the shore, coverage along it)"
    )
    level: str | None = Field(
        None, description="zone level whose index (cameras) and incidents weight the demand (GET /health lists them; unknown: 404)"
    )
    radius_m: float = Field(100.0, gt=0, le=1000, description="useful range of a camera; a garita's reach along the shore")
    beach_incidents: bool = Field(
        True, description="garitas: weight the shore by the incidents near it (else uniformly per metre of shore)"
    )
    index_weight: float = Field(
        1.0, ge=0, le=10, description="demand × (1 + index_weight × zone index / 100); rounded to the nearest tenth"
    )
    use_existing: bool = Field(True, description="count the existing cameras or garitas (GET /workspace/facilities)")
    retired: list[int] = Field(
        default_factory=list, max_length=MAX_RETIRED, description="facility_id of existing facilities to remove (unknown: 404)"
    )
    exclude_areas: list[Area] = Field(
        default_factory=list,
        max_length=MAX_AREAS,
        description="areas no new site may use (repaired if invalid: their polygonal part counts)",
    )
    exclude_sites: list[Position] = Field(
        default_factory=list, max_length=MAX_EXCLUDED_SITES, description="[lon, lat] of places no new site may use"
    )
    order: Literal["given", "greedy"] = Field("given", description="order of the marginal gains and the curve")

    @field_validator("index_weight")
    @classmethod
    def _tenths(cls, v: float) -> float:
        # the demand is built and kept once per level and weight: tenths bound that to 101 weights
        return round(v, 1)


class ProposalBody(_Proposal):
    """A proposal to evaluate: at least one site."""

    sites: list[Site] = Field(min_length=1, max_length=MAX_SITES, description=f"the proposed sites (1 to {MAX_SITES})")


class PlanProposal(_Proposal):
    """A proposal to save or complete: it may have no sites yet."""

    sites: list[Site] = Field(default_factory=list, max_length=MAX_SITES, description=f"the proposed sites (at most {MAX_SITES})")


class CompleteBody(PlanProposal):
    """Complete a proposal: choose ``p`` new sites (or the fewest for ``target_share``, or up to
    ``budget`` sites at unit cost) on a grid, keeping the locked sites and the existing cameras
    not retired, never inside an excluded area or near an excluded site. Exactly one of ``p``,
    ``target_share`` and ``budget`` (``oneOf`` in the schema).
    """

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "oneOf": [
                {"required": [name], "properties": {name: {"type": kind}}}
                for name, kind in (("p", "integer"), ("target_share", "number"), ("budget", "number"))
            ]
        },
    )

    p: int | None = Field(None, ge=1, le=MAX_SITES, description="new sites to choose")
    target_share: float | None = Field(None, gt=0, le=1, description="fewest new sites covering this share of demand")
    budget: float | None = Field(None, gt=0, le=MAX_SITES, description="at most this many new sites (unit cost)")
    grid_spacing_m: float = Field(
        100.0, ge=10, le=2000, description="candidates every this many metres: a grid (cameras), along the shore (garitas)"
    )
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
    proposal: PlanProposal


# --------------------------------------------------------------------------- answers


class SiteFigures(BaseModel):
    """A site of an evaluated proposal; its figures are null without ``read:records``."""

    i: int = Field(description="the site's index in the proposal")
    lon: float
    lat: float
    locked: bool
    cost: float
    rank: int | None = Field(description="1 + its position in the evaluation's order")
    gain_weight: float | None = Field(description="demand it adds, in the evaluation's order (marginal gain)")
    gain_share: float | None
    unique_weight: float | None = Field(description="demand only it covers")
    reach_weight: float | None = Field(description="demand within its radius")


class Disclosure(BaseModel):
    """What the evaluation hides (``public``: the caller's key lacks ``read:records``)."""

    public: bool
    share_step: float | None = None
    site_figures: bool | None = None
    weights: bool | None = None


class EvaluationBody(BaseModel):
    """The exact coverage of a proposal. Weights are null without ``read:records``; shares and
    the curve are then rounded to whole percents.
    """

    level: str
    radius_m: float
    n_sites: int
    n_existing: int = Field(description="existing cameras or garitas counted (not retired)")
    cost: float
    total_weight: float | None
    existing_weight: float | None
    covered_weight: float | None
    existing_share: float
    covered_share: float
    sites: list[SiteFigures]
    curve: list[float] = Field(description="covered share with the existing facilities, then after each site")
    disclosure: Disclosure


class WorkspaceJob(BaseModel):
    """The plan job completing a proposal: poll ``GET /jobs/{id}``; when done, ``GET /plans/{id}``."""

    id: str
    status: str
    job_url: str
    plan_url: str
    estimate: dict[str, Any] | None = None


class SavedScenario(BaseModel):
    """Where a saved scenario is."""

    id: str
    name: str
    url: str


class ScenarioSummary(BaseModel):
    """A scenario's evaluation when it was saved (shares rounded without ``read:records``)."""

    level: str
    radius_m: float
    n_sites: int
    n_existing: int
    cost: float
    covered_share: float
    existing_share: float


class ScenarioListed(BaseModel):
    """A saved scenario, without its proposal."""

    id: str
    name: str
    kind: str
    created_at: str | None
    summary: ScenarioSummary | None


class ScenarioDetail(ScenarioListed):
    """A saved scenario: its proposal and its evaluation on the data served now."""

    proposal: PlanProposal
    evaluation: EvaluationBody


class ComparedSide(BaseModel):
    """One scenario of a comparison (weights null without ``read:records``)."""

    id: str
    name: str
    covered_share: float
    existing_share: float
    covered_weight: float | None
    cost: float
    n_sites: int
    n_existing: int
    curve: list[float]


class Comparison(BaseModel):
    """Two scenarios side by side, and the sites ``b`` adds to and removes from ``a``."""

    a: ComparedSide
    b: ComparedSide
    added: list[tuple[float, float]] = Field(description="[lon, lat] of the sites of b not in a (to 1e-6 degrees)")
    removed: list[tuple[float, float]] = Field(description="[lon, lat] of the sites of a not in b")
    kept: int
    covered_share_change: float | None
    cost_change: float
    disclosure: Disclosure


def _json(model: type[BaseModel], description: str) -> dict[str, Any]:
    return {"model": model, "description": description}


_NOT_FOUND = _json(ErrorBody, "an unknown level, or no incident points behind the served index")
_PROPOSAL_ERRORS: dict[int | str, dict[str, Any]] = {
    404: _json(ErrorBody, "an unknown level, a retired facility_id that is not an existing camera's, or no incident points served"),
}
_SCENARIO_ERRORS: dict[int | str, dict[str, Any]] = {
    404: _json(ErrorBody, "no such scenario for this key (or its level is no longer served)"),
}


def _data(
    store: Store, settings: Settings, level: str | None, index_weight: float, kind: str = "cameras", beach_incidents: bool = True
) -> WorkspaceData:
    try:
        return workspace_data(store, settings, level, index_weight, kind, beach_incidents)
    except KeyError as exc:
        raise HTTPException(404, f"level {exc.args[0]!r} not found (GET /health lists the levels served)") from None
    except LookupError as exc:
        raise HTTPException(404, str(exc)) from None


def _evaluation(data: WorkspaceData, proposal: dict[str, Any], policy: DisclosurePolicy | None) -> dict[str, Any]:
    try:
        full = evaluate(data, proposal)
    except UnknownReference as exc:
        raise HTTPException(404, str(exc)) from None
    return full if policy is None else public_evaluation(full)


@router.post("/workspace/evaluate", response_model=EvaluationBody, responses=_PROPOSAL_ERRORS)
def post_evaluate(body: ProposalBody, store: StoreDep, settings: SettingsDep, key: KeyDep, policy: PolicyDep) -> dict[str, Any]:
    """The exact coverage of a proposal: covered demand and share, each site's marginal gain
    and unique demand, the coverage curve (full figures with ``read:records``, see the module).
    A site anywhere is evaluated: it covers the demand within ``radius_m`` of it (none, far
    from the city).
    """
    data = _data(store, settings, body.level, body.index_weight, body.kind, body.beach_incidents)
    return _evaluation(data, body.model_dump(), policy)


Kind = Literal["cameras", "garitas"]


@router.get("/workspace/facilities", dependencies=[Depends(aggregate_access)], responses={404: _NOT_FOUND})
def get_facilities(store: StoreDep, settings: SettingsDep, level: str | None = None, kind: Kind = "cameras") -> dict[str, Any]:
    """The existing cameras or garitas (GeoJSON); ``facility_id`` is what a proposal's ``retired`` lists."""
    return facilities_geojson(_data(store, settings, level, 1.0, kind))


@router.get("/workspace/shore", dependencies=[Depends(aggregate_access)], responses={404: _NOT_FOUND})
def get_shore(store: StoreDep, settings: SettingsDep, level: str | None = None) -> dict[str, Any]:
    """The shore garitas stand on (GeoJSON lines with ``name`` and ``length_m``): the coast
    along the beaches of the layers folder, as a garita plan builds it.
    """
    return shore_geojson(_data(store, settings, level, 1.0, "garitas"))


@router.post(
    "/workspace/complete",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=WorkspaceJob,
    responses={
        **_PROPOSAL_ERRORS,
        422: {"description": "invalid proposal, or a plan over the admission limits (the estimate and the limits)"},
        429: {"description": "too many jobs queued or running, for this key or in all (see Retry-After)"},
    },
)
def post_complete(body: CompleteBody, request: Request, store: StoreDep, settings: SettingsDep, key: SubmitKey) -> WorkspaceJob:
    """Solve for the remaining sites with the exact solver, as a camera or garita plan job.
    Locked sites, excluded areas and excluded sites far from the city (or the shore) are left
    out (they change nothing).
    """
    data = _data(store, settings, body.level, body.index_weight, body.kind, body.beach_incidents)
    try:
        workspace = completion_workspace(data, body.model_dump())
    except UnknownReference as exc:
        raise HTTPException(404, str(exc)) from None
    params: dict[str, Any] = {
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
        "workspace": workspace,
    }
    if body.kind == "garitas":  # a garita plan job's parameters (api.schemas.GaritaPlanRequest)
        for k in ("grid_spacing_m", "index_weight"):
            params.pop(k)
        params.update(spacing_m=body.grid_spacing_m, beach_incidents=body.beach_incidents)
    try:
        job = request.app.state.jobs.submit(body.kind, params, owner=key)
    except AdmissionRefused as exc:
        raise HTTPException(422, exc.detail) from None
    except QueueFull as exc:
        raise HTTPException(exc.status_code, str(exc), headers={"Retry-After": str(exc.retry_after)}) from None
    return WorkspaceJob(id=job.id, status=job.status, job_url=f"/jobs/{job.id}", plan_url=f"/plans/{job.id}", estimate=job.estimate)


@router.post("/workspace/scenarios", status_code=status.HTTP_201_CREATED, response_model=SavedScenario, responses=_PROPOSAL_ERRORS)
def post_scenario(body: ScenarioBody, engine: EngineDep, store: StoreDep, settings: SettingsDep, key: SubmitKey) -> SavedScenario:
    """Save a proposal under a name (owner: this key); its summary is the evaluation at saving."""
    proposal = body.proposal.model_dump()
    p = body.proposal
    full = _evaluation(_data(store, settings, p.level, p.index_weight, p.kind, p.beach_incidents), proposal, None)
    sc = save_scenario(engine, body.name, proposal, full, key)
    return SavedScenario(id=sc.id, name=sc.name, url=f"/workspace/scenarios/{sc.id}")


@router.get("/workspace/scenarios", response_model=list[ScenarioListed])
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
    data = _data(store, settings, p.get("level"), p.get("index_weight", 1.0), p.get("kind", "cameras"), p.get("beach_incidents", True))
    return _evaluation(data, p, policy)


@router.get("/workspace/scenarios/compare", response_model=Comparison, responses=_SCENARIO_ERRORS)
def get_compare(
    engine: EngineDep,
    store: StoreDep,
    settings: SettingsDep,
    key: KeyDep,
    policy: PolicyDep,
    a: str = Query(..., description="id of the first scenario"),
    b: str = Query(..., description="id of the second scenario"),
) -> dict[str, Any]:
    """Two scenarios side by side: coverage, cost, curves, the sites ``b`` adds and removes."""
    sa, sb = _scenario(engine, a, key), _scenario(engine, b, key)
    return compare(sa, sb, _scenario_evaluation(sa, store, settings, policy), _scenario_evaluation(sb, store, settings, policy))


@router.get("/workspace/scenarios/{scenario_id}", response_model=ScenarioDetail, responses=_SCENARIO_ERRORS)
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
_PDF = "application/pdf"


@router.get(
    "/workspace/scenarios/{scenario_id}/export",
    response_class=Response,
    responses={
        200: {
            "description": "the file",
            "content": {media: {"schema": {"type": "string", "format": "binary"}} for media in (*(m for m, _ in _EXPORTS.values()), _PDF)},
        },
        **_SCENARIO_ERRORS,
        503: _json(ErrorBody, "the PDF cannot be printed here (no headless Chromium installed, or it failed)"),
    },
)
def get_export(
    scenario_id: str,
    engine: EngineDep,
    store: StoreDep,
    settings: SettingsDep,
    key: KeyDep,
    policy: PolicyDep,
    format: Literal["gpkg", "xlsx", "pdf"] = Query("xlsx"),
    lang: Literal["es", "en"] = Query("es", description="language of the PDF's print layout"),
) -> Response:
    """The scenario as a GeoPackage (``sitios`` layer), a workbook (``resumen``, ``sitios``,
    ``curva``) or its print layout as a one-page A4 landscape PDF (title, summary figures, the
    map with the sites numbered, the coverage curve; figures as the key may see them).
    """
    sc = _scenario(engine, scenario_id, key)
    p = sc["proposal"]
    data = _data(store, settings, p.get("level"), p.get("index_weight", 1.0), p.get("kind", "cameras"), p.get("beach_incidents", True))
    evaluation = _evaluation(data, p, policy)
    if format == "pdf":
        try:
            body, media = export_pdf(sc["name"], data, p, evaluation, lang), _PDF
        except GeoprioError as exc:  # no Chromium (MissingDependencyError), or it failed
            raise HTTPException(503, f"the PDF cannot be printed: {exc}") from None
    else:
        media, write = _EXPORTS[format]
        body = write(sc["name"], evaluation)
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


@router.get("/workspace", response_class=HTMLResponse, responses={404: _json(ErrorBody, "the page is not installed")})
def get_page() -> HTMLResponse:
    """The workspace page (Spanish; ``?lang=en`` for English), with its scripts served offline."""
    return HTMLResponse(_resource("workspace", "index.html").decode("utf-8"))


@router.get(
    "/workspace/static/{path:path}",
    response_class=Response,
    responses={
        200: {
            "description": "the file",
            "content": {
                **{t.split(";")[0]: {"schema": {"type": "string"}} for t in _PAGE_TYPES.values()},
                "application/json": {"schema": {"type": "object", "additionalProperties": {"type": "object"}}},
                "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
            },
        },
        404: _json(ErrorBody, "no such file"),
    },
)
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
