r"""Getis–Ord Gi* hot spots on grid cells: weights, analytic and permutation inference, FDR.

The numeric core works on cell centres in metres (``xy``, shape ``(n, 2)``) and one value
per cell (incident counts); it knows nothing about files or geometry. The statistic is the
Gi* of Getis & Ord (1992) in the standardized form of Ord & Getis (1995), for any
non-negative weights ``w_ij`` that include the cell itself (``w_ii > 0``):

.. math::

    z_i = \frac{\sum_j w_{ij} x_j - \bar x W_i}{S \sqrt{(n S^{(1)}_i - W_i^2)/(n - 1)}},
    \qquad W_i = \sum_j w_{ij},\; S^{(1)}_i = \sum_j w_{ij}^2,\;
    S = \sqrt{\overline{x^2} - \bar x^2}.

With binary weights (distance band or k nearest neighbours, the defaults) this equals
PySAL esda's ``G_Local(y, w, transform="B", star=True).Zs`` (tested to 1e-8). The
analytic p-value is two-sided, ``2 (1 − Φ(|z|))``; ``p_one_sided`` is esda's ``p_norm``.

The permutation test is esda's conditional randomization: each cell keeps its own value
and its neighbours' values are drawn without replacement from the other ``n − 1`` cells.
The pseudo p-value is ``(min(m₊, m₋) + 1) / (P + 1)``, with ``m₊`` the draws whose
weighted sum is at least the observed one and ``m₋`` those at most it: one-sided, in the
observed direction, like esda's ``p_sim``; ``p_perm`` doubles it for a two-sided test.
esda folds ``P − m₊`` instead of ``m₋``, which counts ties on the high side only: for
counts, where a cell and its neighbours often hold the lowest possible sum (all zero),
every draw ties, and esda reports ``p = 1/(P + 1)``, a spurious 99 % cold spot; counting
ties on both sides gives such a cell the share of draws that are also all zero. Without
ties the two definitions agree. As in esda, the draws are shared by the cells (each
permutation draws one ordered sample of distinct cells; each cell takes the first ``k`` that
are not itself: exact for every cell, see :mod:`geoprio.hotspots.permutation`). The same
``random_state`` gives the same p-values, with or without numba (compiled and parallel when
installed, vectorized numpy otherwise).

Cells are classed as ArcGIS does (``Gi_Bin``): ``+3``/``-3`` hot/cold at 99 % confidence,
``±2`` at 95 %, ``±1`` at 90 %, ``0`` not significant, with the Benjamini–Hochberg false
discovery rate correction (on by default, :func:`scipy.stats.false_discovery_control`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import scipy.sparse as sp
from scipy import stats
from scipy.spatial import cKDTree

from geoprio.errors import InputError
from geoprio.hotspots.accel import ProgressCallback
from geoprio.hotspots.permutation import permutation_counts

__all__ = [
    "CONFIDENCE_LEVELS",
    "GiStarResult",
    "classify",
    "distance_band_weights",
    "fdr_adjust",
    "gi_star",
    "gi_star_matrix",
    "knn_weights",
    "make_weights",
]

#: (bin, alpha) pairs: ArcGIS's Gi_Bin classes.
CONFIDENCE_LEVELS: tuple[tuple[int, float], ...] = ((3, 0.01), (2, 0.05), (1, 0.10))

WeightsKind = Literal["distance", "knn"]


def _check_xy(xy: np.ndarray, name: str = "xy") -> np.ndarray:
    xy = np.asarray(xy, dtype=float)
    if xy.ndim != 2 or xy.shape[1] != 2:
        raise InputError(f"{name} must have shape (n, 2) (x, y in metres), got {xy.shape}")
    if not np.isfinite(xy).all():
        raise InputError(f"{name} has missing or infinite coordinates")
    return xy


def distance_band_weights(xy: np.ndarray, *, distance_m: float, self_weight: float = 1.0) -> sp.csr_array:
    """Binary distance-band weights: ``w_ij = 1`` when cells i and j are at most ``distance_m`` apart.

    The diagonal holds ``self_weight`` (1 for Gi*). Built from a KD-tree's pairs within
    the band (memory proportional to the number of neighbours, never ``n²``).
    """
    xy = _check_xy(xy)
    if not np.isfinite(distance_m) or distance_m <= 0:
        raise InputError(f"distance_m must be a positive number of metres, got {distance_m!r}")
    n = len(xy)
    tree = cKDTree(xy)
    pairs = tree.query_pairs(r=float(distance_m), output_type="ndarray")
    rows = np.concatenate([pairs[:, 0], pairs[:, 1], np.arange(n)])
    cols = np.concatenate([pairs[:, 1], pairs[:, 0], np.arange(n)])
    data = np.concatenate([np.ones(2 * len(pairs)), np.full(n, float(self_weight))])
    w = sp.csr_array((data, (rows, cols)), shape=(n, n))
    w.sort_indices()
    return w


def knn_weights(xy: np.ndarray, *, k: int, self_weight: float = 1.0) -> sp.csr_array:
    """Binary k-nearest-neighbour weights (row i: the ``k`` cells nearest to i, plus i itself).

    Not symmetric. Ties at the k-th distance (common on regular grids) are broken by the
    KD-tree's order, deterministically; prefer a distance band on regular grids.
    """
    xy = _check_xy(xy)
    n = len(xy)
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise InputError(f"k must be a positive integer, got {k!r}")
    if k > n - 1:
        raise InputError(f"k = {k} nearest neighbours needs at least {k + 1} cells, got {n}")
    _dist, idx = cKDTree(xy).query(xy, k=k + 1)
    # drop the cell itself from its list (it is usually first, but not with duplicate centres)
    own = idx == np.arange(n)[:, None]
    has_own = own.any(axis=1)
    keep = ~own
    keep[~has_own, -1] = False  # a cell missing from its own list: drop its farthest neighbour
    nb = idx[keep].reshape(n, k)
    rows = np.concatenate([np.repeat(np.arange(n), k), np.arange(n)])
    cols = np.concatenate([nb.ravel(), np.arange(n)])
    data = np.concatenate([np.ones(n * k), np.full(n, float(self_weight))])
    w = sp.csr_array((data, (rows, cols)), shape=(n, n))
    w.sort_indices()
    return w


def make_weights(
    xy: np.ndarray,
    *,
    kind: WeightsKind = "distance",
    distance_m: float | None = None,
    k: int | None = None,
) -> sp.csr_array:
    """Distance-band (``kind="distance"``, needs ``distance_m``) or k-nearest (``kind="knn"``, needs ``k``) weights."""
    if kind == "distance":
        if distance_m is None:
            raise InputError("distance-band weights need distance_m (metres)")
        return distance_band_weights(xy, distance_m=distance_m)
    if kind == "knn":
        if k is None:
            raise InputError("k-nearest-neighbour weights need k")
        return knn_weights(xy, k=k)
    raise InputError(f"weights must be 'distance' or 'knn', got {kind!r}")


@dataclass(frozen=True)
class GiStarResult:
    """Gi* per cell (arrays aligned with the input values).

    ``z`` the standardized Gi*; ``p`` its two-sided analytic p-value; ``p_one_sided``
    esda's ``p_norm``; ``p_sim`` esda's folded one-sided permutation pseudo p-value and
    ``p_perm`` its two-sided version (``None`` without permutations); ``q`` the p-values
    used for the classes after the FDR correction (or unchanged without it); ``bin`` the
    class −3…3; ``n_neighbors`` the neighbours of each cell, itself excluded.
    """

    z: np.ndarray
    p: np.ndarray
    p_one_sided: np.ndarray
    p_sim: np.ndarray | None
    p_perm: np.ndarray | None
    q: np.ndarray
    bin: np.ndarray
    n_neighbors: np.ndarray
    permutations: int
    fdr: bool
    inference: str


def _check_values(values: np.ndarray, weights: sp.csr_array | sp.csr_matrix) -> tuple[np.ndarray, sp.csr_array]:
    x = np.asarray(values, dtype=float)
    if x.ndim not in (1, 2):
        raise InputError(f"values must be one value per cell (or cells × periods), got shape {x.shape}")
    n = x.shape[0]
    w = sp.csr_array(weights)
    if w.shape != (n, n):
        raise InputError(f"weights have shape {w.shape} but there are {n} cells")
    if n < 3:
        raise InputError(f"Gi* needs at least 3 cells, got {n}")
    if not np.isfinite(x).all():
        raise InputError("values have missing or infinite entries")
    if (w.data < 0).any():
        raise InputError("weights must be non-negative")
    if (w.diagonal() <= 0).any():
        raise InputError("Gi* weights must include each cell itself (a positive diagonal)")
    return x, w


def gi_star_matrix(values: np.ndarray, weights: sp.csr_array | sp.csr_matrix) -> np.ndarray:
    """Analytic Gi* z-scores for one or several columns of values (cells × periods), vectorized.

    A column whose values are all equal has no Gi* (its z-scores are NaN).
    """
    x, w = _check_values(values, weights)
    one = x.ndim == 1
    X = x[:, None] if one else x
    n = X.shape[0]
    mean = X.mean(axis=0)
    s = np.sqrt(np.maximum((X**2).mean(axis=0) - mean**2, 0.0))
    lag = w @ X
    wsum = np.asarray(w.sum(axis=1)).ravel()
    w2sum = np.asarray(w.multiply(w).sum(axis=1)).ravel()
    spread = np.sqrt(np.maximum(n * w2sum - wsum**2, 0.0) / (n - 1))
    num = lag - wsum[:, None] * mean[None, :]
    den = spread[:, None] * s[None, :]
    z = np.full(X.shape, np.nan)
    np.divide(num, den, out=z, where=den > 0)
    return z[:, 0] if one else z


def fdr_adjust(p: np.ndarray) -> np.ndarray:
    """Benjamini–Hochberg adjusted p-values (q-values); NaN stays NaN."""
    p = np.asarray(p, dtype=float)
    q = np.full(p.shape, np.nan)
    ok = np.isfinite(p)
    if ok.any():
        q[ok] = stats.false_discovery_control(np.clip(p[ok], 0.0, 1.0), method="bh")
    return q


def classify(z: np.ndarray, p: np.ndarray, *, levels: tuple[tuple[int, float], ...] = CONFIDENCE_LEVELS) -> np.ndarray:
    """ArcGIS's ``Gi_Bin``: ``sign(z) × 3`` when ``p < 0.01``, ``× 2`` when ``p < 0.05``, ``× 1`` when ``p < 0.10``, else 0."""
    z = np.asarray(z, dtype=float)
    p = np.asarray(p, dtype=float)
    out = np.zeros(z.shape, dtype=np.int8)
    sig = np.isfinite(p) & np.isfinite(z)
    for b, alpha in sorted(levels, key=lambda t: -t[1]):  # weakest first, strongest overwrites
        hit = sig & (p < alpha)
        out[hit] = b
    return (out * np.sign(np.nan_to_num(z))).astype(np.int8)


def gi_star(
    values: np.ndarray,
    weights: sp.csr_array | sp.csr_matrix,
    *,
    permutations: int = 0,
    fdr: bool = True,
    random_state: int | np.random.Generator | None = None,
    progress: ProgressCallback | None = None,
) -> GiStarResult:
    """Gi* of one value per cell with analytic (and optionally permutation) inference.

    Parameters
    ----------
    values
        One non-negative value per cell (incident counts, harm-weighted counts).
    weights
        Sparse ``n × n`` weights including each cell itself (:func:`distance_band_weights`,
        :func:`knn_weights`).
    permutations
        Number of conditional permutations (0: analytic inference only). With
        permutations the classes use the permutation p-values.
    fdr
        Apply the Benjamini–Hochberg correction before classing the cells.
    random_state
        Seed or generator of the permutations.
    progress
        Optional ``progress(step, done, total)`` callback, called as the permutations advance.
    """
    x, w = _check_values(values, weights)
    if x.ndim != 1:
        raise InputError(f"gi_star takes one value per cell; got shape {x.shape} (use gi_star_matrix for several periods)")
    if isinstance(permutations, bool) or not isinstance(permutations, (int, np.integer)) or permutations < 0:
        raise InputError(f"permutations must be a non-negative integer, got {permutations!r}")
    if np.ptp(x) == 0:
        raise InputError(f"all {len(x)} cells have the same value ({x[0]:g}); Gi* is undefined")
    z = gi_star_matrix(x, w)
    p1 = stats.norm.sf(np.abs(z))
    p = np.minimum(1.0, 2.0 * p1)
    n_nb = np.diff(w.indptr) - (w.diagonal() != 0)
    p_sim = p_perm = None
    used = p
    inference = "analytic"
    if permutations:
        p_sim = _permutation_p(x, w, permutations, np.random.default_rng(random_state), progress)
        p_perm = np.minimum(1.0, 2.0 * p_sim)
        used = p_perm
        inference = "permutation"
    q = fdr_adjust(used) if fdr else used.copy()
    return GiStarResult(
        z=z,
        p=p,
        p_one_sided=p1,
        p_sim=p_sim,
        p_perm=p_perm,
        q=q,
        bin=classify(z, q),
        n_neighbors=n_nb.astype(np.int64),
        permutations=int(permutations),
        fdr=bool(fdr),
        inference=inference,
    )


def _neighbour_table(w: sp.csr_array) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Off-diagonal neighbours as padded (n, kmax) index and weight tables, and the self weights."""
    n = w.shape[0]
    coo = w.tocoo()
    off = coo.row != coo.col
    rows, cols, vals = coo.row[off], coo.col[off], coo.data[off]
    order = np.lexsort((cols, rows))
    rows, cols, vals = rows[order], cols[order], vals[order]
    card = np.bincount(rows, minlength=n)
    kmax = int(card.max()) if n else 0
    start = np.concatenate([[0], np.cumsum(card)[:-1]])
    pos = np.arange(len(rows)) - start[rows]
    idx = np.full((n, max(kmax, 1)), -1, dtype=np.int64)
    wt = np.zeros((n, max(kmax, 1)))
    idx[rows, pos] = cols
    wt[rows, pos] = vals
    return idx, wt, w.diagonal()


def _permutation_p(
    x: np.ndarray, w: sp.csr_array, permutations: int, rng: np.random.Generator, progress: ProgressCallback | None = None
) -> np.ndarray:
    """The one-sided pseudo p-values of the conditional permutation test (see the module docstring)."""
    nb_idx, nb_w, self_w = _neighbour_table(w)
    card = (nb_idx >= 0).sum(axis=1)
    kmax = nb_w.shape[1]
    observed = np.asarray(w @ x).ravel()
    tol = 1e-9 * max(1.0, float(np.abs(x).max()) * float(np.abs(w.data).max()) * (kmax + 1))
    seed = int(rng.integers(0, 2**63 - 1, dtype=np.int64))
    high, low = permutation_counts(x, nb_w, self_w, card, observed, tol=tol, permutations=permutations, seed=seed, progress=progress)
    p_sim = (np.minimum(high, low) + 1.0) / (permutations + 1.0)
    p_sim[card == 0] = 1.0  # a cell without neighbours cannot be tested
    return np.minimum(p_sim, 1.0)
