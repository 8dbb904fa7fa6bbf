"""The coverage problem: demand, candidate sites and existing coverage as arrays.

The numeric core's input (like spopt's ``from_cost_matrix``): :func:`coverage_matrix` builds
the sparse demand × candidate matrix (``a_ij = 1`` when candidate ``j`` is within the
coverage radius of demand point ``i``) with a KD-tree, :func:`coverage_counts` counts the
existing facilities that see each demand point, :func:`spacing_conflicts` lists the pairs of
candidates closer than a minimum spacing, and :class:`CoverageProblem` checks and holds them.
Coordinates are metres in a projected CRS; the geographic side (layers, CRS checks) is
:mod:`geoprio.placement.sites`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.spatial import cKDTree

from geoprio.errors import InputError

__all__ = ["CoverageProblem", "check_radius", "coverage_counts", "coverage_matrix", "spacing_conflicts"]


def check_radius(radius_m: float, name: str = "radius_m") -> float:
    """``radius_m`` as a positive, finite float; :class:`~geoprio.errors.InputError` naming ``name`` otherwise."""
    try:
        r = float(radius_m)
    except (TypeError, ValueError):
        raise InputError(f"{name} must be a number of metres, got {radius_m!r}") from None
    if not math.isfinite(r) or r <= 0:
        raise InputError(f"{name} must be a positive number of metres, got {radius_m!r}")
    return r


def _xy(a: Any, name: str) -> np.ndarray:
    arr = np.asarray(a, dtype=float)
    if arr.ndim != 2 or arr.shape[1] != 2:
        raise InputError(f"{name} must be an (n, 2) array of metric x/y coordinates, got shape {arr.shape}")
    if not np.isfinite(arr).all():
        raise InputError(f"{name} has {int((~np.isfinite(arr)).any(axis=1).sum())} point(s) with missing or infinite coordinates")
    return arr


def coverage_matrix(demand_xy: Any, candidate_xy: Any, radius_m: float) -> sp.csr_matrix:
    """Sparse demand × candidate matrix, 1 where the distance is ≤ ``radius_m``.

    Coordinates are metres in a projected CRS (the geo adapter checks that). Built with a
    KD-tree (:meth:`scipy.spatial.cKDTree.sparse_distance_matrix`), so memory grows with
    the number of covered pairs, never with demand × candidates.
    """
    r = check_radius(radius_m)
    d = _xy(demand_xy, "demand_xy")
    c = _xy(candidate_xy, "candidate_xy")
    if len(d) == 0 or len(c) == 0:
        return sp.csr_matrix((len(d), len(c)), dtype=np.float64)
    pairs = cKDTree(d).sparse_distance_matrix(cKDTree(c), r, output_type="ndarray")
    A = sp.csr_matrix((np.ones(len(pairs)), (pairs["i"], pairs["j"])), shape=(len(d), len(c)))
    A.sum_duplicates()
    A.data[:] = 1.0
    A.sort_indices()
    return A


def coverage_counts(demand_xy: Any, facility_xy: Any, radius_m: float) -> np.ndarray:
    """How many facilities lie within ``radius_m`` of each demand point."""
    r = check_radius(radius_m)
    d = _xy(demand_xy, "demand_xy")
    f = np.asarray(facility_xy, dtype=float).reshape(-1, 2)
    if len(d) == 0 or len(f) == 0:
        return np.zeros(len(d), dtype=np.int32)
    return np.asarray(cKDTree(f).query_ball_point(d, r, return_length=True), dtype=np.int32)


def spacing_conflicts(candidate_xy: Any, min_spacing_m: float) -> sp.csr_matrix:
    """Symmetric candidate × candidate matrix of pairs closer than ``min_spacing_m``."""
    r = check_radius(min_spacing_m, "min_spacing_m")
    c = _xy(candidate_xy, "candidate_xy")
    pairs = cKDTree(c).query_pairs(np.nextafter(r, 0), output_type="ndarray") if len(c) else np.empty((0, 2), int)
    i, j = pairs[:, 0], pairs[:, 1]
    M = sp.csr_matrix((np.ones(2 * len(i)), (np.concatenate([i, j]), np.concatenate([j, i]))), shape=(len(c), len(c)))
    M.sum_duplicates()
    M.data[:] = 1.0
    return M


@dataclass(frozen=True, eq=False)
class CoverageProblem:
    """Demand, candidates and existing coverage for one placement problem.

    Parameters
    ----------
    coverage
        Demand × candidate coverage (anything :func:`scipy.sparse.csr_matrix` accepts;
        nonzero = covered). Build it with :func:`coverage_matrix`.
    weights
        Demand weight of each row (crime harm × zone priority, metres of beach …), ≥ 0.
    existing
        Per demand row, how many existing facilities already cover it (default none).
    costs
        Cost of each candidate (default 1 each), > 0.
    conflicts
        Candidate × candidate matrix of pairs that may not both be chosen (minimum
        spacing); see :func:`spacing_conflicts`.
    """

    coverage: Any
    weights: Any
    existing: Any = None
    costs: Any = None
    conflicts: Any = None

    def __post_init__(self) -> None:
        A = sp.csr_matrix(self.coverage, dtype=np.float64)
        A.sum_duplicates()
        A.eliminate_zeros()
        A.data[:] = 1.0
        A.sort_indices()
        n, m = A.shape
        w = np.asarray(self.weights, dtype=float).ravel()
        if w.shape != (n,):
            raise InputError(f"weights has {w.size} values but the coverage matrix has {n} demand rows")
        if not np.isfinite(w).all() or (w < 0).any():
            bad = int((~np.isfinite(w) | (w < 0)).sum())
            raise InputError(f"weights must be finite and ≥ 0; {bad} value(s) are not")
        if n and not (w > 0).any():
            raise InputError("every demand weight is zero: there is nothing to cover")
        e = np.zeros(n, dtype=np.int32) if self.existing is None else np.asarray(self.existing).ravel()
        if e.shape != (n,):
            raise InputError(f"existing has {e.size} values but the coverage matrix has {n} demand rows")
        if (e < 0).any():
            raise InputError("existing coverage counts must be ≥ 0")
        e = e.astype(np.int32)
        c = None
        if self.costs is not None:
            c = np.asarray(self.costs, dtype=float).ravel()
            if c.shape != (m,):
                raise InputError(f"costs has {c.size} values but there are {m} candidate sites")
            if not np.isfinite(c).all() or (c <= 0).any():
                raise InputError(f"site costs must be finite and > 0; {int((~np.isfinite(c) | (c <= 0)).sum())} are not")
        conf = None
        if self.conflicts is not None:
            conf = sp.csr_matrix(self.conflicts, dtype=np.float64)
            if conf.shape != (m, m):
                raise InputError(f"conflicts must be {m} × {m} (candidates × candidates), got {conf.shape}")
            conf = ((conf + conf.T) != 0).astype(np.float64).tocsr()
            conf.setdiag(0)
            conf.eliminate_zeros()
        object.__setattr__(self, "coverage", A)
        object.__setattr__(self, "weights", w)
        object.__setattr__(self, "existing", e)
        object.__setattr__(self, "costs", c)
        object.__setattr__(self, "conflicts", conf)

    @classmethod
    def from_points(
        cls,
        demand_xy: Any,
        candidate_xy: Any,
        *,
        radius_m: float,
        weights: Any = None,
        existing_xy: Any = None,
        costs: Any = None,
        min_spacing_m: float | None = None,
    ) -> CoverageProblem:
        """Build a problem from metric coordinates (Euclidean coverage within ``radius_m``)."""
        A = coverage_matrix(demand_xy, candidate_xy, radius_m)
        w = np.ones(A.shape[0]) if weights is None else weights
        e = None if existing_xy is None else coverage_counts(demand_xy, existing_xy, radius_m)
        conf = None if not min_spacing_m else spacing_conflicts(candidate_xy, min_spacing_m)
        return cls(A, w, existing=e, costs=costs, conflicts=conf)

    @property
    def n_demand(self) -> int:
        return int(self.coverage.shape[0])

    @property
    def n_candidates(self) -> int:
        return int(self.coverage.shape[1])

    @property
    def total_weight(self) -> float:
        return float(self.weights.sum())
