"""The geography of Puerto Demo, drawn in a metric CRS from a seeded generator.

The land and its coastline, about 30 UPZ (Lloyd-relaxed Voronoi cells) grouped into 6 connected
localidades, beaches along the coast, the planted hot spots (:class:`PlantedHotspots`),
resident and floating populations, beach garitas, CCTV cameras and the public places ranked by
``geoprio entornos``; all gathered in a :class:`Geography`. Also the samplers (uniform inside
polygons, Gaussian around centres) that :mod:`geoprio.demo.records` reuses.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
import shapely
from pyproj import Transformer
from shapely import LineString, Point, Polygon, affinity
from shapely.ops import substring

from geoprio.demo.parameters import (
    CORE_ROLES,
    EROSION_M,
    EW_M,
    EXTRA_ROLES,
    LOCALIDADES,
    N_UPZ,
    NS_M,
    PLAYAS,
    ROLES,
    UPZ_CENTRO,
    UPZ_COASTAL,
    UPZ_GENERAL,
    UPZ_PERIPHERY,
    UPZ_PUERTO,
)

__all__ = [
    "Geography",
    "PlantedHotspots",
    "build_geography",
    "geoms_to_wgs",
    "make_places",
    "sample_gaussian",
    "sample_uniform",
]


@dataclass(frozen=True, eq=False)
class PlantedHotspots:
    """The planted hot spots, one entry per hot spot, in metric coordinates.

    ``roles`` are keys of :data:`geoprio.demo.parameters.ROLES`, ``names`` their labels,
    ``sigma`` the Gaussian spread (m), ``weight`` and ``weight_conv`` the shares of hot-spot
    incidents and coexistence records, ``trend`` the relative change over the two years.
    """

    roles: tuple[str, ...]
    names: tuple[str, ...]
    x: np.ndarray
    y: np.ndarray
    sigma: np.ndarray
    weight: np.ndarray
    weight_conv: np.ndarray
    trend: np.ndarray
    upz: np.ndarray  # index of the UPZ holding the centre


@dataclass(frozen=True, eq=False)
class Geography:
    """Everything of the city that is not a record, in metric coordinates.

    UPZ arrays are in the order of their codes (``UPZ01``..); ``upz_loc`` is the position of
    each UPZ's localidad in :data:`geoprio.demo.parameters.LOCALIDADES`, ``upz_roles`` what
    each UPZ is like (``centro``, ``playa``, ``periferia``...).
    """

    land: Polygon
    land_inner: Polygon  # land eroded by EROSION_M, prepared
    coast: LineString
    upz_geoms: np.ndarray
    upz_inner: np.ndarray  # each UPZ intersected with land_inner, prepared
    upz_codes: list[str]
    upz_names: list[str]
    upz_loc: np.ndarray
    upz_loc_codes: list[str]
    upz_roles: list[set[str]]
    residents: np.ndarray
    floating: np.ndarray
    beach_geoms: np.ndarray
    beach_names: list[str]
    garita_points: np.ndarray
    garita_names: list[str]
    camera_points: np.ndarray
    hotspots: PlantedHotspots


def geoms_to_wgs(geoms: np.ndarray, to_wgs: Transformer) -> np.ndarray:
    """Transform metric geometries to lon/lat rounded to 6 decimals."""

    def func(coords: np.ndarray) -> np.ndarray:
        lon, lat = to_wgs.transform(coords[:, 0], coords[:, 1])
        return np.round(np.column_stack([lon, lat]), 6)

    return np.asarray(shapely.transform(np.asarray(geoms, dtype=object), func), dtype=object)


def _wiggle(t: np.ndarray, rng: np.random.Generator, terms: Sequence[tuple[float, float]]) -> np.ndarray:
    """Sum of sines of ``t`` (0..1) with seeded phases and amplitudes within +-20 %."""
    out = np.zeros_like(t)
    for amplitude, cycles in terms:
        amp = amplitude * rng.uniform(0.8, 1.2)
        out += amp * np.sin(2 * np.pi * cycles * t + rng.uniform(0, 2 * np.pi))
    return out


def _city_outline(rng: np.random.Generator, x0: float, y0: float) -> tuple[Polygon, LineString]:
    """Land polygon (irregular city limits) and its western edge, the coastline."""
    ys, yn = y0 - NS_M / 2, y0 + NS_M / 2
    t = np.linspace(0.0, 1.0, 281)  # every 50 m along the coast
    coast_x = x0 - EW_M / 2 + _wiggle(t, rng, ((380, 1.6), (190, 3.3), (70, 8.1)))
    coast_y = ys + t * NS_M
    east_x = x0 + EW_M / 2 + _wiggle(t, rng, ((450, 1.2), (220, 2.7)))
    s = np.linspace(0.0, 1.0, 101)
    taper = np.sin(np.pi * s)
    north_x = coast_x[-1] + s * (east_x[-1] - coast_x[-1])
    north_y = yn + taper * _wiggle(s, rng, ((350, 1.5), (150, 3.2)))
    south_x = coast_x[0] + s * (east_x[0] - coast_x[0])
    south_y = ys + taper * _wiggle(s, rng, ((350, 1.4), (150, 2.9)))
    ring = np.concatenate(
        [
            np.column_stack([coast_x, coast_y]),
            np.column_stack([north_x, north_y])[1:-1],
            np.column_stack([east_x, coast_y])[::-1],
            np.column_stack([south_x, south_y])[::-1][1:-1],
        ]
    )
    land = Polygon(ring)
    if not land.is_valid:  # pragma: no cover - the wiggles are far too small for this
        raise RuntimeError("demo city outline is not a valid polygon")
    return land, LineString(np.column_stack([coast_x, coast_y]))


def sample_uniform(geoms: np.ndarray, idx: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Uniform points, one in ``geoms[idx[i]]`` for each i, by rejection in bounding boxes."""
    n = len(idx)
    x = np.empty(n)
    y = np.empty(n)
    bounds = shapely.bounds(geoms)
    todo = np.arange(n)
    for _ in range(10_000):
        if todo.size == 0:
            return x, y
        b = bounds[idx[todo]]
        xs = rng.uniform(b[:, 0], b[:, 2])
        ys = rng.uniform(b[:, 1], b[:, 3])
        ok = shapely.contains_xy(geoms[idx[todo]], xs, ys)
        x[todo[ok]] = xs[ok]
        y[todo[ok]] = ys[ok]
        todo = todo[~ok]
    raise RuntimeError("rejection sampling did not converge")  # pragma: no cover


def sample_gaussian(
    cx: np.ndarray,
    cy: np.ndarray,
    sigma: np.ndarray,
    idx: np.ndarray,
    mask: Polygon,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """Gaussian points around centre ``idx[i]``, redrawn until they fall inside ``mask``."""
    n = len(idx)
    x = np.empty(n)
    y = np.empty(n)
    todo = np.arange(n)
    for _ in range(10_000):
        if todo.size == 0:
            return x, y
        k = idx[todo]
        xs = cx[k] + sigma[k] * rng.standard_normal(todo.size)
        ys = cy[k] + sigma[k] * rng.standard_normal(todo.size)
        ok = shapely.contains_xy(mask, xs, ys)
        x[todo[ok]] = xs[ok]
        y[todo[ok]] = ys[ok]
        todo = todo[~ok]
    raise RuntimeError("rejection sampling did not converge")  # pragma: no cover


def _polygon_parts(geom: shapely.Geometry) -> list[Polygon]:
    parts = shapely.get_parts(geom)
    return [p for p in parts if isinstance(p, Polygon) and not p.is_empty]


def _voronoi_cells(xy: np.ndarray, land: Polygon) -> np.ndarray:
    """Voronoi cells of ``xy`` clipped to ``land``, one Polygon per point (input order)."""
    frame = shapely.box(*land.buffer(5_000).bounds)
    vor = shapely.voronoi_polygons(shapely.multipoints(xy), extend_to=frame, ordered=True)
    cells = shapely.intersection(shapely.get_parts(vor), land)
    cells = np.asarray(cells, dtype=object)
    for i, cell in enumerate(cells):
        parts = _polygon_parts(cell)
        if len(parts) == 1 and isinstance(cell, Polygon):
            continue
        parts.sort(key=lambda p: p.area, reverse=True)
        cells[i] = parts[0]
        for part in parts[1:]:  # give a stray piece to the neighbour it shares most with
            grown = part.buffer(0.5)
            shared = [grown.intersection(cells[j]).area if j != i else -1.0 for j in range(len(cells))]
            j = int(np.argmax(shared))
            merged = _polygon_parts(shapely.union(cells[j], part))
            cells[j] = max(merged, key=lambda p: p.area)
    return cells


def _shared_border(cells: np.ndarray) -> np.ndarray:
    """Approximate length (m) of the border shared by each pair of cells."""
    grown = shapely.buffer(cells, 0.5)
    inter = shapely.area(shapely.intersection(grown[:, None], grown[None, :]))
    np.fill_diagonal(inter, 0.0)
    return inter  # a strip 1 m wide: area ~ shared length


def _distances(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pairwise Euclidean distances between the rows of ``a`` (n, 2) and ``b`` (m, 2)."""
    return np.hypot(a[:, None, 0] - b[None, :, 0], a[:, None, 1] - b[None, :, 1])


def _assign_localidades(cells: np.ndarray, anchors: np.ndarray, shared: np.ndarray) -> np.ndarray:
    """Nearest-anchor assignment, repaired so each localidad is non-empty and connected."""
    cent = shapely.get_coordinates(shapely.centroid(cells))
    n_loc = len(anchors)
    anchors = anchors.copy()
    for _ in range(4):  # a few k-means steps from the semantic anchors balance the sizes
        dist = _distances(cent, anchors)
        loc = np.argmin(dist, axis=1)
        for k in range(n_loc):
            if np.any(loc == k):
                anchors[k] = 0.5 * anchors[k] + 0.5 * cent[loc == k].mean(axis=0)
    dist = _distances(cent, anchors)
    loc = np.argmin(dist, axis=1)
    for _ in range(200):
        changed = False
        counts = np.bincount(loc, minlength=n_loc)
        for k in range(n_loc):
            if counts[k] == 0:
                order = np.argsort(dist[:, k])
                cand = next(i for i in order if counts[loc[i]] > 1)
                loc[cand] = k
                changed = True
                break
        if changed:
            continue
        for k in range(n_loc):
            members = np.flatnonzero(loc == k)
            parts = _polygon_parts(shapely.union_all(cells[members]))
            if len(parts) <= 1:
                continue
            main = max(parts, key=lambda p: p.area)
            for i in members:
                if not main.contains(cells[i].representative_point()):
                    border = shared[i].copy()
                    border[loc == k] = 0.0
                    if border.max() > 0:
                        loc[i] = loc[int(np.argmax(border))]
                        changed = True
        if changed:
            continue
        if _rebalance_once(cells, loc, dist, shared, n_loc):
            continue
        return loc
    raise RuntimeError("could not build connected localidades")  # pragma: no cover


def _connected(cells: np.ndarray, members: np.ndarray) -> bool:
    return members.size > 0 and len(_polygon_parts(shapely.union_all(cells[members]))) == 1


def _rebalance_once(cells: np.ndarray, loc: np.ndarray, dist: np.ndarray, shared: np.ndarray, n_loc: int) -> bool:
    """Move one border UPZ from a large localidad to a small neighbour (3 to 8 UPZ each)."""
    counts = np.bincount(loc, minlength=n_loc)
    small = [k for k in np.argsort(counts, kind="stable") if counts[k] < 3]
    large = [k for k in np.argsort(-counts, kind="stable") if counts[k] > 8]
    moves: list[tuple[int, int]] = []  # (upz, to)
    for k in small:  # pull the nearest adjacent UPZ from a neighbour that can spare one
        near = np.flatnonzero((shared[loc == k].max(axis=0) > 50.0) & (loc != k))
        moves += [(int(i), int(k)) for i in near[np.argsort(dist[near, k])] if counts[loc[i]] > 3]
    for k in large:  # push a border UPZ to the smallest adjacent localidad
        members = np.flatnonzero(loc == k)
        for i in members[np.argsort(-dist[members, k])]:
            nb = {int(loc[j]) for j in np.flatnonzero(shared[i] > 50.0)} - {int(k)}
            moves += [(int(i), t) for t in sorted(nb, key=lambda t: counts[t]) if counts[t] < 7]
    for i, to in moves:
        frm = loc[i]
        loc[i] = to
        if _connected(cells, np.flatnonzero(loc == frm)) and _connected(cells, np.flatnonzero(loc == to)):
            return True
        loc[i] = frm
    return False


def _inland_point(coast: LineString, d: float, offset: float) -> Point:
    """Point ``offset`` metres inland (to the right of the south->north coast) at ``d``."""
    p1 = coast.interpolate(max(d - 5.0, 0.0))
    p2 = coast.interpolate(min(d + 5.0, coast.length))
    tx, ty = p2.x - p1.x, p2.y - p1.y
    norm = float(np.hypot(tx, ty))
    p = coast.interpolate(d)
    return Point(p.x + offset * ty / norm, p.y - offset * tx / norm)


def _place_beaches(rng: np.random.Generator, coast: LineString, excluded: tuple[float, float]) -> list[tuple[float, float, float]]:
    """Beaches as (start, end, width) along the coast, avoiding the ``excluded`` stretch."""
    length = coast.length
    margin = 150.0
    intervals = [(margin, excluded[0] - 100.0), (excluded[1] + 100.0, length - margin)]
    intervals = [(a, b) for a, b in intervals if b - a > 1_500.0]
    lengths = np.array([b - a for a, b in intervals])
    n_beaches = int(rng.integers(5, 8))
    total = min(rng.uniform(8_400.0, 9_800.0), 0.8 * lengths.sum())
    # beaches per interval by largest remainder
    quota = n_beaches * lengths / lengths.sum()
    counts = np.floor(quota).astype(int)
    for i in np.argsort(-(quota - counts))[: n_beaches - counts.sum()]:
        counts[i] += 1
    beaches: list[tuple[float, float, float]] = []
    used = lengths[counts > 0].sum()
    for (a, b), k in zip(intervals, counts, strict=True):
        if k == 0:
            continue
        span = b - a
        beach_total = min(total * span / used, 0.85 * span)
        sizes = rng.dirichlet(np.full(k, 6.0)) * beach_total
        gaps = rng.dirichlet(np.full(k + 1, 3.0)) * (span - beach_total)
        start = a
        for size, gap in zip(sizes, gaps[:-1], strict=True):
            start += gap
            beaches.append((start, start + size, rng.uniform(40.0, 80.0)))
            start += size
    return beaches


def _pick_upz(candidates: np.ndarray, score: np.ndarray, used: set[int], fallback: np.ndarray) -> int:
    """Best-scoring candidate not used yet (lowest score wins)."""
    for pool in (candidates, fallback):
        free = [int(i) for i in pool if int(i) not in used]
        if free:
            return min(free, key=lambda i: score[i])
    raise RuntimeError("no UPZ left for a hot spot")  # pragma: no cover


def _point_inside(poly: Polygon, rng: np.random.Generator, inset: float) -> Point:
    """A random point of ``poly`` at least ``inset`` metres from its border, if possible."""
    core = poly.buffer(-inset)
    target = core if (not core.is_empty and core.area > 0.05 * poly.area) else poly
    parts = _polygon_parts(target)
    target = max(parts, key=lambda p: p.area)
    x, y = sample_uniform(np.array([target], dtype=object), np.zeros(1, dtype=int), rng)
    return Point(x[0], y[0])


def _upz_cells(rng: np.random.Generator, land: Polygon) -> np.ndarray:
    """About 30 UPZ: Lloyd-relaxed Voronoi cells of seeded points, clipped to the land."""
    px, py = sample_uniform(np.array([land], dtype=object), np.zeros(N_UPZ, dtype=int), rng)
    xy = np.column_stack([px, py])
    for _ in range(5):
        cells = _voronoi_cells(xy, land)
        xy = shapely.get_coordinates(shapely.centroid(cells))
    return _voronoi_cells(xy, land)


def _name_upz(rng: np.random.Generator, coastal: np.ndarray, loc: np.ndarray, centro: int, port: int) -> list[str]:
    """Spanish names: fixed ones for the centre and port, then from pools by position."""
    names: list[str] = [""] * len(loc)
    names[centro] = UPZ_CENTRO
    names[port] = UPZ_PUERTO
    pools = {
        "coastal": [str(v) for v in rng.permutation(UPZ_COASTAL)],
        "periphery": [str(v) for v in rng.permutation(UPZ_PERIPHERY)],
        "general": [str(v) for v in rng.permutation(UPZ_GENERAL)],
    }
    for i in range(len(loc)):
        if names[i]:
            continue
        key = "coastal" if coastal[i] else ("periphery" if loc[i] == 5 else "general")
        names[i] = (pools[key] or pools["general"]).pop()
    return names


def _beach_layer(
    rng: np.random.Generator,
    coast: LineString,
    land: Polygon,
    beaches: list[tuple[float, float, float]],
    cells: np.ndarray,
    names: list[str],
) -> tuple[np.ndarray, list[str]]:
    """Beach polygons (strips inland of the coast) named after the UPZ they front."""
    geoms = []
    for d0, d1, width in beaches:
        strip = substring(coast, d0, d1).buffer(-width, single_sided=True)  # right = inland
        geoms.append(max(_polygon_parts(strip.intersection(land)), key=lambda p: p.area))
    beach_geoms = np.array(geoms, dtype=object)
    fronting = np.argmax(shapely.area(shapely.intersection(beach_geoms[:, None], cells[None, :])), axis=1)
    spare = [str(v) for v in rng.permutation(PLAYAS)]
    labels: list[str] = []
    for i in fronting:
        label = names[i] if names[i].startswith("Playa ") else f"Playa {names[i]}"
        labels.append(label if label not in labels else spare.pop())
    return beach_geoms, labels


def _on_beach(
    rng: np.random.Generator,
    coast: LineString,
    beach: tuple[float, float, float],
    geom: Polygon,
    spread: float,
) -> Point:
    """A random point half-way across a beach, within the middle ``spread`` of its length."""
    d0, d1, width = beach
    lo = 0.5 - spread / 2
    pt = _inland_point(coast, rng.uniform(d0 + lo * (d1 - d0), d1 - lo * (d1 - d0)), width / 2)
    return pt if geom.contains(pt) else geom.point_on_surface()


def _plant_hotspots(
    rng: np.random.Generator,
    *,
    cells: np.ndarray,
    loc: np.ndarray,
    anchors: np.ndarray,
    shared: np.ndarray,
    coastal: np.ndarray,
    names: list[str],
    centro: int,
    port: int,
    port_front: float,
    coast: LineString,
    beaches: list[tuple[float, float, float]],
    beach_geoms: np.ndarray,
    beach_names: list[str],
) -> PlantedHotspots:
    """Place 8 to 10 hot spots by role (centre, beaches, market, periphery, ...)."""
    n = len(cells)
    centroids = shapely.get_coordinates(shapely.centroid(cells))
    anchor_dist = np.hypot(centroids[:, 0] - anchors[loc, 0], centroids[:, 1] - anchors[loc, 1])
    everyone = np.arange(n)
    roles = list(CORE_ROLES) + list(EXTRA_ROLES[: int(rng.integers(0, 3))])
    beach_xy = shapely.get_coordinates(shapely.centroid(beach_geoms))
    points: list[Point] = []
    holders: list[int] = []
    labels: list[str] = []
    used_upz = {centro, port}
    used_beaches: set[int] = set()
    for role in roles:
        spec = ROLES[role]
        if role == "centro":
            pt, i = _point_inside(cells[centro], rng, 250.0), centro
        elif role == "puerto":  # behind the docks
            pt, i = _inland_point(coast, port_front, rng.uniform(250.0, 450.0)), port
            if not cells[port].buffer(-50.0).contains(pt):
                pt = _point_inside(cells[port], rng, 250.0)
        elif role.startswith("playa"):
            if role == "playa_1":  # the beach nearest the historic centre
                score = np.hypot(*(beach_xy - centroids[centro]).T)
            else:  # the northernmost other beach
                score = -beach_xy[:, 1]
            free = [b for b in range(len(beaches)) if b not in used_beaches]
            b = min(free, key=lambda k: score[k])
            used_beaches.add(b)
            pt = _on_beach(rng, coast, beaches[b], beach_geoms[b], 0.4)
            i = int(np.argmax(shapely.contains(cells, pt)))
            points.append(pt)
            holders.append(i)
            labels.append(beach_names[b])
            continue
        else:
            score = anchor_dist
            if role == "mercado":
                cand = np.flatnonzero(loc == 2)
            elif role == "corredor":
                cand = np.flatnonzero(loc == 3)
            elif role == "periferia_1":  # the easternmost sector of Nueva Esperanza
                cand, score = np.flatnonzero(loc == 5), -centroids[:, 0]
            elif role == "periferia_2":  # another eastern sector, at least 2 km away
                other = centroids[holders[roles.index("periferia_1")]]
                gap = np.hypot(*(centroids - other).T)
                cand = np.flatnonzero(np.isin(loc, (3, 5)) & (gap > 2_000.0))
                score = -centroids[:, 0]
            elif role == "zona_rosa":  # next to the historic centre
                cand = np.flatnonzero((shared[centro] > 50.0) & (everyone != port))
            else:  # residencial
                cand = np.flatnonzero((loc == 4) & ~coastal)
            i = _pick_upz(cand, score, used_upz, everyone)
            used_upz.add(i)
            pt = _point_inside(cells[i], rng, max(250.0, spec.sigma[0]))
        points.append(pt)
        holders.append(i)
        labels.append(spec.nombre.format(upz=names[i]))

    specs = [ROLES[r] for r in roles]
    sigma = np.round([rng.uniform(*spec.sigma) for spec in specs], 0)
    weight = np.array([spec.w for spec in specs]) * rng.lognormal(0.0, 0.15, len(roles))
    weight_conv = np.array([spec.wc for spec in specs]) * rng.lognormal(0.0, 0.15, len(roles))
    return PlantedHotspots(
        roles=tuple(roles),
        names=tuple(labels),
        x=np.array([p.x for p in points]),
        y=np.array([p.y for p in points]),
        sigma=sigma,
        weight=(weight / weight.sum()).round(4),
        weight_conv=(weight_conv / weight_conv.sum()).round(4),
        trend=np.array([spec.trend for spec in specs]),
        upz=np.array(holders),
    )


def build_geography(rng: np.random.Generator, x0: float, y0: float) -> Geography:
    """Outline, UPZ, localidades, beaches, hot spots, populations, garitas and cameras."""
    land, coast = _city_outline(rng, x0, y0)
    land_inner = land.buffer(-EROSION_M)
    shapely.prepare(land_inner)
    cells = _upz_cells(rng, land)
    n = len(cells)

    minx, miny, maxx, maxy = land.bounds
    rel = np.array([a for _, _, a, _ in LOCALIDADES]) + rng.uniform(-0.03, 0.03, (6, 2))
    anchors = np.column_stack([minx + rel[:, 0] * (maxx - minx), miny + rel[:, 1] * (maxy - miny)])
    shared = _shared_border(cells)
    loc = _assign_localidades(cells, anchors, shared)
    centroids = shapely.get_coordinates(shapely.centroid(cells))
    coastal = shapely.distance(cells, coast) < 1.0

    # the historic centre and the port are on the coast, nearest their localidad's anchor
    on_coast = np.flatnonzero(coastal)
    d_centro = np.hypot(*(centroids - anchors[0]).T)
    centro = _pick_upz(np.flatnonzero((loc == 0) & coastal), d_centro, set(), on_coast)
    d_port = np.hypot(*(centroids - anchors[1]).T)
    port = _pick_upz(np.flatnonzero((loc == 1) & coastal), d_port, {centro}, on_coast)
    names = _name_upz(rng, coastal, loc, centro, port)

    # beaches, avoiding 1.2 km of the port's waterfront
    front = shapely.get_coordinates(shapely.intersection(coast, cells[port].buffer(1.0)))
    front_d = [coast.project(Point(c)) for c in front]
    port_mid = (min(front_d) + max(front_d)) / 2
    port_half = min(600.0, (max(front_d) - min(front_d)) / 2)
    beaches = _place_beaches(rng, coast, (port_mid - port_half, port_mid + port_half))
    beach_geoms, beach_names = _beach_layer(rng, coast, land, beaches, cells, names)

    hotspots = _plant_hotspots(
        rng,
        cells=cells,
        loc=loc,
        anchors=anchors,
        shared=shared,
        coastal=coastal,
        names=names,
        centro=centro,
        port=port,
        port_front=port_mid,
        coast=coast,
        beaches=beaches,
        beach_geoms=beach_geoms,
        beach_names=beach_names,
    )

    # what each UPZ is like (drives floating population and complaint motives)
    upz_roles: list[set[str]] = [set() for _ in range(n)]
    upz_roles[centro].add("centro")
    upz_roles[port].add("puerto")
    for role, i in zip(hotspots.roles, hotspots.upz, strict=True):
        upz_roles[i].add(role.split("_")[0] if role[-1].isdigit() else role)
    beach_front = np.zeros(n)
    for d0, d1, _ in beaches:
        strip = substring(coast, d0, d1).buffer(1.0)
        beach_front += shapely.length(shapely.intersection(cells, strip)) / 2.0
    for i in np.flatnonzero(beach_front > 300.0):
        upz_roles[i].add("playa")
    for i in np.flatnonzero(loc == 5):
        upz_roles[i].add("periferia")
    residents, floating = _populations(rng, cells, loc, upz_roles, centro, port)

    # codes: by localidad, then north to south, then west to east
    perm = np.lexsort((centroids[:, 0], -centroids[:, 1], loc))  # new position -> old index
    rank = np.empty(n, dtype=int)
    rank[perm] = np.arange(n)
    cells = cells[perm]
    upz_inner = shapely.intersection(cells, land_inner)
    shapely.prepare(upz_inner)
    hotspots = replace(hotspots, upz=rank[hotspots.upz])

    lengths = np.array([d1 - d0 for d0, d1, _ in beaches])
    garita_beaches = np.sort(rng.choice(len(beaches), size=min(4, len(beaches)), replace=False, p=lengths / lengths.sum()))
    garita_points = np.array(
        [_on_beach(rng, coast, beaches[b], beach_geoms[b], 0.6) for b in garita_beaches],
        dtype=object,
    )
    camera_points = _cameras(rng, cells, land_inner, hotspots, floating[perm])

    return Geography(
        land=land,
        land_inner=land_inner,
        coast=coast,
        upz_geoms=cells,
        upz_inner=upz_inner,
        upz_codes=[f"UPZ{i + 1:02d}" for i in range(n)],
        upz_names=[names[i] for i in perm],
        upz_loc=loc[perm],
        upz_loc_codes=[LOCALIDADES[loc[i]][0] for i in perm],
        upz_roles=[upz_roles[i] for i in perm],
        residents=residents[perm],
        floating=floating[perm],
        beach_geoms=beach_geoms,
        beach_names=beach_names,
        garita_points=garita_points,
        garita_names=[f"Garita {beach_names[b]}" for b in garita_beaches],
        camera_points=camera_points,
        hotspots=hotspots,
    )


def _populations(
    rng: np.random.Generator,
    cells: np.ndarray,
    loc: np.ndarray,
    roles: list[set[str]],
    centro: int,
    port: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Residents (skewed, ~1.1 M in total) and daily floating population per UPZ."""
    n = len(cells)
    density = np.array([d for *_, d in LOCALIDADES])[loc]
    raw = shapely.area(cells) / 1e6 * density * rng.lognormal(0.0, 0.8, n)
    special = np.zeros(n, dtype=bool)
    special[[centro, port]] = True
    residents = np.zeros(n)
    residents[centro] = rng.integers(2_100, 2_900)
    residents[port] = rng.integers(1_600, 2_500)
    target = rng.uniform(1.06e6, 1.16e6) - residents[special].sum()
    # smooth saturation instead of clipping: every UPZ between ~3,500 and ~121,500
    r = raw[~special] / raw[~special].sum()
    floor, cap = 3_500.0, 118_000.0

    def total(scale: float) -> float:
        return float(np.sum(floor + cap * -np.expm1(-scale * r / cap)))

    lo, hi = 0.0, 1e9
    for _ in range(100):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if total(mid) < target else (lo, mid)
    vals = floor + cap * -np.expm1(-lo * r / cap)
    residents[~special] = vals
    residents = np.round(residents).astype(np.int64)

    floating = residents * rng.uniform(0.04, 0.20, n)
    boosts = {
        "centro": (120_000, 170_000),
        "puerto": (35_000, 60_000),
        "mercado": (45_000, 70_000),
        "corredor": (25_000, 40_000),
        "zona_rosa": (15_000, 30_000),
        "playa": (12_000, 35_000),
    }
    for i in range(n):
        for role, (lo, hi) in boosts.items():
            if role in roles[i]:
                floating[i] += rng.uniform(lo, hi)
    return residents, np.round(floating, -1).astype(np.int64)


def _cameras(
    rng: np.random.Generator,
    cells: np.ndarray,
    land_inner: Polygon,
    hotspots: PlantedHotspots,
    floating: np.ndarray,
) -> np.ndarray:
    """About 150 cameras: most around the historic centre, some at other hot spots."""
    n_total = 150
    roles = list(hotspots.roles)
    c = roles.index("centro")
    others = [roles.index(r) for r in ("mercado", "corredor", "puerto") if r in roles]
    n_centre, n_hot = 80, 25
    idx = np.concatenate([np.full(n_centre, c), rng.choice(others, size=n_hot)]).astype(int)
    spread = np.where(np.arange(len(roles)) == c, 700.0, 400.0)
    cx, cy = sample_gaussian(hotspots.x, hotspots.y, spread, idx, land_inner, rng)
    upz_idx = rng.choice(len(cells), size=n_total - n_centre - n_hot, p=floating / floating.sum())
    bx, by = sample_uniform(shapely.intersection(cells, land_inner), upz_idx, rng)
    x = np.round(np.concatenate([cx, bx]), 1)
    y = np.round(np.concatenate([cy, by]), 1)
    order = rng.permutation(n_total)
    return np.asarray(shapely.points(x[order], y[order]), dtype=object)


def make_places(rng: np.random.Generator, geo: Geography) -> tuple[dict[str, list[str]], np.ndarray]:
    """Public places of four kinds (metric geometries): stations every ~700 m along a trunk
    line through the centre, the market and the commercial corridor; park polygons;
    schools; nightlife streets (one through the commercial corridor).
    """
    hs = geo.hotspots
    roles = list(hs.roles)
    codes: list[str] = []
    names: list[str] = []
    kinds: list[str] = []
    geoms: list[shapely.Geometry] = []

    def upz_name(pt: shapely.Geometry) -> str:
        hit = np.flatnonzero(shapely.contains(geo.upz_geoms, pt))
        return geo.upz_names[int(hit[0])] if hit.size else "Puerto Demo"

    def add(prefix: str, kind: str, name: str, geom: shapely.Geometry) -> None:
        codes.append(f"{prefix}{sum(k == kind for k in kinds) + 1:02d}")
        kinds.append(kind)
        names.append(name)
        geoms.append(geom)

    anchors = [r for r in ("periferia_1", "mercado", "centro", "corredor", "periferia_2") if r in roles]
    trunk = LineString([(hs.x[roles.index(r)], hs.y[roles.index(r)]) for r in anchors])
    for d in np.arange(0.0, trunk.length + 1.0, 700.0):
        pt = trunk.interpolate(d + rng.uniform(-60, 60) if 0 < d < trunk.length else d)
        if geo.land_inner.contains(pt):
            add("EST", "estación", f"Estación {upz_name(pt)}", pt)
    for _ in range(8):
        c = _point_inside(geo.land, rng, 300.0)
        side = rng.uniform(100.0, 220.0)
        park = affinity.rotate(shapely.box(c.x - side / 2, c.y - side / 2, c.x + side / 2, c.y + side / 2), rng.uniform(0, 90))
        add("PAR", "parque", f"Parque {upz_name(c)}", park)
    for _ in range(14):
        pt = _point_inside(geo.land, rng, 200.0)
        add("COL", "colegio", f"Colegio {upz_name(pt)}", pt)
    centres = [roles.index("corredor")] if "corredor" in roles else []
    centres += list(rng.choice(len(roles), 2, replace=False))
    for i in centres:
        angle = rng.uniform(0, np.pi)
        half = rng.uniform(150.0, 250.0)
        dx, dy = half * np.cos(angle), half * np.sin(angle)
        street = LineString([(hs.x[i] - dx, hs.y[i] - dy), (hs.x[i] + dx, hs.y[i] + dy)])
        add("RUM", "zona nocturna", f"Zona de rumba {upz_name(street.centroid)}", street)
    return {"codigo": codes, "nombre": names, "tipo": kinds}, np.array(geoms, dtype=object)
