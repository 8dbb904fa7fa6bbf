"""Points to zones: a vectorized point-in-polygon locator.

:class:`PointLocator` assigns many points, given as ``x``/``y`` float arrays, to polygon
zones without building shapely points. :meth:`PointLocator.fit` covers the polygons'
bounding box with a regular grid of square cells, built coarse-to-fine with
:class:`shapely.STRtree` queries: a cell that no polygon boundary crosses lies wholly
inside one polygon (its code) or outside all of them (``-1``); only cells crossed by a
boundary (``-2``) keep a short list of candidate polygons. :meth:`PointLocator.locate`
then resolves most points by array indexing and tests the rest exactly with
:func:`shapely.intersects_xy` / :func:`shapely.contains_xy` on prepared polygons.

Containment is computed in the polygons' own coordinates: transform the points to the
polygons' CRS first. The polygons are expected to be valid (``shapely.make_valid``);
invalid ones do not make :meth:`PointLocator.fit` fail, but answers near their defects
are undefined.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import shapely

from geoprio.errors import InputError

__all__ = ["PointLocator", "count_by_zone", "locate_points"]

Predicate = Literal["intersects", "contains"]
_PIECE = 16  # boundary segments per indexed line piece
_TOP = 8  # cells (per side, roughly) of the coarsest level


class PointLocator:
    """Locate points in polygons with a hierarchical grid and an exact boundary test.

    Parameters
    ----------
    resolution : int, default 2048
        Number of grid cells along the longer side of the polygons' bounding box.
        Higher values leave fewer points for the exact test and use more memory
        (4 bytes per cell).
    predicate : {"intersects", "contains"}, default "intersects"
        ``"intersects"``: a point on a polygon's boundary belongs to it; a point on a
        boundary shared by several polygons goes to the one with the lowest index.
        ``"contains"``: boundary points belong to no polygon.
        Overlapping polygons: a point goes to the lowest index among those it matches.
    chunk_size : int, default 2_000_000
        Points processed at a time by :meth:`locate` (bounds temporary memory).
    n_jobs : int or None, default None
        Threads used by :meth:`locate` (shapely and numpy release the GIL); ``None``
        uses every core, at most 8.

    Attributes
    ----------
    polygons_ : numpy.ndarray
        The prepared polygons (object array), indexed as given to :meth:`fit`.
    bounds_ : numpy.ndarray
        ``(xmin, ymin, xmax, ymax)`` of the grid (the polygons' total bounds).
    cell_size_ : float
        Side of a grid cell, in the polygons' units.
    grid_ : numpy.ndarray
        ``int32`` array of shape ``(ny, nx)``: ``k >= 0`` the cell lies wholly inside
        polygon ``k``; ``-1`` it touches no polygon; ``-2`` boundary cell (exact test).
    boundary_cells_ : numpy.ndarray
        Sorted flat indices (``row * nx + col``) of the boundary cells.
    candidates_ptr_, candidates_ : numpy.ndarray
        CSR lists: the candidate polygons of ``boundary_cells_[i]`` are
        ``candidates_[candidates_ptr_[i]:candidates_ptr_[i + 1]]``, in increasing order.
    covered_ : numpy.ndarray
        Per boundary cell, ``True`` when the cell lies inside the union of the polygons,
        so that a point there not matching its other candidates matches the last one
        (used with ``"intersects"`` only).
    """

    def __init__(
        self,
        *,
        resolution: int = 2048,
        predicate: Predicate = "intersects",
        chunk_size: int = 2_000_000,
        n_jobs: int | None = None,
    ) -> None:
        self.resolution = resolution
        self.predicate = predicate
        self.chunk_size = chunk_size
        self.n_jobs = n_jobs

    def __repr__(self) -> str:
        return f"PointLocator(resolution={self.resolution!r}, predicate={self.predicate!r})"

    # ------------------------------------------------------------------ fit

    def fit(self, polygons: Sequence[Any] | npt.ArrayLike) -> PointLocator:
        """Index ``polygons`` (shapely Polygons/MultiPolygons; geoprio Zones, a GeoDataFrame or a GeoSeries work too).

        Returns ``self``. The polygons are prepared in place (``shapely.prepare``).
        Empty polygons are allowed and never match.
        """
        self._check_params()
        geoms = _as_polygons(polygons)
        shapely.prepare(geoms)
        bounds = shapely.bounds(geoms)
        if np.isnan(bounds).all():
            raise InputError("all polygons are empty; nothing to locate points in")
        x0, y0 = np.nanmin(bounds[:, 0]), np.nanmin(bounds[:, 1])
        x1, y1 = np.nanmax(bounds[:, 2]), np.nanmax(bounds[:, 3])
        cs = max(x1 - x0, y1 - y0) / self.resolution
        if not cs > 0:
            raise InputError("the polygons have no extent (zero-width bounding box)")
        nx = max(1, min(self.resolution, int(np.ceil((x1 - x0) / cs))))
        ny = max(1, min(self.resolution, int(np.ceil((y1 - y0) / cs))))
        pad = cs * 1e-6 + 8 * np.finfo(float).eps * max(abs(x0), abs(x1), abs(y0), abs(y1))

        pieces, owner = _boundary_pieces(geoms)
        piece_tree = shapely.STRtree(pieces)
        poly_tree = shapely.STRtree(geoms)

        def boxes(ci: np.ndarray, cj: np.ndarray, size: int) -> np.ndarray:
            return shapely.box(
                x0 + cj * size * cs - pad,
                y0 + ci * size * cs - pad,
                x0 + np.minimum((cj + 1) * size, nx) * cs + pad,
                y0 + np.minimum((ci + 1) * size, ny) * cs + pad,
            )

        grid = np.full((ny, nx), -1, dtype=np.int32)
        level = max(0, int(np.ceil(np.log2(max(nx, ny) / _TOP))))
        size = 1 << level
        ci, cj = np.divmod(np.arange(-(-ny // size) * -(-nx // size)), -(-nx // size))
        while True:
            hit_cell, hit_piece = piece_tree.query(boxes(ci, cj, size), predicate="intersects")
            crossed = np.zeros(len(ci), dtype=bool)
            crossed[hit_cell] = True
            # a cell no boundary crosses is inside or outside each polygon as a whole:
            # its centre decides; overlaps resolve to the lowest index
            inside = ~crossed if level else np.ones(len(ci), dtype=bool)
            cx = x0 + (np.minimum((cj + 1) * size, nx) + cj * size) * cs / 2
            cy = y0 + (np.minimum((ci + 1) * size, ny) + ci * size) * cs / 2
            pt, pg = _xy_hits(poly_tree, geoms, cx[inside], cy[inside], "intersects")
            pt = np.flatnonzero(inside)[pt]
            code = np.full(len(ci), np.iinfo(np.int32).max, dtype=np.int64)
            np.minimum.at(code, pt, pg)
            code[code == np.iinfo(np.int32).max] = -1
            _fill(grid, ci[~crossed], cj[~crossed], size, code[~crossed])
            if level == 0:
                break
            ci = np.repeat(ci[crossed] * 2, 4) + np.tile([0, 0, 1, 1], int(crossed.sum()))
            cj = np.repeat(cj[crossed] * 2, 4) + np.tile([0, 1, 0, 1], int(crossed.sum()))
            size //= 2
            level -= 1
            keep = (ci * size < ny) & (cj * size < nx)
            ci, cj = ci[keep], cj[keep]

        # level 0: crossed cells are boundary cells; candidates = polygons whose boundary
        # crosses the cell plus polygons containing its centre (overlaps)
        cells = ci[crossed] * nx + cj[crossed]
        grid.ravel()[cells] = -2
        row = np.full(len(ci), -1, dtype=np.int64)
        row[crossed] = np.argsort(np.argsort(cells))
        pairs = np.concatenate([row[hit_cell] * len(geoms) + owner[hit_piece], row[pt] * len(geoms) + pg])
        pairs = np.unique(pairs[pairs >= 0])
        order = np.argsort(cells)
        self.boundary_cells_ = cells[order].astype(np.int64)
        self.candidates_ = (pairs % len(geoms)).astype(np.int32)
        counts = np.bincount(pairs // len(geoms), minlength=len(cells))
        self.candidates_ptr_ = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        self.covered_ = self._covered(geoms, boxes(cells[order] // nx, cells[order] % nx, 1))

        self.polygons_ = geoms
        self.n_polygons_ = len(geoms)
        self.bounds_ = np.array([x0, y0, x1, y1], dtype=float)
        self.cell_size_ = float(cs)
        self.grid_ = grid
        self._row = np.full(nx * ny, -1, dtype=np.int32)
        self._row[self.boundary_cells_] = np.arange(len(cells), dtype=np.int32)
        return self

    def _check_params(self) -> None:
        if isinstance(self.resolution, bool) or not isinstance(self.resolution, int | np.integer) or self.resolution < 1:
            raise InputError(f"resolution must be an integer >= 1, got {self.resolution!r}")
        if self.predicate not in ("intersects", "contains"):
            raise InputError(f"predicate must be 'intersects' or 'contains', got {self.predicate!r}")
        if not isinstance(self.chunk_size, int | np.integer) or self.chunk_size < 1:
            raise InputError(f"chunk_size must be an integer >= 1, got {self.chunk_size!r}")

    def _covered(self, geoms: np.ndarray, cell_boxes: np.ndarray) -> np.ndarray:
        """Boundary cells wholly inside the polygons' union (``False`` if it cannot be built)."""
        if self.predicate != "intersects" or len(cell_boxes) == 0:
            return np.zeros(len(cell_boxes), dtype=bool)
        try:
            union = shapely.union_all(geoms)
        except shapely.errors.GEOSException:  # invalid input: skip the shortcut
            return np.zeros(len(cell_boxes), dtype=bool)
        pieces, _ = _boundary_pieces(np.array([union], dtype=object))
        hit = shapely.STRtree(pieces).query(cell_boxes, predicate="intersects")[0]
        covered = np.ones(len(cell_boxes), dtype=bool)
        covered[hit] = False
        return covered

    # ------------------------------------------------------------------ locate

    def locate(self, x: npt.ArrayLike, y: npt.ArrayLike) -> npt.NDArray[np.int64]:
        """Return the index of the polygon holding each point, or ``-1``.

        ``-1`` means outside every polygon, or a NaN coordinate. Indices are positions
        in the sequence given to :meth:`fit`. The output has the shape of ``x``.
        """
        if not hasattr(self, "grid_"):
            raise InputError("this PointLocator is not fitted yet; call fit(polygons) first")
        x = np.asarray(x, dtype=float)
        y = np.asarray(y, dtype=float)
        if x.shape != y.shape:
            raise InputError(f"x and y must have the same length/shape, got {x.shape} and {y.shape}")
        xf, yf = x.ravel(), y.ravel()
        out = np.empty(xf.size, dtype=np.int64)
        starts = range(0, xf.size, self.chunk_size)
        jobs = min(len(starts), self.n_jobs or min(os.cpu_count() or 1, 8))

        def run(s: int) -> None:
            e = s + self.chunk_size
            out[s:e] = self._locate_chunk(xf[s:e], yf[s:e])

        if jobs > 1:
            with ThreadPoolExecutor(max_workers=jobs) as pool:
                list(pool.map(run, starts))
        else:
            for s in starts:
                run(s)
        return out.reshape(x.shape)

    def _locate_chunk(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        x0, y0, x1, y1 = self.bounds_
        ny, nx = self.grid_.shape
        ok = (x >= x0) & (x <= x1) & (y >= y0) & (y <= y1)  # False for NaN
        ix = np.minimum(((np.where(ok, x, x0) - x0) / self.cell_size_).astype(np.int64), nx - 1)
        iy = np.minimum(((np.where(ok, y, y0) - y0) / self.cell_size_).astype(np.int64), ny - 1)
        flat = iy * nx + ix
        code = np.where(ok, self.grid_.ravel()[flat], -1).astype(np.int64)
        todo = np.flatnonzero(code == -2)
        code[todo] = -1
        row = self._row[flat[todo]]
        start = self.candidates_ptr_[row]
        count = self.candidates_ptr_[row + 1] - start
        test = shapely.intersects_xy if self.predicate == "intersects" else shapely.contains_xy
        slot = 0
        while todo.size:
            last = count == slot + 1
            poly = self.candidates_[start + slot]
            hit = last & self.covered_[row]
            rest = ~hit
            hit[rest] = test(self.polygons_[poly[rest]], x[todo[rest]], y[todo[rest]])
            code[todo[hit]] = poly[hit]
            keep = ~hit & (count > slot + 1)
            todo, row, start, count = todo[keep], row[keep], start[keep], count[keep]
            slot += 1
        return code


def _as_polygons(polygons: Any) -> np.ndarray:
    """Validate ``polygons`` and return them as a 1-D object array."""
    polygons = getattr(polygons, "frame", polygons)  # geoprio Zones
    geoms = getattr(polygons, "geometry", polygons)  # GeoDataFrame / GeoSeries
    geoms = np.asarray(geoms, dtype=object)
    if geoms.ndim != 1:
        raise InputError(f"polygons must be a 1-D sequence of shapely polygons, got shape {geoms.shape}")
    if geoms.size == 0:
        raise InputError("polygons is empty: at least one polygon is needed")
    try:
        kinds = shapely.get_type_id(geoms)
    except TypeError:
        raise InputError("polygons must be shapely polygons (or Zones, a GeoDataFrame, a GeoSeries)") from None
    bad = np.flatnonzero((kinds != 3) & (kinds != 6))
    if bad.size:
        i = int(bad[0])
        kind = "None" if geoms[i] is None else geoms[i].geom_type
        raise InputError(f"polygons[{i}] is a {kind}, expected a Polygon or MultiPolygon ({bad.size} non-polygon item(s))")
    return geoms.copy()


def _boundary_pieces(geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Split polygon boundaries into short linestrings; return them and their polygon index."""
    parts, part_of = shapely.get_parts(geoms, return_index=True)
    rings, ring_of = shapely.get_rings(parts, return_index=True)
    coords, coord_of = shapely.get_coordinates(rings, return_index=True)
    n = np.bincount(coord_of, minlength=len(rings))  # closed rings: n >= 4
    first = np.concatenate([[0], np.cumsum(n)[:-1]])
    npieces = -(-(n - 1) // _PIECE)
    ring = np.repeat(np.arange(len(rings)), npieces)
    k = np.arange(npieces.sum()) - np.repeat(np.cumsum(npieces) - npieces, npieces)
    a = first[ring] + k * _PIECE
    b = np.minimum(a + _PIECE, first[ring] + n[ring] - 1)
    m = b - a + 1
    vid = np.repeat(a, m) + np.arange(m.sum()) - np.repeat(np.cumsum(m) - m, m)
    lines = shapely.linestrings(coords[vid], indices=np.repeat(np.arange(len(a)), m))
    return lines, part_of[ring_of[ring]].astype(np.int64)


def _xy_hits(tree: shapely.STRtree, geoms: np.ndarray, x: np.ndarray, y: np.ndarray, predicate: str) -> tuple[np.ndarray, np.ndarray]:
    """Return (point, polygon) index pairs for points matching polygons, vectorized."""
    pt, pg = tree.query(shapely.points(x, y), predicate=None)  # bounding-box candidates
    test = shapely.intersects_xy if predicate == "intersects" else shapely.contains_xy
    ok = test(geoms[pg], x[pt], y[pt])
    return pt[ok], pg[ok]


def _fill(grid: np.ndarray, ci: np.ndarray, cj: np.ndarray, size: int, code: np.ndarray) -> None:
    """Write ``code`` into the ``size``-by-``size`` blocks at block coordinates (ci, cj)."""
    if ci.size == 0:
        return
    ny, nx = grid.shape
    off = np.arange(size)
    rows = (ci[:, None, None] * size + off[None, :, None]).repeat(size, axis=2)
    cols = (cj[:, None, None] * size + off[None, None, :]).repeat(size, axis=1)
    val = np.broadcast_to(code[:, None, None], rows.shape)
    ok = (rows < ny) & (cols < nx)
    grid[rows[ok], cols[ok]] = val[ok]


def locate_points(x: npt.ArrayLike, y: npt.ArrayLike, polygons: Any, **kwargs: Any) -> npt.NDArray[np.int64]:
    """Shorthand for ``PointLocator(**kwargs).fit(polygons).locate(x, y)``."""
    return PointLocator(**kwargs).fit(polygons).locate(x, y)


def count_by_zone(codes: npt.ArrayLike, n_zones: int, weights: npt.ArrayLike | None = None) -> npt.NDArray[Any]:
    """Count (or sum ``weights`` of) points per zone code; codes ``-1`` are ignored.

    Returns an array of length ``n_zones``: ``int64`` counts, or ``float64`` sums when
    ``weights`` is given.
    """
    codes = np.asarray(codes).ravel()
    if n_zones < 0:
        raise InputError(f"n_zones must be >= 0, got {n_zones}")
    if codes.size and codes.max(initial=-1) >= n_zones:
        raise InputError(f"zone code {int(codes.max())} out of range for n_zones={n_zones}")
    keep = codes >= 0
    if weights is None:
        return np.bincount(codes[keep], minlength=n_zones).astype(np.int64)
    w = np.asarray(weights, dtype=float).ravel()
    if w.shape != codes.shape:
        raise InputError(f"weights must have one value per code, got {w.size} for {codes.size}")
    return np.bincount(codes[keep], weights=w[keep], minlength=n_zones)
