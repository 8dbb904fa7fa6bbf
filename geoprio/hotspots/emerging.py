"""Emerging hot spots: how each cell's Gi* evolves over time bins, classed as ArcGIS does.

For every time bin (year, quarter, month, week) the Gi* z-score of each cell is computed
on that bin's counts (:func:`geoprio.hotspots.gistar.gi_star_matrix`, analytic, with the
Benjamini–Hochberg correction within each bin). A bin is a significant **hot** (or
**cold**) bin for a cell when its corrected two-sided p-value is below ``alpha`` and its
z is positive (negative). The Mann–Kendall test on the cell's series of z-scores gives the
trend of the intensity of clustering (:func:`mann_kendall`). Each cell is then classed
following ArcGIS Pro's *Emerging Hot Spot Analysis* (``learnmoreemerging.htm``); with
``n`` bins, ``h`` the cell's hot bins and ``last`` the final bin:

==================  ===================================================================
pattern             rule (cold patterns mirror them with cold bins)
==================  ===================================================================
historical          ``h ≥ 0.9 n`` and the final bin is not hot
intensifying        ``h ≥ 0.9 n``, final bin hot, significant increasing trend
diminishing         ``h ≥ 0.9 n``, final bin hot, significant decreasing trend
persistent          ``h ≥ 0.9 n``, final bin hot, no significant trend
oscillating         ``h < 0.9 n``, final bin hot, and some earlier bin was a cold spot
new                 final bin hot and no other hot (nor cold) bin before
consecutive         final bin hot, one uninterrupted run of ≥ 2 hot bins at the end,
                    no hot or cold bin before it, ``h < 0.9 n``
sporadic            final bin hot, ``h < 0.9 n``, on-and-off hot history, never cold
none                none of the above
==================  ===================================================================

The rules are applied in the order of the table, so every cell gets exactly one class.
Two choices are ours where ArcGIS's text leaves room: a cell with ``h ≥ 0.9 n`` whose
final bin is not hot is *historical* (never *persistent*), and a cell whose single hot bin
is the final one after an earlier cold bin is *oscillating* (never *new*). ArcGIS also
counts neighbours across time steps; here each bin's Gi* uses spatial neighbours only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy import stats

from geoprio.errors import InputError
from geoprio.hotspots.gistar import fdr_adjust, gi_star_matrix
from geoprio.labels import check_lang, label

__all__ = ["PATTERNS", "EmergingResult", "classify_patterns", "emerging_hotspots", "mann_kendall", "pattern_code", "pattern_labels"]

#: Pattern code → name. Positive codes are hot-spot patterns, negative their cold mirrors.
PATTERNS: dict[int, str] = {
    0: "none",
    1: "new",
    2: "consecutive",
    3: "intensifying",
    4: "persistent",
    5: "diminishing",
    6: "sporadic",
    7: "oscillating",
    8: "historical",
}


def pattern_code(code: int) -> str:
    """The label code of a pattern code: ``3`` → ``"trend_intensifying_hot"``, ``0`` → ``"trend_none"``."""
    c = int(code)
    if c == 0:
        return "trend_none"
    return f"trend_{PATTERNS[abs(c)]}_{'hot' if c > 0 else 'cold'}"


def pattern_labels(codes: np.ndarray, lang: str = "es") -> np.ndarray:
    """Readable names of pattern codes (``3`` → ``"punto caliente en intensificación"``)."""
    try:
        lang = check_lang(lang)
    except InputError:
        raise InputError(f"lang must be 'es' or 'en', got {lang!r}") from None
    codes = np.asarray(codes, dtype=np.int64)
    uniq = np.unique(codes)
    names = np.array([label("hotspots", pattern_code(c), lang) for c in uniq], dtype=object)
    return names[np.searchsorted(uniq, codes)]


def mann_kendall(Y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Mann–Kendall trend test on each row of ``Y`` (series × time), vectorized.

    Returns ``(S, var_S, z, p, tau)``: the statistic ``S = Σ_{i<j} sign(y_j − y_i)``, its
    variance under no trend corrected for ties, ``[n(n−1)(2n+5) − Σ t(t−1)(2t+5)] / 18``,
    the continuity-corrected ``z = (S − sign S) / √var``, the two-sided p-value and
    Kendall's ``tau = S / (n(n−1)/2)``. A constant series has ``z = 0``, ``p = 1``.
    """
    Y = np.asarray(Y, dtype=float)
    if Y.ndim == 1:
        Y = Y[None, :]
    if Y.ndim != 2:
        raise InputError(f"Y must be series × time, got shape {Y.shape}")
    m, n = Y.shape
    if n < 3:
        raise InputError(f"the Mann–Kendall test needs at least 3 time bins, got {n}")
    if not np.isfinite(Y).all():
        raise InputError("Y has missing values")
    S = np.zeros(m)
    for d in range(1, n):  # a loop over lags, vectorized over series
        S += np.sign(Y[:, d:] - Y[:, :-d]).sum(axis=1)
    # ties: run lengths of equal values in each sorted row
    Ys = np.sort(Y, axis=1)
    new_run = np.ones((m, n), dtype=bool)
    new_run[:, 1:] = Ys[:, 1:] != Ys[:, :-1]
    run_id = np.cumsum(new_run, axis=1) - 1 + (np.arange(m) * n)[:, None]
    t = np.bincount(run_id.ravel(), minlength=m * n).reshape(m, n).astype(float)
    ties = (t * (t - 1) * (2 * t + 5)).sum(axis=1)
    var = (n * (n - 1) * (2 * n + 5) - ties) / 18.0
    z = np.zeros(m)
    ok = var > 0
    z[ok] = (S[ok] - np.sign(S[ok])) / np.sqrt(var[ok])
    p = 2.0 * stats.norm.sf(np.abs(z))
    tau = S / (n * (n - 1) / 2.0)
    return S, var, z, p, tau


def classify_patterns(
    hot: np.ndarray, cold: np.ndarray, trend_S: np.ndarray, trend_p: np.ndarray, *, trend_alpha: float = 0.05
) -> np.ndarray:
    """Pattern code of each cell from its significant hot/cold bins (cells × time) and trend.

    See the module docstring for the rules; ``trend_S`` is the Mann–Kendall statistic of
    the cell's z-scores and ``trend_p`` its p-value.
    """
    hot = np.asarray(hot, dtype=bool)
    cold = np.asarray(cold, dtype=bool)
    if hot.shape != cold.shape or hot.ndim != 2:
        raise InputError(f"hot and cold must be cells × time boolean arrays of the same shape, got {hot.shape} and {cold.shape}")
    if (hot & cold).any():
        raise InputError("a bin cannot be both a hot and a cold spot")
    return _one_side(hot, cold, trend_S, trend_p, trend_alpha) - _one_side(cold, hot, -np.asarray(trend_S), trend_p, trend_alpha)


def _one_side(h: np.ndarray, o: np.ndarray, S: np.ndarray, p: np.ndarray, alpha: float) -> np.ndarray:
    """Positive pattern codes for the side ``h`` (hot), ``o`` being the opposite side's bins."""
    m, n = h.shape
    count = h.sum(axis=1)
    most = count >= 0.9 * n
    last = h[:, -1]
    trend = np.asarray(p) < alpha
    S = np.asarray(S)
    # trailing run of hot bins ending at the final bin
    not_hot = ~h
    any_not = not_hot.any(axis=1)
    last_not = n - 1 - np.argmax(not_hot[:, ::-1], axis=1)  # index of the last non-hot bin
    run = np.where(any_not, n - 1 - last_not, n)
    opp_before = o[:, :-1].any(axis=1)
    code = np.zeros(m, dtype=np.int64)
    rules = [
        (8, most & ~last),
        (3, most & last & trend & (S > 0)),
        (5, most & last & trend & (S < 0)),
        (4, most & last),
        (7, ~most & last & opp_before),
        (1, last & (count == 1) & ~opp_before),
        (2, ~most & last & (run >= 2) & (count == run) & ~opp_before),
        (6, ~most & last & ~opp_before),
    ]
    done = np.zeros(m, dtype=bool)
    for c, rule in rules:
        hit = rule & ~done
        code[hit] = c
        done |= hit
    return code


@dataclass(frozen=True)
class EmergingResult:
    """Per cell: ``pattern`` code, Mann–Kendall ``trend_tau``/``trend_z``/``trend_p`` of its z-scores,
    ``hot_bins``/``cold_bins`` counts; ``z`` and ``q`` (cells × bins) the Gi* per bin and its
    FDR-corrected p-values; ``bins`` the bin labels.
    """

    pattern: np.ndarray
    trend_tau: np.ndarray
    trend_z: np.ndarray
    trend_p: np.ndarray
    hot_bins: np.ndarray
    cold_bins: np.ndarray
    z: np.ndarray
    q: np.ndarray
    bins: list[str]


def emerging_hotspots(
    counts: np.ndarray,
    weights: sp.csr_array | sp.csr_matrix,
    *,
    bins: list[str] | None = None,
    alpha: float = 0.05,
    trend_alpha: float = 0.05,
    fdr: bool = True,
) -> EmergingResult:
    """Emerging hot-spot patterns from counts per cell and time bin (cells × bins).

    Parameters
    ----------
    counts
        Incidents per cell (rows) and time bin (columns, oldest first); at least 3 bins.
    weights
        Gi* weights including each cell itself.
    alpha
        Significance of a hot or cold bin (after the FDR correction when ``fdr``).
    trend_alpha
        Significance of the Mann–Kendall trend.
    """
    C = np.asarray(counts, dtype=float)
    if C.ndim != 2:
        raise InputError(f"counts must be cells × time bins, got shape {C.shape}")
    if C.shape[1] < 3:
        raise InputError(f"emerging hot spots need at least 3 time bins, got {C.shape[1]}; use a shorter time bin")
    for name, a in (("alpha", alpha), ("trend_alpha", trend_alpha)):
        if not 0 < a < 1:
            raise InputError(f"{name} must be in (0, 1), got {a!r}")
    Z = gi_star_matrix(C, weights)
    P = 2.0 * stats.norm.sf(np.abs(Z))
    Q = np.column_stack([fdr_adjust(P[:, j]) for j in range(P.shape[1])]) if fdr else P
    Zf = np.nan_to_num(Z)  # a bin with one value everywhere carries no pattern
    sig = np.isfinite(Q) & (Q < alpha)
    hot = sig & (Zf > 0)
    cold = sig & (Zf < 0)
    S, _var, tz, tp, tau = mann_kendall(Zf)
    code = classify_patterns(hot, cold, S, tp, trend_alpha=trend_alpha)
    return EmergingResult(
        pattern=code,
        trend_tau=tau,
        trend_z=tz,
        trend_p=tp,
        hot_bins=hot.sum(axis=1),
        cold_bins=cold.sum(axis=1),
        z=Z,
        q=Q,
        bins=list(bins) if bins is not None else [str(j) for j in range(C.shape[1])],
    )
