"""Response and request bodies (pydantic v2), separate from the routes."""

from __future__ import annotations

from typing import Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field

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
    drivers: str | None = None
    excluded: str | None = Field(None, description="why the zone has no rank")


class IndicatorDetail(BaseModel):
    """One indicator's part in a zone's index (values suppressed below the minimum count)."""

    name: str
    value: float | None
    normalized: float | None
    contribution: float | None
    count: float | None = Field(None, description="records behind the value")
    rate_raw: float | None = Field(None, description="the raw rate, when the value is smoothed")
    suppressed: bool = False


class ZoneDetail(ZoneSummary):
    """A zone with its explanation."""

    indicators: list[IndicatorDetail]
    weights: dict[str, float] = {}
    suppressed_below: int = 0


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
