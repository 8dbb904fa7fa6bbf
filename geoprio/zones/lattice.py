"""Square grid cells located by arithmetic: an exact shortcut in front of :class:`PointLocator`.

The square cells of :func:`~geoprio.zones.layers.make_grid` lie on a regular lattice, so the
cell of a point is mostly a matter of two divisions. :class:`SquareLattice` answers for the
points that lie inside a whole (unclipped) cell and at least ``margin`` (1 cm per 100 m of
cell) from every lattice line, and for the points inside a lattice square that holds no cell;
every other point (near an edge, where the tie rule decides, or in a cell clipped to the study
area) is left to the exact :class:`~geoprio.zones.assign.PointLocator` (code ``-2``). A point
strictly inside one cell belongs to it under any predicate, so the answers are the locator's,
about ten times faster on a 100 m grid.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely

__all__ = ["SquareLattice"]

_MARGIN = 1e-4  # of the cell size: far above the CRS round trip of the cells' corners (~1e-9 m)


@dataclass(frozen=True, eq=False)
class SquareLattice:
    """A lookup table from lattice square to cell index (``-1``: no cell), and which cells are whole squares."""

    origin_x: float
    origin_y: float
    size: float
    table: np.ndarray
    whole: np.ndarray

    @classmethod
    def from_cells(cls, cells: np.ndarray, cell_size_m: float) -> SquareLattice | None:
        """The lattice of square ``cells`` (metric CRS, as ``make_grid`` lists them); None if they are not one."""
        geoms = np.asarray(cells, dtype=object)
        size = float(cell_size_m)
        if geoms.size == 0 or not size > 0:
            return None
        b = shapely.bounds(geoms)
        tol = 1e-6 * size
        whole = (
            (shapely.get_type_id(geoms) == 3)
            & (shapely.get_num_coordinates(geoms) == 5)
            & (np.abs(b[:, 2] - b[:, 0] - size) < tol)
            & (np.abs(b[:, 3] - b[:, 1] - size) < tol)
            & (np.abs(shapely.area(geoms) - size * size) < tol * size)
        )
        if not whole.any():
            return None
        first = int(np.flatnonzero(whole)[0])
        ax, ay = b[first, 0], b[first, 1]
        centre = shapely.centroid(geoms)
        col = np.floor((shapely.get_x(centre) - ax) / size).astype(np.int64)
        row = np.floor((shapely.get_y(centre) - ay) / size).astype(np.int64)
        # whole cells must sit on the lattice of the first one
        off_x = np.abs(b[whole, 0] - (ax + col[whole] * size))
        off_y = np.abs(b[whole, 1] - (ay + row[whole] * size))
        if (off_x > tol).any() or (off_y > tol).any():
            return None
        c0, r0 = int(col.min()) - 1, int(row.min()) - 1  # one empty square around: outside is -1
        table = np.full((int(row.max()) - r0 + 2, int(col.max()) - c0 + 2), -1, dtype=np.int32)
        r, c = row - r0, col - c0
        if len(np.unique(r * table.shape[1] + c)) != len(geoms):  # two cells in one square: not a lattice
            return None
        table[r, c] = np.arange(len(geoms), dtype=np.int32)
        return cls(float(ax + c0 * size), float(ay + r0 * size), size, table, whole)

    def locate(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Cell index of each point (metres), ``-1`` outside every cell, ``-2`` for the exact locator."""
        fx = (np.asarray(x, dtype=float) - self.origin_x) / self.size
        fy = (np.asarray(y, dtype=float) - self.origin_y) / self.size
        ny, nx = self.table.shape
        with np.errstate(invalid="ignore"):
            col, row = np.floor(fx), np.floor(fy)
            inside = (col >= 0) & (col < nx) & (row >= 0) & (row < ny)  # False for NaN
        code = np.where(inside | np.isnan(fx) | np.isnan(fy), -2, -1).astype(np.int64)
        code[np.isnan(fx) | np.isnan(fy)] = -1
        idx = np.flatnonzero(inside)
        ci, ri = col[idx].astype(np.int64), row[idx].astype(np.int64)
        dx, dy = fx[idx] - ci, fy[idx] - ri
        clear = (dx > _MARGIN) & (dx < 1 - _MARGIN) & (dy > _MARGIN) & (dy < 1 - _MARGIN)
        cell = self.table[ri, ci].astype(np.int64)
        known = clear & ((cell == -1) | self.whole[np.maximum(cell, 0)] & (cell >= 0))
        code[idx[known]] = cell[known]
        return code
