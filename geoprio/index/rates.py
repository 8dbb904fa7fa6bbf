"""Rates that do not mislead: raw rates, Empirical Bayes smoothing, zone adjacency.

A raw rate ``events / population`` ranks small zones by the smallness of their
denominator: one theft in a UPZ of 167 residents is 599 per 100,000. Empirical Bayes (EB)
smoothing (Marshall, 1991; as in PySAL esda's ``smoothing`` module) shrinks each zone's rate
towards a reference rate, more strongly the smaller its population:

* **global EB**: the reference is the overall rate m = Σe / Σb and the between-zone
  variance is s² = Σ bᵢ (rᵢ − m)² / Σb − m / b̄; each zone gets
  wᵢ rᵢ + (1 − wᵢ) m with wᵢ = s² / (s² + m / bᵢ);
* **spatial EB**: the same, with the reference and the variance computed over each zone
  and its neighbours (queen contiguity): mᵢ = Σⱼ eⱼ / Σⱼ bⱼ over j ∈ {i} ∪ N(i).

A negative variance estimate (the rates vary less than Poisson noise alone would make
them) is set to 0, which shrinks every rate fully to the reference, as Marshall
recommends; esda does this for the spatial estimator but not the global one.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from geoprio.errors import InputError

__all__ = ["eb_global", "eb_spatial", "raw_rate"]


def _check(events: np.ndarray, base: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    e = np.asarray(events, dtype=float).ravel()
    b = np.asarray(base, dtype=float).ravel()
    if e.shape != b.shape:
        raise InputError(f"events and population must have the same length, got {e.size} and {b.size}")
    if (b <= 0).any() or not np.isfinite(b).all():
        raise InputError("every zone needs a positive population to smooth its rate; exclude the others first")
    if (e < 0).any() or not np.isfinite(e).all():
        raise InputError("event counts must be finite and non-negative")
    return e, b


def raw_rate(events: np.ndarray, base: np.ndarray) -> np.ndarray:
    """Events / population (NaN where the population is 0 or missing)."""
    e = np.asarray(events, dtype=float)
    b = np.asarray(base, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(b > 0, e / b, np.nan)


def eb_global(events: np.ndarray, base: np.ndarray) -> np.ndarray:
    """Global Empirical Bayes smoothed rates (per unit of ``base``)."""
    e, b = _check(events, base)
    m = e.sum() / b.sum()
    r = e / b
    s2 = max((b * (r - m) ** 2).sum() / b.sum() - m / b.mean(), 0.0)
    if s2 == 0.0:
        return np.full_like(r, m)
    w = s2 / (s2 + m / b)
    return w * r + (1.0 - w) * m


def eb_spatial(events: np.ndarray, base: np.ndarray, adjacency: sp.spmatrix) -> np.ndarray:
    """Spatial Empirical Bayes smoothed rates.

    ``adjacency`` is a binary n × n sparse matrix of neighbours (no self loops), e.g. from
    :func:`contiguity`. A zone without neighbours is smoothed towards its own rate (that is,
    not at all).
    """
    e, b = _check(events, base)
    n = e.size
    A = sp.csr_matrix(adjacency, dtype=float)
    if A.shape != (n, n):
        raise InputError(f"adjacency must be {n} × {n}, got {A.shape}")
    A = A.copy()
    A.setdiag(0)
    A.eliminate_zeros()
    A.data[:] = 1.0
    S = A + sp.identity(n, format="csr")  # each zone with its neighbours
    r = e / b
    b_loc = S @ b
    m = (S @ e) / b_loc
    k = np.asarray(S.sum(axis=1)).ravel()
    # Σⱼ bⱼ (rⱼ − mᵢ)² = Σ bⱼ rⱼ² − 2 mᵢ Σ bⱼ rⱼ + mᵢ² Σ bⱼ  over j ∈ {i} ∪ N(i)
    v = S @ (b * r**2) - 2 * m * (S @ e) + m**2 * b_loc
    s2 = np.maximum(v / b_loc - m / (b_loc / k), 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        w = np.where(s2 > 0, s2 / (s2 + m / b), 0.0)
    return m + (r - m) * w
