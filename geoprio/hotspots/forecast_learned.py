"""A learned forecast: a Poisson gradient-boosting model on lagged counts of each cell and its neighbours.

The numeric core of the ``learned`` method of :mod:`geoprio.hotspots.forecast_methods`. At an
origin ``o`` the past is cut into periods of the forecast's length ``H`` (``horizon_days``)
counted back from the origin: period 0 is ``[o − H, o)``, period 1 is ``[o − 2H, o − H)``
and so on. For a *prediction point* ``p`` (``p = −1`` is the origin itself, the forecast;
``p = k ≥ 0`` is the earlier pseudo-origin ``o − (k + 1) H``, whose target is period ``k``)
each cell's features use only the periods **after** ``p`` (older than the target):

* the cell's counts ``lag_ℓ = C[p + ℓ]`` for ``ℓ`` in :data:`LAGS` (1, 2, 3, 6, 12 periods
  back), their mean over the last 12 periods, its long-run rate (all older periods, per
  period) and four decayed counts (``Σ C[p + ℓ] e^{−(ℓ − ½) H / τ}``, ``τ`` = 1, 2, 4 and 8
  years: 365, 730, 1461 and 2922 days);
* the same eleven features averaged over the cell's neighbours (cells whose centres are
  within 1.5 cell sizes: the queen ring of a square grid, the six neighbours of a hexagonal one);
* the season of the target period: ``sin`` and ``cos`` of its start's day of the year.

A Poisson model is fitted on the pseudo-origins ``k = 0 … train_periods − 1`` (targets: the
counts of periods before the origin, so **the fit never sees the forecast period**) and
predicts each cell's expected count in ``[o, o + H)``: ``model="hgb"``, a
:class:`sklearn.ensemble.HistGradientBoostingRegressor` with ``loss="poisson"`` (interactions,
but its predictions come in steps, so many cells tie), or ``model="glm"``, a
:class:`sklearn.linear_model.PoissonRegressor` on the standardized ``log(1 + feature)`` of
the counts (and the two season terms): ``log μ`` linear in them, smooth, and few ties. The
backtest's candidates are the GLM trained on 12 or 36 periods (gradient boosting is slower
5–10× and was behind it on Medellín and Chicago). Rows of cells with no incident at all in
their own and their neighbours' history are subsampled (at most ``zero_rows`` × the other rows, each kept row weighted by the
inverse of its sampling rate), and then all rows down to ``max_rows`` if there are more; the
model and the subsamples are seeded.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.spatial import cKDTree
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.linear_model import PoissonRegressor
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler
from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

from geoprio.errors import InputError

__all__ = [
    "FEATURES",
    "LAGS",
    "MODELS",
    "LagTable",
    "fit_learned",
    "lag_table",
    "learned_forecast",
    "neighbour_matrix",
]

#: Lags (in periods) of each cell's and its neighbours' counts.
LAGS: tuple[int, ...] = (1, 2, 3, 6, 12)
_DECAYS_DAYS: tuple[float, ...] = (365.0, 730.0, 1461.0, 2922.0)
_OWN = [f"lag_{lag}" for lag in LAGS] + ["mean_12", "rate_all"] + [f"decay_{int(t)}" for t in _DECAYS_DAYS]
#: The learned model's kinds: gradient boosting or a log-linear Poisson GLM.
MODELS: tuple[str, ...] = ("hgb", "glm")
#: Feature names, in the columns' order of :class:`LagTable` ``X``.
FEATURES: tuple[str, ...] = (*_OWN, *[f"nb_{f}" for f in _OWN], "season_sin", "season_cos")


def neighbour_matrix(centres: np.ndarray, cell_size_m: float) -> sp.csr_matrix:
    """Row-normalized adjacency of the cells whose centres are within 1.5 cell sizes (self excluded).

    A cell without neighbours has an empty row (its neighbours' features are 0).
    """
    c = np.asarray(centres, dtype=float)
    if not cell_size_m > 0:
        raise InputError(f"cell_size_m must be positive, got {cell_size_m!r}")
    pq = cKDTree(c).query_pairs(1.5 * cell_size_m, output_type="ndarray")
    n = len(c)
    i = np.concatenate([pq[:, 0], pq[:, 1]])
    j = np.concatenate([pq[:, 1], pq[:, 0]])
    deg = np.bincount(i, minlength=n).astype(float)
    w = 1.0 / deg[i] if len(i) else np.zeros(0)
    return sp.csr_matrix((w, (i, j)), shape=(n, n))


def _period_counts(cell: np.ndarray, age_days: np.ndarray, weight: np.ndarray, n_cells: int, horizon_days: float) -> np.ndarray:
    """``C[k, i]``: the weighted count of cell ``i`` in period ``k`` (``[o − (k+1)H, o − kH)``); shape (periods, cells)."""
    ok = cell >= 0
    b = np.floor(age_days[ok] / horizon_days).astype(np.int64)
    n_periods = int(b.max()) + 1 if len(b) else 0
    flat = np.bincount(b * n_cells + cell[ok], weights=weight[ok], minlength=n_periods * n_cells)
    return flat.reshape(n_periods, n_cells)


def _summaries(C: np.ndarray, k_max: int, horizon_days: float) -> np.ndarray:
    """The own-cell features of every prediction point ``p = −1 … k_max − 1``, shape (k_max + 1, cells, 11).

    Row ``q = p + 1`` uses only the periods ``C[q:]`` (older than the target ``C[p]``): lags
    by shifting, the mean of 12 and the long-run rate from suffix sums, the decayed counts by
    the recursion ``E[i] = C[i] + r E[i + 1]`` (``r = e^{−H/τ}``), started from the periods
    older than every training target in one weighted sum.
    """
    P, n = C.shape
    q = np.arange(k_max + 1)
    m = min(P, k_max + max(LAGS) + 1)  # the rows any feature reads one by one; older ones only as sums
    head = C[:m]
    pad = np.vstack([head, np.zeros((max(LAGS) + 1, n))])
    S = np.zeros((m + 13, n))
    S[:m] = np.cumsum(head[::-1], axis=0)[::-1] + C[m:].sum(axis=0)  # S[i] = Σ_{j ≥ i} C[j]
    feats = [pad[q + lag - 1] for lag in LAGS]
    feats.append((S[q] - S[q + 12]) / 12.0)
    feats.append(S[q] / np.maximum(P - q, 1)[:, None])
    for tau in _DECAYS_DAYS:
        r = np.exp(-horizon_days / tau)
        E = np.zeros((k_max + 2, n))
        E[k_max + 1] = r ** np.arange(P - k_max - 1) @ C[k_max + 1 :] if P > k_max + 1 else 0.0
        for i in range(k_max, -1, -1):
            E[i] = C[i] + r * E[i + 1]
        feats.append(np.exp(-0.5 * horizon_days / tau) * E[q])
    return np.stack(feats, axis=-1)


@dataclass(frozen=True)
class LagTable:
    """Training rows (``X``, ``y``, ``sample_weight``, ``period`` = the target's period ``k``
    and ``cell``) and the forecast rows ``X_next`` (one per cell) of :func:`lag_table`.
    """

    X: np.ndarray
    y: np.ndarray
    sample_weight: np.ndarray
    period: np.ndarray
    cell: np.ndarray
    X_next: np.ndarray


def _season(origin: pd.Timestamp | None, p: int, horizon_days: float) -> tuple[float, float]:
    if origin is None:
        return 0.0, 0.0
    start = pd.Timestamp(origin) - pd.Timedelta(days=(p + 1) * horizon_days)
    a = 2 * np.pi * (start.day_of_year - 1) / 365.25
    return float(np.sin(a)), float(np.cos(a))


def _rows(C: np.ndarray, k_max: int, nb: sp.csr_matrix, horizon_days: float, origin: pd.Timestamp | None) -> np.ndarray:
    """Features of every prediction point ``p = −1 … k_max − 1`` (own, neighbours', season), shape (k_max + 1, cells, features)."""
    own = _summaries(C, k_max, horizon_days)
    K, n, f = own.shape
    near = np.asarray(nb @ own.transpose(1, 0, 2).reshape(n, K * f)).reshape(n, K, f).transpose(1, 0, 2)
    season = np.array([_season(origin, q - 1, horizon_days) for q in range(K)]).reshape(K, 1, 2)
    return np.concatenate([own, near, np.broadcast_to(season, (K, n, 2))], axis=-1)


def lag_table(
    cell: np.ndarray,
    age_days: np.ndarray,
    weight: np.ndarray,
    neighbours: sp.csr_matrix,
    *,
    horizon_days: float,
    train_periods: int,
    origin: pd.Timestamp | None = None,
    zero_rows: float = 1.0,
    max_rows: int = 120_000,
    seed: int = 0,
) -> LagTable:
    """The training and forecast rows at an origin from the incidents before it (see the module docstring).

    ``cell`` (``-1``: outside the grid), ``age_days`` (> 0) and ``weight`` describe the past
    incidents; ``neighbours`` is :func:`neighbour_matrix` of the grid (its size is the number
    of cells); ``origin`` (optional) gives the season features. Pseudo-origins need at least
    one older period, so at most ``periods − 1`` of them are used.
    """
    if not horizon_days > 0 or train_periods < 1 or not zero_rows >= 0:
        raise InputError(
            "learned forecast needs horizon_days > 0, train_periods ≥ 1 and zero_rows ≥ 0, "
            f"got {horizon_days!r}, {train_periods!r}, {zero_rows!r}"
        )
    n_cells = neighbours.shape[0]
    C = _period_counts(np.asarray(cell), np.asarray(age_days, dtype=float), np.asarray(weight, dtype=float), n_cells, horizon_days)
    k_max = min(train_periods, max(len(C) - 1, 0))
    if len(C) == 0:
        C = np.zeros((1, n_cells))
    rows = _rows(C, k_max, neighbours, horizon_days, origin)
    X_next = rows[0]
    if k_max == 0:
        z = np.zeros((0, len(FEATURES)), dtype=np.float32)
        return LagTable(z, np.zeros(0), np.zeros(0), np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), X_next.astype(np.float32))
    X = rows[1:].reshape(k_max * n_cells, len(FEATURES))
    y = C[:k_max].reshape(-1)
    period = np.repeat(np.arange(k_max), n_cells)
    cells = np.tile(np.arange(n_cells), k_max)
    rate_cols = [FEATURES.index("rate_all"), FEATURES.index("nb_rate_all")]
    empty = (X[:, rate_cols] == 0).all(axis=1)
    sw = np.ones(len(y))
    n_empty, n_other = int(empty.sum()), int((~empty).sum())
    cap = int(np.ceil(zero_rows * max(n_other, 1)))
    rng = np.random.default_rng(seed)
    keep = np.ones(len(y), dtype=bool)
    if n_empty > cap:
        keep[rng.choice(np.flatnonzero(empty), size=n_empty - cap, replace=False)] = False
        sw[empty] = n_empty / cap if cap else 0.0  # zero_rows=0: every empty row is left out
    if keep.sum() > max_rows:
        kept = np.flatnonzero(keep)
        sw *= len(kept) / max_rows
        keep[rng.choice(kept, size=len(kept) - max_rows, replace=False)] = False
    X, y, sw, period, cells = X[keep], y[keep], sw[keep], period[keep], cells[keep]
    return LagTable(X.astype(np.float32), y, sw, period, cells, X_next.astype(np.float32))


def _log_counts(X: np.ndarray) -> np.ndarray:
    """``log(1 + x)`` of the count features, the season terms as they are."""
    out = np.asarray(X, dtype=float).copy()
    out[:, :-2] = np.log1p(np.maximum(out[:, :-2], 0.0))
    return out


def fit_learned(
    table: LagTable, *, model: str = "hgb", max_iter: int = 100, max_leaf_nodes: int = 15, seed: int = 0
) -> HistGradientBoostingRegressor | Pipeline | None:
    """The Poisson model (``model``: ``"hgb"`` or ``"glm"``) fitted on ``table``'s training rows; ``None`` when they hold no incident."""
    if model not in MODELS:
        raise InputError(f"learned model must be one of {list(MODELS)}, got {model!r}")
    if len(table.y) == 0 or not (table.y > 0).any():
        return None
    # unit weights are left out: scikit-learn's binning takes weighted percentiles, 10× slower
    sw = None if (table.sample_weight == 1).all() else table.sample_weight
    est: HistGradientBoostingRegressor | Pipeline
    if model == "glm":
        est = make_pipeline(
            FunctionTransformer(_log_counts), StandardScaler(), PoissonRegressor(alpha=1e-4, solver="newton-cholesky", max_iter=100)
        )
        with threadpool_limits(1):
            est.fit(table.X, table.y, poissonregressor__sample_weight=sw)
        return est
    est = HistGradientBoostingRegressor(
        loss="poisson",
        learning_rate=0.1,
        max_iter=max_iter,
        max_leaf_nodes=max_leaf_nodes,
        min_samples_leaf=20,
        early_stopping=False,
        random_state=seed,
    )
    with threadpool_limits(1):  # one thread: on a shared machine OpenMP's waits cost 10–20× the fit itself
        est.fit(table.X, table.y, sample_weight=sw)
    return est


def learned_forecast(
    cell: np.ndarray,
    age_days: np.ndarray,
    weight: np.ndarray,
    neighbours: sp.csr_matrix,
    *,
    horizon_days: float,
    train_periods: int,
    origin: pd.Timestamp | None = None,
    model: str = "hgb",
    max_iter: int = 100,
    max_leaf_nodes: int = 15,
    seed: int = 0,
) -> np.ndarray:
    """Each cell's expected count in ``[origin, origin + horizon_days)`` from the learned model.

    Without a training row that holds an incident (too little history), the forecast is each
    cell's long-run rate per period (0 everywhere without history).
    """
    table = lag_table(cell, age_days, weight, neighbours, horizon_days=horizon_days, train_periods=train_periods, origin=origin, seed=seed)
    est = fit_learned(table, model=model, max_iter=max_iter, max_leaf_nodes=max_leaf_nodes, seed=seed)
    if est is None:
        return np.asarray(table.X_next[:, FEATURES.index("rate_all")], dtype=float)
    with threadpool_limits(1):
        return np.asarray(est.predict(table.X_next), dtype=float)
