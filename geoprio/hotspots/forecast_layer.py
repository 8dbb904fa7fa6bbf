"""The forecast as a surface: next period's expected incidents per grid cell, with its backtest score.

:func:`next_period_forecast` runs the rolling backtest of :mod:`geoprio.hotspots.forecast` at
one horizon, takes the method with the best mean PAI at ``select_share`` over the scored
origins among prior counts and the methods that beat them with a paired 95 % interval above
zero (prior counts win ties; or the ``method`` asked for) with the
hyperparameters that did best over **every** origin, fits it on **all** the data and
forecasts the next whole period after the last record's day (:func:`~geoprio.hotspots.forecast.next_origin`).

Each cell gets ``expected``, the expected (weighted) incidents in that period, and ``rank``
(1 = most expected; ties share the best rank). ``sepp`` and ``learned`` forecast counts
directly; the other surfaces are scores, so they are scaled to the incidents in the study
area over the 365 days before the origin, prorated to the period's length
(``expected = score / Σ score × N₃₆₅ × days / 365``; the rank is the score's). ``cum_area_share`` is the
share of the study area in cells ranked as high or higher (flag the cells with
``cum_area_share ≤ 0.01`` for the top 1 %). The backtest score of the method (mean PAI at
``select_share``, its gain against prior counts with the 95 % interval) is in the layer's
``backtest_pai``/``backtest_gain`` columns and in the manifest's ``notes``. ``past_incidents``
is the cell's weighted incidents in the method's fitting window (:func:`window_counts`): what a
public release (:func:`~geoprio.hotspots.forecast_public.public_forecast`, ``--public``,
``GET /forecast``) decides on, so the layer as written is as sensitive as the records.

Nothing is written: ``result.write(out_dir, formats)`` writes the layer
``pronostico_superficie`` (csv, geojson, gpkg by default; the CSV carries each cell centre's
``lon``/``lat``, so it is a demand file for ``geoprio plan cameras --demand``), the backtest's
summary ``pronostico_resumen.csv`` and hit-rate curve (``pronostico_curva.csv`` and
``pronostico_curva_<horizon>.svg``) and the manifest (kind ``geoprio.forecast_surface``).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from pydantic import ValidationError, field_validator, model_validator

from geoprio.errors import InputError, ManifestError
from geoprio.hotspots.backtest_run import curve_svg
from geoprio.hotspots.forecast import (
    FORECAST_KIND,
    ForecastBacktest,
    ForecastOptions,
    dated_points,
    next_origin,
    past_at,
    period_end,
    replay_forecast,
    rolling_backtest,
)
from geoprio.hotspots.forecast_learned import neighbour_matrix
from geoprio.hotspots.forecast_methods import FORECAST_METHODS, cell_pairs, forecast_surface
from geoprio.hotspots.jobs import PointsSource, ZonesSource, load_source_points, load_source_zones
from geoprio.hotspots.options import options_error
from geoprio.io import files as io
from geoprio.io import manifest as manifest_io
from geoprio.io.export import Export
from geoprio.io.results import Replay, Written, replay, write_result
from geoprio.labels import label
from geoprio.options import Options
from geoprio.records.load import Records
from geoprio.settings import DEFAULT_FORMATS, OUTPUT_CRS
from geoprio.zones.layers import Zones

__all__ = [
    "COUNT_COLUMN",
    "SURFACE_KIND",
    "SURFACE_LAYER",
    "ForecastSurface",
    "ForecastSurfaceJob",
    "SurfaceOptions",
    "next_period_forecast",
    "reach_m",
    "replay_any_forecast",
    "replay_forecast_surface",
    "run_forecast_surface_job",
    "window_counts",
]

#: The manifest kind of a forecast surface.
SURFACE_KIND = "geoprio.forecast_surface"
#: The name of the written layer (``pronostico_superficie.<suffix>``).
SURFACE_LAYER = "pronostico_superficie"
_COUNTS = ("sepp", "learned")  # methods whose surface is already an expected count


#: The surface column with each cell's count: the weighted incidents of the method's fitting
#: window in it (:func:`window_counts`), what the public release (:mod:`~geoprio.hotspots.forecast_public`) rests on.
COUNT_COLUMN = "past_incidents"


def reach_m(method: str, params: Mapping[str, Any], cell_size_m: float) -> float:
    """How far (centre to centre, metres) a cell's value reaches for the incidents it rests on (0: its own cell)."""
    if method not in FORECAST_METHODS:
        raise InputError(f"unknown forecast method {method!r}; choose from {list(FORECAST_METHODS)}")
    if method == "kde":
        return float(params["bandwidth_m"]) + cell_size_m * np.sqrt(2.0) / 2.0
    if method == "promap":
        return float(params["bandwidth_cells"]) * cell_size_m
    if method == "learned":
        return 1.5 * cell_size_m
    if method == "sepp":
        return float(params.get("radius_cells", 0.0)) * cell_size_m
    return 0.0


def window_counts(
    cell: np.ndarray, age_days: np.ndarray, weight: np.ndarray, n_cells: int, *, method: str, params: Mapping[str, Any]
) -> np.ndarray:
    """Weighted incidents of ``method``'s fitting window per cell, from the incidents before the
    period (``cell`` −1 outside the grid, ``age_days`` > 0 at the period's start).
    """
    ok = np.asarray(cell) >= 0
    age = np.asarray(age_days, dtype=float)
    if method == "promap":
        ok &= np.floor(age / 7.0) < float(params["bandwidth_weeks"])
    elif method == "sepp":
        ok &= age <= float(params["window_days"])
    return np.bincount(np.asarray(cell)[ok], weights=np.asarray(weight, dtype=float)[ok], minlength=n_cells).astype(float)


class SurfaceOptions(Options):
    """Options of :func:`next_period_forecast`: the backtest's (one horizon) and the method (None: the backtest's best)."""

    backtest: ForecastOptions = ForecastOptions()
    method: str | None = None

    def __init__(self, **data: Any) -> None:
        try:
            super().__init__(**data)
        except ValidationError as exc:
            raise options_error(exc) from None

    @field_validator("method")
    @classmethod
    def _method(cls, v: str | None) -> str | None:
        if v is not None and v not in FORECAST_METHODS:
            raise ValueError(f"unknown forecast method {v!r}; choose from {list(FORECAST_METHODS)}")
        return v

    @model_validator(mode="after")
    def _one_horizon(self) -> SurfaceOptions:
        if len(self.backtest.horizons) != 1:
            raise ValueError(f"a forecast surface is for one horizon; got {list(self.backtest.horizons)}")
        return self

    @property
    def horizon(self) -> str:
        """The forecast's horizon."""
        return self.backtest.horizons[0]


@dataclass(frozen=True, eq=False)
class ForecastSurface:
    """Result of :func:`next_period_forecast`: the ``cells`` layer (EPSG:4326; ``cell_id``,
    ``parent_id``, ``parent_name``, ``lon``/``lat`` of the centre, ``expected``, ``rank``,
    ``share``, ``cum_area_share``, ``score``, ``method``, ``backtest_pai``, ``backtest_gain``),
    the ``method`` and its ``params``, the period ``[start, end)``, the ``backtest`` behind the
    choice and the ``notes`` written to the manifest.
    """

    cells: gpd.GeoDataFrame
    method: str
    params: dict[str, float]
    start: pd.Timestamp
    end: pd.Timestamp
    backtest: ForecastBacktest
    options: SurfaceOptions
    notes: dict[str, Any]
    job: Options | None = None
    inputs: tuple[Path, ...] = ()

    kind: str = field(default=SURFACE_KIND, init=False)

    def write(
        self,
        out_dir: str | Path,
        formats: Sequence[str] | None = None,
        *,
        command: str | None = None,
        inputs: Sequence[str | Path] | None = None,
        export: Export | None = None,
    ) -> Written:
        """Write the layer ``pronostico_superficie`` in ``formats`` (default csv, geojson, gpkg), the
        backtest's summary ``pronostico_resumen.csv``, its hit-rate curve ``pronostico_curva.csv`` and
        ``pronostico_curva_<horizon>.svg``, and ``manifest.json``.
        """
        out = Path(out_dir)
        export = export or Export(lang=self.options.backtest.lang)
        fmts = list(formats or DEFAULT_FORMATS)
        paths = io.write_outputs(
            out,
            fmts,
            layers={SURFACE_LAYER: self.cells},
            tables={"pronostico_resumen": self.backtest.summary.round(6), "pronostico_curva": self.backtest.curve.round(6)},
            workbook=SURFACE_LAYER,
            export=export,
        )
        hz = self.options.horizon
        lang = self.options.backtest.lang
        title = label("forecast", "curve_title", lang).format(
            horizon=label("forecast", f"horizon_{hz}", lang), origins=len(self.backtest.notes[hz]["origins"])
        )
        curve = self.backtest.curve[self.backtest.curve["horizon"] == hz].drop(columns="horizon")
        paths.append(io.write_text(curve_svg(curve, lang=lang, title=title), out / f"pronostico_curva_{hz}.svg"))
        used = self.inputs if inputs is None else tuple(Path(p) for p in inputs)
        return write_result(
            kind=self.kind,
            out_dir=out,
            files=paths,
            options=self.job if self.job is not None else self.options,
            inputs=[p.resolve() for p in used],
            formats=fmts,
            command=command,
            export=export,
            notes=self.notes,
        )


def _choose(backtest: ForecastBacktest, opts: SurfaceOptions) -> str:
    """The asked method; or, of the methods that beat prior counts in the backtest with a paired
    95 % interval above zero at ``select_share``, the best mean PAI; else prior counts.

    A method whose mean edges past prior counts by chance (its interval includes zero) is not
    taken: prior counts are the forecast a method has to beat, not one it may tie.
    """
    if opts.method is not None:
        return opts.method
    s = backtest.summary
    at = s[(s["horizon"] == opts.horizon) & np.isclose(s["area_share"], opts.backtest.select_share)]
    better = at[(at["method"] == "prior") | (at["pai_diff_low"] > 0)]
    return str(better.loc[better["pai"].idxmax(), "method"])


def _score(backtest: ForecastBacktest, method: str, opts: SurfaceOptions) -> dict[str, Any]:
    s = backtest.summary
    r = s[(s["horizon"] == opts.horizon) & (s["method"] == method) & np.isclose(s["area_share"], opts.backtest.select_share)].iloc[0]
    base = s[(s["horizon"] == opts.horizon) & (s["method"] == "prior") & np.isclose(s["area_share"], opts.backtest.select_share)].iloc[0]
    return {
        "area_share": opts.backtest.select_share,
        "origins": int(r["origins"]),
        "pai": round(float(r["pai"]), 6),
        "hit_rate": round(float(r["hit_rate"]), 6),
        "prior_pai": round(float(base["pai"]), 6),
        "gain": round(float(r["gain"]), 6),
        "gain_ci": [round(float(r["gain_low"]), 6), round(float(r["gain_high"]), 6)],
    }


def next_period_forecast(records: Records, *, zones: Zones | None = None, options: SurfaceOptions | None = None) -> ForecastSurface:
    """Backtest, choose, fit on all the data and forecast the next period per cell (see the module docstring)."""
    opts = options or SurfaceOptions()
    bopts = opts.backtest
    if opts.method is not None:
        bopts = bopts.model_copy(update={"methods": ForecastOptions(methods=(opts.method,)).methods})
    bt = rolling_backtest(records, zones=zones, options=bopts)
    grid = bt.grid
    if grid is None:  # pragma: no cover - rolling_backtest always returns its grid
        raise InputError("the backtest returned no grid")
    method = _choose(bt, opts)
    params = dict(bt.notes[opts.horizon]["next_params"][method])
    times, xy, w = dated_points(records, bopts.metric_crs)
    cell = grid.locate(xy)
    start = next_origin(pd.Timestamp(times[-1]), opts.horizon)
    end = period_end(start, opts.horizon)
    days = float((end - start).days)
    past = past_at(times, xy, cell, w, start)
    pairs = cell_pairs(grid.xy, grid.cell_size_m, float(params["bandwidth_cells"])) if method == "promap" else None
    nb = neighbour_matrix(grid.xy, grid.cell_size_m) if method == "learned" else None
    score = forecast_surface(
        method, past, grid.xy, cell_size_m=grid.cell_size_m, params=params, pairs=pairs, neighbours=nb, horizon_days=days, seed=bopts.seed
    )
    inside = past.cell >= 0
    last_year = float(past.weight[inside & (past.age_days <= 365.0)].sum())
    if method in _COUNTS:
        expected = np.asarray(score, dtype=float)
        calibration = "native"
    else:
        total = float(score.sum())
        expected = score / total * last_year * days / 365.0 if total > 0 else np.zeros(len(score))
        calibration = "scaled to the incidents of the last 365 days"
    order = np.lexsort((np.arange(len(score)), -score))  # by score, then cell order
    cum = np.empty(len(score))
    cum[order] = np.cumsum(grid.area_m2[order]) / grid.area_m2.sum()
    rank = pd.Series(score).rank(method="min", ascending=False).astype(np.int64).to_numpy()
    bscore = _score(bt, method, opts)
    frame = grid.cells.frame
    centres = gpd.GeoSeries(gpd.points_from_xy(grid.xy[:, 0], grid.xy[:, 1]), crs=grid.metric_crs).to_crs(OUTPUT_CRS)
    total_expected = float(expected.sum())
    cells = gpd.GeoDataFrame(
        {
            "cell_id": frame["zone_id"].astype(str).to_numpy(),
            "parent_id": frame["parent_id"].to_numpy(),
            "parent_name": frame["parent_name"].to_numpy(),
            "lon": centres.x.round(7).to_numpy(),
            "lat": centres.y.round(7).to_numpy(),
            "expected": expected,
            "rank": rank,
            "share": expected / total_expected if total_expected > 0 else np.zeros(len(expected)),
            "cum_area_share": cum,
            "score": np.asarray(score, dtype=float),
            COUNT_COLUMN: window_counts(past.cell, past.age_days, past.weight, len(grid), method=method, params=params),
            "method": method,
            "backtest_pai": bscore["pai"],
            "backtest_gain": bscore["gain"],
        },
        geometry=frame.geometry.to_crs(OUTPUT_CRS).values,
        crs=OUTPUT_CRS,
    )
    top = cum <= bscore["area_share"] + 1e-12
    notes: dict[str, Any] = {
        "horizon": opts.horizon,
        "period_start": str(start.date()),
        "period_end": str(end.date()),
        "data_to": str(pd.Timestamp(times[-1]).date()),
        "method": method,
        "chosen": "asked"
        if opts.method is not None
        else f"best mean PAI at {bscore['area_share']:g} of the area in the backtest, among prior counts and the methods "
        "that beat them with a 95 % interval above 0",
        "params": params,
        "cells": len(grid),
        "cell_size_m": grid.cell_size_m,
        "metric_crs": str(grid.metric_crs),
        "expected_total": round(total_expected, 6),
        "expected_in_top_share": round(float(expected[top].sum()), 6),
        "incidents_last_365_days": round(last_year, 6),
        "calibration": calibration,
        "backtest": bscore,
        "backtest_goal": bt.notes["goal"].get(opts.horizon),
        "backtest_cells": bt.notes["cells"],
    }
    return ForecastSurface(
        cells=cells, method=method, params=params, start=start, end=end, backtest=bt, options=opts, notes=json.loads(json.dumps(notes))
    )


class ForecastSurfaceJob(Options):
    """A forecast surface from files: the points, the zones and the options."""

    points: PointsSource
    zones: ZonesSource | None = None
    options: SurfaceOptions = SurfaceOptions()

    def __init__(self, **data: Any) -> None:
        try:
            super().__init__(**data)
        except ValidationError as exc:
            raise options_error(exc) from None

    @property
    def inputs(self) -> tuple[Path, ...]:
        """The files the job reads, in the manifest's order."""
        return (*self.points.files, *([self.zones.path] if self.zones else []))


def run_forecast_surface_job(job: ForecastSurfaceJob) -> ForecastSurface:
    """Load the job's files and run :func:`next_period_forecast`; nothing is written."""
    zones = load_source_zones(job.zones, job.options.backtest.metric_crs)
    records = load_source_points(job.points, zones)
    run = next_period_forecast(records, zones=zones, options=job.options)
    return dataclasses.replace(run, job=job, inputs=job.inputs)


def replay_forecast_surface(manifest: str | Path, *, out_dir: str | Path | None = None) -> Replay:
    """Re-run a forecast surface from its manifest and compare the outputs."""
    return replay(manifest, kind=SURFACE_KIND, options_type=ForecastSurfaceJob, run=run_forecast_surface_job, out_dir=out_dir)


def replay_any_forecast(manifest: str | Path, *, out_dir: str | Path | None = None) -> Replay:
    """Replay a ``geoprio forecast`` manifest, a backtest or a surface (by its ``kind``)."""
    kind = manifest_io.read(manifest).get("kind")
    if kind == SURFACE_KIND:
        return replay_forecast_surface(manifest, out_dir=out_dir)
    if kind == FORECAST_KIND:
        return replay_forecast(manifest, out_dir=out_dir)
    raise ManifestError(f"{manifest}: a {kind!r} manifest, expected {FORECAST_KIND!r} or {SURFACE_KIND!r}")
