"""Counts on a Dask cluster equal the in-memory engine's, on real and on synthetic data.

One local cluster for the whole module (two thread workers, a memory limit each); the
existing-cluster path connects a second client to its scheduler over TCP, so the locators
and tasks are really serialized.
"""

from __future__ import annotations

import functools
from dataclasses import replace

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

pytest.importorskip("distributed", reason="the Dask engine needs dask and distributed (the dask extra)")

from geoprio.entornos.places import incident_pairs, load_places
from geoprio.errors import ConfigError, InputError
from geoprio.hotspots.grid import make_cells, to_metric
from geoprio.io.cluster import EngineOptions, check_local_memory, machine_memory_bytes, open_engine, parse_bytes
from geoprio.options import validated
from geoprio.records.load import load_points
from geoprio.zones import InfluenceAreas, PointColumns, PointLocator, attach, count_layers, count_points, load_zones
from geoprio.zones.distributed import PERIOD_FREQ, _periods
from tests.zones.synthetic_points import EXPECTED, all_points, write_dataset, write_zones

MEMORY_LIMIT = "6GB"  # thread workers: the limit applies to this whole test process


@pytest.fixture(scope="module")
def engine():
    opts = EngineOptions(engine="local", workers=2, threads_per_worker=1, memory_per_worker=MEMORY_LIMIT, processes=False)
    with open_engine(opts) as eng:
        yield eng


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):
    folder = tmp_path_factory.mktemp("synthetic")
    zones = load_zones(write_zones(folder), id="codigo")
    # a coarse locator index: the answers do not depend on it (the real-data test uses the default)
    return count_layers(zones, grid_m=500, resolution=64), write_dataset(folder / "dataset")


# --------------------------------------------------------------------------- the engine


def test_a_local_cluster_gets_its_workers_and_their_memory_limit(engine):
    workers = engine.workers()
    assert len(workers) == 2
    assert {w["memory_limit"] for w in workers.values()} == {6_000_000_000}
    assert {w["threads"] for w in workers.values()} == {1}
    assert engine.address.startswith("tcp://127.0.0.1:")
    assert engine.describe()["memory_per_worker"] == [6_000_000_000]


def test_sizes_and_engine_words():
    assert parse_bytes("2GB") == 2_000_000_000
    assert parse_bytes("512 MiB") == 512 * 2**20
    assert parse_bytes("1.5g") == 1_500_000_000
    with pytest.raises(ConfigError, match="expected a size such as '2GB'"):
        parse_bytes("mucho")
    assert EngineOptions(engine=" LOCAL ").kind == "local"
    assert EngineOptions(engine="tcp://10.0.0.5:8786").kind == "scheduler"


def test_a_bad_engine_is_a_clear_error():
    with pytest.raises(ConfigError, match=r"engine: expected 'memory' .* 'local' .* 'tcp://host:8786', got 'cluster'"):
        validated(EngineOptions, {"engine": "cluster"}, source="geoprio.toml")
    with pytest.raises(ConfigError, match="got 'dask'"), open_engine("dask"):
        pass


def test_a_local_cluster_larger_than_the_machine_is_refused_before_it_starts():
    gib = 1024**3
    opts = EngineOptions(engine="local", workers=4, memory_per_worker="8GiB")
    check_local_memory(opts, available=40 * gib)  # 32 GiB fit in 40
    with pytest.raises(ConfigError, match=r"4 workers × 8GiB needs 32.0 GiB, more than this machine's 24.0 GiB; use at most 3 workers"):
        check_local_memory(opts, available=24 * gib)
    machine = machine_memory_bytes()
    assert machine is not None and machine > gib  # read from the system (and its control group)
    huge = EngineOptions(engine="local", workers=2, memory_per_worker=f"{machine // 10**9 + 1}GB")
    with pytest.raises(ConfigError, match="more than this machine's"), open_engine(huge):
        pass  # refused before any process starts


def test_an_unreachable_scheduler_is_a_clear_error():
    with pytest.raises(InputError, match=r"engine 'tcp://127.0.0.1:9': cannot reach a Dask scheduler"):
        with open_engine(EngineOptions(engine="tcp://127.0.0.1:9", timeout_s=0.2)):
            pass


# --------------------------------------------------------------------------- synthetic: ties on edges and vertices


def test_points_on_shared_edges_and_vertices_follow_the_in_memory_tie_rule(engine, synthetic):
    layers, dataset = synthetic
    zones = layers.zones
    cols = PointColumns(weight="weight")
    memory = count_points(dataset, layers, columns=cols)
    dask = count_points(dataset, layers, columns=cols, engine=engine)
    pd.testing.assert_frame_equal(memory.zones, dask.zones)
    got = {(r.zone_id, r.period, r.category): r.count for r in dask.zones.itertuples()}
    assert got == EXPECTED
    # weights by hand: A1 hurto 2019-01 = 1 + 2, A2 hurto 2019-02 = 3
    weights = dask.zones.set_index(["zone_id", "period", "category"])["weight"]
    assert weights[("A1", "2019-01", "hurto")] == 3.0 and weights[("A2", "2019-02", "hurto")] == 3.0
    assert dask.zone_totals().to_dict() == {"A1": 3, "A2": 2, "B1": 2, "B2": 1}
    assert dask.notes["partitions"] == 3 and dask.notes["points"] == 10 and dask.notes["points_outside_zones"] == 2
    # geoprio's own in-memory placement of the same points agrees
    pts = all_points()
    inside = pts.geometry.notna().to_numpy()
    codes = attach_codes(zones, pts.geometry.x.to_numpy()[inside], pts.geometry.y.to_numpy()[inside])
    assert pd.Series(codes).value_counts().to_dict() == {"A1": 3, "A2": 2, "B1": 2, "B2": 1}


def attach_codes(zones, x, y):
    records = load_points(pd.DataFrame({"lon": x, "lat": y, "fecha": "2019-01-01"}), x="lon", y="lat", date="fecha")
    return attach(records, zones, locator=PointLocator(resolution=64).fit(zones.frame.geometry.values)).data["zone_id"].to_numpy()


def test_an_existing_cluster_by_address_and_a_dask_geopandas_frame_give_the_same_counts(engine, synthetic):
    layers, dataset = synthetic
    memory = count_points(dataset, layers, by=("period",), period="quarter")
    remote = count_points(dataset, layers, by=("period",), period="quarter", engine=engine.address)
    assert remote.notes["engine"]["engine"] == "scheduler" and remote.notes["engine"]["workers"] == 2
    frame = count_points(all_points(), layers, by=("period",), period="quarter", engine=engine)
    for other in (remote, frame):
        pd.testing.assert_frame_equal(memory.zones, other.zones)
        pd.testing.assert_frame_equal(memory.cells, other.cells)
    assert memory.zones["period"].tolist() == ["2019Q1"] * 4
    # grid cells: as the hot-spot grid locates the same points (8 inside the zones)
    pts = all_points().dropna(subset=["geometry"])
    grid = make_cells(zones=layers.zones, cell_size_m=500.0)
    xy = to_metric(pd.DataFrame({"x": pts.geometry.x, "y": pts.geometry.y}), layers.metric_crs)
    assert memory.cell_totals().tolist() == grid.count(grid.locate(xy)).astype(int).tolist()
    assert memory.cell_totals().sum() == 8 and len(memory.cell_totals()) == len(grid) == 25


# --------------------------------------------------------------------------- real data: Medellín


@pytest.fixture(scope="module")
def medellin(shared_data, tmp_path_factory):
    folder = shared_data / "medellin"
    records = load_points(folder / "medellin_homicides.csv", category="modalidad", offsets="drop")
    zones = load_zones(folder / "medellin_comunas.gpkg", id="COMUNA")
    data = records.data.iloc[::2].reset_index(drop=True)  # a slice: every other record (4,640)
    gdf = gpd.GeoDataFrame(
        {"date": data["date"], "category": data["category"].astype("string")},
        geometry=gpd.points_from_xy(data["x"], data["y"]),
        crs="EPSG:4326",
    )
    dataset = tmp_path_factory.mktemp("medellin") / "dataset"
    dataset.mkdir()
    for i, rows in enumerate(np.array_split(np.arange(len(gdf)), 5)):
        gdf.iloc[rows].to_parquet(dataset / f"part-{i:05d}.parquet")
    places = load_places(folder / "medellin_metro_stns.csv", type="linea", name="nombre", radius_m=300)
    return replace(records, data=data), count_layers(zones), dataset, places


def test_real_data_identical_between_engines_and_to_the_in_memory_core(engine, medellin):
    records, layers, dataset, places = medellin
    areas = InfluenceAreas(tuple(places.ids), functools.partial(incident_pairs, places, overlap="all"))
    memory = count_points(dataset, layers, areas=areas)
    dask = count_points(dataset, layers, areas=areas, engine=engine)
    for a, b in ((memory.zones, dask.zones), (memory.areas, dask.areas)):
        pd.testing.assert_frame_equal(a, b)
    assert dask.notes["points"] == 4640 and dask.notes["partitions"] == 5

    # zones × month × category: as attach() places the records
    placed = attach(records, layers.zones, locator=layers.zone_locator).data
    ref = placed.groupby([placed["zone_id"], placed["date"].dt.to_period("M").astype(str), placed["category"]]).size()
    got = dask.zones.set_index(["zone_id", "period", "category"])["count"]
    assert got.sum() == len(placed) == 4640 - dask.notes["points_outside_zones"]
    assert len(got) > 1000 and got.index.get_level_values("zone_id").nunique() > 15
    pd.testing.assert_series_equal(got.sort_index(), ref.sort_index(), check_names=False, check_index_type=False)

    # influence areas: every (record, station) pair within 300 m, as entornos counts them
    pairs = incident_pairs(places, records.data["x"].to_numpy(), records.data["y"].to_numpy(), overlap="all")
    per_place = np.bincount(pairs["place"].to_numpy(), minlength=len(places))
    got_places = dask.areas.groupby("place_id")["count"].sum().reindex(places.ids, fill_value=0)
    assert (got_places.to_numpy() == per_place).all() and per_place.sum() == dask.notes["area_pairs"] > 100


def test_a_missing_column_names_the_file_and_the_columns(synthetic):
    layers, dataset = synthetic
    with pytest.raises(InputError, match=r"part-00000.parquet: category column 'tipo' not found; columns: \["):
        count_points(dataset, layers, columns=PointColumns(category="tipo"))
    with pytest.raises(InputError, match="no such dataset"):
        count_points(dataset / "nada", layers)


# --------------------------------------------------------------------------- the shortcuts, against the exact paths


def test_the_square_lattice_answers_as_the_point_locator_on_edges_vertices_and_clipped_cells(synthetic):
    layers, _ = synthetic
    fine = count_layers(layers.zones, grid_m=100, resolution=256)
    lattice, locator = fine.grid_lattice, fine.grid_locator
    assert lattice is not None and lattice.whole.sum() > 300 and (~lattice.whole).sum() > 20  # whole and clipped cells
    cells = np.asarray(fine.grid.frame.geometry.to_crs(fine.metric_crs).values, dtype=object)
    corners = shapely.get_coordinates(cells)  # every vertex: on edges shared by two or four cells
    x0, y0, x1, y1 = shapely.total_bounds(cells)
    rng = np.random.default_rng(5)
    # random points, every vertex, points 0.1 µm off a vertical line, points along horizontal lines, a NaN
    xs = np.concatenate([rng.uniform(x0 - 50, x1 + 50, 20_000), corners[:, 0], corners[:, 0] + 1e-7, corners[:, 0] + 30.0, [np.nan]])
    ys = np.concatenate([rng.uniform(y0 - 50, y1 + 50, 20_000), corners[:, 1], corners[:, 1] + 30.0, corners[:, 1], [np.nan]])
    fast = lattice.locate(xs, ys)
    todo = fast == -2
    assert todo.sum() < len(xs) / 2 and (fast[~todo] >= -1).all()
    fast[todo] = locator.locate(xs[todo], ys[todo])
    assert (fast == locator.locate(xs, ys)).all()


@pytest.mark.parametrize("period", ["day", "week", "month", "quarter", "year"])
def test_period_numbers_are_pandas_periods(period):
    dates = pd.Series(pd.to_datetime(["1969-12-31", "1970-01-01", "2019-02-28", None, "2024-12-31"]))
    expected = dates.dt.to_period(PERIOD_FREQ[period]).array.asi8
    assert (_periods(dates, period, "test") == expected).all()
    assert (_periods(dates.to_numpy(), period, "test") == expected).all()
