"""Response and request bodies (pydantic v2), separate from the routes."""

from __future__ import annotations

from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, model_validator

T = TypeVar("T")


class Health(BaseModel):
    """Liveness, version and what was loaded."""

    status: Literal["ok"] = "ok"
    version: str
    levels: list[str]
    zones: dict[str, int]
    maps: int


class Page(BaseModel, Generic[T]):
    """One page of a list; ``next`` is the next page number, if any."""

    total: int
    page: int
    page_size: int
    next: int | None
    items: list[T]


class ZoneSummary(BaseModel):
    """One zone in a ranked list."""

    model_config = ConfigDict(extra="ignore")

    zone_id: str
    name: str | None = None
    level: str
    parent_id: str | None = None
    parent_name: str | None = None
    population: float | None = None
    area_km2: float | None = None
    index: float | None = Field(None, description="prioritization index, 0–100")
    rank: int | None = Field(None, description="1 = highest priority; null when excluded")
    tier: str | None = None
    rank_median: float | None = None
    rank_p05: int | None = None
    rank_p95: int | None = None
    p_top_k: float | None = Field(None, description="probability of ranking in the top k (Monte Carlo)")
    top_k: int | None = None
    small_denominator: bool = False
    drivers: str | None = Field(None, description="the largest published contributions, as text")
    excluded: str | None = Field(None, description="why the zone has no rank")


class ZoneSmallDenominators(BaseModel):
    """Zones under the minimum rate denominator (``small_denominator``, †) among the first ranks."""

    top: int = Field(description="the N of the first N ranks looked at (the request's top, else the run's top_k)")
    minimum: float | None = Field(None, description="the minimum denominator (residents) of the run; null if unknown")
    zones: list[str] = Field(description="ids of the flagged zones among the first N ranks, best first")
    message: str = Field(description="the warning, in the request's language")


class ZonePage(Page[ZoneSummary]):
    """One page of ranked zones, with the small-denominator warning of the ranking."""

    small_denominators: ZoneSmallDenominators | None = Field(
        None, description="set when zones under the minimum denominator sit in the first N ranks (null otherwise)"
    )


class IndicatorDetail(BaseModel):
    """One indicator's part in a zone's index. Without a key that may read records, a cell
    with 1 to ``suppressed_below - 1`` records, and the cells hidden with it so that it cannot
    be recovered from the index, show null values and ``suppressed`` true.
    """

    name: str
    value: float | None
    normalized: float | None
    contribution: float | None
    count: float | None = Field(None, description="records behind the value")
    rate_raw: float | None = Field(None, description="the raw rate, when the value is smoothed")
    suppressed: bool = Field(False, description="hidden by the disclosure policy (a small count, or hidden to protect one)")


class ZoneDetail(ZoneSummary):
    """A zone with its explanation."""

    indicators: list[IndicatorDetail]
    weights: dict[str, float] = {}
    pillars: dict[str, float | None] | None = Field(
        None, description="pillar scores 0–100, when the index groups indicators in pillars (null where a hidden cell is in it)"
    )
    suppressed_below: int = Field(0, description="counts of 1 to this - 1 records are hidden (0: nothing hidden)")
    protection: int | None = Field(None, description="± records a hidden count stays uncertain by (null: nothing hidden)")


class MapInfo(BaseModel):
    """A rendered map."""

    name: str
    bytes: int
    url: str


class Record(BaseModel):
    """An incident-level record (served only with an API key)."""

    model_config = ConfigDict(extra="allow")

    record_id: str | None
    source: str
    kind: str
    zone_id: str | None
    date: str | None
    hour: int | None
    category: str | None
    weight: float
    x: float | None = None
    y: float | None = None


class _PlanBase(BaseModel):
    """What every plan request shares; exactly one of ``p`` and ``target_share`` (``oneOf`` in the
    schema: one of them a number, the other absent or null).
    """

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "oneOf": [
                {"required": ["p"], "properties": {"p": {"type": "integer"}}},
                {"required": ["target_share"], "properties": {"target_share": {"type": "number"}}},
            ]
        },
    )

    p: int | None = Field(None, ge=1, le=5000, description="new sites to choose (maximal covering)")
    target_share: float | None = Field(None, gt=0, le=1, description="fewest sites covering this share of demand (set covering)")
    use_existing: bool = Field(True, description="count the existing facilities' coverage and keep them")
    min_spacing_m: float | None = Field(None, gt=0, le=5000)
    time_limit_s: float = Field(30.0, gt=0, le=300, description="hard deadline of the solve")
    level: str | None = Field(None, description="zone level whose index weights the demand")

    @model_validator(mode="after")
    def _one_goal(self) -> _PlanBase:
        if (self.p is None) == (self.target_share is None):
            raise ValueError("give exactly one of p (number of new sites) and target_share (share of demand to cover)")
        return self


class CameraPlanRequest(_PlanBase):
    """Parameters of a camera plan."""

    radius_m: float = Field(100.0, gt=0, le=1000, description="useful range of a camera (about 50–100 m)")
    grid_spacing_m: float = Field(100.0, ge=10, le=2000, description="candidate sites every this many metres")
    index_weight: float = Field(1.0, ge=0, le=10, description="demand × (1 + index_weight × zone index / 100)")


class GaritaPlanRequest(_PlanBase):
    """Parameters of a garita (beach guard post) plan."""

    radius_m: float = Field(500.0, gt=0, le=5000, description="coverage along the shore from each garita")
    spacing_m: float = Field(100.0, ge=10, le=5000, description="candidate sites every this many metres of shore")
    beach_incidents: bool = Field(True, description="weight the shore by beach incidents (else uniformly)")


class JobStatus(BaseModel):
    """A plan job: ``queued``, ``running``, ``done``, ``failed`` (with a short reason, never a
    traceback) or ``cancelled``.
    """

    id: str
    kind: str
    status: str
    params: dict
    error: str | None = None
    created_at: str
    finished_at: str | None = None
    plan_url: str | None = None
    attempts: int = Field(0, description="times a worker took the job (a job whose worker died twice fails)")
    estimate: dict | None = Field(None, description="the size admission control estimated: demand, candidates, pairs, memory")


class PlanSummary(BaseModel):
    """A finished plan: what it buys and how close to the best possible it is. Without a key
    with ``read:records``, totals not known to come from enough incidents are null
    (:func:`geoprio.placement.public.public_plan`).
    """

    id: str
    kind: str
    source: str = Field(description="api (computed here) or file (written by geoprio plan)")
    n_selected: int | None = None
    covered_share: float | None = None
    objective: float | None = None
    bound: float | None = None
    gap: float | None = None
    solver: str | None = None
    status: str | None = None


class PlanDetail(PlanSummary):
    """A plan with its summary, coverage curve and sites (GeoJSON). Without a key with
    ``read:records``: new sites are centres of a ``min_site_spacing_m`` grid cell (``n_sites``
    per cell), per-site figures and the curve may be null, and ``summary.disclosure`` says
    what was hidden.
    """

    summary: dict
    sites: dict


# --------------------------------------------------------------------------- OGC API – Features


class Link(BaseModel):
    """A link: ``href`` is an absolute URL."""

    href: str
    rel: str
    type: str | None = None
    title: str | None = None


class LandingPage(BaseModel):
    """The landing page: links to the API definition, the conformance classes and the collections."""

    title: str
    description: str
    links: list[Link]


class Conformance(BaseModel):
    """The conformance classes the service implements."""

    conformsTo: list[str]


class SpatialExtent(BaseModel):
    """The bounding box of the features."""

    bbox: list[list[float]] = Field(description="minx, miny, maxx, maxy in CRS84")
    crs: str = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"


class TemporalExtent(BaseModel):
    """The first and last instant of the features (null: open)."""

    interval: list[list[str | None]]
    trs: str = "http://www.opengis.net/def/uom/ISO-8601/0/Gregorian"


class Extent(BaseModel):
    """Where and when the features are."""

    spatial: SpatialExtent | None = None
    temporal: TemporalExtent | None = None


class Collection(BaseModel):
    """One feature collection."""

    id: str
    title: str
    description: str
    links: list[Link]
    extent: Extent | None = None
    itemType: Literal["feature"] = "feature"
    crs: list[str] = ["http://www.opengis.net/def/crs/OGC/1.3/CRS84"]


class Collections(BaseModel):
    """The feature collections."""

    links: list[Link]
    collections: list[Collection]


class Feature(BaseModel):
    """A GeoJSON feature (EPSG:4326 / CRS84, longitude first)."""

    type: Literal["Feature"] = "Feature"
    id: str
    geometry: dict[str, Any] | None
    properties: dict[str, Any]
    links: list[Link] = []


class FeatureCollection(BaseModel):
    """One page of features; follow the ``next`` link for the next page."""

    type: Literal["FeatureCollection"] = "FeatureCollection"
    features: list[Feature]
    links: list[Link]
    numberMatched: int = Field(description="features that match the filters, in every page")
    numberReturned: int = Field(description="features in this page")
    timeStamp: str
