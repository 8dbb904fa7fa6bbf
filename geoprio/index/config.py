"""Run configuration: what to load, which indicators, how to build the index.

A configuration is a TOML file or, equally, these pydantic models built in Python.
Relative paths in a TOML file are taken relative to the file's folder. See the README
for a complete example; ``data/demo/indice.toml`` is the demo's.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import Any, Final, Literal

from pydantic import Field, field_validator, model_validator

from geoprio.io import files as io
from geoprio.io.postgis import PostgisSource, is_database_source, parse_source
from geoprio.options import Options, validated
from geoprio.records.gazetteer import GazetteerConfig
from geoprio.settings import DEFAULT_LANG, DEFAULT_METRIC_CRS, DEFAULT_SEED, OUTPUT_FORMATS, RATE_PER, Lang, OutputFormat

__all__ = [
    "DEFAULT_MIN_POPULATION",
    "GridConfig",
    "IndexOptions",
    "IndicatorConfig",
    "OutputConfig",
    "ParentConfig",
    "PopulationConfig",
    "RobustnessConfig",
    "RunConfig",
    "SourceConfig",
    "ZonesConfig",
    "load_config",
    "check_hours",
    "check_weekdays",
    "parse_config",
]


#: The minimum rate denominator when a config names none (``[index] min_population``): zones
#: with fewer residents are flagged ``small_denominator`` (``†``) in every output. Under
#: 5,000 residents one event more or less moves a rate by more than 20 per 100,000 (a
#: whole city's homicide rate is of that order), so a rate says more about the
#: denominator than about the zone. ``min_population = 0`` turns the flag off.
DEFAULT_MIN_POPULATION: Final = 5000.0


class PopulationConfig(Options):
    """Residents per zone from a table keyed by zone id, and optionally an ambient population
    (visitors, workers, transit boardings) from another column of the same table.
    """

    path: Path
    id: str
    column: str
    ambient: str | None = None
    duplicates: Literal["error", "sum", "first"] = "error"
    where: dict[str, Any] | None = None


class ParentConfig(Options):
    """The enclosing level (e.g. localidades for UPZ)."""

    path: Path
    id: str
    name: str | None = None
    level: str = "localidad"
    method: Literal["overlap", "attribute"] = "overlap"


class GridConfig(Options):
    """Use grid cells over the zones' area instead of the zones themselves."""

    cell_size_m: float = Field(gt=0)
    shape: Literal["square", "hex"] = "square"


class ZonesConfig(Options):
    """The zone layer: columns, filters, population, parent level, optional grid."""

    path: Path
    id: str
    name: str | None = None
    level: str = "zona"
    layer: str | None = None
    crs: str | None = None
    metric_crs: str = DEFAULT_METRIC_CRS
    where: dict[str, Any] | None = None
    parent_column: str | None = None
    population_column: str | None = None
    ambient_column: str | None = None
    population: PopulationConfig | None = None
    parent: ParentConfig | None = None
    grid: GridConfig | None = None


class SourceConfig(Options):
    """One input file. Its layout follows from the keys given:
    ``zone_id`` → a table aggregated per zone; ``key`` → records naming a place;
    ``key`` and ``gazetteer`` → records naming a place, located at the places of a point or
    polygon layer (:mod:`geoprio.records.gazetteer`) and used as points marked approximate;
    otherwise points with coordinates.

    ``path`` may name a PostGIS table or query instead of a file: a source string
    ``"postgresql://host:5432/db?table=schema.name"`` (or ``?query=<URL-encoded SQL>``), or a
    table ``{url = "postgresql://host:5432/db", query = "SELECT …"}``
    (:class:`~geoprio.io.postgis.PostgisSource`; credentials from the environment only).
    """

    path: Path | PostgisSource
    kind: Literal["crime", "complaint", "coexistence"] = "crime"
    # points
    x: str | None = None
    y: str | None = None
    crs: str | None = None
    fix_swapped: bool = True
    # keyed records
    key: str | None = None
    match_on: Literal["name", "id"] = "name"
    key_pattern: str | None = None
    aliases: dict[str, str] | None = None
    fuzzy: float | None = Field(default=None, ge=0, le=1)
    gazetteer: GazetteerConfig | None = None
    # shared record columns
    date: str | None = None
    hour: str | None = None
    category: str | None = None
    id: str | None = None
    count: str | None = None
    date_format: str | None = None
    timezone: str = "America/Bogota"
    offsets: Literal["convert", "drop"] = "convert"
    # tables aggregated per zone
    zone_id: str | None = None
    columns: list[str] | None = None
    duplicates: Literal["error", "sum", "first"] = "error"
    where: dict[str, Any] | None = None
    # reading
    sep: str | None = None
    encoding: str | None = None
    decimal: str | None = None
    sheet: str | int | None = None

    @field_validator("path", mode="before")
    @classmethod
    def _database(cls, v: Any) -> Any:
        """A ``postgresql://`` string is a database source (a Path would fold its ``//``)."""
        return parse_source(v, where="path") if isinstance(v, str) and is_database_source(v) else v

    @property
    def layout(self) -> Literal["points", "keyed", "table"]:
        if self.zone_id is not None:
            return "table"
        return "keyed" if self.key is not None and self.gazetteer is None else "points"

    @model_validator(mode="after")
    def _one_layout(self) -> SourceConfig:
        if self.zone_id is not None and self.key is not None:
            raise ValueError("give either zone_id (a per-zone table) or key (records naming a place), not both")
        if self.gazetteer is not None and self.key is None:
            raise ValueError("gazetteer locates records that name a place: give key = '<column with the place name>'")
        if self.gazetteer is not None and (self.x is not None or self.y is not None or self.crs is not None):
            raise ValueError("x, y and crs are for records with coordinates; records located through a gazetteer take its places'")
        if self.where is not None and self.zone_id is None:
            raise ValueError("where filters rows of a per-zone table (zone_id); filter records in the indicators instead")
        if isinstance(self.path, PostgisSource):
            given = [k for k in ("sep", "encoding", "sheet") if getattr(self, k) is not None]
            if given:
                raise ValueError(f"{', '.join(given)} apply to files; path names a database table or query")
        return self

    def resolved(self, base: Path) -> SourceConfig:
        """A copy with relative paths (the file, the gazetteer's layer) made absolute against ``base``."""
        path = self.path if isinstance(self.path, PostgisSource) or self.path.is_absolute() else (base / self.path).resolve()
        gazetteer = self.gazetteer.resolved(base) if self.gazetteer is not None else None
        return self.model_copy(update={"path": path, "gazetteer": gazetteer})

    def input_paths(self) -> list[Path]:
        """The files this source reads: its own (unless it is a database table or query) and its gazetteer's layer."""
        own = [] if isinstance(self.path, PostgisSource) else [self.path]
        return own + ([self.gazetteer.path] if self.gazetteer is not None else [])

    def read_options(self) -> dict[str, Any]:
        opts: dict[str, Any] = {}
        for k in ("sep", "encoding", "decimal"):
            if getattr(self, k) is not None:
                opts[k] = getattr(self, k)
        if self.sheet is not None:
            opts["sheet"] = self.sheet
        return opts


def check_hours(v: tuple[int, int] | None) -> tuple[int, int] | None:
    """Validate an hour window ``[start, end)`` (it may wrap past midnight)."""
    if v is not None and not (0 <= v[0] <= 23 and 0 <= v[1] <= 24 and v[0] != v[1]):
        raise ValueError("hours must be [start, end) with 0 <= start <= 23, 0 <= end <= 24, start != end; e.g. [20, 4] wraps past midnight")
    return v


def check_weekdays(v: list[int] | None) -> list[int] | None:
    """Validate weekdays, 0 (Monday) to 6 (Sunday)."""
    if v is not None and (not v or any(d < 0 or d > 6 for d in v)):
        raise ValueError("weekdays are 0 (Monday) to 6 (Sunday)")
    return v


class IndicatorConfig(Options):
    """One indicator of the index."""

    name: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    source: str
    label: str | None = None
    # what to count
    categories: list[str] | None = None
    column: str | None = None
    previous_column: str | None = None
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    hours: tuple[int, int] | None = None
    weekdays: list[int] | None = None
    harm_weighted: bool = False
    # how to measure
    measure: Literal["count", "rate", "density", "change"] = "count"
    per: float = Field(default=RATE_PER, gt=0)
    denominator: Literal["population", "ambient"] = "population"
    smoothing: Literal["none", "eb", "eb_spatial"] = "none"
    # how it enters the index
    weight: float | None = Field(default=None, ge=0)
    direction: Literal["higher_is_worse", "higher_is_better"] = "higher_is_worse"
    harm: float | None = Field(default=None, ge=0)
    harm_category: str | None = None

    _hours = field_validator("hours")(classmethod(lambda cls, v: check_hours(v)))
    _weekdays = field_validator("weekdays")(classmethod(lambda cls, v: check_weekdays(v)))

    @model_validator(mode="after")
    def _dates(self) -> IndicatorConfig:
        if self.date_from and self.date_to and self.date_from > self.date_to:
            raise ValueError(f"date_from {self.date_from} is after date_to {self.date_to}")
        return self

    @property
    def display(self) -> str:
        return self.label or self.name


class IndexOptions(Options):
    """How indicators are transformed, normalized, weighted, aggregated and tiered.

    ``pillars`` (TOML table ``[index.pillars]``: pillar name = [indicator names]) groups the
    indicators: each is normalized on its own, aggregated per pillar into a 0–100 pillar
    score, and the pillar scores across pillars into the index, with ``pillar_weights``
    (``[index.pillar_weights]``; None = equal) and ``pillar_aggregation``. Indicator weights
    are then relative within their pillar.

    ``min_population`` is the minimum rate denominator: zones under it are flagged
    (``small_zones = "flag"``), left out of the ranking (``"exclude"``) or given the smoothed
    rate (``"smooth"``). Unset, it is :data:`DEFAULT_MIN_POPULATION` (see
    :attr:`min_denominator`); 0 turns it off.
    """

    normalization: Literal["minmax", "zscore", "rank"] = "minmax"
    log: bool = False
    winsorize: tuple[float, float] | None = None
    weighting: Literal["explicit", "equal", "harm"] = "explicit"
    aggregation: Literal["arithmetic", "geometric"] = "arithmetic"
    tiers: Literal["quantiles", "natural_breaks"] = "quantiles"
    n_tiers: int = Field(default=3, ge=2, le=5)
    lang: Lang = DEFAULT_LANG
    min_population: float | None = Field(default=None, ge=0)
    small_zones: Literal["flag", "exclude", "smooth"] = "flag"
    pillars: dict[str, list[str]] | None = None
    pillar_weights: dict[str, float] | None = None
    pillar_aggregation: Literal["arithmetic", "geometric"] = "arithmetic"

    @property
    def min_denominator(self) -> float | None:
        """The minimum denominator in force: ``min_population``, :data:`DEFAULT_MIN_POPULATION`
        when it is unset, ``None`` when it is 0 (no zone flagged).
        """
        if self.min_population is None:
            return DEFAULT_MIN_POPULATION
        return self.min_population or None

    @model_validator(mode="after")
    def _combo(self) -> IndexOptions:
        if self.aggregation == "geometric" and self.normalization == "zscore":
            raise ValueError("geometric aggregation needs normalization 'minmax' or 'rank', not 'zscore'")
        if self.pillars is None:
            if self.pillar_weights is not None or self.pillar_aggregation != "arithmetic":
                raise ValueError("pillar_weights and pillar_aggregation need [index.pillars] (pillar name = [indicator names])")
        else:
            from geoprio.index.estimator import check_pillars  # numpy and scipy only when pillars are used

            check_pillars(self.pillars, None, self.pillar_weights)
        return self


class RobustnessConfig(Options):
    """The Monte Carlo over weights and normalizations (``draws = 0`` turns it off)."""

    draws: int = Field(default=1000, ge=0)
    weight_spread: float = Field(default=0.5, ge=0, lt=1)
    normalizations: list[Literal["minmax", "zscore", "rank"]] = ["minmax", "zscore", "rank"]
    aggregations: list[Literal["arithmetic", "geometric"]] | None = None
    pillar_aggregations: list[Literal["arithmetic", "geometric"]] | None = None
    top_k: int = Field(default=10, ge=1)
    random_state: int = DEFAULT_SEED
    denominators: list[Literal["population", "ambient", "eb", "eb_spatial", "area", "none"]] | None = None


class OutputConfig(Options):
    """Where outputs go and in which formats."""

    dir: Path = Path("output")
    name: str | None = None
    formats: list[OutputFormat] = Field(default_factory=lambda: list(OUTPUT_FORMATS))


class RunConfig(Options):
    """A complete index run."""

    zones: ZonesConfig
    sources: dict[str, SourceConfig]
    indicators: list[IndicatorConfig] = Field(min_length=1)
    index: IndexOptions = IndexOptions()
    robustness: RobustnessConfig = RobustnessConfig()
    output: OutputConfig = OutputConfig()
    harm_table: Path | None = None

    @model_validator(mode="after")
    def _references(self) -> RunConfig:
        names = [i.name for i in self.indicators]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ValueError(f"indicator names must be unique; repeated: {dup}")
        for ind in self.indicators:
            if ind.source not in self.sources:
                raise ValueError(f"indicator {ind.name!r}: unknown source {ind.source!r}; sources: {sorted(self.sources)}")
            src = self.sources[ind.source]
            if src.layout == "table":
                if ind.column is None:
                    raise ValueError(f"indicator {ind.name!r}: source {ind.source!r} is a per-zone table; name its column")
                if ind.measure == "change" and ind.previous_column is None:
                    raise ValueError(f"indicator {ind.name!r}: measure 'change' on a per-zone table needs previous_column")
                filtered = ind.categories or ind.hours or ind.date_from or ind.date_to or ind.weekdays or ind.harm_weighted
                if filtered:
                    raise ValueError(
                        f"indicator {ind.name!r}: filters (categories, dates, hours, weekdays, harm_weighted) "
                        f"need record-level data, but {ind.source!r} is a per-zone table"
                    )
            elif ind.measure == "change" and not (ind.date_from and ind.date_to):
                raise ValueError(
                    f"indicator {ind.name!r}: measure 'change' needs date_from and date_to "
                    "(the previous period is the same length, just before)"
                )
            if ind.measure == "rate" and self.zones.population is None and self.zones.population_column is None and self.zones.grid is None:
                raise ValueError(f"indicator {ind.name!r}: a rate needs zone population ([zones.population] or zones.population_column)")
            if ind.measure != "rate" and (ind.smoothing != "none" or ind.denominator != "population"):
                raise ValueError(f"indicator {ind.name!r}: smoothing and denominator apply to measure = 'rate' only")
            if ind.denominator == "ambient" and not self._has_ambient():
                raise ValueError(
                    f"indicator {ind.name!r}: denominator 'ambient' needs an ambient population "
                    "([zones.population] ambient = '<column>' or zones.ambient_column)"
                )
        if self.robustness.denominators and "ambient" in self.robustness.denominators and not self._has_ambient():
            raise ValueError("robustness.denominators includes 'ambient' but the zones have no ambient population")
        if self.index.pillars is not None:
            from geoprio.index.estimator import check_pillars

            check_pillars(self.index.pillars, names, self.index.pillar_weights)
        elif self.robustness.pillar_aggregations is not None:
            raise ValueError("robustness.pillar_aggregations needs [index.pillars]")
        if self.index.weighting == "explicit":
            missing = [i.name for i in self.indicators if i.weight is None]
            if missing:
                raise ValueError(f"index.weighting = 'explicit' but indicators {missing} have no weight; give one or use 'equal' or 'harm'")
        return self

    def _has_ambient(self) -> bool:
        return self.zones.ambient_column is not None or (self.zones.population is not None and self.zones.population.ambient is not None)

    def resolved(self, base: Path) -> RunConfig:
        """A copy with every relative path made absolute against ``base``."""

        def fix(p: Path | None) -> Path | None:
            return None if p is None else (p if p.is_absolute() else (base / p).resolve())

        z = self.zones
        zones = z.model_copy(
            update={
                "path": fix(z.path),
                "population": z.population.model_copy(update={"path": fix(z.population.path)}) if z.population else None,
                "parent": z.parent.model_copy(update={"path": fix(z.parent.path)}) if z.parent else None,
            }
        )
        sources = {k: s.resolved(base) for k, s in self.sources.items()}
        return self.model_copy(
            update={
                "zones": zones,
                "sources": sources,
                "harm_table": fix(self.harm_table),
                "output": self.output.model_copy(update={"dir": fix(self.output.dir)}),
            }
        )

    def input_paths(self) -> list[Path]:
        paths = [self.zones.path]
        if self.zones.population:
            paths.append(self.zones.population.path)
        if self.zones.parent:
            paths.append(self.zones.parent.path)
        paths += [p for s in self.sources.values() for p in s.input_paths()]
        if self.harm_table:
            paths.append(self.harm_table)
        return paths


def parse_config(doc: dict[str, Any], *, source: str = "<config>", base: Path | None = None) -> RunConfig:
    """Build a :class:`RunConfig` from a plain dict (as read from TOML or a manifest)."""
    return validated(RunConfig, doc, source=source, base=base)


def load_config(path: str | os.PathLike[str]) -> RunConfig:
    """Read a TOML run configuration; relative paths are resolved against its folder."""
    p = Path(path)
    return parse_config(io.read_toml(p), source=p.name, base=p.resolve().parent)
