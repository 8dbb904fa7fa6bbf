"""Exact, fast evaluation of a proposed set of sites: what each site buys.

The planner's workspace re-evaluates a proposal after every edit. :class:`CoverageEvaluator`
holds the demand points in a KD-tree (built once); :meth:`CoverageEvaluator.evaluate` finds
the demand within ``radius_m`` of every proposed and existing site
(:meth:`scipy.spatial.cKDTree.query_ball_point`, distance ≤ radius as in
:func:`~geoprio.placement.problem.coverage_matrix`) and returns an :class:`Evaluation`: the
covered demand and its share (a demand point counts once, however many sites see it: the
maximal covering objective), the demand only each site covers, the gain each site adds in
the given order or in greedy order, and the coverage curve. Memory and time grow with the
covered pairs, never with demand × sites. :func:`evaluate_proposal` is the one-call form.

:func:`camera_demand` builds the demand of a camera plan exactly as
:func:`~geoprio.placement.plan.plan_cameras` does (the same loaders and weights), so that a
proposal is evaluated against the demand the optimizer sees. For garitas,
:func:`garita_demand` builds the shore and its demand as
:func:`~geoprio.placement.plan.plan_garitas` does and :class:`ShoreEvaluator` measures
coverage along the shore, as the garita plan's objective counts it.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from geoprio.errors import InputError
from geoprio.placement.problem import check_radius
from geoprio.placement.shore import Shore, shore_demand, shore_from_layers, shore_positions
from geoprio.placement.sites import Demand, demand_from_points
from geoprio.settings import COLOMBIA_BBOX, DEFAULT_METRIC_CRS

__all__ = [
    "CoverageEvaluator",
    "Evaluation",
    "Order",
    "ShoreEvaluator",
    "camera_demand",
    "evaluate_proposal",
    "evaluation_from_pairs",
    "garita_demand",
]

#: The order in which the sites' gains are counted: as given (the planner's ranking) or greedy
#: (largest gain first, ties to the earlier site).
Order = Literal["given", "greedy"]


def _xy(a: Any, name: str) -> np.ndarray:
    arr = np.asarray(a, dtype=float).reshape(-1, 2) if np.size(a) else np.empty((0, 2))
    if not np.isfinite(arr).all():
        bad = int((~np.isfinite(arr)).any(axis=1).sum())
        raise InputError(f"{name} has {bad} point(s) with missing or infinite coordinates")
    return arr


@dataclass(frozen=True, eq=False)
class Evaluation:
    """The coverage a proposal buys.

    Attributes
    ----------
    total_weight
        Weight of all demand.
    existing_weight
        Weight covered by the existing facilities alone.
    covered_weight
        Weight covered by the existing facilities and the proposal together (each demand
        point once).
    order
        Site indices in the order the gains are counted (``gain[k]`` is site ``order[k]``'s).
    gain
        Per site (indexed like the proposal): the weight it adds to the existing facilities
        and the sites before it in ``order``; sums to ``covered_weight - existing_weight``.
    unique_weight
        Per site: the weight no other proposed site and no existing facility covers (what is
        lost if only that site is removed).
    reach_weight
        Per site: all the weight within its radius.
    curve
        Covered share after the first ``k`` sites of ``order``, ``k = 0 … n`` (``curve[0]``
        is the existing facilities' share).
    covered
        Per demand point: covered by an existing facility or a proposed site.
    """

    total_weight: float
    existing_weight: float
    covered_weight: float
    order: np.ndarray
    gain: np.ndarray
    unique_weight: np.ndarray
    reach_weight: np.ndarray
    curve: np.ndarray
    covered: np.ndarray

    @property
    def n_sites(self) -> int:
        return int(len(self.gain))

    @property
    def covered_share(self) -> float:
        return self.covered_weight / self.total_weight if self.total_weight > 0 else 0.0

    @property
    def existing_share(self) -> float:
        return self.existing_weight / self.total_weight if self.total_weight > 0 else 0.0

    def sites_table(self) -> pd.DataFrame:
        """One row per site in the proposal's order: rank (position in ``order``), gain, its share, unique and reach weight."""
        rank = np.empty(self.n_sites, dtype=np.int64)
        rank[self.order] = np.arange(1, self.n_sites + 1)
        total = self.total_weight if self.total_weight > 0 else 1.0
        return pd.DataFrame(
            {
                "rank": rank,
                "gain_weight": self.gain,
                "gain_share": self.gain / total,
                "unique_weight": self.unique_weight,
                "reach_weight": self.reach_weight,
            }
        )

    def curve_table(self) -> pd.DataFrame:
        """The coverage curve: ``n_sites`` (0 … n) and ``covered_share``."""
        return pd.DataFrame({"n_sites": np.arange(len(self.curve)), "covered_share": self.curve})


class CoverageEvaluator:
    """Demand points in a KD-tree, ready to evaluate any number of proposals.

    Parameters
    ----------
    demand_xy
        ``(n, 2)`` metric coordinates of the demand points.
    weights
        Weight of each demand point (≥ 0; default 1 each).
    """

    def __init__(self, demand_xy: Any, weights: Any = None) -> None:
        xy = _xy(demand_xy, "demand_xy")
        w = np.ones(len(xy)) if weights is None else np.asarray(weights, dtype=float).ravel()
        if w.shape != (len(xy),):
            raise InputError(f"weights has {w.size} values but there are {len(xy)} demand points")
        if not np.isfinite(w).all() or (w < 0).any():
            raise InputError(f"weights must be finite and ≥ 0; {int((~np.isfinite(w) | (w < 0)).sum())} value(s) are not")
        self.xy = xy
        self.weights = w
        self.total_weight = float(w.sum())
        self.tree = cKDTree(xy) if len(xy) else None

    @property
    def n_demand(self) -> int:
        return int(len(self.xy))

    def _pairs(self, sites_xy: np.ndarray, radius_m: float) -> tuple[np.ndarray, np.ndarray]:
        """(site, demand) index pairs within ``radius_m``."""
        if self.tree is None or len(sites_xy) == 0:
            return np.empty(0, np.int64), np.empty(0, np.int64)
        found = self.tree.query_ball_point(sites_xy, radius_m, return_sorted=False)
        lengths = np.fromiter((len(f) for f in found), dtype=np.int64, count=len(found))
        demand = np.fromiter((i for f in found for i in f), dtype=np.int64, count=int(lengths.sum()))
        return np.repeat(np.arange(len(sites_xy)), lengths), demand

    def existing_counts(self, existing_xy: Any, radius_m: float) -> np.ndarray:
        """How many existing facilities see each demand point."""
        r = check_radius(radius_m)
        ex = _xy(existing_xy if existing_xy is not None else [], "existing_xy")
        _, d = self._pairs(ex, r)
        return np.bincount(d, minlength=self.n_demand)

    def evaluate(self, sites_xy: Any, *, radius_m: float, existing_xy: Any = None, order: Order = "given") -> Evaluation:
        """The coverage of ``sites_xy`` (metric ``(m, 2)``) added to the ``existing_xy`` facilities."""
        r = check_radius(radius_m)
        sites = _xy(sites_xy, "sites_xy")
        exist = self.existing_counts(existing_xy, r) > 0
        site_of, demand = self._pairs(sites, r)
        return evaluation_from_pairs(site_of, demand, len(sites), self.weights, exist, order=order)


def evaluation_from_pairs(
    site_of: np.ndarray, demand: np.ndarray, n_sites: int, weights: np.ndarray, existing: np.ndarray, *, order: Order = "given"
) -> Evaluation:
    """The :class:`Evaluation` of ``n_sites`` sites from their covered (site, demand) index
    pairs (each pair once), the demand ``weights`` and which demand points the existing
    facilities cover (``existing``, boolean).
    """
    if order not in ("given", "greedy"):
        raise InputError(f"order must be 'given' or 'greedy', got {order!r}")
    m, n, w = int(n_sites), len(weights), weights
    exist = np.asarray(existing, dtype=bool)
    new = np.bincount(demand, minlength=n)
    covered = exist | (new > 0)
    reach = np.bincount(site_of, weights=w[demand], minlength=m)
    only = ~exist[demand] & (new[demand] == 1)
    unique = np.bincount(site_of[only], weights=w[demand[only]], minlength=m)
    fresh = ~exist[demand]  # pairs whose demand the existing facilities miss
    seq = _greedy_order(site_of[fresh], demand[fresh], w, m) if order == "greedy" else np.arange(m)
    position = np.empty(m, dtype=np.int64)
    position[seq] = np.arange(m)
    first = np.full(n, m, dtype=np.int64)
    np.minimum.at(first, demand[fresh], position[site_of[fresh]])
    won = first < m
    gain_by_pos = np.bincount(first[won], weights=w[won], minlength=m)
    existing_weight = float(w[exist].sum())
    total = float(w.sum())
    curve = (existing_weight + np.concatenate([[0.0], np.cumsum(gain_by_pos)])) / (total if total > 0 else 1.0)
    return Evaluation(
        total_weight=total,
        existing_weight=existing_weight,
        covered_weight=float(w[covered].sum()),
        order=seq,
        gain=gain_by_pos[position],
        unique_weight=unique,
        reach_weight=reach,
        curve=curve,
        covered=covered,
    )


def _greedy_order(site_of: np.ndarray, demand: np.ndarray, w: np.ndarray, m: int) -> np.ndarray:
    """Sites by greedy marginal gain (lazy evaluation; ties to the lower index)."""
    by_site = np.argsort(site_of, kind="stable")
    starts = np.searchsorted(site_of[by_site], np.arange(m + 1))
    cols = demand[by_site]
    taken = np.zeros(len(w), dtype=bool)

    def gain(j: int) -> float:
        d = cols[starts[j] : starts[j + 1]]
        return float(w[d[~taken[d]]].sum())

    heap = [(-gain(j), j) for j in range(m)]
    heapq.heapify(heap)
    out: list[int] = []
    while heap:
        neg, j = heapq.heappop(heap)
        g = gain(j)
        if g != -neg and heap and (-g, j) > heap[0]:  # a stale bound, no longer the best: back in the heap
            heapq.heappush(heap, (-g, j))
            continue
        out.append(j)
        taken[cols[starts[j] : starts[j + 1]]] = True
    return np.asarray(out, dtype=np.int64)


def evaluate_proposal(
    demand_xy: Any,
    sites_xy: Any,
    *,
    radius_m: float,
    weights: Any = None,
    existing_xy: Any = None,
    order: Order = "given",
) -> Evaluation:
    """The coverage a proposal buys (:class:`CoverageEvaluator` built for one evaluation)."""
    return CoverageEvaluator(demand_xy, weights).evaluate(sites_xy, radius_m=radius_m, existing_xy=existing_xy, order=order)


def camera_demand(
    incidents: Any,
    *,
    index_zones: Any = None,
    index_weight: float = 1.0,
    index_column: str = "index",
    harm: bool = True,
    metric_crs: str = DEFAULT_METRIC_CRS,
    bbox: Any = COLOMBIA_BBOX,
) -> Demand:
    """The demand of a camera plan on ``incidents`` (records, a layer or a DataFrame with
    ``x``/``y``/``category``), built as :func:`~geoprio.placement.plan.plan_cameras` builds
    it with its defaults: points read by :func:`geoprio.records.load.load_points`, weighted by
    harm (geoprio's table) and by ``1 + index_weight × index / 100`` of their zone.
    """
    import geopandas as gpd

    from geoprio.records.harm import load_harm_table
    from geoprio.records.load import Records, load_points

    records = incidents if isinstance(incidents, Records | gpd.GeoDataFrame) else load_points(incidents, bbox=bbox)
    zones = index_zones if index_zones is None or isinstance(index_zones, gpd.GeoDataFrame) else index_zones.table
    return demand_from_points(
        records,
        metric_crs=metric_crs,
        harm=load_harm_table() if harm else None,
        zones=zones,
        index_column=index_column,
        zone_id_column="zone_id" if zones is not None and "zone_id" in zones else None,
        index_weight=index_weight,
    )


class ShoreEvaluator:
    """Shore demand (:func:`garita_demand`) ready to evaluate garita proposals, with coverage
    measured **along the shore** as :func:`~geoprio.placement.shore.shore_coverage_problem`
    measures it: a garita covers the demand on the same shore line within ``radius_m`` of its
    position along the line (wrapping around closed lines).

    Proposed sites and existing garitas are snapped to the nearest shore line, as
    :func:`~geoprio.placement.plan.plan_garitas` snaps existing garitas; a proposed site
    farther than ``max_snap_m`` from the shore (when given) covers nothing.
    """

    def __init__(self, shore: Shore, demand: Demand) -> None:
        if demand.shore_pos is None:
            raise InputError("garita demand must lie on the shore (build it with garita_demand or shore_demand)")
        self.shore = shore
        self.demand = demand
        self.pos = np.asarray(demand.shore_pos, dtype=float)
        self.xy = np.asarray(demand.xy, dtype=float)
        self.weights = np.asarray(demand.weight, dtype=float)
        self.total_weight = float(self.weights.sum())
        self.tree = cKDTree(self.pos[:, None]) if len(self.pos) else None

    @property
    def n_demand(self) -> int:
        return int(len(self.pos))

    def positions(self, xy: Any, *, max_snap_m: float | None = None) -> np.ndarray:
        """Positions along the shore of metric points (NaN: farther than ``max_snap_m``)."""
        pts = _xy(xy, "sites_xy")
        pos, _ = shore_positions(self.shore, pts, max_distance_m=max_snap_m)
        return np.asarray(pos, dtype=float)

    def _pairs(self, pos: np.ndarray, radius_m: float) -> tuple[np.ndarray, np.ndarray]:
        """(site, demand) pairs within ``radius_m`` along the shore, each once."""
        ok = np.flatnonzero(np.isfinite(pos))
        if self.tree is None or not len(ok):
            return np.empty(0, np.int64), np.empty(0, np.int64)
        line, _ = self.shore.locate(pos[ok])
        ring = self.shore.closed[line]
        lengths = self.shore.lengths
        images = [pos[ok], pos[ok][ring] - lengths[line[ring]], pos[ok][ring] + lengths[line[ring]]]
        owner = np.concatenate([ok, ok[ring], ok[ring]])
        found = self.tree.query_ball_point(np.concatenate(images)[:, None], radius_m, return_sorted=False)
        counts = np.fromiter((len(f) for f in found), dtype=np.int64, count=len(found))
        demand = np.fromiter((i for f in found for i in f), dtype=np.int64, count=int(counts.sum()))
        site_of = np.repeat(owner, counts)
        if ring.any() and len(demand):  # a site's images may reach the same demand twice: keep one pair
            key = np.unique(site_of * self.n_demand + demand)
            site_of, demand = key // self.n_demand, key % self.n_demand
        return site_of, demand

    def existing_counts(self, existing_xy: Any, radius_m: float) -> np.ndarray:
        """How many existing garitas (snapped to the shore) see each demand point."""
        r = check_radius(radius_m)
        ex = _xy(existing_xy if existing_xy is not None else [], "existing_xy")
        _, d = self._pairs(self.positions(ex), r) if len(ex) else (None, np.empty(0, np.int64))
        return np.bincount(d, minlength=self.n_demand)

    def evaluate(
        self,
        sites_xy: Any,
        *,
        radius_m: float,
        existing_xy: Any = None,
        order: Order = "given",
        max_snap_m: float | None = None,
    ) -> Evaluation:
        """The coverage along the shore of garitas at ``sites_xy`` (metric) added to ``existing_xy``."""
        r = check_radius(radius_m)
        sites = _xy(sites_xy, "sites_xy")
        exist = self.existing_counts(existing_xy, r) > 0
        pos = self.positions(sites, max_snap_m=max_snap_m) if len(sites) else np.empty(0)
        site_of, demand = self._pairs(pos, r)
        return evaluation_from_pairs(site_of, demand, len(sites), self.weights, exist, order=order)


def garita_demand(
    *,
    coast: Any = None,
    beaches: Any = None,
    incidents: Any = None,
    harm: bool = True,
    max_snap_m: float = 200.0,
    demand_step_m: float = 10.0,
    metric_crs: str = DEFAULT_METRIC_CRS,
    bbox: Any = COLOMBIA_BBOX,
    shore_bbox: Any = None,
    beach_name: str | None = None,
) -> tuple[Shore, Demand]:
    """The shore and the demand of a garita plan, built as
    :func:`~geoprio.placement.plan.plan_garitas` builds them with these settings: the shore
    from the ``coast`` line and/or the ``beaches`` polygons (layers or files); the demand, beach
    ``incidents`` (records, a layer or a DataFrame with ``x``/``y``/``category``) weighted by
    harm and snapped to the shore within ``max_snap_m``, or without incidents a uniform weight
    per metre of shore every ``demand_step_m``.
    """
    import geopandas as gpd

    from geoprio.io.files import read_layer
    from geoprio.records.harm import load_harm_table
    from geoprio.records.load import Records, load_points

    def layer(v: Any) -> Any:
        return v if v is None or isinstance(v, gpd.GeoDataFrame) else read_layer(v)

    shore = shore_from_layers(layer(coast), layer(beaches), metric_crs=metric_crs, beach_name=beach_name, bbox=shore_bbox)
    if incidents is None:
        return shore, shore_demand(shore, step_m=demand_step_m)
    records = incidents if isinstance(incidents, Records | gpd.GeoDataFrame) else load_points(incidents, bbox=bbox)
    points = demand_from_points(records, metric_crs=metric_crs, harm=load_harm_table() if harm else None)
    return shore, shore_demand(shore, points=points, max_snap_m=max_snap_m)
