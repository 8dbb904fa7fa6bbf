"""The result of a tracking run, its views and its files.

:class:`TrackingResult` holds what :func:`geoprio.seguimiento.tracking.track` computed:
per indicator (:class:`IndicatorResult`) the series of each place (:class:`UnitSeries`: the
city, or each zone of the indicator's level), the breakdown of a city indicator per zone, and
the progress of objectives and plan. Its views are the ``seguimiento.json`` document
(:meth:`TrackingResult.to_dict`, also what the API serves), the ``seguimiento.csv`` table
(:meth:`TrackingResult.table`) and the per-zone layer (:func:`zone_layer`, drawn by
``geoprio map --seguimiento``). :meth:`TrackingResult.write` writes them, the HTML report and
the run manifest (``seguimiento_manifest.json``, kind ``geoprio.seguimiento``, with the
options whole so that ``geoprio indicators --manifest`` can replay the run).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import shapely

from geoprio._version import __version__
from geoprio.errors import InputError
from geoprio.io import files as io
from geoprio.io import manifest
from geoprio.io.export import Export
from geoprio.io.results import Written
from geoprio.labels import check_lang, label
from geoprio.numbers import fmt_int
from geoprio.seguimiento.arithmetic import YearProgress
from geoprio.seguimiento.config import CITY, UNPLACED, TargetsConfig, TrackedIndicator
from geoprio.seguimiento.data import TrackingData
from geoprio.seguimiento.notes import Note
from geoprio.seguimiento.report_html import render_report
from geoprio.settings import EXPORT_FORMATS, OUTPUT_CRS

__all__ = [
    "KIND",
    "MANIFEST_NAME",
    "OUTPUT_NAMES",
    "IndicatorResult",
    "TrackingResult",
    "UnitSeries",
    "unit_label",
    "zone_layer",
]

#: The manifest kind of a tracking run (``seguimiento.json`` has the same ``kind``).
KIND = "geoprio.seguimiento"

#: Output file names (inside the output folder).
OUTPUT_NAMES = {
    "csv": "seguimiento.csv",
    "json": "seguimiento.json",
    "geojson": "seguimiento_zonas.geojson",
    "html": "seguimiento.html",
    "manifest": "seguimiento_manifest.json",
}

#: The manifest's own name, so that tracking can write into the index's output folder (the
#: API's data directory) without overwriting the index's ``manifest.json``.
MANIFEST_NAME = OUTPUT_NAMES["manifest"]

#: Stem of the per-zone layer (``seguimiento_zonas.<format>``).
ZONES_STEM = "seguimiento_zonas"

#: Formats of the per-zone layer when none are asked for.
ZONE_FORMATS: tuple[str, ...] = ("geojson",)


@dataclass
class UnitSeries:
    """One indicator in one place (the city, or a zone of the indicator's level)."""

    zone_id: str
    name: str
    baseline: float | None
    targets: dict[int, float]
    series: list[YearProgress]
    months: dict[int, int]
    counts: dict[int, float]
    monthly: list[dict[str, Any]] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)

    def at(self, year: int) -> YearProgress | None:
        """The entry of ``year`` in the series (None when the year is not tracked)."""
        return next((s for s in self.series if s.year == year), None)


@dataclass
class IndicatorResult:
    """An indicator's results: its units' series, its progress per year, its breakdown."""

    config: TrackedIndicator
    level: str
    years: list[int]
    baseline_year: int | None
    units: list[UnitSeries]
    progress_by_year: dict[int, float | None]
    progress_uncapped_by_year: dict[int, float | None]
    breakdown: dict[int, pd.DataFrame] = field(default_factory=dict)
    breakdown_level: str | None = None
    notes: list[Note] = field(default_factory=list)
    data_notes: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class TrackingResult:
    """Everything a tracking run computed; nothing is on disk until :meth:`write`.

    ``config`` is the run's options (with the report year and language it was run with).
    """

    config: TargetsConfig
    data: TrackingData
    year: int
    years: list[int]
    lang: str
    indicators: list[IndicatorResult]
    objectives: dict[str, dict[int, float | None]]
    plan: dict[int, float | None]
    #: The command line recorded in the manifest (``None`` from Python).
    command: str | None = None
    #: The manifest kind (:data:`KIND`).
    kind: str = field(default=KIND, init=False, repr=False)

    def indicator(self, ident: str) -> IndicatorResult:
        """The result of the indicator with id ``ident`` (``KeyError`` if there is none)."""
        for r in self.indicators:
            if r.config.id == ident:
                return r
        raise KeyError(ident)

    def table(self) -> pd.DataFrame:
        """Indicator × place × year: the ``seguimiento.csv`` table."""
        return _table(self)

    def to_dict(self) -> dict[str, Any]:
        """What ``seguimiento.json`` holds and the API serves."""
        return _document(self)

    def write(
        self,
        out_dir: str | Path | None = None,
        formats: Sequence[str] | None = None,
        *,
        command: str | None = None,
        targets_file: str | Path | None = None,
        export: Export | None = None,
    ) -> Written:
        """Write ``seguimiento.csv``, ``.json``, ``_zonas.geojson``, ``.html`` and the manifest.

        ``out_dir`` defaults to the config's ``[output] dir``; ``formats`` are the formats of
        the per-zone layer (default GeoJSON only). ``targets_file``, the TOML the config was
        read from, is recorded among the manifest's inputs. ``export`` sets the layer's CRS
        and the CSV dialect of ``seguimiento.csv``; with ``xlsx`` the workbook
        ``seguimiento.xlsx`` holds the table and the zones.
        """
        out = Path(out_dir) if out_dir is not None else self.config.output.dir
        fmts = list(ZONE_FORMATS if formats is None else formats)
        bad = [f for f in fmts if f not in EXPORT_FORMATS]
        if bad:
            raise InputError(f"unknown format(s) {bad} for {ZONES_STEM}; choose from {', '.join(EXPORT_FORMATS)}")
        export = export or Export(lang=check_lang(self.lang))
        doc = self.to_dict()
        files = [
            io.write_table(self.table(), out / OUTPUT_NAMES["csv"], export=export),
            io.write_json(doc, out / OUTPUT_NAMES["json"]),
            *io.write_outputs(
                out,
                fmts,
                layers={ZONES_STEM: zone_layer(self)},
                workbook=Path(OUTPUT_NAMES["csv"]).stem,
                sheets={Path(OUTPUT_NAMES["csv"]).stem: self.table()},
                export=export,
            ),
            io.write_text(render_report(doc), out / OUTPUT_NAMES["html"]),
        ]
        options = self.config.model_copy(update={"output": self.config.output.model_copy(update={"dir": out.resolve()})})
        inputs = [Path(targets_file).resolve()] if targets_file is not None else []
        # The same document as geoprio.io.results.write_result writes, under the seguimiento's own name.
        m = manifest.document(
            kind=KIND,
            command=command if command is not None else self.command,
            inputs=list(dict.fromkeys([*inputs, *options.input_paths()])),
            outputs=files,
            options=options.model_dump(mode="json"),
            formats=fmts,
            export=export.record(),
            parameters={"year": self.year, "lang": self.lang, "years": self.years, "unplaced": self.config.options.unplaced},
        )
        return Written(tuple(files), manifest.write(m, out / MANIFEST_NAME))


# --------------------------------------------------------------------------- views


def _f(v: Any, digits: int = 6) -> float | None:
    if v is None:
        return None
    try:
        x = float(v)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(x) or math.isinf(x) else round(x, digits)


def unit_label(ind: Any, lang: str) -> str:
    """How the indicator's unit reads: ``casos``, ``por 100.000 habitantes``, ``%``
    (``per 100,000 residents`` in English).
    """
    text = label("seguimiento", ind.unit, lang)
    return text.format(per=fmt_int(ind.per, lang))


def _year_dict(s: YearProgress, unit: UnitSeries, lang: str) -> dict[str, Any]:
    return {
        "year": s.year,
        "months": unit.months.get(s.year),
        "actual": _f(s.actual),
        "actual_annualized": _f(s.actual_annualized) if s.fraction < 1 else None,
        "count": _f(unit.counts.get(s.year)),
        "target": _f(s.target),
        "target_to_date": _f(s.target_to_date) if s.fraction < 1 else None,
        "progress": _f(s.progress),
        "progress_capped": _f(s.progress_capped),
        "cumulative_actual": _f(s.cumulative_actual),
        "cumulative_target": _f(s.cumulative_target),
        "plan_total_target": _f(s.plan_total_target),
        "progress_plan_total": _f(s.progress_plan_total),
        "notes": [n.text(lang) for n in s.notes],
    }


def _breakdown_rows(frame: pd.DataFrame, year: int) -> list[dict[str, Any]]:
    rows = []
    for z, r in frame.iterrows():
        row: dict[str, Any] = {"zone_id": str(z), "name": str(r["name"])}
        for c in frame.columns:
            if c != "name":
                row[c] = _f(r[c])
        rows.append(row)
    return rows


def _unit_dict(u: UnitSeries, lang: str, *, with_months: bool = True) -> dict[str, Any]:
    d = {
        "zone_id": u.zone_id,
        "name": u.name,
        "baseline": _f(u.baseline),
        "targets": {str(y): _f(v) for y, v in sorted(u.targets.items())},
        "series": [_year_dict(s, u, lang) for s in u.series],
        "notes": [n.text(lang) for n in u.notes],
    }
    if with_months and u.monthly:
        d["months"] = [{k: (_f(v) if k != "month" else v) for k, v in m.items()} for m in u.monthly]
    return d


def _indicator_dict(r: IndicatorResult, year: int, lang: str, cfg: Any) -> dict[str, Any]:
    ind = r.config
    obj = cfg.objectives[ind.objective]
    d: dict[str, Any] = {
        "id": ind.id,
        "label": ind.display,
        "objective": ind.objective,
        "objective_label": obj.label or ind.objective,
        "weight": ind.weight,
        "source": ind.source,
        "unit": ind.unit,
        "unit_label": unit_label(ind, lang),
        "per": ind.per if ind.unit == "rate" else None,
        "direction": ind.resolved_direction,
        "trend": ind.trend,
        "trend_label": label("seguimiento", ind.trend, lang),
        "level": r.level,
        "baseline_year": r.baseline_year,
        "baseline": _f(r.units[0].baseline) if r.level == CITY else None,
        "targets": {str(y): _f(v) for y, v in sorted(r.units[0].targets.items())} if r.level == CITY else None,
        "relative_targets": {str(y): v for y, v in sorted(ind.relative_targets.items())} or None,
        "program_years": ind.program_years,
        "years": r.years,
        "progress_by_year": {str(y): _f(v) for y, v in r.progress_by_year.items()},
        "progress_uncapped_by_year": {str(y): _f(v) for y, v in r.progress_uncapped_by_year.items()},
        "notes": [n.to_dict(lang) for n in r.notes],
    }
    if r.level == CITY:
        d["series"] = _unit_dict(r.units[0], lang)["series"]
        d["months"] = _unit_dict(r.units[0], lang).get("months", [])
    else:
        d["zones"] = [_unit_dict(u, lang) for u in r.units]
    if r.breakdown:
        d["breakdown"] = {
            "level": r.breakdown_level,
            "baseline_year": r.baseline_year,
            "by_year": {str(y): _breakdown_rows(f, y) for y, f in sorted(r.breakdown.items())},
        }
    return d


def _document(res: TrackingResult) -> dict[str, Any]:
    cfg = res.config
    year = res.year
    inds = [_indicator_dict(r, year, res.lang, cfg) for r in res.indicators]
    for d, r in zip(inds, res.indicators, strict=True):
        d["summary"] = _summary(r, year)
    return {
        "kind": "geoprio.seguimiento",
        "geoprio_version": __version__,
        "title": cfg.title,
        "lang": res.lang,
        "year": year,
        "years": res.years,
        "levels": res.data.levels.all,
        "plan": {
            "progress": _f(res.plan.get(year)),
            "progress_by_year": {str(y): _f(v) for y, v in res.plan.items()},
        },
        "objectives": [
            {
                "id": name,
                "label": o.label or name,
                "weight": o.weight,
                "progress": _f(res.objectives[name].get(year)),
                "progress_by_year": {str(y): _f(v) for y, v in res.objectives[name].items()},
                "indicators": [r.config.id for r in res.indicators if r.config.objective == name],
            }
            for name, o in cfg.objectives.items()
        ],
        "indicators": inds,
    }


def _summary(r: IndicatorResult, year: int) -> dict[str, Any]:
    """The indicator in the report year: actual, target, progress (city) or zone counts."""
    out: dict[str, Any] = {
        "year": year,
        "progress": _f(r.progress_by_year.get(year)),
        "progress_uncapped": _f(r.progress_uncapped_by_year.get(year)),
    }
    if r.level == CITY:
        e = r.units[0].at(year)
        out.update(
            actual=_f(e.actual) if e else None,
            actual_annualized=_f(e.actual_annualized) if e and e.fraction < 1 else None,
            target=_f(e.target) if e else None,
            months=r.units[0].months.get(year),
        )
    else:
        entries = [u.at(year) for u in r.units]
        defined = [e for e in entries if e is not None and e.progress_capped is not None]
        out.update(
            zones=len(r.units), zones_with_progress=len(defined), zones_met=sum(1 for e in defined if (e.progress_capped or 0.0) >= 1)
        )
    return out


def _table(res: TrackingResult) -> pd.DataFrame:
    rows = []
    for r in res.indicators:
        ind = r.config
        for u in r.units:
            for s in u.series:
                rows.append(
                    {
                        "indicator": ind.id,
                        "label": ind.display,
                        "objective": ind.objective,
                        "unit": ind.unit,
                        "trend": ind.trend,
                        "direction": ind.resolved_direction,
                        "level": r.level,
                        "zone_id": u.zone_id,
                        "name": u.name,
                        "year": s.year,
                        "months": u.months.get(s.year),
                        "count": _f(u.counts.get(s.year)),
                        "actual": _f(s.actual),
                        "actual_annualized": _f(s.actual_annualized) if s.fraction < 1 else None,
                        "baseline": _f(u.baseline),
                        "target": _f(s.target),
                        "progress": _f(s.progress),
                        "progress_capped": _f(s.progress_capped),
                        "cumulative_actual": _f(s.cumulative_actual),
                        "cumulative_target": _f(s.cumulative_target),
                        "progress_plan_total": _f(s.progress_plan_total),
                        "notes": " | ".join(n.text(res.lang) for n in s.notes),
                    }
                )
    return pd.DataFrame(rows)


def _zone_geometries(data: TrackingData) -> dict[str, dict[str, Any]]:
    """Level → zone id → polygon: the base zones, and the parent level's (its own layer, or
    the union of its base zones).
    """
    frame = data.zones.frame
    geoms: dict[str, dict[str, Any]] = {data.levels.base: dict(zip(frame["zone_id"].astype(str), frame.geometry.values, strict=True))}
    if data.levels.parent:
        if data.parent_zones is not None:
            pf = data.parent_zones.frame
            geoms[data.levels.parent] = dict(zip(pf["zone_id"].astype(str), pf.geometry.values, strict=True))
        else:
            parent = data.parent_of.reindex(frame["zone_id"].astype(str)).to_numpy()
            geoms[data.levels.parent] = {
                str(p): shapely.union_all(frame.geometry.values[parent == p]) for p in data.level_ids[data.levels.parent]
            }
    return geoms


def _breakdown_features(r: IndicatorResult, frame_y: pd.DataFrame, common: dict[str, Any]) -> list[dict[str, Any]]:
    """A city indicator's breakdown zones in the report year (the unplaced row left out)."""
    rows = []
    for z, b in frame_y.iterrows():
        if z == UNPLACED:
            continue
        rows.append(
            {
                **common,
                "level": r.breakdown_level,
                "zone_id": str(z),
                "name": b["name"],
                "scope": "breakdown",
                "actual": _f(b["value_annualized"]),
                "baseline": _f(b["value_base"]),
                "target": _f(b["proportional_target"]),
                "progress": _f(b["progress"]),
                "progress_capped": _f(b["progress_capped"]),
                "value_change": _f(b["value_change"]),
                "change": _f(b["change"]),
                "share_of_change": _f(b["share_of_change"]),
                "shortfall": _f(b["shortfall"]),
                "share_of_shortfall": _f(b["share_of_shortfall"]),
                "gap_to_city_target": _f(b["gap_to_city_target"]),
                "count": _f(b["count"]),
            }
        )
    return rows


def _unit_features(r: IndicatorResult, year: int, common: dict[str, Any]) -> list[dict[str, Any]]:
    """A zone-level indicator's zones, each with its own progress in ``year``."""
    rows = []
    for u in r.units:
        e = u.at(year)
        change = e.actual_annualized - u.baseline if e and e.actual_annualized is not None and u.baseline is not None else None
        rows.append(
            {
                **common,
                "level": r.level,
                "zone_id": u.zone_id,
                "name": u.name,
                "scope": "zone",
                "actual": _f(e.actual_annualized) if e else None,
                "baseline": _f(u.baseline),
                "target": _f(e.target) if e else None,
                "progress": _f(e.progress) if e else None,
                "progress_capped": _f(e.progress_capped) if e else None,
                "value_change": _f(change),
                "change": None,
                "share_of_change": None,
                "shortfall": None,
                "share_of_shortfall": None,
                "gap_to_city_target": None,
                "count": _f(u.counts.get(year)),
            }
        )
    return rows


def zone_layer(res: TrackingResult, *, simplify_m: float = 10.0) -> Any:
    """Per-zone progress in the report year, one feature per indicator and zone (EPSG:4326).

    Geometry is simplified to ``simplify_m`` metres (in the zones' metric CRS) and rounded
    to 6 decimals (about 0.1 m), which keeps the layer light enough for a web map.

    City indicators contribute their breakdown zones (with the zone's change, its part of
    the city's change and shortfall, and its progress against the city's planned relative
    change); zone-level indicators contribute each zone's own progress.
    """
    data = res.data
    geoms = _zone_geometries(data)
    rows: list[dict[str, Any]] = []
    shapes: list[Any] = []
    year = res.year
    for r in res.indicators:
        ind = r.config
        common = {
            "indicator": ind.id,
            "label": ind.display,
            "objective": ind.objective,
            "unit": ind.unit,
            "per": ind.per if ind.unit == "rate" else None,
            "trend": ind.trend,
            "year": year,
        }
        if r.level == CITY:
            frame_y = r.breakdown.get(year)
            if frame_y is None or r.breakdown_level is None:
                continue
            found = _breakdown_features(r, frame_y, common)
        else:
            found = _unit_features(r, year, common)
        rows += found
        shapes += [geoms[row["level"]].get(row["zone_id"]) for row in found]
    columns = list(rows[0]) if rows else ["indicator", "zone_id"]
    layer = gpd.GeoDataFrame(pd.DataFrame(rows, columns=columns), geometry=list(shapes), crs=OUTPUT_CRS)
    if simplify_m > 0 and len(layer):
        metric = layer.geometry.to_crs(data.zones.metric_crs).simplify(simplify_m, preserve_topology=True)
        layer = layer.set_geometry(metric.to_crs(OUTPUT_CRS).set_precision(1e-6))
    return layer
