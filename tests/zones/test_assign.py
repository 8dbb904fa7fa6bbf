"""geoprio.zones.assign: hand-made cases, a peer check against geopandas.sjoin, and a property."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import MultiPolygon, Point, Polygon, box

from geoprio.errors import InputError
from geoprio.zones.assign import PointLocator, count_by_zone, locate_points

SQUARES = [box(0, 0, 1, 1), box(1, 0, 2, 1)]  # share the edge x = 1
RESOLUTIONS = [1, 2, 3, 7, 64, 2048]


def brute_force(x: np.ndarray, y: np.ndarray, polygons: list, predicate: str = "intersects") -> np.ndarray:
    """First polygon (lowest index) matching each point, or -1."""
    test = shapely.intersects_xy if predicate == "intersects" else shapely.contains_xy
    out = np.full(len(x), -1, dtype=np.int64)
    for k in reversed(range(len(polygons))):
        out[test(polygons[k], x, y)] = k
    return out


# ------------------------------------------------------------------ hand-made cases


@pytest.mark.parametrize("resolution", RESOLUTIONS)
def test_two_squares_intersects(resolution):
    x = np.array([0.5, 1.5, 3.0, 1.0, 1.0, 0.0, 2.0, -0.1, np.nan, 0.5])
    y = np.array([0.5, 0.5, 3.0, 0.5, 1.0, 0.0, 0.5, 0.5, 0.5, np.nan])
    want = [0, 1, -1, 0, 0, 0, 1, -1, -1, -1]
    codes = PointLocator(resolution=resolution).fit(SQUARES).locate(x, y)
    assert codes.dtype == np.int64
    assert codes.tolist() == want


@pytest.mark.parametrize("resolution", RESOLUTIONS)
def test_two_squares_contains_excludes_boundaries(resolution):
    x = np.array([0.5, 1.5, 1.0, 2.0, 0.0, 0.999999])
    y = np.array([0.5, 0.5, 0.5, 0.5, 0.3, 0.5])
    codes = PointLocator(resolution=resolution, predicate="contains").fit(SQUARES).locate(x, y)
    assert codes.tolist() == [0, 1, -1, -1, -1, 0]


@pytest.mark.parametrize("resolution", [1, 4, 256])
def test_hole_and_multipolygon(resolution):
    ring = Polygon([(0, 0), (10, 0), (10, 10), (0, 10)], [[(3, 3), (7, 3), (7, 7), (3, 7)]])
    multi = MultiPolygon([box(20, 0, 21, 1), box(30, 0, 31, 1)])
    inner = box(4, 4, 6, 6)  # fills part of the hole
    polys = [ring, multi, inner]
    x = np.array([1.0, 3.5, 3.0, 5.0, 20.5, 30.5, 25.0, 10.0])
    y = np.array([1.0, 3.5, 5.0, 5.0, 0.5, 0.5, 0.5, 5.0])
    # in shell, in hole (not inner), on hole edge, in inner, both multipolygon parts, between them, outer edge
    assert PointLocator(resolution=resolution).fit(polys).locate(x, y).tolist() == [0, -1, 0, 2, 1, 1, -1, 0]
    contains = PointLocator(resolution=resolution, predicate="contains").fit(polys).locate(x, y)
    assert contains.tolist() == [0, -1, -1, 2, 1, 1, -1, -1]


def test_overlap_goes_to_lowest_index():
    a, b = box(0, 0, 2, 2), box(1, 1, 3, 3)
    x, y = np.array([1.5, 0.5, 2.5]), np.array([1.5, 0.5, 2.5])
    assert locate_points(x, y, [a, b]).tolist() == [0, 0, 1]
    assert locate_points(x, y, [b, a]).tolist() == [0, 1, 0]
    assert locate_points(x, y, [b, a], predicate="contains").tolist() == [0, 1, 0]


def test_shapes_inputs_and_attributes():
    loc = PointLocator(resolution=8).fit(gpd.GeoSeries(SQUARES, index=[10, 20]))
    assert loc.grid_.dtype == np.int32 and loc.grid_.shape == (4, 8)
    assert set(np.unique(loc.grid_)) <= {-2, -1, 0, 1}
    assert loc.bounds_.tolist() == [0, 0, 2, 1] and loc.cell_size_ == 0.25
    assert len(loc.candidates_ptr_) == len(loc.boundary_cells_) + 1
    x = np.array([[0.5, 1.5], [5.0, 0.2]])
    assert loc.locate(x, np.full_like(x, 0.5)).tolist() == [[0, 1], [-1, 0]]
    assert loc.locate([], []).shape == (0,)
    frame = gpd.GeoDataFrame({"v": [1, 2]}, geometry=SQUARES)
    assert locate_points([1.5], [0.5], frame).tolist() == [1]
    assert "resolution=2048" in repr(PointLocator())


def test_chunks_and_threads_agree():
    rng = np.random.default_rng(3)
    x, y = rng.uniform(-0.5, 2.5, 10_001), rng.uniform(-0.5, 1.5, 10_001)
    one = PointLocator(resolution=16, n_jobs=1).fit(SQUARES).locate(x, y)
    many = PointLocator(resolution=16, chunk_size=999, n_jobs=3).fit(SQUARES).locate(x, y)
    assert np.array_equal(one, many)
    assert np.array_equal(one, brute_force(x, y, SQUARES))


def test_empty_polygon_never_matches():
    codes = locate_points([0.5, 1.5], [0.5, 0.5], [Polygon(), *SQUARES])
    assert codes.tolist() == [1, 2]


def test_invalid_polygon_does_not_crash():
    bowtie = Polygon([(0, 0), (2, 2), (2, 0), (0, 2)])
    assert not bowtie.is_valid
    codes = locate_points([5.0, 0.2], [5.0, 1.0], [bowtie, box(3, 3, 6, 6)])
    assert codes.tolist()[0] == 1


# ------------------------------------------------------------------ errors


def test_errors():
    with pytest.raises(InputError, match="empty"):
        PointLocator().fit([])
    with pytest.raises(InputError, match=r"polygons\[1\] is a Point"):
        PointLocator().fit([SQUARES[0], Point(0, 0)])
    with pytest.raises(InputError, match=r"polygons\[0\] is a None"):
        PointLocator().fit([None, SQUARES[0]])
    with pytest.raises(InputError, match="all polygons are empty"):
        PointLocator().fit([Polygon()])
    with pytest.raises(InputError, match="same length"):
        PointLocator().fit(SQUARES).locate([0.0, 1.0], [0.0])
    with pytest.raises(ValueError, match="resolution"):
        PointLocator(resolution=0).fit(SQUARES)
    with pytest.raises(InputError, match="predicate"):
        PointLocator(predicate="within").fit(SQUARES)  # type: ignore[arg-type]
    with pytest.raises(InputError, match="not fitted"):
        PointLocator().locate([0.0], [0.0])
    with pytest.raises(InputError, match="out of range"):
        count_by_zone(np.array([0, 3]), 2)


def test_count_by_zone():
    codes = np.array([0, 2, -1, 2, 2])
    assert count_by_zone(codes, 4).tolist() == [1, 0, 3, 0]
    assert count_by_zone(codes, 3, weights=[1.0, 0.5, 9.0, 0.5, 2.0]).tolist() == [1.0, 0.0, 3.0]
    assert count_by_zone(np.array([], dtype=np.int64), 2).tolist() == [0, 0]


# ------------------------------------------------------------------ real data vs geopandas


@pytest.fixture(scope="module")
def upz(shared_data) -> gpd.GeoDataFrame:
    return gpd.read_file(shared_data / "bogota" / "upz_sdp.geojson").reset_index(drop=True)


def test_matches_sjoin_on_bogota_upz(upz):
    assert len(upz) == 116
    rng = np.random.default_rng(20261123)
    x0, y0, x1, y1 = upz.total_bounds
    n = 200_000
    x, y = rng.uniform(x0, x1, n), rng.uniform(y0, y1, n)
    codes = PointLocator().fit(upz.geometry.values).locate(x, y)

    pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy(x, y), crs=upz.crs)
    joined = gpd.sjoin(pts, upz[["geometry"]], predicate="intersects")
    first = joined.groupby(level=0)["index_right"].min()
    want = np.full(n, -1, dtype=np.int64)
    want[first.index.to_numpy()] = first.to_numpy()
    assert np.array_equal(codes, want)
    assert (codes >= 0).mean() > 0.2 and len(np.unique(codes)) > 100  # the test is not vacuous

    peer = joined.groupby("index_right").size().reindex(range(len(upz)), fill_value=0).to_numpy()
    assert np.array_equal(count_by_zone(codes, len(upz)), peer)


def test_contains_on_bogota_upz_boundaries(upz):
    """Points on real boundary vertices and near them, both predicates vs. brute force."""
    polys = list(upz.geometry.values)
    verts = shapely.get_coordinates(upz.geometry.values)
    rng = np.random.default_rng(7)
    pick = verts[rng.integers(0, len(verts), 5_000)]
    jitter = pick + rng.normal(0, 2e-5, pick.shape)
    xy = np.vstack([pick, jitter])
    for predicate in ("intersects", "contains"):
        codes = locate_points(xy[:, 0], xy[:, 1], upz.geometry.values, predicate=predicate)
        assert np.array_equal(codes, brute_force(xy[:, 0], xy[:, 1], polys, predicate))


# ------------------------------------------------------------------ property


coord = st.integers(0, 20).map(float)


@st.composite
def polygons_and_points(draw):
    polys = []
    for _ in range(draw(st.integers(1, 4))):
        if draw(st.booleans()):
            xa, xb = sorted(draw(st.lists(coord, min_size=2, max_size=2, unique=True)))
            ya, yb = sorted(draw(st.lists(coord, min_size=2, max_size=2, unique=True)))
            polys.append(box(xa, ya, xb, yb))
        else:
            r = draw(st.floats(0.5, 6))
            polys.append(Point(draw(coord), draw(coord)).buffer(r, quad_segs=draw(st.integers(1, 6))))
    n = draw(st.integers(1, 60))
    on_grid = st.integers(-1, 21).map(float)  # hits box edges and corners exactly
    anywhere = st.floats(-2, 22, allow_nan=False)
    xs = draw(st.lists(st.one_of(on_grid, anywhere), min_size=n, max_size=n))
    ys = draw(st.lists(st.one_of(on_grid, anywhere), min_size=n, max_size=n))
    return polys, np.array(xs), np.array(ys)


@settings(max_examples=150, deadline=None)
@given(polygons_and_points(), st.sampled_from([1, 2, 5, 16, 100]), st.sampled_from(["intersects", "contains"]))
def test_agrees_with_brute_force(case, resolution, predicate):
    polys, x, y = case
    codes = PointLocator(resolution=resolution, predicate=predicate).fit(polys).locate(x, y)
    assert np.array_equal(codes, brute_force(x, y, polys, predicate))
