"""Rolling-origin forecast backtests: does a method predict next week, month or quarter better than prior counts.

:func:`rolling_backtest` rolls an *origin* over the last periods of the data (calendar weeks
starting on Monday, months or quarters). At each origin every method of
:mod:`geoprio.hotspots.forecast_methods` sees only the incidents **before** the origin and
scores the grid cells; the cells are scored on the period that starts at the origin with the
hit rate, PAI and PEI of :func:`geoprio.hotspots.backtest.evaluate` (at 0.5, 1, 2 and 5 % of
the area by default).

**Hyperparameters are chosen on earlier origins only.** ``warmup`` origins before the scored
ones are scored too but not reported; at each scored origin a method uses the candidate
(:func:`geoprio.hotspots.forecast_methods.candidate_grid`) with the best mean PAI at
``select_share`` over every earlier origin (ties: the first candidate). The period scored at
an origin ends at or before the next origin, so no choice sees the period it is scored on.

**Against the baseline.** For each method and share, the summary gives the mean over origins
and the paired difference of PAI against prior counts (``pai_diff``, per origin, then
averaged) with a 95 % **paired percentile bootstrap** interval (origins resampled with
replacement, ``bootstrap`` resamples, seeded by ``seed``; the same resamples for every method),
and the relative gain ``gain = mean PAI / mean prior PAI − 1`` with its interval from the same
resamples. A method *beats prior counts* at a share when ``gain ≥ 0.10`` and the gain's lower
bound is above 0 (issue 21's goal, at 1 % of the area, monthly).

The grid covers the zones, or without zones the concave hull of the incidents before the first
(warm-up) origin. Nothing is written: ``result.write(out_dir)`` writes the tables and the
manifest (kind ``geoprio.forecast``).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import ValidationError, field_validator

from geoprio.errors import InputError
from geoprio.hotspots.backtest import capture, capture_curve, evaluate
from geoprio.hotspots.backtest_run import curve_svg
from geoprio.hotspots.forecast_learned import neighbour_matrix
from geoprio.hotspots.forecast_methods import FORECAST_METHODS, Past, candidate_grid, cell_pairs, forecast_surface
from geoprio.hotspots.grid import Grid, make_cells, to_metric
from geoprio.hotspots.jobs import PointsSource, ZonesSource, load_source_points, load_source_zones
from geoprio.hotspots.options import options_error
from geoprio.io import files as io
from geoprio.io.export import Export
from geoprio.io.results import Replay, Written, replay, write_result
from geoprio.labels import label
from geoprio.options import Options
from geoprio.records.load import Records
from geoprio.settings import DEFAULT_LANG, DEFAULT_METRIC_CRS, DEFAULT_SEED, Lang
from geoprio.zones.layers import Zones

__all__ = [
    "FORECAST_KIND",
    "FORECAST_SHARES",
    "HORIZONS",
    "ForecastBacktest",
    "ForecastJob",
    "ForecastOptions",
    "dated_points",
    "next_origin",
    "origins_for",
    "past_at",
    "period_end",
    "replay_forecast",
    "rolling_backtest",
    "run_forecast_job",
]

#: The manifest kind of a rolling-origin forecast backtest.
FORECAST_KIND = "geoprio.forecast"

Horizon = Literal["week", "month", "quarter"]
#: Forecast horizons: the period each forecast is for.
HORIZONS: tuple[str, ...] = ("week", "month", "quarter")
_FREQ = {"week": "W-MON", "month": "MS", "quarter": "QS"}
_OFFSET = {"week": pd.DateOffset(weeks=1), "month": pd.DateOffset(months=1), "quarter": pd.DateOffset(months=3)}

#: Flagged-area shares of a forecast backtest (0.5, 1, 2 and 5 % of the area).
FORECAST_SHARES: tuple[float, ...] = (0.005, 0.01, 0.02, 0.05)


class ForecastOptions(Options):
    """Options of :func:`rolling_backtest` (see the module docstring)."""

    horizons: tuple[Horizon, ...] = ("month",)
    origins: int = 24
    warmup: int = 3
    methods: tuple[str, ...] = FORECAST_METHODS
    shares: tuple[float, ...] = FORECAST_SHARES
    select_share: float = 0.01
    cell_size_m: float = 150.0
    shape: Literal["square", "hex"] = "square"
    metric_crs: str = DEFAULT_METRIC_CRS
    bootstrap: int = 2000
    seed: int = DEFAULT_SEED
    lang: Lang = DEFAULT_LANG

    def __init__(self, **data: Any) -> None:
        try:
            super().__init__(**data)
        except ValidationError as exc:
            raise options_error(exc) from None

    @field_validator("methods")
    @classmethod
    def _methods(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        bad = [m for m in v if m not in FORECAST_METHODS]
        if bad or not v:
            raise ValueError(f"unknown forecast method(s) {bad}; choose from {list(FORECAST_METHODS)}")
        return ("prior", *[m for m in v if m != "prior"])  # the baseline is always scored, first

    @field_validator("origins", "warmup", "bootstrap")
    @classmethod
    def _counts(cls, v: int, info: Any) -> int:
        if v < (0 if info.field_name == "warmup" else 1):
            raise ValueError(f"{info.field_name} must be {'≥ 0' if info.field_name == 'warmup' else '≥ 1'}, got {v}")
        return v

    @field_validator("cell_size_m")
    @classmethod
    def _cell(cls, v: float) -> float:
        if not v > 0:
            raise ValueError(f"cell_size_m must be positive, got {v}")
        return v

    @field_validator("shares")
    @classmethod
    def _shares(cls, v: tuple[float, ...]) -> tuple[float, ...]:
        if not v or any(not 0 < s <= 1 for s in v):
            raise ValueError(f"shares must be in (0, 1], e.g. 0.01 for 1 %; got {list(v)}")
        return v

    @field_validator("select_share")
    @classmethod
    def _select(cls, v: float) -> float:
        if not 0 < v <= 1:
            raise ValueError(f"select_share must be in (0, 1], got {v}")
        return v


def origins_for(first: pd.Timestamp, last: pd.Timestamp, horizon: str, n: int) -> list[pd.Timestamp]:
    """The last ``n`` period starts ``o`` with data before them and a whole period ``[o, o + horizon)`` up to ``last``."""
    if horizon not in HORIZONS:
        raise InputError(f"horizon must be one of {list(HORIZONS)}, got {horizon!r}")
    end = last.normalize() + pd.Timedelta(days=1)  # the last day counts whole
    starts = pd.date_range(first.normalize() + pd.Timedelta(days=1), end, freq=_FREQ[horizon])
    ok = [o for o in starts if o + _OFFSET[horizon] <= end]
    return ok[-n:]


@dataclass(frozen=True, eq=False)
class ForecastBacktest:
    """Result of :func:`rolling_backtest`: ``summary`` (one row per horizon, method and share),
    ``table`` (one row per horizon, scored origin, method and share), ``chosen`` (the
    hyperparameters each method used at each origin), ``curve`` (per horizon, the hit rate
    against the flagged-area share of each method, averaged over the scored origins, with the
    ``best`` possible and ``random``), ``notes`` (incl. the goal verdict) and the ``grid`` the
    cells were scored on.
    """

    summary: pd.DataFrame
    table: pd.DataFrame
    chosen: pd.DataFrame
    curve: pd.DataFrame
    options: ForecastOptions
    notes: dict[str, Any]
    grid: Grid | None = None
    job: Options | None = None
    inputs: tuple[Path, ...] = ()

    kind: str = field(default=FORECAST_KIND, init=False)

    def write(
        self,
        out_dir: str | Path,
        formats: Sequence[str] | None = None,
        *,
        command: str | None = None,
        inputs: Sequence[str | Path] | None = None,
        export: Export | None = None,
    ) -> Written:
        """Write ``pronostico_resumen.csv``, ``pronostico_origenes.csv``, ``pronostico_parametros.csv``,
        ``pronostico_curva.csv`` with one ``pronostico_curva_<horizon>.svg`` per horizon, and ``manifest.json``.
        """
        out = Path(out_dir)
        export = export or Export(lang=self.options.lang)
        paths = [
            io.write_table(self.summary.round(6), out / "pronostico_resumen.csv", export=export),
            io.write_table(self.table.round(6), out / "pronostico_origenes.csv", export=export),
            io.write_table(self.chosen, out / "pronostico_parametros.csv", export=export),
            io.write_table(self.curve.round(6), out / "pronostico_curva.csv", export=export),
        ]
        lang = self.options.lang
        for hz, c in self.curve.groupby("horizon", sort=False):
            n = len(self.notes[str(hz)]["origins"])
            title = label("forecast", "curve_title", lang).format(horizon=label("forecast", f"horizon_{hz}", lang), origins=n)
            svg = curve_svg(c.drop(columns="horizon"), lang=lang, title=title)
            paths.append(io.write_text(svg, out / f"pronostico_curva_{hz}.svg"))
        used = self.inputs if inputs is None else tuple(Path(p) for p in inputs)
        return write_result(
            kind=self.kind,
            out_dir=out,
            files=paths,
            options=self.job if self.job is not None else self.options,
            inputs=[p.resolve() for p in used],
            formats=list(formats or []),
            command=command,
            export=export,
            notes=self.notes,
        )


def dated_points(records: Records, metric_crs: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The dated records sorted by time: their times (``datetime64[ns]``), ``xy`` in ``metric_crs`` and weights."""
    dates = pd.to_datetime(records.data["date"]).reset_index(drop=True)
    ok = dates.notna().to_numpy()
    if not ok.any():
        raise InputError(f"{records.report.source}: no record has a date; a forecast needs dated records")
    order = np.argsort(dates.to_numpy()[ok], kind="stable")
    times = dates.to_numpy()[ok][order].astype("datetime64[ns]")
    xy = to_metric(records, metric_crs)[ok][order]
    w = records.data["weight"].to_numpy(dtype=float)[ok][order]
    return times, xy, w


def next_origin(last: pd.Timestamp, horizon: str) -> pd.Timestamp:
    """The start of the first whole ``horizon`` period after the day of ``last`` (the period a forecast made now is for)."""
    if horizon not in HORIZONS:
        raise InputError(f"horizon must be one of {list(HORIZONS)}, got {horizon!r}")
    day_after = pd.Timestamp(last).normalize() + pd.Timedelta(days=1)
    return pd.Timestamp(pd.date_range(day_after, periods=1, freq=_FREQ[horizon])[0])


def period_end(origin: pd.Timestamp, horizon: str) -> pd.Timestamp:
    """The end (exclusive) of the ``horizon`` period that starts at ``origin``."""
    return pd.Timestamp(origin) + _OFFSET[horizon]


def past_at(times: np.ndarray, xy: np.ndarray, cell: np.ndarray, w: np.ndarray, origin: pd.Timestamp) -> Past:
    """The incidents strictly before ``origin`` (``times`` sorted ascending), with their age in days."""
    t0 = np.datetime64(pd.Timestamp(origin))
    times = np.asarray(times).astype("datetime64[ns]")
    before = int(np.searchsorted(times, t0, side="left"))
    ages = np.asarray((t0 - times[:before]) / np.timedelta64(1, "D"), dtype=float)
    return Past(cell=cell[:before], xy=xy[:before], age_days=ages, weight=w[:before], origin=pd.Timestamp(origin))


def _pai_at(scores: np.ndarray, test: np.ndarray, areas: np.ndarray, share: float) -> float:
    return float(capture(scores, test, areas, [share])[0] / test.sum() / share)


def _one_horizon(
    horizon: str,
    times: np.ndarray,
    xy: np.ndarray,
    cell: np.ndarray,
    w: np.ndarray,
    grid: Grid,
    opts: ForecastOptions,
    first: pd.Timestamp,
    last: pd.Timestamp,
) -> tuple[list[pd.DataFrame], list[dict[str, Any]], pd.DataFrame | None, dict[str, Any]]:
    """Score every method at every origin of one horizon; choose hyperparameters on earlier origins.

    Returns the per-origin tables, the choices, the mean hit-rate curve over the scored origins and the notes.
    """
    origins = origins_for(first, last, horizon, opts.origins + opts.warmup)
    if len(origins) <= opts.warmup:
        raise InputError(
            f"the data ({first.date()} – {last.date()}) hold {len(origins)} whole {horizon}s after the first day; "
            f"need more than warmup={opts.warmup}"
        )
    areas = grid.area_m2
    max_cells = max((float(c.get("bandwidth_cells", 0.0)) for c in candidate_grid("promap", grid.cell_size_m)), default=0.0)
    pairs = cell_pairs(grid.xy, grid.cell_size_m, max_cells) if "promap" in opts.methods else None
    nb = neighbour_matrix(grid.xy, grid.cell_size_m) if "learned" in opts.methods else None
    cands = {m: candidate_grid(m, grid.cell_size_m) for m in opts.methods}
    history: dict[str, list[list[float]]] = {m: [] for m in opts.methods}  # per method: per origin, PAI of each candidate
    frames: list[pd.DataFrame] = []
    chosen: list[dict[str, Any]] = []
    skipped: list[str] = []
    curve_sum: pd.DataFrame | None = None
    n_curves = 0
    for k, o in enumerate(origins):
        t0 = np.datetime64(o)
        t1 = np.datetime64(o + _OFFSET[horizon])
        before = int(np.searchsorted(times, t0, side="left"))
        after = int(np.searchsorted(times, t1, side="left"))
        past = past_at(times, xy, cell, w, o)
        days = float((o + _OFFSET[horizon] - o).days)
        tc = cell[before:after]
        test = grid.count(tc, w[before:after])
        if test.sum() <= 0:
            skipped.append(str(o.date()))
            continue
        scored = k >= opts.warmup
        used: dict[str, np.ndarray] = {}
        for m in opts.methods:
            surfaces = [
                forecast_surface(
                    m, past, grid.xy, cell_size_m=grid.cell_size_m, params=p, pairs=pairs, neighbours=nb, horizon_days=days, seed=opts.seed
                )
                for p in cands[m]
            ]
            pais = [_pai_at(s, test, areas, opts.select_share) for s in surfaces]
            if scored:
                h = np.asarray(history[m])
                best = int(np.argmax(h.mean(axis=0))) if len(h) else 0
                f = evaluate(surfaces[best], test, areas, shares=opts.shares)
                f.insert(0, "method", m)
                f.insert(0, "origin", str(o.date()))
                f.insert(0, "horizon", horizon)
                f["test_incidents"] = float(test.sum())
                frames.append(f)
                used[m] = surfaces[best]
                chosen.append(
                    {"horizon": horizon, "origin": str(o.date()), "method": m, "params": json.dumps(cands[m][best], sort_keys=True)}
                )
            history[m].append(pais)
        if used:
            c = capture_curve(used, test, areas).set_index("area_share")
            curve_sum = c if curve_sum is None else curve_sum + c
            n_curves += 1
    curve = None if curve_sum is None else (curve_sum / n_curves).reset_index()
    if curve is not None:
        curve.insert(0, "horizon", horizon)
    # what a forecast made now would use: each method's best candidate over every origin
    nxt = {m: cands[m][int(np.argmax(np.asarray(history[m]).mean(axis=0)))] if history[m] else cands[m][0] for m in opts.methods}
    notes = {
        "origins": [str(o.date()) for o in origins[opts.warmup :]],
        "warmup_origins": [str(o.date()) for o in origins[: opts.warmup]],
        "skipped_empty_periods": skipped,
        "next_params": nxt,
    }
    return frames, chosen, curve, notes


def _quantile(values: np.ndarray, q: float) -> float:
    """The ``q`` quantile of the finite values (NaN when none is: prior counts caught nothing in any resample)."""
    ok = np.isfinite(values)
    return float(np.quantile(values[ok], q)) if ok.any() else float("nan")


def _summarize(table: pd.DataFrame, opts: ForecastOptions) -> pd.DataFrame:
    """Means over origins and the paired bootstrap against prior counts, per horizon, method and share."""
    rows: list[dict[str, Any]] = []
    for (hz, share), g in table.groupby(["horizon", "area_share"], sort=False):
        wide = g.pivot(index="origin", columns="method", values="pai")
        base = wide["prior"].to_numpy()
        n = len(wide)
        rng = np.random.default_rng(opts.seed)
        idx = rng.integers(0, n, size=(opts.bootstrap, n))
        for m in opts.methods:
            gm = g[g["method"] == m]
            pai = wide[m].to_numpy()
            diff = pai - base
            boot_diff = diff[idx].mean(axis=1)
            with np.errstate(divide="ignore", invalid="ignore"):
                boot_gain = pai[idx].mean(axis=1) / base[idx].mean(axis=1) - 1
                gain = pai.mean() / base.mean() - 1
            rows.append(
                {
                    "horizon": hz,
                    "method": m,
                    "area_share": share,
                    "origins": n,
                    "hit_rate": gm["hit_rate"].mean(),
                    "pai": pai.mean(),
                    "pei": gm["pei"].mean(),
                    "pai_diff": diff.mean(),
                    "pai_diff_low": float(np.quantile(boot_diff, 0.025)),
                    "pai_diff_high": float(np.quantile(boot_diff, 0.975)),
                    "gain": gain if np.isfinite(gain) else float("nan"),  # undefined when prior counts caught nothing
                    "gain_low": _quantile(boot_gain, 0.025),
                    "gain_high": _quantile(boot_gain, 0.975),
                }
            )
    return pd.DataFrame(rows)


def _verdict(summary: pd.DataFrame, share: float = 0.01) -> dict[str, Any]:
    """Per horizon: the best non-baseline method at ``share`` and whether it beats prior counts by ≥ 10 % (CI above 0)."""
    out: dict[str, Any] = {}
    s = summary[(summary["method"] != "prior") & np.isclose(summary["area_share"], share)]
    for hz, g in s.groupby("horizon", sort=False):
        b = g.loc[g["pai"].idxmax()]
        out[str(hz)] = {
            "share": share,
            "best": str(b["method"]),
            "gain": round(float(b["gain"]), 6),
            "gain_ci": [round(float(b["gain_low"]), 6), round(float(b["gain_high"]), 6)],
            "beats_prior_by_10pct": bool(b["gain"] >= 0.10 and b["gain_low"] > 0),
        }
    return out


def rolling_backtest(records: Records, *, zones: Zones | None = None, options: ForecastOptions | None = None) -> ForecastBacktest:
    """Rolling-origin backtest of every forecast method at each horizon (see the module docstring)."""
    opts = options or ForecastOptions()
    times, xy, w = dated_points(records, opts.metric_crs)
    first, last = pd.Timestamp(times[0]), pd.Timestamp(times[-1])
    starts = [origins_for(first, last, h, opts.origins + opts.warmup) for h in opts.horizons]
    if not all(starts):
        raise InputError(f"the data ({first.date()} – {last.date()}) are too short for a {'/'.join(opts.horizons)} backtest")
    t_first = np.datetime64(min(s[0] for s in starts))
    grid = make_cells(zones=zones, xy=xy[times < t_first], cell_size_m=opts.cell_size_m, shape=opts.shape, metric_crs=opts.metric_crs)
    cell = grid.locate(xy)
    frames: list[pd.DataFrame] = []
    chosen: list[dict[str, Any]] = []
    notes: dict[str, Any] = {
        "cells": len(grid),
        "study_area_km2": round(float(grid.area_m2.sum()) / 1e6, 3),
        "incidents": int(len(times)),
        "outside_study_area": int((cell < 0).sum()),
        "data_from": str(first.date()),
        "data_to": str(last.date()),
        "ci": f"paired percentile bootstrap over origins, {opts.bootstrap} resamples, seed {opts.seed}",
    }
    if "sepp" in opts.methods and opts.shape != "square":  # the spatial kernel needs a square lattice
        notes["sepp_spatial"] = "off"
    curves: list[pd.DataFrame] = []
    for h in opts.horizons:
        f, c, cv, n = _one_horizon(h, times, xy, cell, w, grid, opts, first, last)
        if cv is not None:
            curves.append(cv)
        frames += f
        chosen += c
        notes[h] = n
    if not frames:
        raise InputError("every scored period is empty in the study area; nothing to score")
    table = pd.concat(frames, ignore_index=True)
    summary = _summarize(table, opts)
    notes["goal"] = _verdict(summary)
    return ForecastBacktest(
        summary=summary,
        table=table,
        chosen=pd.DataFrame(chosen),
        curve=pd.concat(curves, ignore_index=True),
        options=opts,
        notes=notes,
        grid=grid,
    )


class ForecastJob(Options):
    """A rolling-origin forecast backtest from files: the points, the zones and the options."""

    points: PointsSource
    zones: ZonesSource | None = None
    options: ForecastOptions = ForecastOptions()

    def __init__(self, **data: Any) -> None:
        try:
            super().__init__(**data)
        except ValidationError as exc:
            raise options_error(exc) from None

    @property
    def inputs(self) -> tuple[Path, ...]:
        """The files the job reads, in the manifest's order."""
        return (*self.points.files, *([self.zones.path] if self.zones else []))


def run_forecast_job(job: ForecastJob) -> ForecastBacktest:
    """Load the job's files and run :func:`rolling_backtest`; nothing is written."""
    zones = load_source_zones(job.zones, job.options.metric_crs)
    records = load_source_points(job.points, zones)
    run = rolling_backtest(records, zones=zones, options=job.options)
    return dataclasses.replace(run, job=job, inputs=job.inputs)


def replay_forecast(manifest: str | Path, *, out_dir: str | Path | None = None) -> Replay:
    """Re-run a ``geoprio forecast`` run from its manifest and compare the outputs."""
    return replay(manifest, kind=FORECAST_KIND, options_type=ForecastJob, run=run_forecast_job, out_dir=out_dir)
