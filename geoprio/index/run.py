"""The index run end to end: load, validate, tie to zones, measure, index, write, manifest.

:func:`run_index` is what ``geoprio index`` and ``geoprio demo`` call; the HTTP API will
call it too. Each run writes, beside its outputs, a manifest (inputs with their SHA-256,
the resolved configuration, geoprio's version, the time) from which
:func:`replay_manifest` re-runs it and checks that the outputs are identical.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from geoprio.index.config import IndexOptions, IndicatorConfig, RobustnessConfig, RunConfig, SourceConfig, parse_config
from geoprio.index.estimator import PriorityIndex
from geoprio.index.measures import IndicatorTable, SmallZoneRule, harm_weights, indicator_table
from geoprio.io import files as io
from geoprio.io import manifest
from geoprio.records.harm import HarmTable, load_harm_table
from geoprio.records.load import Records, ZoneTable, load_keyed, load_points, load_zone_table
from geoprio.records.report import ValidationReport
from geoprio.zones.assign import PointLocator
from geoprio.zones.layers import Zones, join_parent, load_zones, make_grid, with_population
from geoprio.zones.tie import attach

__all__ = ["IndexRun", "build_zones", "denominator_alternatives", "load_source", "replay_manifest", "run_index", "write_outputs"]

MANIFEST_NAME = "manifest.json"


@dataclass
class IndexRun:
    """Everything an index run produced."""

    config: RunConfig
    zones: Zones
    sources: dict[str, Records | ZoneTable]
    values: pd.DataFrame
    index: PriorityIndex
    stability: pd.DataFrame | None
    table: gpd.GeoDataFrame
    notes: dict[str, Any]
    outputs: list[Path] = field(default_factory=list)
    manifest: Path | None = None

    @property
    def reports(self) -> list[ValidationReport]:
        return [self.zones.report] + [s.report for s in self.sources.values()]


def build_zones(cfg: RunConfig) -> Zones:
    """Load the zone layer with its population and parent level (or the grid over it)."""
    z = cfg.zones
    zones = load_zones(
        z.path,
        id=z.id,
        name=z.name,
        level=z.level,
        layer=z.layer,
        crs=z.crs,
        metric_crs=z.metric_crs,
        where=z.where,
        parent=z.parent_column,
        population=z.population_column,
        ambient=z.ambient_column,
    )
    if z.population is not None:
        zones = with_population(
            zones,
            z.population.path,
            zone_id=z.population.id,
            column=z.population.column,
            ambient=z.population.ambient,
            duplicates=z.population.duplicates,
            where=z.population.where,
        )
    if z.parent is not None:
        parent = load_zones(z.parent.path, id=z.parent.id, name=z.parent.name, level=z.parent.level, metric_crs=z.metric_crs)
        zones = join_parent(zones, parent, method=z.parent.method)
    if z.grid is not None:
        zones = make_grid(zones, cell_size_m=z.grid.cell_size_m, shape=z.grid.shape)
    return zones


def load_source(name: str, src: SourceConfig) -> Records | ZoneTable:
    """Load one configured source in its layout (points, keyed records or a zone table)."""
    common = {"kind": src.kind, "source": src.path.name, **src.read_options()}
    if src.layout == "table":
        return load_zone_table(src.path, zone_id=src.zone_id, columns=src.columns, duplicates=src.duplicates, where=src.where, **common)  # type: ignore[arg-type]
    record_cols = {
        "date": src.date,
        "hour": src.hour,
        "category": src.category,
        "id": src.id,
        "count": src.count,
        "timezone": src.timezone,
        "offsets": src.offsets,
        "date_format": src.date_format,
    }
    if src.layout == "keyed":
        return load_keyed(src.path, key=src.key, **record_cols, **common)  # type: ignore[arg-type]
    return load_points(src.path, x=src.x, y=src.y, crs=src.crs, fix_swapped=src.fix_swapped, **record_cols, **common)


def tie_source(loaded: Records | ZoneTable, src: SourceConfig, zones: Zones, locator: PointLocator | None) -> Records | ZoneTable:
    """Tie one loaded source to ``zones`` as its config says (points by location, keys by name or id)."""
    if isinstance(loaded, ZoneTable):
        unknown = loaded.values.index[~loaded.values.index.isin(zones.ids)]
        rows = [loaded.values.index.get_loc(u) + 2 for u in unknown]
        loaded.report.flag("unknown_zone", rows, loaded.id_column, list(unknown))
        return loaded
    return attach(loaded, zones, on=src.match_on, pattern=src.key_pattern, aliases=src.aliases, fuzzy=src.fuzzy, locator=locator)


def run_index(
    cfg: RunConfig,
    *,
    write: bool = True,
    progress: Callable[[str], None] | None = None,
    command: str | None = None,
) -> IndexRun:
    """Run the index described by ``cfg``; write outputs and the manifest if ``write``."""
    say = progress or (lambda _msg: None)
    say("zonas")
    zones = build_zones(cfg)
    harm: HarmTable = load_harm_table(cfg.harm_table)
    locator = None
    if any(s.layout == "points" for s in cfg.sources.values()):
        locator = PointLocator().fit(zones.frame.geometry.values)
    sources: dict[str, Records | ZoneTable] = {}
    for name, src in cfg.sources.items():
        say(f"fuente {name}")
        sources[name] = tie_source(load_source(name, src), src, zones, locator)
    say("indicadores")
    opts = cfg.index
    rule = SmallZoneRule(opts.min_population, opts.small_zones)
    itable = indicator_table(cfg.indicators, sources, zones, harm_table=harm, small_zones=rule, lang=opts.lang)
    values, notes = itable.values, itable.notes
    rb = cfg.robustness
    if rb.draws > 0:
        say("índice y robustez (Monte Carlo)")
    model, stability = fit_index(
        itable,
        cfg.indicators,
        opts,
        rb,
        harm,
        alternatives=denominator_alternatives(cfg, sources, zones, harm, rb.denominators) if rb.draws > 0 else None,
    )
    table = result_table(zones, model, stability, itable)
    run_notes: dict[str, Any] = {"indicators": notes, "weights": model.weights_.round(8).to_dict(), **pillar_notes(model, opts)}
    run = IndexRun(cfg, zones, sources, values, model, stability, table, notes=run_notes)
    if write:
        say("escritura")
        write_outputs(run, command=command)
    return run


def fit_index(
    itable: IndicatorTable,
    indicators: list[IndicatorConfig],
    opts: IndexOptions,
    rb: RobustnessConfig,
    harm: HarmTable,
    *,
    alternatives: dict[str, pd.DataFrame] | None = None,
) -> tuple[PriorityIndex, pd.DataFrame | None]:
    """Fit the configured index on an indicator table, and its Monte Carlo if ``rb.draws``.

    Shared by zone runs (:func:`run_index`) and place runs (:func:`geoprio.entornos.run.run_entornos`),
    so both read ``[index]`` and ``[robustness]`` the same way.
    """
    if opts.weighting == "equal":
        weights: Any = "equal"
    elif opts.weighting == "harm":
        weights = harm_weights(indicators, itable.notes, harm)
    else:
        weights = {i.name: float(i.weight) for i in indicators}  # type: ignore[arg-type]
    model = PriorityIndex(
        normalization=opts.normalization,
        log=opts.log,
        winsorize=opts.winsorize,
        weights=weights,
        directions={i.name: i.direction for i in indicators},
        aggregation=opts.aggregation,
        tiers=opts.tiers,
        n_tiers=opts.n_tiers,
        labels={i.name: i.display for i in indicators},
        lang=opts.lang,
        pillars=opts.pillars,
        pillar_weights=opts.pillar_weights if opts.pillar_weights is not None else "equal",
        pillar_aggregation=opts.pillar_aggregation,
    ).fit(itable.values, exclude=itable.exclude)
    stability = None
    if rb.draws > 0:
        stability = model.robustness(
            n_draws=rb.draws,
            weight_spread=rb.weight_spread,
            normalizations=rb.normalizations,
            aggregations=rb.aggregations,
            top_k=rb.top_k,
            random_state=rb.random_state,
            alternatives=alternatives,
            pillar_aggregations=rb.pillar_aggregations,
        )
    return model, stability


def pillar_notes(model: PriorityIndex, opts: IndexOptions) -> dict[str, Any]:
    """The notes' ``pillars`` entry: each pillar's indicators and weight (empty without pillars)."""
    if opts.pillars is None:
        return {}
    pw = model.pillar_weights_
    return {"pillars": {p: {"indicators": list(m), "weight": round(float(pw[p]), 8)} for p, m in opts.pillars.items()}}


def denominator_alternatives(
    cfg: RunConfig,
    sources: dict[str, Records | ZoneTable],
    zones: Zones,
    harm: HarmTable,
    choices: list[str] | None,
) -> dict[str, pd.DataFrame] | None:
    """The indicator table recomputed with every rate indicator measured another way.

    ``population`` (raw rate per resident), ``ambient`` (per ambient population), ``eb`` and
    ``eb_spatial`` (Empirical Bayes), ``area`` (density per km²) and ``none`` (counts).
    Indicators that are not rates stay as configured.
    """
    if not choices or not any(i.measure == "rate" for i in cfg.indicators):
        return None
    overrides = {
        "population": {"measure": "rate", "denominator": "population", "smoothing": "none"},
        "ambient": {"measure": "rate", "denominator": "ambient", "smoothing": "none"},
        "eb": {"measure": "rate", "denominator": "population", "smoothing": "eb"},
        "eb_spatial": {"measure": "rate", "denominator": "population", "smoothing": "eb_spatial"},
        "area": {"measure": "density", "denominator": "population", "smoothing": "none"},
        "none": {"measure": "count", "denominator": "population", "smoothing": "none"},
    }
    out = {}
    for choice in choices:
        inds = [i.model_copy(update=overrides[choice]) if i.measure == "rate" else i for i in cfg.indicators]
        out[choice] = indicator_table(inds, sources, zones, harm_table=harm).values
    return out


def result_table(zones: Zones, model: PriorityIndex, stability: pd.DataFrame | None, itable: IndicatorTable) -> gpd.GeoDataFrame:
    t = model.table()
    if stability is not None:
        t = t.join(stability.drop(columns="rank_nominal"))
    if len(itable.extras.columns):
        t = t.join(itable.extras.round(6))
    t = t.join(itable.small)
    frame = zones.frame.set_index("zone_id")
    base = frame[["name", "parent_id", "parent_name", "population", "ambient_population", "area_km2"]]
    if base["ambient_population"].isna().all():
        base = base.drop(columns="ambient_population")
    out = base.join(t, how="right")
    out = gpd.GeoDataFrame(out, geometry=frame.geometry.reindex(out.index).values, crs=zones.frame.crs)
    out.insert(0, "level", zones.level)
    return out.reset_index()


def _output_name(run: IndexRun) -> str:
    return run.config.output.name or f"indice_{run.zones.level}"


def write_outputs(run: IndexRun, *, command: str | None = None) -> list[Path]:
    """Write the ranked table in the configured formats, the validation report and the manifest."""
    out_dir = run.config.output.dir
    name = _output_name(run)
    paths = io.write_formats(run.table, out_dir, name, run.config.output.formats)
    paths.append(io.write_json({r.source: r.to_dict() for r in run.reports}, out_dir / f"{name}_validacion.json"))
    paths.append(io.write_json(run.notes, out_dir / f"{name}_notas.json"))
    run.outputs = paths
    run.manifest = write_manifest(run, paths, command=command)
    return paths


def write_manifest(run: IndexRun, outputs: list[Path], *, command: str | None = None) -> Path:
    """Write ``manifest.json``: inputs (SHA-256), resolved config, parameters, versions, outputs."""
    cfg = run.config
    doc = manifest.document(
        kind="geoprio.index",
        command=command,
        config=cfg,
        inputs=cfg.input_paths(),
        outputs=outputs,
        parameters={"index": run.index.get_params(), "weights_used": run.notes["weights"]},
    )
    return manifest.write(doc, cfg.output.dir / MANIFEST_NAME)


@dataclass
class Replay:
    """Result of re-running a manifest."""

    run: IndexRun
    identical: list[str]
    different: list[str]


def replay_manifest(path: str | Path, *, out_dir: Path | None = None, progress: Callable[[str], None] | None = None) -> Replay:
    """Re-run the index a manifest describes and compare the outputs with the recorded ones.

    Raises :class:`ManifestError` if an input is missing or its SHA-256 changed since the
    run. Tabular outputs (CSV, JSON) are compared by hash; GeoPackage and GeoParquet
    embed write times and are not compared byte for byte.
    """
    p = Path(path)
    doc = manifest.read(p, kind="geoprio.index")
    manifest.check_inputs(doc, source=p)
    cfg = parse_config(doc["config"], source=p.name)
    if out_dir is not None:
        cfg = cfg.model_copy(update={"output": cfg.output.model_copy(update={"dir": out_dir.resolve()})})
    run = run_index(cfg, progress=progress, command=f"geoprio index --manifest {p}")
    identical, different = manifest.compare_outputs(doc, run.outputs)
    return Replay(run, identical, different)
