"""The index run end to end: load, validate, tie to zones, measure, index; then, when asked, write.

:func:`run_index` takes one :class:`~geoprio.index.config.RunConfig` (which holds the input
paths and every load setting, so a run can be rebuilt from it) and returns an
:class:`IndexRun`; it writes nothing. :meth:`IndexRun.write` writes the ranked table in the
chosen formats, the validation report, the notes and a ``manifest.json`` (kind
``geoprio.index``, by :func:`geoprio.io.results.write_result`), from which
:func:`replay_manifest` re-runs the index and checks that the outputs are identical.
The notes and the manifest's ``parameters`` carry ``small_denominator``: the flagged zones
among the first ``robustness.top_k`` and the warning (:func:`small_denominators`,
:mod:`geoprio.index.denominators`); the minimum denominator is
:data:`~geoprio.index.config.DEFAULT_MIN_POPULATION` unless the config sets one.
``geoprio index`` and ``geoprio demo`` call these; the HTTP API and seguimiento reuse
:func:`build_zones`, :func:`load_source` and :func:`tie_source`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import geopandas as gpd
import pandas as pd

from geoprio.errors import CRSError, InputError, ManifestError
from geoprio.index.config import IndexOptions, IndicatorConfig, RobustnessConfig, RunConfig, SourceConfig, ZonesConfig, parse_config
from geoprio.index.denominators import SmallInTop, small_in_top
from geoprio.index.estimator import PriorityIndex
from geoprio.index.measures import IndicatorTable, SmallZoneRule, harm_weights, indicator_table
from geoprio.io import files as io
from geoprio.io import manifest
from geoprio.io.export import Export
from geoprio.io.results import Replay, Written, replay, write_result
from geoprio.labels import label
from geoprio.records.gazetteer import geocode_records
from geoprio.records.harm import HarmTable, load_harm_table
from geoprio.records.load import Records, ZoneTable, load_keyed, load_points, load_zone_table
from geoprio.records.report import ValidationReport
from geoprio.zones.assign import PointLocator
from geoprio.zones.layers import Zones, join_parent, load_zones, make_grid, with_population
from geoprio.zones.tie import attach

__all__ = [
    "KIND",
    "IndexRun",
    "build_zones",
    "config_from_manifest",
    "denominator_alternatives",
    "fit_index",
    "load_source",
    "pillar_notes",
    "replay_manifest",
    "result_table",
    "run_index",
    "small_denominators",
    "tie_source",
]

#: The manifest kind of an index run.
KIND = "geoprio.index"


@dataclass(frozen=True)
class IndexRun:
    """Everything an index run produced, in memory; :meth:`write` puts it on disk."""

    config: RunConfig
    zones: Zones
    sources: dict[str, Records | ZoneTable]
    values: pd.DataFrame
    index: PriorityIndex
    stability: pd.DataFrame | None
    table: gpd.GeoDataFrame
    notes: dict[str, Any]
    #: The command line recorded in the manifest (``None`` from Python).
    command: str | None = None
    #: The manifest kind (:data:`KIND`).
    kind: str = field(default=KIND, init=False, repr=False)

    @property
    def reports(self) -> list[ValidationReport]:
        """The validation report of the zones and of every source, in the config's order."""
        return [self.zones.report] + [s.report for s in self.sources.values()]

    @property
    def name(self) -> str:
        """The stem of the output files: the config's ``output.name``, else ``indice_<level>``."""
        return self.config.output.name or f"indice_{self.zones.level}"

    def small_in_top(self, top: int | None = None) -> SmallInTop:
        """Which of the ``top`` first zones (default: the config's ``robustness.top_k``) are
        flagged ``small_denominator``, with the warning every ranking shows
        (:meth:`~geoprio.index.denominators.SmallInTop.message`).
        """
        return small_denominators(self.table, self.config, top=top)

    def components(self) -> pd.DataFrame:
        """One row per indicator: name, label, source, measure, direction and the weight used."""
        weights = self.notes.get("weights") or {}
        return pd.DataFrame(
            {
                "indicator": [ind.name for ind in self.config.indicators],
                "label": [ind.display for ind in self.config.indicators],
                "source": [ind.source for ind in self.config.indicators],
                "measure": [ind.measure for ind in self.config.indicators],
                "direction": [ind.direction for ind in self.config.indicators],
                "weight": [weights.get(ind.name) for ind in self.config.indicators],
            }
        )

    def column_descriptions(self, lang: str) -> dict[str, str]:
        """Descriptions of the indicator columns (their raw values) for the XLSX and shapefile sidecars."""
        text = label("columns", "indicator_value", lang)
        return {ind.name: text.format(base=ind.display, measure=ind.measure) for ind in self.config.indicators}

    def write(
        self,
        out_dir: str | Path | None = None,
        formats: Sequence[str] | None = None,
        *,
        command: str | None = None,
        export: Export | None = None,
    ) -> Written:
        """Write the ranked table in ``formats``, the validation report, the notes and the manifest.

        ``out_dir`` defaults to the config's ``output.dir`` and ``formats`` to its
        ``output.formats``; ``export`` sets the output CRS, the CSV dialect and the language of
        the column descriptions (default EPSG:4326, standard CSV, the index's language). With
        ``xlsx``, the workbook holds the zones and a sheet of components (one row per
        indicator). The manifest stores the config (with the folder and formats actually used,
        and absolute paths) so that :func:`replay_manifest` can rebuild the run.
        """
        out = Path(out_dir) if out_dir is not None else self.config.output.dir
        fmts = list(self.config.output.formats if formats is None else formats)
        export = export if export is not None else Export(lang=self.config.index.lang)
        paths = io.write_outputs(
            out,
            fmts,
            layers={self.name: self.table},
            workbook=self.name,
            sheets={label("columns", "components_sheet", export.lang): self.components()},
            export=export,
            descriptions=self.column_descriptions(export.lang),
        )
        paths.append(io.write_json({r.source: r.to_dict() for r in self.reports}, out / f"{self.name}_validacion.json"))
        paths.append(io.write_json(self.notes, out / f"{self.name}_notas.json"))
        cfg = self.config.resolved(Path.cwd())
        cfg = cfg.model_copy(update={"output": cfg.output.model_copy(update={"dir": out.resolve(), "formats": fmts})})
        return write_result(
            kind=KIND,
            out_dir=out,
            files=paths,
            options=cfg,
            inputs=cfg.input_paths(),
            formats=fmts,
            command=command if command is not None else self.command,
            export=export,
            parameters={
                "index": self.index.get_params(),
                "weights_used": self.notes["weights"],
                "small_denominator": self.notes.get("small_denominator"),
            },
        )


def build_zones(cfg: RunConfig | ZonesConfig) -> Zones:
    """Load the zone layer with its population and parent level (or the grid over it).

    ``cfg`` is a whole run config or just its ``[zones]`` section.
    """
    z = cfg if isinstance(cfg, ZonesConfig) else getattr(cfg, "zones", None)
    if not isinstance(z, ZonesConfig):
        raise InputError(f"build_zones needs a RunConfig or a ZonesConfig, got {type(cfg).__name__}")
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


def load_source(name: str, src: SourceConfig, *, section: str | None = "sources") -> Records | ZoneTable:
    """Load one configured source in its layout (points, keyed records or a zone table).

    A source with a ``gazetteer`` is loaded as keyed records and located at the gazetteer's
    places (:func:`geoprio.records.gazetteer.geocode_records`): point records marked
    approximate, the match report in ``report.settings["gazetteer"]``.

    An input error names the configuration key it comes from: ``sources.<name>.path: …``
    when the file is missing (``sources.<name>.gazetteer.path: …`` for the gazetteer's
    layer), ``sources.<name>: …`` otherwise (the message
    itself names the file, row and column). ``section=None`` adds nothing (a file given on
    the command line, as ``geoprio validate`` does).
    """
    try:
        return _load_source(src)
    except (InputError, CRSError) as exc:
        if section is None:
            raise
        key = f"{section}.{name}"
        if not src.path.exists():
            key += ".path"
        elif src.gazetteer is not None and not src.gazetteer.path.exists():
            key += ".gazetteer.path"
        raise type(exc)(f"{key}: {exc}") from exc


def _load_source(src: SourceConfig) -> Records | ZoneTable:
    common: dict[str, Any] = {"kind": src.kind, "source": src.path.name, **src.read_options()}
    if src.layout == "table":
        zone_id = cast(str, src.zone_id)  # the layout is "table" because zone_id is set
        return load_zone_table(src.path, zone_id=zone_id, columns=src.columns, duplicates=src.duplicates, where=src.where, **common)
    record_cols: dict[str, Any] = {
        "date": src.date,
        "hour": src.hour,
        "category": src.category,
        "id": src.id,
        "count": src.count,
        "timezone": src.timezone,
        "offsets": src.offsets,
        "date_format": src.date_format,
    }
    if src.gazetteer is not None:
        gz = src.gazetteer
        keep = [gz.record_group] if gz.record_group is not None else None
        keyed = load_keyed(src.path, key=cast(str, src.key), keep=keep, **record_cols, **common)
        return geocode_records(keyed, gz, pattern=src.key_pattern, aliases=src.aliases, fuzzy=src.fuzzy).records
    if src.layout == "keyed":
        return load_keyed(src.path, key=cast(str, src.key), **record_cols, **common)
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
    progress: Callable[[str], None] | None = None,
    command: str | None = None,
) -> IndexRun:
    """Run the index described by ``cfg`` and return it; nothing is written (see :meth:`IndexRun.write`).

    ``progress`` is called with the code of each step (``zones``, ``source:<name>``,
    ``indicators``, ``robustness``); ``command`` is kept for the manifest.
    """
    if not isinstance(cfg, RunConfig):
        raise InputError(f"run_index needs a RunConfig (geoprio.index.load_config reads one), got {type(cfg).__name__}")
    say = progress or (lambda _msg: None)
    say("zones")
    zones = build_zones(cfg)
    harm: HarmTable = load_harm_table(cfg.harm_table)
    locator = None
    if any(s.layout == "points" for s in cfg.sources.values()):
        locator = PointLocator().fit(zones.frame.geometry.values)
    sources: dict[str, Records | ZoneTable] = {}
    for name, src in cfg.sources.items():
        say(f"source:{name}")
        sources[name] = tie_source(load_source(name, src), src, zones, locator)
    say("indicators")
    opts = cfg.index
    rule = SmallZoneRule(opts.min_denominator, opts.small_zones)
    itable = indicator_table(cfg.indicators, sources, zones, harm_table=harm, small_zones=rule, lang=opts.lang)
    rb = cfg.robustness
    if rb.draws > 0:
        say("robustness")
    model, stability = fit_index(
        itable,
        cfg.indicators,
        opts,
        rb,
        harm,
        alternatives=denominator_alternatives(cfg, sources, zones, harm, rb.denominators) if rb.draws > 0 else None,
    )
    table = result_table(zones, model, stability, itable)
    run_notes: dict[str, Any] = {
        "indicators": itable.notes,
        "weights": model.weights_.round(8).to_dict(),
        **pillar_notes(model, opts),
        "small_denominator": small_denominators(table, cfg).to_dict(opts.lang),
    }
    return IndexRun(cfg, zones, sources, itable.values, model, stability, table, run_notes, command=command)


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


def small_denominators(table: pd.DataFrame, cfg: RunConfig, *, top: int | None = None) -> SmallInTop:
    """The small-denominator finding of a run's ranked ``table`` under ``cfg``: the flagged
    zones among the ``top`` first (default ``robustness.top_k``), the minimum in force, the
    ``small_zones`` action, and whether every rate is smoothed.
    """
    rates = [i for i in cfg.indicators if i.measure == "rate"]
    return small_in_top(
        table,
        top=cfg.robustness.top_k if top is None else top,
        minimum=cfg.index.min_denominator if rates else None,
        action=cfg.index.small_zones,
        smoothed=bool(rates) and all(i.smoothing != "none" for i in rates),
    )


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
    choices: Sequence[str] | None,
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
    """The ranked table: one row per zone with its names, population, index, tier, drivers,
    indicator values, Monte Carlo stability and small-denominator flag, and its polygon.
    """
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


def config_from_manifest(doc: Mapping[str, Any], *, source: str | Path = "manifest.json") -> RunConfig:
    """The :class:`RunConfig` an index manifest records.

    Manifests store it under ``options``; those written before the run protocol, under ``config``.
    """
    stored = doc.get("options") if doc.get("options") is not None else doc.get("config")
    if not isinstance(stored, Mapping):
        raise ManifestError(f"{source}: records no index configuration (no 'options' or 'config')")
    return parse_config(dict(stored), source=f"{Path(source).name} (options)")


def replay_manifest(path: str | Path, *, out_dir: str | Path | None = None, progress: Callable[[str], None] | None = None) -> Replay:
    """Re-run the index a manifest describes and compare the outputs with the recorded ones.

    Writes into ``out_dir`` (default: the manifest's folder). Raises
    :class:`~geoprio.errors.ManifestError` if an input is missing or its SHA-256 changed since
    the run. Tabular outputs (CSV, JSON) are compared by hash; GeoPackage and GeoParquet embed
    write times and are not compared byte for byte.
    """
    p = Path(path)
    command = f"geoprio index --manifest {p}"

    def rerun(cfg: RunConfig) -> IndexRun:
        return run_index(cfg, progress=progress, command=command)

    doc = manifest.read(p, kind=KIND)
    if doc.get("options") is not None:
        return replay(p, kind=KIND, options_type=RunConfig, run=rerun, out_dir=out_dir)
    # written before the run protocol: the config is under "config", the formats in it
    manifest.check_inputs(doc, source=p)
    cfg = config_from_manifest(doc, source=p)
    run = rerun(cfg)
    written = run.write(out_dir if out_dir is not None else p.parent)
    identical, different = manifest.compare_outputs(doc, written.files)
    return Replay(run, written, identical, different)
