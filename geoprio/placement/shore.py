"""Shores for beach garitas: coverage measured along the shore line, not across the water.

A :class:`Shore` is a set of lines in a metric CRS (a coast line, beach polygons' sea side,
or the coast clipped to the beaches: :func:`shore_from_layers`) with a 1-D position along
them. Candidates stand every ``spacing_m`` along it (:func:`shore_candidates`); demand is a
uniform weight per metre, beach incidents snapped to the shore, or visitor counts per beach
spread along it (:func:`shore_demand`); and a garita covers the demand within ``radius_m``
**along the shore** (:func:`shore_coverage_problem`), so a garita across a bay does not
count as near. Existing garitas are snapped to the shore (:func:`snap_to_shore`).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.spatial import cKDTree

from geoprio.errors import ColumnError, CRSError, InputError
from geoprio.placement.problem import CoverageProblem, check_radius
from geoprio.placement.sites import Demand, Sites, layer_to_metric, make_sites, metric_crs_or_default, points_to_output
from geoprio.settings import OUTPUT_CRS

__all__ = [
    "Shore",
    "shore_candidates",
    "shore_coverage_problem",
    "shore_demand",
    "shore_from_layers",
    "shore_positions",
    "snap_to_shore",
]

_GAP_M = 1.0e7  # separates shore lines in the 1-D embedding: far beyond any radius


@dataclass(frozen=True, eq=False)
class Shore:
    """A shoreline as a set of lines in a metric CRS, with a 1-D position along them.

    Position ``offset[i] + s`` is the point at distance ``s`` along line ``i``; lines are
    ``10,000 km`` apart in this embedding, so coverage never jumps between them. Closed
    lines (islands, lagoons) wrap around.
    """

    lines: np.ndarray
    names: np.ndarray
    metric_crs: str
    notes: dict = field(default_factory=dict)

    @property
    def lengths(self) -> np.ndarray:
        return shapely.length(self.lines)

    @property
    def closed(self) -> np.ndarray:
        return np.array([bool(g.is_ring) for g in self.lines])

    @property
    def offsets(self) -> np.ndarray:
        return np.concatenate([[0.0], np.cumsum(self.lengths + _GAP_M)[:-1]])

    @property
    def length_m(self) -> float:
        return float(self.lengths.sum())

    def frame(self) -> gpd.GeoDataFrame:
        """The shore lines (EPSG:4326) with their names and lengths."""
        return gpd.GeoDataFrame(
            {"shore_id": np.arange(len(self.lines)), "name": self.names, "length_m": self.lengths},
            geometry=gpd.GeoSeries(self.lines, crs=self.metric_crs).to_crs(OUTPUT_CRS).values,
            crs=OUTPUT_CRS,
        )

    def locate(self, pos: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(line index, distance along it) of 1-D positions."""
        i = np.searchsorted(self.offsets, pos, side="right") - 1
        return i, pos - self.offsets[i]

    def points(self, pos: np.ndarray) -> np.ndarray:
        i, s = self.locate(pos)
        return shapely.line_interpolate_point(self.lines[i], s)

    def stretches(self, pos: np.ndarray, radius_m: float) -> np.ndarray:
        """Stretches of shore within ``radius_m`` along the shore of each position."""
        from shapely.ops import substring

        out = []
        L, closed = self.lengths, self.closed
        for i, s in zip(*self.locate(np.asarray(pos, dtype=float)), strict=True):
            line, n = self.lines[i], L[i]
            a, b = s - radius_m, s + radius_m
            if closed[i] and (a < 0 or b > n):
                if b - a >= n:
                    out.append(line)
                    continue
                parts = [substring(line, max(a, 0), min(b, n))]
                parts.append(substring(line, a + n, n) if a < 0 else substring(line, 0, b - n))
                out.append(shapely.line_merge(shapely.multilinestrings(parts)))
            else:
                out.append(substring(line, max(a, 0.0), min(b, n)))
        return np.asarray(out, dtype=object)


def _lines_of(geom: gpd.GeoSeries) -> np.ndarray:
    parts = shapely.get_parts(shapely.line_merge(shapely.union_all(geom.values)))
    parts = np.asarray([g for g in parts if g.geom_type in ("LineString", "LinearRing") and g.length > 0], dtype=object)
    return parts


def _beach_side(poly: shapely.Polygon) -> shapely.LineString:
    """One long side of a beach polygon: the shorter of the two boundary chains joining
    its two farthest-apart vertices (an approximation of the shore when no coast line is given).
    """
    ring = np.asarray(poly.exterior.coords)[:-1]
    hull = shapely.convex_hull(poly)
    hv = np.asarray(hull.exterior.coords)[:-1] if isinstance(hull, shapely.Polygon) else ring
    d = np.linalg.norm(hv[:, None, :] - hv[None, :, :], axis=2)
    a, b = np.unravel_index(np.argmax(d), d.shape)
    ia = int(np.argmin(np.linalg.norm(ring - hv[a], axis=1)))
    ib = int(np.argmin(np.linalg.norm(ring - hv[b], axis=1)))
    i, j = sorted((ia, ib))
    chain1 = ring[i : j + 1]
    chain2 = np.vstack([ring[j:], ring[: i + 1]])
    c1, c2 = shapely.LineString(chain1), shapely.LineString(chain2)
    return c1 if c1.length <= c2.length else c2


def shore_from_layers(
    coast: gpd.GeoDataFrame | None = None,
    beaches: gpd.GeoDataFrame | None = None,
    *,
    metric_crs: str | None = None,
    beach_name: str | None = None,
    snap_m: float = 25.0,
    bbox: tuple[float, float, float, float] | None = None,
    min_length_m: float = 1.0,
) -> Shore:
    """The shore to plan along.

    * coast only: the coast lines (polygons: their boundary);
    * coast and beaches: the coast where it runs within ``snap_m`` of a beach polygon, each
      stretch named after its beach;
    * beaches only: one long side of each beach polygon (an approximation).

    ``bbox`` = ``(min_lon, min_lat, max_lon, max_lat)`` clips the shore to a window.
    """
    crs = metric_crs_or_default(metric_crs)
    if coast is None and beaches is None:
        raise InputError("give a coast line layer, beach polygons, or both")
    names: list[str] = []
    if coast is not None:
        cg = layer_to_metric(coast, crs, "coast")
        is_line = cg.geom_type.isin(["LineString", "MultiLineString", "LinearRing"])
        # lines when the layer has any (a land polygon clipped to a box has false edges); else polygon boundaries
        cg = cg[is_line] if is_line.any() else cg.boundary
        lines = _lines_of(cg)
        if not len(lines):
            raise InputError("coast: no line geometry found")
    if beaches is not None:
        bg = layer_to_metric(beaches, crs, "beaches")
        bnames = (
            beaches[beach_name].astype(str).to_numpy()
            if beach_name is not None
            else (beaches["nombre"].astype(str).to_numpy() if "nombre" in beaches else np.array([f"playa {i + 1}" for i in range(len(bg))]))
        )
        polys = bg.values
    if coast is not None and beaches is not None:
        zone = shapely.union_all(shapely.buffer(polys, snap_m))
        lines = _lines_of(gpd.GeoSeries(shapely.intersection(lines, zone)))
        tree = shapely.STRtree(polys)
        for g in lines:
            hit = tree.query(g, predicate="dwithin", distance=snap_m)
            if len(hit):
                overlap = [shapely.intersection(g, shapely.buffer(polys[h], snap_m)).length for h in hit]
                names.append(str(bnames[hit[int(np.argmax(overlap))]]))
            else:  # pragma: no cover - lines come from the beaches' buffer
                names.append("")
    elif beaches is not None:
        sides, names = [], []
        for poly, nm in zip(polys, bnames, strict=True):
            for part in shapely.get_parts(poly):
                if part.geom_type == "Polygon" and not part.is_empty:
                    sides.append(_beach_side(part))
                    names.append(str(nm))
        lines = np.asarray(sides, dtype=object)
    else:
        names = ["costa"] * len(lines)
    names_arr = np.asarray(names, dtype=object)
    if bbox is not None:
        box = gpd.GeoSeries([shapely.box(*bbox)], crs="EPSG:4326").to_crs(crs).iloc[0]
        clipped, cn = [], []
        for g, nm in zip(lines, names_arr, strict=True):
            for part in shapely.get_parts(shapely.line_merge(shapely.intersection(g, box))):
                if part.geom_type == "LineString" and part.length > 0:
                    clipped.append(part)
                    cn.append(nm)
        lines, names_arr = np.asarray(clipped, dtype=object), np.asarray(cn, dtype=object)
    keep = np.array([g.length >= min_length_m for g in lines], dtype=bool) if len(lines) else np.zeros(0, bool)
    lines, names_arr = lines[keep], names_arr[keep]
    if not len(lines):
        raise InputError("the shore is empty (no coast within the beaches or the bbox)")
    return Shore(
        lines=lines, names=names_arr, metric_crs=crs, notes={"lines": int(len(lines)), "length_m": float(sum(g.length for g in lines))}
    )


def shore_positions(shore: Shore, xy: np.ndarray, *, max_distance_m: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Snap metric points to the shore: (1-D position, distance to the shore in metres).

    Points farther than ``max_distance_m`` get position NaN.
    """
    xy = np.asarray(xy, dtype=float).reshape(-1, 2)
    if not len(xy):
        return np.empty(0), np.empty(0)
    pts = shapely.points(xy)
    tree = shapely.STRtree(shore.lines)
    _, line_idx = tree.query_nearest(pts, all_matches=False, return_distance=False)
    line_idx = np.asarray(line_idx)
    s = shapely.line_locate_point(shore.lines[line_idx], pts)
    dist = shapely.distance(shore.lines[line_idx], pts)
    pos = shore.offsets[line_idx] + s
    if max_distance_m is not None:
        pos = np.where(dist <= max_distance_m, pos, np.nan)
    return pos, dist


def _shore_samples(shore: Shore, step_m: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Positions every ``step_m`` (piece centres), their piece length and line index."""
    L = shore.lengths
    n = np.maximum(1, np.ceil(L / step_m)).astype(np.int64)
    rep = np.repeat(np.arange(len(L)), n)
    within = np.arange(n.sum()) - np.repeat(np.cumsum(n) - n, n)
    seg = L[rep] / n[rep]
    return shore.offsets[rep] + (within + 0.5) * seg, seg, rep


def shore_candidates(shore: Shore, *, spacing_m: float) -> Sites:
    """Candidate garita sites every ``spacing_m`` along the shore."""
    s = float(spacing_m)
    if not s > 0:
        raise InputError(f"spacing_m must be a positive number of metres, got {spacing_m!r}")
    pos, _, line = _shore_samples(shore, s)
    pts = shore.points(pos)
    xy = np.column_stack([shapely.get_x(pts), shapely.get_y(pts)])
    sites = make_sites(xy, shore.metric_crs, "costa", extra=pd.DataFrame({"shore": shore.names[line]}))
    return replace(sites, shore_pos=pos)


def shore_demand(
    shore: Shore,
    *,
    step_m: float = 10.0,
    points: Demand | None = None,
    max_snap_m: float = 200.0,
    visitors: gpd.GeoDataFrame | None = None,
    visitors_column: str | None = None,
    beach_name: str | None = None,
) -> Demand:
    """Demand along the shore.

    Default: a uniform weight per metre of shore (samples every ``step_m``, each weighing
    its length in metres). ``points``: incidents (a :class:`Demand`) snapped to the shore;
    those farther than ``max_snap_m`` are dropped and counted. ``visitors``: beach
    polygons with a ``visitors_column``; each beach's visitors are spread evenly along the
    stretch of shore named after it (shores built from coast and beaches).
    """
    step = float(step_m)
    if not step > 0:
        raise InputError(f"step_m must be a positive number of metres, got {step_m!r}")
    notes: dict[str, Any] = {}
    if points is not None:
        if points.metric_crs != shore.metric_crs:
            raise CRSError("demand points and shore use different metric CRS")
        pos, dist = shore_positions(shore, points.xy, max_distance_m=max_snap_m)
        ok = np.isfinite(pos)
        notes["snapped"] = int(ok.sum())
        notes["too_far_from_shore"] = int((~ok).sum())
        if not ok.any():
            raise InputError(f"no demand point lies within max_snap_m={max_snap_m:g} m of the shore")
        frame = points.frame.loc[ok].reset_index(drop=True).copy()
        frame["distance_to_shore_m"] = dist[ok]
        pos = pos[ok]
        weight = frame["weight"].to_numpy(float)
    else:
        pos, seg, line = _shore_samples(shore, step)
        weight = seg.copy()
        frame = pd.DataFrame({"shore": shore.names[line], "metres": seg})
        if visitors is not None:
            if visitors_column is None or visitors_column not in visitors.columns:
                raise ColumnError(f"visitors: column {visitors_column!r} not found; columns: {list(visitors.columns)}")
            vnames = visitors[beach_name or "nombre"].astype(str).to_numpy() if (beach_name or "nombre") in visitors else None
            if vnames is None:
                raise ColumnError("visitors: the beach layer needs a name column (beach_name=…) matching the shore's beaches")
            vis = pd.to_numeric(visitors[visitors_column], errors="coerce").fillna(0.0).groupby(vnames).sum()
            per_beach_len = pd.Series(seg).groupby(frame["shore"].to_numpy()).sum()
            rate = (vis / per_beach_len.reindex(vis.index)).reindex(frame["shore"].to_numpy()).fillna(0.0).to_numpy()
            weight = seg * rate
            notes["beaches_without_shore"] = sorted(set(vis.index) - set(per_beach_len.index))
        frame["weight"] = weight
        frame["n_records"] = 0
    pts = shore.points(pos)
    xy = np.column_stack([shapely.get_x(pts), shapely.get_y(pts)])
    frame = frame.drop(columns=["geometry", "demand_id"], errors="ignore")
    frame.insert(0, "demand_id", np.arange(len(frame)))
    gdf = gpd.GeoDataFrame(frame, geometry=points_to_output(xy, shore.metric_crs).values, crs=OUTPUT_CRS)
    notes["total_weight"] = float(np.sum(weight))
    return Demand(frame=gdf, xy=xy, metric_crs=shore.metric_crs, notes=notes, shore_pos=pos)


def _along_shore_matrix(shore: Shore, dpos: np.ndarray, spos: np.ndarray, radius_m: float) -> Any:
    """Coverage along the shore: same line and along-shore distance ≤ radius (wrapping on rings)."""
    import scipy.sparse as sp

    if not len(dpos) or not len(spos):
        return sp.csr_matrix((len(dpos), len(spos)))
    line, s = shore.locate(spos)
    L = shore.lengths
    imgs_pos, imgs_idx = [spos], [np.arange(len(spos))]
    ring = shore.closed[line]
    for sign in (-1.0, 1.0):  # periodic images of sites on closed lines
        imgs_pos.append(spos[ring] + sign * L[line[ring]])
        imgs_idx.append(np.flatnonzero(ring))
    P, idx = np.concatenate(imgs_pos), np.concatenate(imgs_idx)
    pairs = cKDTree(dpos[:, None]).sparse_distance_matrix(cKDTree(P[:, None]), radius_m, output_type="ndarray")
    A = sp.csr_matrix((np.ones(len(pairs)), (pairs["i"], idx[pairs["j"]])), shape=(len(dpos), len(spos)))
    A.sum_duplicates()
    A.data[:] = 1.0
    return A


def shore_coverage_problem(
    shore: Shore,
    demand: Demand,
    sites: Sites,
    *,
    radius_m: float,
    existing: Sites | None = None,
    min_spacing_m: float | None = None,
    use_costs: bool = False,
) -> CoverageProblem:
    """Coverage measured along the shore: a garita covers the shore within ``radius_m``
    on either side of it, following the shoreline (existing garitas snapped to it).
    """
    r = check_radius(radius_m)
    if demand.shore_pos is None or sites.shore_pos is None:
        raise InputError("shore coverage needs demand and sites placed on the shore (shore_demand, shore_candidates)")
    if len(sites) == 0:
        raise InputError("there are no candidate sites on the shore")
    A = _along_shore_matrix(shore, demand.shore_pos, sites.shore_pos, r)
    if A.nnz == 0:
        raise InputError(f"no shore demand is within radius_m={r:g} m (along the shore) of any candidate garita")
    e = None
    if existing is not None and len(existing):
        epos = existing.shore_pos
        if epos is None:
            epos, _ = shore_positions(shore, existing.xy)
        E = _along_shore_matrix(shore, demand.shore_pos, epos[np.isfinite(epos)], r)
        e = np.asarray(E.sum(axis=1)).ravel().astype(np.int32)
    conf = None
    if min_spacing_m:
        import scipy.sparse as sp

        C = _along_shore_matrix(shore, sites.shore_pos, sites.shore_pos, float(min_spacing_m) - 1e-9)
        C.setdiag(0)
        C.eliminate_zeros()
        conf = sp.csr_matrix(C)
    return CoverageProblem(A, demand.weight, existing=e, costs=sites.cost if use_costs else None, conflicts=conf)


def snap_to_shore(shore: Shore, sites: Sites, *, max_distance_m: float | None = None) -> Sites:
    """Existing garitas (or any sites) with their position along the shore."""
    pos, dist = shore_positions(shore, sites.xy, max_distance_m=max_distance_m)
    frame = sites.frame.copy()
    frame["distance_to_shore_m"] = dist
    return replace(sites, frame=frame, shore_pos=pos, notes={**sites.notes, "not_on_shore": int(np.isnan(pos).sum())})
