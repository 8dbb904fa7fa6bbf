"""A self-exciting point process on grid cells, fitted by expectation-maximization (Mohler et al. 2011, 2015).

Each cell ``i`` has a constant background rate ``μᵢ`` (incidents per day) and every incident
raises the rate of its own cell and, with a spatial kernel, of the cells around it (near-repeat
victimisation):

    ``λᵢ(t) = μᵢ + θ ω Σ_{tⱼ < t, t − tⱼ ≤ L} exp(−ω (t − tⱼ)) g_σ(cᵢ − c_{cell j})``

``θ`` is the expected number of incidents one incident triggers, ``1/ω`` their mean delay in
days, ``L`` (``max_lag_days``, 91 by default) truncates the triggering kernel so the pairs
stay few, and ``ω`` is capped at 24 a day (a mean delay of an hour). ``g_σ`` is a discrete
Gaussian over the lattice offsets ``o`` (in cells) within ``radius_cells`` of the incident's cell,
``g_σ(o) = exp(−‖o‖² / 2σ²) / Σ_{‖o'‖ ≤ r} exp(−‖o'‖² / 2σ²)`` (it sums to 1 over the offsets;
the part that falls on offsets outside the grid is lost, as triggered incidents outside the
area would be). ``σ = 0`` or ``radius_cells = 0`` puts all of it on the incident's own cell: the
grid model of Mohler, Short, Malinowski et al. (2015, *JASA* 110: 1399–1411); ``σ > 0`` adds
the spatial triggering of Mohler et al. (2011, *JASA* 106: 100–108) on the grid. It is fitted by
EM (Veen & Schoenberg 2008):

* E-step: each incident ``k`` is a background event with probability ``μ / λ(tₖ)`` and was
  triggered by an earlier ``j`` within the radius with probability
  ``θ ω e^{−ω Δ} g_σ(oⱼₖ) / λ(tₖ)``;
* M-step: ``μᵢ`` = the expected background events of cell ``i`` / ``T``; ``ω`` = the expected
  triggered events / ``Σ pⱼₖ Δⱼₖ`` (the closed forms of Mohler et al., which ignore the edge at
  ``T``); ``θ`` = the expected triggered events / ``Σⱼ mⱼ`` (``mⱼ`` = the part of ``j``'s kernel
  that falls on the grid, 1 when ``σ = 0``); ``σ`` maximizes the expected log-likelihood of the
  offsets with ``θ`` at that optimum, ``Σₒ Pₒ log g_σ(o) − P log Σⱼ mⱼ(σ)`` (``Pₒ`` the expected
  triggered pairs at offset ``o``; one-dimensional, bounded search on ``log σ``). Without the
  grid edge this is the weighted mean squared offset of the triggered pairs matched by the
  kernel's; with it, the edge's lost mass is counted (ignoring it biases ``σ`` low). ``σ`` is
  fitted by EM rather than chosen from candidates: the own-cell model is ``σ = 0``, so the fit
  falls back to it when the data show no spatial triggering, and a candidate grid would
  multiply the backtest's fits.

The forecast for ``[T, T + H)`` is each cell's expected count,
``μᵢ H + θ Σⱼ g_σ(cᵢ − c_{cell j}) (e^{−ω (T − tⱼ)} − e^{−ω (T + H − tⱼ)})``. Only incidents in
the last ``window_days`` before the origin are used (the background is constant within that
window). Weights are ignored (each incident counts once). Cells outside the grid (``-1``) are
left out.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize_scalar

from geoprio.errors import InputError

__all__ = ["MAX_SIGMA_CELLS", "CellLattice", "SeppFit", "cell_lattice", "fit_sepp", "sepp_forecast", "simulate_sepp", "spatial_kernel"]

#: The largest ``σ`` (cells) the M-step returns: beyond it the kernel is flat over the radius.
MAX_SIGMA_CELLS = 100.0


@dataclass(frozen=True)
class CellLattice:
    """The cells of a regular grid and their neighbours: ``dx``, ``dy`` (cells) the lattice offsets within
    ``radius_cells`` (``(0, 0)`` first), ``nb[o, c]`` the cell at offset ``o`` from cell ``c`` (``-1`` off the grid).
    """

    dx: np.ndarray
    dy: np.ndarray
    nb: np.ndarray
    radius_cells: float

    @property
    def d2(self) -> np.ndarray:
        """Squared length of each offset (cells²)."""
        return (self.dx**2 + self.dy**2).astype(float)

    @property
    def n_cells(self) -> int:
        return int(self.nb.shape[1])


def _offsets(radius_cells: float) -> tuple[np.ndarray, np.ndarray]:
    r = int(np.floor(radius_cells + 1e-9))
    g = np.arange(-r, r + 1)
    dx, dy = (a.ravel() for a in np.meshgrid(g, g, indexing="ij"))
    d2 = dx**2 + dy**2
    keep = d2 <= radius_cells**2 + 1e-9
    dx, dy, d2 = dx[keep], dy[keep], d2[keep]
    order = np.lexsort((dy, dx, d2))  # (0, 0) first
    return dx[order].astype(np.int64), dy[order].astype(np.int64)


def cell_lattice(centres: np.ndarray, cell_size_m: float, radius_cells: float) -> CellLattice:
    """The lattice of cells with centres ``centres`` (metres, on a regular grid of ``cell_size_m``) and
    their neighbours within ``radius_cells`` cell sizes (Euclidean, between centres).
    """
    c = np.asarray(centres, dtype=float).reshape(-1, 2)
    if not (cell_size_m > 0 and radius_cells >= 0):
        raise InputError("the spatial kernel needs cell_size_m > 0 and radius_cells ≥ 0")
    dx, dy = _offsets(radius_cells)
    n = len(c)
    if n == 0:
        return CellLattice(dx, dy, np.zeros((len(dx), 0), dtype=np.int64), float(radius_cells))
    # the lattice origin: the most common position of the centres within a cell (full cells; the centroids
    # of cells clipped by the study area's edge move less than half a cell and round to their own place)
    frac = np.mod(c / cell_size_m, 1.0)
    shift = np.zeros(2)
    for a in (0, 1):
        bins = np.bincount(np.floor(frac[:, a] * 100).astype(np.int64) % 100, minlength=100)
        top = (np.argmax(bins) + 0.5) / 100
        near = frac[:, a] - top - np.rint(frac[:, a] - top)  # signed circular distance to the mode
        shift[a] = top + float(np.median(near[np.abs(near) < 0.02]))
    ij = np.rint(c / cell_size_m - shift).astype(np.int64)
    full = np.abs(c / cell_size_m - shift - ij).max(axis=1) < 0.02
    if full.mean() < 0.5 or len(np.unique(ij, axis=0)) < n:
        raise InputError("the spatial kernel needs square cells: cell centres on a regular grid of cell_size_m")
    ij -= ij.min(axis=0)
    r = int(np.abs(dx).max()) if len(dx) else 0
    width = int(ij[:, 1].max()) + 2 * r + 1
    key = (ij[:, 0] + r) * width + (ij[:, 1] + r)
    order = np.argsort(key)
    skey = key[order]
    nb = np.full((len(dx), n), -1, dtype=np.int64)
    for o, (a, b) in enumerate(zip(dx, dy, strict=True)):
        want = key + a * width + b
        pos = np.minimum(np.searchsorted(skey, want), n - 1)
        hit = skey[pos] == want
        nb[o, hit] = order[pos[hit]]
    return CellLattice(dx, dy, nb, float(radius_cells))


def spatial_kernel(d2: np.ndarray, sigma_cells: float) -> np.ndarray:
    """The discrete Gaussian over offsets of squared length ``d2`` (cells²), summing to 1; ``σ = 0``: all on ``d2 = 0``."""
    d2 = np.asarray(d2, dtype=float)
    if sigma_cells <= 0:
        return (d2 == 0).astype(float)
    g = np.exp(-d2 / (2.0 * sigma_cells**2))
    return g / g.sum()


def _log_kernel(d2: np.ndarray, sigma_cells: float) -> np.ndarray:
    z = -d2 / (2.0 * sigma_cells**2)
    return z - (z.max() + np.log(np.exp(z - z.max()).sum()))


def _sigma_step(d2: np.ndarray, p_off: np.ndarray, exposure_off: np.ndarray) -> float:
    """The ``σ`` that maximizes ``Σₒ Pₒ log g_σ(o) − P log Σₒ g_σ(o) Mₒ`` (``Pₒ`` the expected triggered pairs
    at offset ``o``, ``P`` their sum, ``Mₒ`` the incidents whose offset ``o`` is on the grid): the
    expected log-likelihood with ``θ`` at its own optimum ``P / Σₒ g_σ(o) Mₒ``.
    """
    total = float(p_off.sum())
    if total <= 0 or float(p_off[1:].sum()) <= 1e-12 * total:
        return 0.0

    def neg(log_s: float) -> float:
        lg = _log_kernel(d2, float(np.exp(log_s)))
        return -(float(p_off @ lg) - total * float(np.log(np.exp(lg) @ exposure_off)))

    res = minimize_scalar(neg, bounds=(np.log(1e-2), np.log(MAX_SIGMA_CELLS)), method="bounded", options={"xatol": 1e-6})
    return float(np.exp(res.x))


@dataclass(frozen=True)
class SeppFit:
    """A fitted grid SEPP: background rates ``mu`` per cell (per day), ``theta``, ``omega`` (per
    day), the window length ``T`` in days, the incidents used (cell, time in days from the
    window start) and the EM iterations run; ``sigma_cells`` the spatial kernel's bandwidth
    (cells, 0 = own cell only) over ``lattice`` (``None``: own cell only).
    """

    mu: np.ndarray
    theta: float
    omega: float
    T: float
    cell: np.ndarray
    t: np.ndarray
    iterations: int
    sigma_cells: float = 0.0
    lattice: CellLattice | None = None


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


def _neighbour_pairs(cell: np.ndarray, t: np.ndarray, lattice: CellLattice, max_lag: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pairs (``j``, ``k``, offset index) with ``k`` in a *neighbouring* cell of ``j`` (offsets ≠ 0) and
    ``0 < tₖ − tⱼ ≤ max_lag``; ``cell``, ``t`` sorted by (cell, t).
    """
    span = float(t.max() if len(t) else 0.0) + max_lag + 1.0
    key = cell * span + t
    idx = np.arange(len(t))
    js, ks, os_ = [np.zeros(0, dtype=np.int64)], [np.zeros(0, dtype=np.int64)], [np.zeros(0, dtype=np.int64)]
    for o in range(1, len(lattice.dx)):
        target = lattice.nb[o, cell]
        ok = target >= 0
        if not ok.any():
            continue
        base = target[ok] * span
        lo = np.searchsorted(key, base + t[ok], side="right")  # strictly later
        hi = np.searchsorted(key, base + t[ok] + max_lag, side="right")
        n_k = hi - lo
        total = int(n_k.sum())
        if total == 0:
            continue
        j = np.repeat(idx[ok], n_k)
        start = np.repeat(lo, n_k)
        within = np.arange(total) - np.repeat(np.cumsum(n_k) - n_k, n_k)
        js.append(j)
        ks.append(start + within)
        os_.append(np.full(total, o, dtype=np.int64))
    return np.concatenate(js), np.concatenate(ks), np.concatenate(os_)


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
    lattice: CellLattice | None = None,
    sigma_cells: float | None = None,
) -> SeppFit:
    """Fit the grid SEPP by EM to incidents in cells ``cell`` (``-1`` left out) at times ``t_days`` in ``[0, T_days)``.

    ``omega`` is capped at ``max_omega`` (per day; 24 = a mean delay of one hour): incidents
    recorded at the same time in the same cell (one event with several victims) would
    otherwise drive it to infinity. With a ``lattice`` (:func:`cell_lattice`, ``n_cells``
    cells) incidents also trigger in the cells within its radius: ``sigma_cells`` fixes the
    kernel's bandwidth, ``None`` fits it by EM (starting at half the radius, at least half a cell). Without a lattice, or
    with ``sigma_cells=0``, the model is the own-cell one.
    """
    cell = np.asarray(cell, dtype=np.int64)
    t = np.asarray(t_days, dtype=float)
    if cell.shape != t.shape:
        raise InputError("cell and t_days must have one value per incident")
    if not T_days > 0:
        raise InputError(f"T_days must be positive, got {T_days!r}")
    if lattice is not None and lattice.n_cells != n_cells:
        raise InputError(f"the lattice has {lattice.n_cells} cells, the fit {n_cells}")
    if sigma_cells is not None and not sigma_cells >= 0:
        raise InputError(f"sigma_cells must be ≥ 0, got {sigma_cells!r}")
    ok = (cell >= 0) & (t >= 0) & (t < T_days)
    order = np.lexsort((t[ok], cell[ok]))
    c, tt = cell[ok][order], t[ok][order]
    n = len(c)
    lat = lattice if lattice is not None and len(lattice.dx) > 1 else None  # None: own cell only
    spatial = lat is not None
    sigma = 0.0 if lat is None else (max(0.5, lat.radius_cells / 2) if sigma_cells is None else float(sigma_cells))
    if n == 0:
        return SeppFit(np.zeros(n_cells), 0.0, 1.0, float(T_days), c, tt, 0, sigma, lattice)
    j, k = _pairs(c, tt, max_lag_days)
    o = np.zeros(len(j), dtype=np.int64)
    if lat is not None:
        j2, k2, o2 = _neighbour_pairs(c, tt, lat, max_lag_days)
        j, k, o = np.concatenate([j, j2]), np.concatenate([k, k2]), np.concatenate([o, o2])
        d2 = lat.d2
        exposure_off = (lat.nb[:, c] >= 0).sum(axis=1).astype(float)  # Mₒ: incidents whose offset o is on the grid
    dt = tt[k] - tt[j]
    counts = np.bincount(c, minlength=n_cells).astype(float)
    mu = 0.5 * counts / T_days
    theta, omega = 0.5, 1.0 / 7.0
    it = 0
    for it in range(1, iterations + 1):  # noqa: B007 - the count is kept
        trig = theta * omega * np.exp(-omega * dt)
        if spatial:
            g = spatial_kernel(d2, sigma)
            trig = trig * g[o]
        lam = mu[c] + np.bincount(k, weights=trig, minlength=n)
        p_bg = mu[c] / lam
        p_tr = trig / lam[k]
        mu_new = np.bincount(c, weights=p_bg, minlength=n_cells) / T_days
        s_tr = float(p_tr.sum())
        lag_sum = float((p_tr * dt).sum())
        omega_new = min(max_omega, s_tr / lag_sum) if s_tr > 0 and lag_sum > 0 else (max_omega if s_tr > 0 else omega)
        sigma_new = sigma
        if spatial:
            if sigma_cells is None:
                sigma_new = _sigma_step(d2, np.bincount(o, weights=p_tr, minlength=len(d2)), exposure_off)
            theta_new = s_tr / float(spatial_kernel(d2, sigma_new) @ exposure_off)  # Σⱼ mⱼ: the kernel mass on the grid
        else:
            theta_new = s_tr / n
        change = max(
            abs(theta_new - theta),
            abs(omega_new - omega) / omega,
            float(np.abs(mu_new - mu).max()) * T_days / max(1.0, counts.max()),
            abs(sigma_new - sigma) / max(sigma, 1.0),
        )
        mu, theta, omega, sigma = mu_new, theta_new, omega_new, sigma_new
        if change < tol:
            break
    return SeppFit(
        mu=mu, theta=float(theta), omega=float(omega), T=float(T_days), cell=c, t=tt, iterations=it, sigma_cells=sigma, lattice=lattice
    )


def sepp_forecast(fit: SeppFit, horizon_days: float) -> np.ndarray:
    """Expected incidents per cell in ``[T, T + horizon_days)``, the triggered part spread by the spatial kernel."""
    out = fit.mu * horizon_days
    if len(fit.t) and fit.theta > 0:
        a = fit.T - fit.t
        own = np.bincount(
            fit.cell, weights=fit.theta * (np.exp(-fit.omega * a) - np.exp(-fit.omega * (a + horizon_days))), minlength=len(fit.mu)
        )
        lat = fit.lattice
        if lat is None or len(lat.dx) < 2 or fit.sigma_cells <= 0:
            return out + own
        g = spatial_kernel(lat.d2, fit.sigma_cells)
        for o in range(len(lat.dx)):
            to = lat.nb[o]
            ok = to >= 0
            out = out + np.bincount(to[ok], weights=g[o] * own[ok], minlength=len(fit.mu))
    return out


def simulate_sepp(
    mu: np.ndarray,
    theta: float,
    omega: float,
    T_days: float,
    *,
    seed: int = 0,
    shape: tuple[int, int] | None = None,
    sigma_cells: float = 0.0,
    radius_cells: float = 0.0,
) -> tuple[np.ndarray, np.ndarray]:
    """Incidents of the grid SEPP (untruncated in time) on ``[0, T_days)`` by its branching structure: cells and times.

    With ``sigma_cells > 0`` the cells form a ``shape = (rows, columns)`` grid (cell ``r × columns + c``)
    and each triggered incident moves from its parent's cell by an offset drawn from the discrete
    Gaussian within ``radius_cells`` (:func:`spatial_kernel`); offspring that fall off the grid are lost.
    """
    if not 0 <= theta < 1:
        raise InputError(f"theta must be in [0, 1) for a stable process, got {theta!r}")
    rng = np.random.default_rng(seed)
    mu = np.asarray(mu, dtype=float)
    move = sigma_cells > 0 and radius_cells >= 1
    if move and (shape is None or shape[0] * shape[1] != len(mu)):
        raise InputError("a spatial simulation needs shape = (rows, columns) with rows × columns = len(mu)")
    n_bg = rng.poisson(mu * T_days)
    cells = [np.repeat(np.arange(len(mu)), n_bg)]
    times = [rng.uniform(0, T_days, n_bg.sum())]
    gen_c, gen_t = cells[0], times[0]
    rows, cols = shape if shape is not None else (len(mu), 1)
    if move:
        dx, dy = _offsets(radius_cells)
        g = spatial_kernel((dx**2 + dy**2).astype(float), sigma_cells)
    while len(gen_t):
        kids = rng.poisson(theta, len(gen_t))
        gen_c = np.repeat(gen_c, kids)
        gen_t = np.repeat(gen_t, kids) + rng.exponential(1.0 / omega, kids.sum())
        keep = gen_t < T_days
        if move:
            pick = rng.choice(len(g), size=len(gen_c), p=g)
            row, col = gen_c // cols + dx[pick], gen_c % cols + dy[pick]
            keep &= (row >= 0) & (row < rows) & (col >= 0) & (col < cols)
            gen_c = row * cols + col
        gen_c, gen_t = gen_c[keep], gen_t[keep]
        cells.append(gen_c)
        times.append(gen_t)
    return np.concatenate(cells), np.concatenate(times)
