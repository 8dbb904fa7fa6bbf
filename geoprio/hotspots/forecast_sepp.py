"""A self-exciting point process on grid cells, fitted by expectation-maximization (Mohler et al. 2015).

Each cell ``i`` has a constant background rate ``μᵢ`` (incidents per day) and every incident
raises its own cell's rate for a while (near-repeat victimisation):

    ``λᵢ(t) = μᵢ + θ ω Σ_{j in cell i, tⱼ < t, t − tⱼ ≤ L} exp(−ω (t − tⱼ))``

``θ`` is the expected number of incidents one incident triggers, ``1/ω`` their mean delay in
days, ``L`` (``max_lag_days``, 91 by default) truncates the triggering kernel so the pairs
stay few, and ``ω`` is capped at 24 a day (a mean delay of an hour). This is
the grid model of Mohler, Short, Malinowski et al. (2015, *JASA* 110: 1399–1411), fitted as
they do by EM (Veen & Schoenberg 2008):

* E-step: each incident ``k`` is a background event with probability ``μ / λ(tₖ)`` and was
  triggered by an earlier ``j`` in its cell with probability ``θ ω e^{−ω Δ} / λ(tₖ)``;
* M-step: ``μᵢ`` = the expected background events of cell ``i`` / ``T``; ``θ`` = the expected
  triggered events / ``N``; ``ω`` = the expected triggered events / ``Σ pⱼₖ Δⱼₖ`` (the
  closed forms of Mohler et al., which ignore the edge at ``T``).

The forecast for ``[T, T + H)`` is each cell's expected count,
``μᵢ H + θ Σⱼ (e^{−ω (T − tⱼ)} − e^{−ω (T + H − tⱼ)})``. Only incidents in the last
``window_days`` before the origin are used (the background is constant within that window).
Weights are ignored (each incident counts once).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from geoprio.errors import InputError

__all__ = ["SeppFit", "fit_sepp", "sepp_forecast", "simulate_sepp"]


@dataclass(frozen=True)
class SeppFit:
    """A fitted grid SEPP: background rates ``mu`` per cell (per day), ``theta``, ``omega`` (per
    day), the window length ``T`` in days, the incidents used (cell, time in days from the
    window start) and the EM iterations run.
    """

    mu: np.ndarray
    theta: float
    omega: float
    T: float
    cell: np.ndarray
    t: np.ndarray
    iterations: int


def _pairs(cell: np.ndarray, t: np.ndarray, max_lag: float) -> tuple[np.ndarray, np.ndarray]:
    """Index pairs (earlier ``j``, later ``k``) in one cell within ``max_lag`` days; ``cell``, ``t`` sorted by (cell, t)."""
    js: list[np.ndarray] = []
    ks: list[np.ndarray] = []
    n = len(t)
    lag = 1
    while lag < n:
        k = np.arange(lag, n)
        j = k - lag
        ok = (cell[k] == cell[j]) & (t[k] - t[j] <= max_lag)
        if not ok.any():
            break  # sorted by cell then time: a larger lag only goes further back or to another cell
        js.append(j[ok])
        ks.append(k[ok])
        lag += 1
    if not js:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    return np.concatenate(js), np.concatenate(ks)


def fit_sepp(
    cell: np.ndarray,
    t_days: np.ndarray,
    n_cells: int,
    T_days: float,
    *,
    max_lag_days: float = 91.0,
    iterations: int = 100,
    tol: float = 1e-5,
    max_omega: float = 24.0,
) -> SeppFit:
    """Fit the grid SEPP by EM to incidents in cells ``cell`` (``-1`` left out) at times ``t_days`` in ``[0, T_days)``.

    ``omega`` is capped at ``max_omega`` (per day; 24 = a mean delay of one hour): incidents
    recorded at the same time in the same cell (one event with several victims) would
    otherwise drive it to infinity.
    """
    cell = np.asarray(cell, dtype=np.int64)
    t = np.asarray(t_days, dtype=float)
    if cell.shape != t.shape:
        raise InputError("cell and t_days must have one value per incident")
    if not T_days > 0:
        raise InputError(f"T_days must be positive, got {T_days!r}")
    ok = (cell >= 0) & (t >= 0) & (t < T_days)
    order = np.lexsort((t[ok], cell[ok]))
    c, tt = cell[ok][order], t[ok][order]
    n = len(c)
    if n == 0:
        return SeppFit(np.zeros(n_cells), 0.0, 1.0, float(T_days), c, tt, 0)
    j, k = _pairs(c, tt, max_lag_days)
    dt = tt[k] - tt[j]
    counts = np.bincount(c, minlength=n_cells).astype(float)
    mu = 0.5 * counts / T_days
    theta, omega = 0.5, 1.0 / 7.0
    it = 0
    for it in range(1, iterations + 1):  # noqa: B007 - the count is kept
        trig = theta * omega * np.exp(-omega * dt)
        lam = mu[c] + np.bincount(k, weights=trig, minlength=n)
        p_bg = mu[c] / lam
        p_tr = trig / lam[k]
        mu_new = np.bincount(c, weights=p_bg, minlength=n_cells) / T_days
        s_tr = float(p_tr.sum())
        theta_new = s_tr / n
        lag_sum = float((p_tr * dt).sum())
        omega_new = min(max_omega, s_tr / lag_sum) if s_tr > 0 and lag_sum > 0 else (max_omega if s_tr > 0 else omega)
        change = max(
            abs(theta_new - theta), abs(omega_new - omega) / omega, float(np.abs(mu_new - mu).max()) * T_days / max(1.0, counts.max())
        )
        mu, theta, omega = mu_new, theta_new, omega_new
        if change < tol:
            break
    return SeppFit(mu=mu, theta=float(theta), omega=float(omega), T=float(T_days), cell=c, t=tt, iterations=it)


def sepp_forecast(fit: SeppFit, horizon_days: float) -> np.ndarray:
    """Expected incidents per cell in ``[T, T + horizon_days)``."""
    out = fit.mu * horizon_days
    if len(fit.t) and fit.theta > 0:
        a = fit.T - fit.t
        out = out + np.bincount(
            fit.cell, weights=fit.theta * (np.exp(-fit.omega * a) - np.exp(-fit.omega * (a + horizon_days))), minlength=len(fit.mu)
        )
    return out


def simulate_sepp(mu: np.ndarray, theta: float, omega: float, T_days: float, *, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Incidents of the grid SEPP (untruncated kernel) on ``[0, T_days)`` by its branching structure: cells and times."""
    if not 0 <= theta < 1:
        raise InputError(f"theta must be in [0, 1) for a stable process, got {theta!r}")
    rng = np.random.default_rng(seed)
    mu = np.asarray(mu, dtype=float)
    n_bg = rng.poisson(mu * T_days)
    cells = [np.repeat(np.arange(len(mu)), n_bg)]
    times = [rng.uniform(0, T_days, n_bg.sum())]
    gen_c, gen_t = cells[0], times[0]
    while len(gen_t):
        kids = rng.poisson(theta, len(gen_t))
        gen_c = np.repeat(gen_c, kids)
        gen_t = np.repeat(gen_t, kids) + rng.exponential(1.0 / omega, kids.sum())
        keep = gen_t < T_days
        gen_c, gen_t = gen_c[keep], gen_t[keep]
        cells.append(gen_c)
        times.append(gen_t)
    return np.concatenate(cells), np.concatenate(times)
