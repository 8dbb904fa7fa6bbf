"""Entornos priorizados: rank given public places, say when they need presence, plan teams.

The run, from a TOML file like the index's (``geoprio entornos entornos.toml``):

1. **places** (:mod:`geoprio.entornos.places`): a point, line or polygon layer with a type and a
   name; an influence area per type (100 m from the edge by default); an explicit overlap
   rule (an incident counts for every place it is near, or only for the nearest);
2. **indicators**: the same ``[[indicators]]`` as the zone index (categories, dates,
   hours, weekdays, harm weighting; measures ``count``, ``density`` per km² of influence
   area or ``change``), counted over the incidents in each influence area, then the same
   :class:`~geoprio.index.estimator.PriorityIndex` (normalization, weights, explanation, Monte Carlo
   rank interval);
3. **surroundings**: density inside against a ring around the place (*atrae* or *refleja
   su zona*);
4. **time** (:mod:`geoprio.entornos.profiles`): an hour × weekday profile per place and its peak
   hours (the fewest hours holding a chosen share of its weighted incidents);
5. **plan de despliegue** (:mod:`geoprio.entornos.deploy`): teams assigned to (place, shift) pairs
   to cover as many weighted incidents as possible, solved exactly with HiGHS. With
   ``forecast = "pronostico_superficie.geojson"`` (a surface of ``geoprio forecast --surface``)
   the plan covers next period's expected incidents instead of past ones
   (:mod:`geoprio.entornos.forecast_demand`), and the table gains ``forecast_expected``.

:func:`run_entornos` takes one :class:`EntornosConfig` and returns an :class:`EntornosRun`; it
writes nothing. ``run.write(out_dir, formats)`` writes the outputs and ``manifest.json``
(:mod:`geoprio.io.results`), and :func:`replay_entornos` re-runs a manifest.
:meth:`EntornosConfig.with_overrides` applies the command line's changes to a configuration.

*Weighted incidents* (``[incidents]``) are what surroundings, profiles and the plan count:
the records of the chosen point sources (all by default), optionally filtered by category,
each weighted by its count column and, with ``harm_weighted = true``, by its harm.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
from pydantic import Field, field_validator, model_validator

from geoprio.entornos.deploy import DeploymentPlan, plan_deployment
from geoprio.entornos.forecast_demand import PlaceForecast, place_forecast, read_forecast_surface
from geoprio.entornos.places import DEFAULT_RADIUS_M, Places, incident_pairs, load_places, surroundings
from geoprio.entornos.profiles import PlaceProfiles, peak_mask, place_profiles
from geoprio.errors import ConfigError
from geoprio.index.config import (
    IndexOptions,
    IndicatorConfig,
    OutputConfig,
    RobustnessConfig,
    SourceConfig,
    check_weekdays,
)
from geoprio.index.estimator import PriorityIndex
from geoprio.index.measures import IndicatorTable, SmallZoneRule, filter_records, indicator_table
from geoprio.index.run import fit_index, load_source, pillar_notes, result_table
from geoprio.io import files as io
from geoprio.io import manifest
from geoprio.io.export import Export
from geoprio.io.postgis import PostgisSource, is_database_source, parse_source
from geoprio.io.results import Replay, Written, replay, write_result
from geoprio.labels import label
from geoprio.options import Options, validated
from geoprio.records.harm import HarmTable, load_harm_table
from geoprio.records.load import APPROXIMATE_COLUMN, Records
from geoprio.settings import DEFAULT_METRIC_CRS
from geoprio.zones.layers import Zones

__all__ = [
    "DeployConfig",
    "EntornosConfig",
    "EntornosRun",
    "IncidentsConfig",
    "PlacesConfig",
    "ProfileConfig",
    "load_entornos_config",
    "parse_entornos_config",
    "replay_entornos",
    "run_entornos",
]

OUTPUT_NAME = "entornos"
MANIFEST_KIND = "geoprio.entornos"


# --------------------------------------------------------------------------- configuration


class PlacesConfig(Options):
    """The place layer and each place's influence area.

    ``path`` may name a PostGIS table or query with a geometry column instead of a file (a
    ``"postgresql://host:5432/db?table=schema.name"`` string or ``{url = …, query = …}``).
    """

    path: Path | PostgisSource
    type: str | None = None
    type_value: str | None = None
    name: str | None = None
    id: str | None = None
    radius_m: float = Field(default=DEFAULT_RADIUS_M, gt=0)
    radius_by_type: dict[str, float] | None = None
    types: list[str] | None = None
    where: dict[str, Any] | None = None
    layer: str | int | None = None
    x: str | None = None
    y: str | None = None
    crs: str | None = None
    metric_crs: str = DEFAULT_METRIC_CRS
    overlap: Literal["all", "nearest"] = "all"
    ring_width_m: float = Field(default=200.0, gt=0)

    @field_validator("path", mode="before")
    @classmethod
    def _database(cls, v: Any) -> Any:
        """A ``postgresql://`` string is a database source (a Path would fold its ``//``)."""
        return parse_source(v, where="path") if isinstance(v, str) and is_database_source(v) else v

    @model_validator(mode="after")
    def _one_type(self) -> PlacesConfig:
        if (self.type is None) == (self.type_value is None):
            raise ValueError(
                "give type = '<column with each place's type>' or, for a layer without one, type_value = '<the type of every place>'"
            )
        return self

    @field_validator("radius_by_type")
    @classmethod
    def _positive(cls, v: dict[str, float] | None) -> dict[str, float] | None:
        for k, r in (v or {}).items():
            if not r > 0:
                raise ValueError(f"radius for type {k!r} must be a positive number of metres, got {r}")
        return v


class IncidentsConfig(Options):
    """What the *weighted incidents* of surroundings, profiles and the plan are."""

    sources: list[str] | None = None
    categories: list[str] | None = None
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    harm_weighted: bool = False


class ProfileConfig(Options):
    """Peak hours: the fewest hours holding ``share`` of a place's weighted incidents.

    ``keep_heaped_times``: records whose time is a heaped default (00:00 where a source holds
    far more records at 00:00 than at the other hours, the loaders' ``time_heaped`` column,
    see :mod:`geoprio.records.times`) are left out of hour profiles and peak windows by
    default, counted apart as heaped; ``true`` keeps them at 00:00.
    """

    share: float = Field(default=0.5, gt=0, le=1)
    keep_heaped_times: bool = False


class DeployConfig(Options):
    """The *plan de despliegue*: teams, shift length, working days."""

    teams: int = Field(ge=1)
    shift_hours: int = Field(default=8, ge=1, le=12)
    days: list[int] = [0, 1, 2, 3, 4, 5, 6]
    start_hours: list[int] | None = None
    top: int | None = Field(default=None, ge=1)
    time_limit_s: float = Field(default=60.0, gt=0)

    _days = field_validator("days")(classmethod(lambda cls, v: check_weekdays(v)))

    @field_validator("start_hours")
    @classmethod
    def _hours(cls, v: list[int] | None) -> list[int] | None:
        if v is not None and (not v or any(h < 0 or h > 23 for h in v)):
            raise ValueError("start_hours are hours 0 to 23")
        return v


class EntornosConfig(Options):
    """A complete entornos run.

    ``forecast``: a forecast surface (``pronostico_superficie.geojson`` of ``geoprio forecast
    --surface``, or its CSV with the GeoJSON beside it); when given, the plan de despliegue
    covers each place's expected incidents next period (see
    :mod:`geoprio.entornos.forecast_demand`) instead of its past weighted incidents.
    """

    places: PlacesConfig
    sources: dict[str, SourceConfig]
    indicators: list[IndicatorConfig] = Field(min_length=1)
    index: IndexOptions = IndexOptions()
    robustness: RobustnessConfig = RobustnessConfig()
    incidents: IncidentsConfig = IncidentsConfig()
    profile: ProfileConfig = ProfileConfig()
    deploy: DeployConfig | None = None
    output: OutputConfig = OutputConfig()
    harm_table: Path | None = None
    forecast: Path | None = None

    @model_validator(mode="after")
    def _references(self) -> EntornosConfig:
        for name, src in self.sources.items():
            if src.layout != "points":
                raise ValueError(
                    f"source {name!r}: entornos count incidents by their distance to each place, so sources must be points "
                    f"with coordinates (this one is {'a per-zone table' if src.layout == 'table' else 'keyed records'}"
                    + ("" if src.layout == "table" else "; records that name a place can be located with gazetteer = {path, name}")
                    + ")"
                )
        names = [i.name for i in self.indicators]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ValueError(f"indicator names must be unique; repeated: {dup}")
        for ind in self.indicators:
            if ind.source not in self.sources:
                raise ValueError(f"indicator {ind.name!r}: unknown source {ind.source!r}; sources: {sorted(self.sources)}")
            if ind.measure == "rate":
                raise ValueError(
                    f"indicator {ind.name!r}: places have no resident population, so measure 'rate' does not apply; "
                    "use 'count', 'density' (per km² of influence area) or 'change'"
                )
            if ind.measure == "change" and not (ind.date_from and ind.date_to):
                raise ValueError(f"indicator {ind.name!r}: measure 'change' needs date_from and date_to")
        if self.index.weighting == "explicit":
            missing = [i.name for i in self.indicators if i.weight is None]
            if missing:
                raise ValueError(f"index.weighting = 'explicit' but indicators {missing} have no weight; give one or use 'equal' or 'harm'")
        if self.index.min_population is not None:
            raise ValueError("index.min_population applies to zones with residents; places have none")
        if self.robustness.denominators:
            raise ValueError("robustness.denominators apply to rates; places have no rate indicators")
        for s in self.incidents.sources or []:
            if s not in self.sources:
                raise ValueError(f"incidents.sources: unknown source {s!r}; sources: {sorted(self.sources)}")
        return self

    def resolved(self, base: Path) -> EntornosConfig:
        """A copy with every relative path made absolute against ``base``."""

        def fix(p: Path | None) -> Path | None:
            return None if p is None else (p if p.is_absolute() else (base / p).resolve())

        return self.model_copy(
            update={
                "places": self.places
                if isinstance(self.places.path, PostgisSource)
                else self.places.model_copy(update={"path": fix(self.places.path)}),
                "sources": {k: s.resolved(base) for k, s in self.sources.items()},
                "harm_table": fix(self.harm_table),
                "forecast": fix(self.forecast),
                "output": self.output.model_copy(update={"dir": fix(self.output.dir)}),
            }
        )

    def input_paths(self) -> list[Path]:
        """Every input file of the run: the places, the sources, the harm table and the forecast (if any)."""
        own = [] if isinstance(self.places.path, PostgisSource) else [self.places.path]
        paths = own + [p for s in self.sources.values() for p in s.input_paths()]
        return paths + ([self.harm_table] if self.harm_table else []) + ([self.forecast] if self.forecast else [])

    def with_overrides(
        self,
        sections: Mapping[str, Options] | None = None,
        *,
        radius_m: float | None = None,
        overlap: str | None = None,
        teams: int | None = None,
        shift_hours: int | None = None,
        days: Sequence[int] | None = None,
        forecast: str | os.PathLike[str] | None = None,
        source: str = "<command line>",
    ) -> EntornosConfig:
        """A copy with the command line's changes applied and validated again.

        ``sections`` replaces whole sections (``output``, ``robustness``, ``index``, as
        :func:`geoprio.cli.index.config_overrides` builds them); ``radius_m`` sets one radius
        for every type (dropping ``radius_by_type``); ``teams``, ``shift_hours`` and ``days``
        change the ``[deploy]`` section, or create it when ``teams`` is given; ``forecast`` sets
        the forecast surface the plan covers (made absolute against the working folder). A bad value
        raises :class:`~geoprio.errors.ConfigError` naming the setting.
        """
        doc = self.model_dump(mode="json")
        for key, value in (sections or {}).items():
            doc[key] = value.model_dump(mode="json")
        if radius_m is not None:
            doc["places"].update(radius_m=radius_m, radius_by_type=None)
        if overlap is not None:
            doc["places"]["overlap"] = overlap
        if forecast is not None:
            doc["forecast"] = str(Path(forecast).resolve())
        deploy: dict[str, Any] = {}
        if teams is not None:
            deploy["teams"] = teams
        if shift_hours is not None:
            deploy["shift_hours"] = shift_hours
        if days is not None:
            deploy["days"] = list(days)
        if deploy:
            if self.deploy is None and teams is None:
                raise ConfigError(f"{source}: shift_hours and days need teams (or a [deploy] section in the config)")
            doc["deploy"] = {**(doc.get("deploy") or {}), **deploy}
        return parse_entornos_config(doc, source=source)


def parse_entornos_config(doc: dict[str, Any], *, source: str = "<config>", base: Path | None = None) -> EntornosConfig:
    """Build an :class:`EntornosConfig` from a plain dict (as read from TOML or a manifest)."""
    return validated(EntornosConfig, doc, source=source, base=base)


def load_entornos_config(path: str | os.PathLike[str]) -> EntornosConfig:
    """Read a TOML entornos configuration; relative paths are resolved against its folder."""
    p = Path(path)
    return parse_entornos_config(io.read_toml(p), source=p.name, base=p.resolve().parent)


# --------------------------------------------------------------------------- the run


@dataclass(frozen=True)
class EntornosRun:
    """Everything an entornos run produced; :meth:`write` writes it (nothing is written before)."""

    config: EntornosConfig
    places: Places
    zones: Zones
    sources: dict[str, Records]
    index: PriorityIndex
    stability: pd.DataFrame | None
    table: gpd.GeoDataFrame
    profiles: PlaceProfiles
    plan: DeploymentPlan | None
    notes: dict[str, Any]
    #: Next period's expected incidents per place, when the config names a forecast surface.
    forecast: PlaceForecast | None = None
    #: The manifest kind of the run protocol.
    kind: str = field(default=MANIFEST_KIND, init=False)

    def write(
        self,
        out_dir: str | Path | None = None,
        formats: Sequence[str] | None = None,
        *,
        command: str | None = None,
        export: Export | None = None,
    ) -> Written:
        """Write the ranked places, profiles, the plan and ``manifest.json`` into ``out_dir``.

        ``out_dir`` defaults to the configuration's ``output.dir`` and ``formats`` to its
        ``output.formats``. Files, with ``<name>`` = ``output.name`` (``entornos`` by default):
        ``<name>.{csv,geojson,gpkg,parquet}`` (one row per place, geometry = influence area),
        ``<name>_perfiles.csv`` (place × weekday × hour), ``<name>_despliegue_equipos.csv``,
        ``<name>_despliegue_lugares.csv`` and ``<name>_despliegue.json`` (when a plan was asked
        for), ``<name>_validacion.json`` and ``<name>_notas.json``; then the manifest. With a
        forecast, the plan's summary, the notes and the manifest say so under ``forecast``
        (the surface's method, period and backtest score).
        ``export`` sets the output CRS and CSV dialect; with ``xlsx``, one workbook
        ``<name>.xlsx`` holds the places, the profiles and the deployment tables.
        """
        cfg = self.config
        out = Path(out_dir) if out_dir is not None else cfg.output.dir
        fmts = list(formats) if formats is not None else list(cfg.output.formats)
        name = cfg.output.name or OUTPUT_NAME
        export = export or Export(lang=cfg.index.lang)
        deployed = self.plan is not None and cfg.deploy is not None
        tables = {
            f"{name}_perfiles": self.profiles.long(lang=cfg.index.lang).round(6),
            f"{name}_despliegue_equipos": self.plan.by_team() if self.plan is not None and deployed else None,
            f"{name}_despliegue_lugares": self.plan.by_place() if self.plan is not None and deployed else None,
        }
        text = label("columns", "indicator_value", export.lang)
        descriptions = {ind.name: text.format(base=ind.display, measure=ind.measure) for ind in cfg.indicators}
        if self.forecast is not None:
            descriptions["forecast_expected"] = label("entornos", "forecast_expected_column", export.lang)
        paths = io.write_outputs(
            out, fmts, layers={name: self.table}, tables=tables, workbook=name, export=export, descriptions=descriptions
        )
        if self.plan is not None and cfg.deploy is not None:
            paths.append(io.write_json(plan_summary(self.plan, cfg.deploy, forecast=self.forecast), out / f"{name}_despliegue.json"))
        reports = [self.places.report] + [s.report for s in self.sources.values()]
        paths.append(io.write_json({r.source: r.to_dict() for r in reports}, out / f"{name}_validacion.json"))
        paths.append(io.write_json(self.notes, out / f"{name}_notas.json"))
        approximate = dict(self.notes.get("approximate_locations") or {})  # records placed by place name, per source
        extra: dict[str, Any] = {"approximate_locations": approximate} if any(approximate.values()) else {}
        if self.forecast is not None:
            extra["forecast"] = self.forecast.summary()
        return write_result(
            kind=MANIFEST_KIND,
            out_dir=out,
            files=paths,
            options=cfg,
            inputs=self.input_paths(),
            formats=fmts,
            command=command,
            export=export,
            parameters={"index": self.index.get_params(), "weights_used": self.notes["weights"]},
            result=self._solve_record(),
            **extra,
        )

    def input_paths(self) -> list[Path]:
        """The configuration's input files, and the files read beside a forecast surface (its
        layer when it was given as CSV, its manifest), so that a replay refuses them changed.
        """
        paths = list(self.config.input_paths())
        if self.forecast is not None:
            paths += [p.resolve() for p in self.forecast.files if p.resolve() not in paths]
        return paths

    def _solve_record(self) -> dict[str, Any]:
        """What the manifest (not the outputs) records of the plan's solve: it differs between runs."""
        if self.plan is None:
            return {}
        return {"deployment_solve_seconds": round(float(self.plan.solve_seconds), 3), "deployment_method": self.plan.method}


def _near_places(records: Records, places: Places, overlap: str) -> Records:
    """One row per (record, place it counts for), tied to the place as its ``zone_id``."""
    pairs = incident_pairs(places, records.data["x"].to_numpy(), records.data["y"].to_numpy(), overlap=overlap)  # type: ignore[arg-type]
    data = records.data.iloc[pairs["incident"].to_numpy()].reset_index(drop=True)
    data["zone_id"] = places.ids.to_numpy()[pairs["place"].to_numpy()]
    data["distance_m"] = pairs["distance_m"].to_numpy()
    return Records(data=data, report=records.report, kind=records.kind, layout="points", path=records.path)


def _weighted_incidents(cfg: EntornosConfig, sources: dict[str, Records], harm: HarmTable) -> pd.DataFrame:
    """The records the incidents section selects: x, y, date, weekday, hour, heaped, weight.

    ``heaped`` is the records' ``time_heaped`` column (False for a source without one).
    """
    inc = cfg.incidents
    frames = []
    for name in inc.sources or list(sources):
        data = filter_records(sources[name].data, categories=inc.categories, date_from=inc.date_from, date_to=inc.date_to)
        w = data["weight"].to_numpy(dtype=float)
        if inc.harm_weighted:
            h = harm.lookup(data["category"])
            unknown = sorted(map(str, data.loc[h.isna().to_numpy(), "category"].dropna().unique()))
            if unknown:
                raise ConfigError(
                    f"incidents.harm_weighted: categories {unknown[:8]} of source {name!r} are not in the harm table ({harm.source})"
                )
            w = w * h.to_numpy(dtype=float)
        frames.append(
            pd.DataFrame(
                {
                    "x": data["x"].to_numpy(),
                    "y": data["y"].to_numpy(),
                    "date": data["date"].to_numpy(),
                    "weekday": data["date"].dt.day_of_week.astype("float").to_numpy(),
                    "hour": data["hour"].astype("float").to_numpy(),
                    "heaped": _heaped_column(data),
                    "weight": w,
                }
            )
        )
    out = pd.concat(frames, ignore_index=True)
    if inc.categories and out.empty:
        raise ConfigError(f"incidents.categories {inc.categories}: no record of the sources has these categories")
    return out


def _approximate(sources: dict[str, Records]) -> dict[str, int]:
    """Per source, the records whose location is approximate (placed through a gazetteer)."""
    out = {}
    for name, rec in sources.items():
        if APPROXIMATE_COLUMN in rec.data.columns:
            out[name] = int(rec.data[APPROXIMATE_COLUMN].fillna(False).astype(bool).sum())
    return out


def _heaped_column(data: pd.DataFrame) -> np.ndarray:
    """The records' ``time_heaped`` flags as booleans (all False when the column is absent)."""
    if "time_heaped" not in data.columns:
        return np.zeros(len(data), dtype=bool)
    return data["time_heaped"].fillna(False).to_numpy(dtype=bool)


def _place_table(
    places: Places, zones: Zones, model: PriorityIndex, stability: pd.DataFrame | None, itable: IndicatorTable
) -> pd.DataFrame:
    t = pd.DataFrame(result_table(zones, model, stability, itable)).drop(
        columns=["level", "population", "parent_name", "small_denominator"], errors="ignore"
    )
    t = t.rename(columns={"zone_id": "place_id", "parent_id": "type", "area_km2": "influence_km2"}).set_index("place_id")
    frame = places.frame.set_index("place_id")
    point = frame.geometry.representative_point()
    t.insert(2, "radius_m", frame["radius_m"].reindex(t.index))
    t.insert(3, "lon", point.x.reindex(t.index).round(6))
    t.insert(4, "lat", point.y.reindex(t.index).round(6))
    return t


def run_entornos(cfg: EntornosConfig, *, progress: Callable[[str], None] | None = None) -> EntornosRun:
    """Run the entornos analysis ``cfg`` describes; write nothing (see :meth:`EntornosRun.write`)."""
    say = progress or (lambda _msg: None)
    pc = cfg.places
    say("lugares")
    places = load_places(
        pc.path,
        type=pc.type,
        type_value=pc.type_value,
        name=pc.name,
        id=pc.id,
        radius_m=pc.radius_by_type if pc.radius_by_type else pc.radius_m,
        default_radius_m=pc.radius_m,
        types=pc.types,
        where=pc.where,
        layer=pc.layer,
        x=pc.x,
        y=pc.y,
        crs=pc.crs,
        metric_crs=pc.metric_crs,
    )
    zones = places.as_zones()
    harm = load_harm_table(cfg.harm_table)
    sources: dict[str, Records] = {}
    near: dict[str, Records] = {}
    for name, src in cfg.sources.items():
        say(f"fuente {name}")
        loaded = load_source(name, src)
        assert isinstance(loaded, Records)  # the config admits points only
        sources[name] = loaded
        near[name] = _near_places(loaded, places, pc.overlap)
    say("indicadores")
    opts = cfg.index
    itable = indicator_table(cfg.indicators, near, zones, harm_table=harm, small_zones=SmallZoneRule(), lang=opts.lang)  # type: ignore[arg-type]
    if cfg.robustness.draws > 0:
        say("índice y robustez (Monte Carlo)")
    model, stability = fit_index(itable, cfg.indicators, opts, cfg.robustness, harm)
    say("entorno y horas")
    incidents = _weighted_incidents(cfg, sources, harm)
    ring = surroundings(
        places,
        incidents["x"].to_numpy(),
        incidents["y"].to_numpy(),
        incidents["weight"].to_numpy(),
        ring_width_m=pc.ring_width_m,
        lang=opts.lang,
    )
    pairs = incident_pairs(places, incidents["x"].to_numpy(), incidents["y"].to_numpy(), overlap=pc.overlap)
    sel = incidents.iloc[pairs["incident"].to_numpy()]
    profiles = place_profiles(
        pairs["place"].to_numpy(),
        sel["weekday"].to_numpy(),
        sel["hour"].to_numpy(),
        sel["weight"].to_numpy(),
        places.ids,
        share=cfg.profile.share,
        heaped=sel["heaped"].to_numpy(dtype=bool),
        keep_heaped=cfg.profile.keep_heaped_times,
    )
    table = _place_table(places, zones, model, stability, itable)
    peaks = profiles.peaks(lang=opts.lang)
    weighted = pd.Series(np.bincount(pairs["place"].to_numpy(), weights=sel["weight"].to_numpy(), minlength=len(places)), index=places.ids)
    table["weighted_incidents"] = weighted.reindex(table.index).round(6)
    forecast = None
    if cfg.forecast is not None:
        say("pronóstico")
        forecast = _forecast(cfg, places, profiles, incidents)
        expected = pd.Series(forecast.expected, index=places.ids)
        table.insert(table.columns.get_loc("weighted_incidents") + 1, "forecast_expected", expected.reindex(table.index).round(6))
    table = table.join(ring.table.drop(columns=["incidents_in", "records_in", "area_in_km2"]).round(6)).join(peaks.round(6))
    day_peak = peak_mask(profiles.day, cfg.profile.share)
    table["hours_profile"] = pd.Series([" ".join(f"{v:g}" for v in np.round(row, 4)) for row in profiles.day], index=places.ids)
    table["hours_peak"] = pd.Series(["".join("1" if b else "0" for b in row) for row in day_peak], index=places.ids)
    plan = None
    if cfg.deploy is not None:
        say("plan de despliegue")
        d = cfg.deploy
        ranked = table.loc[table["rank"].notna()].sort_values("rank", kind="stable")
        chosen = ranked.index[: d.top] if d.top else ranked.index
        rows = places.ids.get_indexer(chosen)
        plan = plan_deployment(
            (profiles.week if forecast is None else forecast.values)[rows],
            teams=d.teams,
            shift_hours=d.shift_hours,
            days=d.days,
            start_hours=d.start_hours,
            place_ids=list(chosen),
            time_limit_s=d.time_limit_s,
        )
    geometry = zones.frame.set_index("zone_id").geometry.reindex(table.index)
    gdf = gpd.GeoDataFrame(table.reset_index(), geometry=geometry.to_numpy(), crs=zones.frame.crs)
    notes = {
        "indicators": itable.notes,
        "weights": model.weights_.round(8).to_dict(),
        **pillar_notes(model, opts),
        "places": places.report.to_dict(),
        "overlap": pc.overlap,
        "approximate_locations": _approximate(sources),
        "weighted_incidents": {
            "records": int(len(incidents)),
            "near_places": int(pairs["incident"].nunique()),
            "total": float(incidents["weight"].sum()),
            "heaped_times": float(incidents.loc[incidents["heaped"], "weight"].sum()),
            "heaped_times_kept": cfg.profile.keep_heaped_times,
        },
    }
    if forecast is not None:
        notes["forecast"] = forecast.summary()
    return EntornosRun(cfg, places, zones, sources, model, stability, gdf, profiles, plan, notes, forecast)


def _forecast(cfg: EntornosConfig, places: Places, profiles: PlaceProfiles, incidents: pd.DataFrame) -> PlaceForecast:
    """Next period's expected incidents per place from the config's forecast surface, with the
    places' past weekly profiles shrunk toward the city's (all the selected incidents, binned
    with the same rules as the places': heaped times left out unless kept).
    """
    assert cfg.forecast is not None
    surface = read_forecast_surface(cfg.forecast)
    city = place_profiles(
        np.zeros(len(incidents), dtype=np.int64),
        incidents["weekday"].to_numpy(),
        incidents["hour"].to_numpy(),
        incidents["weight"].to_numpy(),
        pd.Index(["city"]),
        share=cfg.profile.share,
        heaped=incidents["heaped"].to_numpy(dtype=bool),
        keep_heaped=cfg.profile.keep_heaped_times,
    ).week[0]
    dates = pd.to_datetime(incidents["date"]).dropna()
    return place_forecast(places, surface, profiles.week, city, data_to=dates.max() if len(dates) else None)


# --------------------------------------------------------------------------- outputs


def plan_summary(plan: DeploymentPlan, cfg: DeployConfig, *, forecast: PlaceForecast | None = None) -> dict[str, Any]:
    """The plan's summary as plain data (the JSON output and the API). The solve time, which
    differs between runs, goes to the manifest instead, so that a replay can compare outputs.
    With a ``forecast``, ``demand`` says the plan covered next period's expected incidents and
    ``forecast`` records the surface (method, period, backtest score); without, neither key.
    """
    extra: dict[str, Any] = {} if forecast is None else {"demand": "forecast", "forecast": forecast.summary()}
    return {
        "teams": cfg.teams,
        "shift_hours": cfg.shift_hours,
        "days": cfg.days,
        "shifts": int(len(plan.shifts)),
        "covered": round(float(plan.covered), 6),
        "total": round(float(plan.total), 6),
        "share": round(float(plan.share), 6),
        "bound": round(float(plan.objective_bound), 6),
        "gap": round(float(plan.gap), 8),
        "status": plan.status,
        **extra,
    }


def replay_entornos(path: str | Path, *, out_dir: str | Path | None = None, progress: Callable[[str], None] | None = None) -> Replay:
    """Re-run the entornos run a manifest describes, write it into ``out_dir`` (the manifest's
    folder by default) and compare the text outputs with the recorded ones.

    Manifests written before the run protocol (the configuration under ``"config"``, in an
    ``entornos_manifest.json``) are replayed too. Raises :class:`~geoprio.errors.ManifestError`
    if an input is missing or changed since the run.
    """

    def run(cfg: EntornosConfig) -> EntornosRun:
        return run_entornos(cfg, progress=progress)

    p = Path(path)
    doc = manifest.read(p, kind=MANIFEST_KIND)
    if "options" in doc or "config" not in doc:
        return replay(p, kind=MANIFEST_KIND, options_type=EntornosConfig, run=run, out_dir=out_dir)
    manifest.check_inputs(doc, source=p)  # a manifest from before the run protocol
    result = run(parse_entornos_config(doc["config"], source=f"{p} (config)"))
    written = result.write(out_dir if out_dir is not None else p.parent)
    identical, different = manifest.compare_outputs(doc, written.files)
    return Replay(result, written, identical, different)
