"""Forecast surfaces for the next period: each grid cell's score from the incidents before an origin.

The numeric core of :mod:`geoprio.hotspots.forecast`. Every function takes only the *past*
incidents (their cell, coordinates in metres, age in days at the origin and weight), so a
forecast cannot see what happens at or after the origin:

* ``prior`` — prior counts, the baseline: the weighted number of past incidents in each cell;
* ``recent`` — recent counts with exponential decay: ``Σ wᵢ exp(−ageᵢ / decay_days)``;
* ``kde`` — kernel density of the past incidents at the cell centres
  (:func:`geoprio.hotspots.density.kernel_density`, quartic kernel, ``bandwidth_m``);
* ``promap`` — prospective hot-spotting (Bowers, Johnson & Pease 2004): each past incident
  in cell ``j``, ``weeks = ⌊age / 7⌋`` old, adds ``1 / (1 + d) × 1 / (1 + weeks)`` to every
  cell ``i`` whose centre is ``d ≤ bandwidth_cells`` cell sizes from ``j``'s centre
  (``d = ‖cᵢ − cⱼ‖ / cell_size_m``, Euclidean), when ``weeks < bandwidth_weeks``;
* ``sepp`` — a self-exciting point process on the cells fitted by EM on the last ``window_days``
  (:mod:`geoprio.hotspots.forecast_sepp`), each incident triggering in its own cell and, with a
  Gaussian kernel whose bandwidth EM fits, in the cells within ``radius_cells`` (2) cell sizes:
  the expected count in the next ``horizon_days``;
* ``learned`` — a Poisson gradient-boosting model on lagged counts of each cell and its
  neighbours with the season, trained on the last ``train_periods`` periods before the origin
  (:mod:`geoprio.hotspots.forecast_learned`): the expected count in the next ``horizon_days``.

:data:`DEFAULT_GRIDS` lists each method's hyperparameter candidates (the rolling backtest
picks one per origin on earlier origins only).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.spatial import cKDTree

from geoprio.errors import InputError
from geoprio.hotspots.density import kernel_density
from geoprio.hotspots.forecast_learned import learned_forecast, neighbour_matrix
from geoprio.hotspots.forecast_sepp import cell_lattice, fit_sepp, sepp_forecast

__all__ = [
    "FORECAST_METHODS",
    "Past",
    "candidate_grid",
    "cell_pairs",
    "forecast_surface",
    "kde_surface",
    "learned_surface",
    "prior_surface",
    "promap_surface",
    "recent_surface",
    "sepp_surface",
]

#: Forecast methods, the baseline first.
FORECAST_METHODS: tuple[str, ...] = ("prior", "recent", "kde", "promap", "sepp", "learned")


@dataclass(frozen=True)
class Past:
    """The incidents before an origin: cell index (``-1`` outside the grid), ``xy`` in metres,
    ``age_days`` (origin − time, in days, > 0) and ``weight``; ``origin`` (optional) is the
    date they are counted back from (the learned model's season).
    """

    cell: np.ndarray
    xy: np.ndarray
    age_days: np.ndarray
    weight: np.ndarray
    origin: pd.Timestamp | None = None

    def __post_init__(self) -> None:
        n = len(self.cell)
        if self.xy.shape != (n, 2) or self.age_days.shape != (n,) or self.weight.shape != (n,):
            raise InputError(f"past incidents: cell, xy, age_days and weight must describe the same {n} incidents")
        if n and (self.age_days <= 0).any():
            raise InputError("past incidents must be strictly before the origin (age_days > 0)")


def candidate_grid(method: str, cell_size_m: float) -> list[dict[str, float | str]]:
    """Hyperparameter candidates of ``method`` (one empty dict for ``prior``)."""
    if method == "prior":
        return [{}]
    if method == "recent":
        return [{"decay_days": d} for d in (14.0, 30.0, 91.0, 182.0, 365.0, 730.0, 1461.0)]
    if method == "kde":
        return [{"bandwidth_m": f * cell_size_m} for f in (1.0, 2.0, 3.0)]
    if method == "promap":
        return [{"bandwidth_cells": c, "bandwidth_weeks": w} for c in (1.0, 2.0, 3.0) for w in (4.0, 13.0, 52.0, 104.0)]
    if method == "sepp":
        return [{"window_days": d, "radius_cells": 2.0} for d in (365.0, 1095.0, 3650.0)]
    if method == "learned":
        # gradient boosting ("hgb") is available but not a candidate: slower 5–10×, and behind the GLM on Medellín and Chicago
        return [{"model": "glm", "train_periods": 12.0}, {"model": "glm", "train_periods": 36.0}]
    raise InputError(f"unknown forecast method {method!r}; choose from {list(FORECAST_METHODS)}")


def prior_surface(past: Past, n_cells: int) -> np.ndarray:
    """Weighted count of past incidents per cell."""
    ok = past.cell >= 0
    return np.bincount(past.cell[ok], weights=past.weight[ok], minlength=n_cells).astype(float)


def recent_surface(past: Past, n_cells: int, *, decay_days: float) -> np.ndarray:
    """``Σ wᵢ exp(−ageᵢ / decay_days)`` per cell."""
    if not decay_days > 0:
        raise InputError(f"decay_days must be positive, got {decay_days!r}")
    ok = past.cell >= 0
    w = past.weight[ok] * np.exp(-past.age_days[ok] / decay_days)
    return np.bincount(past.cell[ok], weights=w, minlength=n_cells).astype(float)


def kde_surface(past: Past, centres: np.ndarray, *, bandwidth_m: float) -> np.ndarray:
    """Quartic kernel density (per km²) of the past incidents at the cell centres."""
    return kernel_density(past.xy, centres, bandwidth_m=bandwidth_m, kernel="quartic", weights=past.weight)


def promap_surface(
    past: Past,
    centres: np.ndarray,
    *,
    cell_size_m: float,
    bandwidth_cells: float,
    bandwidth_weeks: float,
    pairs: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
) -> np.ndarray:
    """Prospective hot-spotting score per cell (see the module docstring).

    ``pairs`` (``i``, ``j``, ``d`` in cells, within ``bandwidth_cells``) can be passed to
    reuse the cell-pair enumeration across origins (:func:`cell_pairs`).
    """
    if not (bandwidth_cells >= 0 and bandwidth_weeks > 0 and cell_size_m > 0):
        raise InputError("promap needs bandwidth_cells ≥ 0, bandwidth_weeks > 0 and cell_size_m > 0")
    n = len(centres)
    weeks = np.floor(past.age_days / 7.0)
    ok = (past.cell >= 0) & (weeks < bandwidth_weeks)
    # each cell's time-weighted count: Σ w / (1 + weeks)
    own = np.bincount(past.cell[ok], weights=past.weight[ok] / (1.0 + weeks[ok]), minlength=n)
    i, j, d = pairs if pairs is not None else cell_pairs(centres, cell_size_m, bandwidth_cells)
    keep = d <= bandwidth_cells + 1e-9
    i, j, d = i[keep], j[keep], d[keep]
    return np.bincount(i, weights=own[j] / (1.0 + d), minlength=n)


def cell_pairs(centres: np.ndarray, cell_size_m: float, max_cells: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every ordered pair of cells (self-pairs included) whose centres are within ``max_cells`` cell sizes:
    ``i``, ``j`` and the distance ``d`` in cells.
    """
    c = np.asarray(centres, dtype=float)
    pq = cKDTree(c).query_pairs(max_cells * cell_size_m * (1 + 1e-9), output_type="ndarray")
    n = len(c)
    self_ = np.arange(n)
    i = np.concatenate([pq[:, 0], pq[:, 1], self_])
    j = np.concatenate([pq[:, 1], pq[:, 0], self_])
    d = np.hypot(*(c[i] - c[j]).T) / cell_size_m
    return i.astype(np.int64), j.astype(np.int64), d


def sepp_surface(
    past: Past,
    n_cells: int,
    *,
    window_days: float,
    horizon_days: float,
    centres: np.ndarray | None = None,
    cell_size_m: float | None = None,
    radius_cells: float = 0.0,
    max_lag_days: float = 91.0,
) -> np.ndarray:
    """Expected incidents per cell in the next ``horizon_days`` from a grid SEPP fitted on the last ``window_days``
    (shorter when the data are: the window starts at the oldest incident). With ``radius_cells > 0``
    (and the cell ``centres`` on a regular grid of ``cell_size_m``) incidents also trigger in the cells
    within that many cell sizes, with a Gaussian kernel whose bandwidth EM fits (on hexagonal cells,
    not a square lattice, the triggering stays in the own cell).
    """
    if not (window_days > 0 and horizon_days > 0):
        raise InputError("sepp needs window_days > 0 and horizon_days > 0")
    lattice = None
    if radius_cells > 0:
        if centres is None or cell_size_m is None:
            raise InputError("sepp with radius_cells > 0 needs the cell centres and cell_size_m")
        try:
            lattice = cell_lattice(centres, cell_size_m, radius_cells)
        except InputError:  # not a square lattice (hexagonal cells): the triggering stays in the own cell
            lattice = None
    ok = (past.cell >= 0) & (past.age_days <= window_days)
    if not ok.any():
        return np.zeros(n_cells)
    T = float(min(window_days, np.ceil(past.age_days[ok].max())))
    fit = fit_sepp(past.cell[ok], T - past.age_days[ok], n_cells, T, max_lag_days=max_lag_days, lattice=lattice)
    return sepp_forecast(fit, horizon_days)


def learned_surface(
    past: Past,
    centres: np.ndarray,
    *,
    cell_size_m: float,
    train_periods: float,
    horizon_days: float,
    model: str = "hgb",
    neighbours: sp.csr_matrix | None = None,
    seed: int = 0,
) -> np.ndarray:
    """Expected incidents per cell in the next ``horizon_days`` from the learned model
    (:func:`geoprio.hotspots.forecast_learned.learned_forecast`); ``neighbours`` (from
    :func:`~geoprio.hotspots.forecast_learned.neighbour_matrix`) can be passed to reuse it across origins.
    """
    nb = neighbours if neighbours is not None else neighbour_matrix(centres, cell_size_m)
    return learned_forecast(
        past.cell,
        past.age_days,
        past.weight,
        nb,
        horizon_days=horizon_days,
        train_periods=int(train_periods),
        origin=past.origin,
        model=model,
        seed=seed,
    )


def forecast_surface(
    method: str,
    past: Past,
    centres: np.ndarray,
    *,
    cell_size_m: float,
    params: Mapping[str, Any],
    pairs: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
    neighbours: sp.csr_matrix | None = None,
    horizon_days: float = 30.0,
    seed: int = 0,
) -> np.ndarray:
    """The surface of ``method`` with hyperparameters ``params`` (one value per cell); ``horizon_days`` is the
    length of the forecast period (``sepp`` and ``learned`` use it), ``seed`` seeds ``learned``.
    """
    n = len(centres)
    if method == "prior":
        return prior_surface(past, n)
    if method == "recent":
        return recent_surface(past, n, decay_days=float(params["decay_days"]))
    if method == "kde":
        return kde_surface(past, centres, bandwidth_m=float(params["bandwidth_m"]))
    if method == "promap":
        return promap_surface(
            past,
            centres,
            cell_size_m=cell_size_m,
            bandwidth_cells=float(params["bandwidth_cells"]),
            bandwidth_weeks=float(params["bandwidth_weeks"]),
            pairs=pairs,
        )
    if method == "sepp":
        return sepp_surface(
            past,
            n,
            window_days=float(params["window_days"]),
            horizon_days=horizon_days,
            centres=centres,
            cell_size_m=cell_size_m,
            radius_cells=float(params.get("radius_cells", 0.0)),
        )
    if method == "learned":
        return learned_surface(
            past,
            centres,
            cell_size_m=cell_size_m,
            train_periods=float(params["train_periods"]),
            horizon_days=horizon_days,
            model=str(params.get("model", "hgb")),
            neighbours=neighbours,
            seed=seed,
        )
    raise InputError(f"unknown forecast method {method!r}; choose from {list(FORECAST_METHODS)}")
