"""Zone layers, population and parent joins, grids."""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pytest
import shapely
from shapely.geometry import LineString, Polygon, box

from geoprio.errors import ColumnError, CRSError, InputError
from geoprio.zones.layers import check_metric_crs, join_parent, load_zones, make_grid, with_population


def square_zones(crs="EPSG:9377"):
    """Four 1 km squares in a 2×2 block (metric), ids Z1..Z4; Z1, Z2 in parent P1."""
    x0, y0 = 4_880_000, 2_075_000
    geoms = [box(x0 + i * 1000, y0 + j * 1000, x0 + (i + 1) * 1000, y0 + (j + 1) * 1000) for j in range(2) for i in range(2)]
    return gpd.GeoDataFrame(
        {
            "cod": ["Z1", "Z2", "Z3", "Z4"],
            "nom": ["Uno", "Dos", "Tres", "Cuatro"],
            "loc": ["P1", "P1", "P2", "P2"],
            "pob": ["1000", "2000", "3000", "4000"],
        },
        geometry=geoms,
        crs=crs,
    )


def test_load_standard_columns_and_metric_area():
    z = load_zones(square_zones(), id="cod", name="nom", parent="loc", population="pob", level="upz")
    f = z.frame
    assert list(f.columns[:6]) == ["zone_id", "name", "parent_id", "parent_name", "area_km2", "population"]
    assert f.crs.to_epsg() == 4326
    assert f["area_km2"].to_numpy() == pytest.approx([1, 1, 1, 1], rel=1e-6)
    assert f["population"].tolist() == [1000, 2000, 3000, 4000]
    assert z.summary().startswith("4 zonas (upz), 4.0 km², 10,000 habitantes")


def test_invalid_polygon_is_repaired_and_reported():
    bowtie = Polygon([(0, 0), (1, 1), (1, 0), (0, 1), (0, 0)])  # self-intersecting
    g = gpd.GeoDataFrame({"id": ["a", "b"]}, geometry=[bowtie, box(2, 2, 3, 3)], crs="EPSG:3857")
    z = load_zones(g, id="id", metric_crs="EPSG:3857")
    assert z.report.corrected == {"repaired_geometry": 1}
    assert z.report.examples["repaired_geometry"][0].row == 1
    assert z.frame.geometry.is_valid.all()
    assert z.frame["area_km2"].iloc[0] == pytest.approx(0.5e-6, rel=1e-3)  # two triangles of 0.25 m²


def test_bad_zone_layers_raise_naming_the_feature():
    g = square_zones()
    with pytest.raises(InputError, match=r"zone id 'Z1' in column 'cod' appears in features 1, 3"):
        load_zones(g.assign(cod=["Z1", "Z2", "Z1", "Z4"]), id="cod")
    with pytest.raises(InputError, match=r"feature 2 \(id 'Z2'\) is a LineString, expected polygons"):
        load_zones(g.set_geometry([g.geometry[0], LineString([(0, 0), (1, 1)]), g.geometry[2], g.geometry[3]], crs=g.crs), id="cod")
    with pytest.raises(InputError, match=r"feature 1, column 'cod': empty zone id"):
        load_zones(g.assign(cod=[None, "a", "b", "c"]), id="cod")
    with pytest.raises(ColumnError, match=r"column 'codigo' \(zone id\) not found"):
        load_zones(g, id="codigo")
    with pytest.raises(CRSError, match="no CRS"):
        load_zones(g.set_crs(None, allow_override=True), id="cod")
    with pytest.raises(InputError, match="no row satisfies where"):
        load_zones(g, id="cod", where={"loc": "P9"})


def test_metric_crs_must_be_projected_in_metres():
    with pytest.raises(CRSError, match="geographic CRS"):
        check_metric_crs("EPSG:4326")
    with pytest.raises(CRSError, match="not metres"):
        check_metric_crs("EPSG:2277")  # Texas Central, US survey feet
    assert check_metric_crs("EPSG:9377").to_epsg() == 9377
    with pytest.raises(CRSError):
        load_zones(square_zones(), id="cod", metric_crs="EPSG:4686")


def test_population_join_reports_missing_and_unknown(tmp_path):
    p = tmp_path / "pob.csv"
    p.write_text("codigo;habitantes\nZ1;100\nZ2;200\nZ3;300\nZ9;5\n", encoding="utf-8")
    z = with_population(load_zones(square_zones(), id="cod"), p, zone_id="codigo", column="habitantes")
    assert z.frame["population"].tolist()[:3] == [100, 200, 300] and math.isnan(z.frame["population"].iloc[3])
    assert z.report.flagged == {"missing_population": 1, "unknown_zone": 1}
    assert z.report.examples["unknown_zone"][0].value == "Z9"


def test_parent_by_overlap_and_by_attribute():
    child = load_zones(square_zones(), id="cod", parent="loc")
    x0, y0 = 4_880_000, 2_075_000
    parents = gpd.GeoDataFrame(
        {"id": ["P1", "P2"], "n": ["Norte", "Sur"]},
        geometry=[box(x0 - 5, y0 - 5, x0 + 2000, y0 + 1010), box(x0, y0 + 1000, x0 + 2000, y0 + 2000)],
        crs="EPSG:9377",
    )
    par = load_zones(parents, id="id", name="n")
    by_overlap = join_parent(child, par).frame
    assert by_overlap["parent_id"].tolist() == ["P1", "P1", "P2", "P2"]  # Z3 touches P1 by 10 m but lies in P2
    assert by_overlap["parent_name"].tolist() == ["Norte", "Norte", "Sur", "Sur"]
    by_attr = join_parent(child, par, method="attribute").frame
    assert by_attr["parent_name"].tolist() == ["Norte", "Norte", "Sur", "Sur"]
    with pytest.raises(InputError, match="not ids of"):
        join_parent(load_zones(square_zones().assign(loc=["P1", "P1", "P2", "PX"]), id="cod", parent="loc"), par, method="attribute")


def test_square_grid_clipped_areas_add_up_and_population_is_preserved():
    z = load_zones(square_zones(), id="cod", population="pob")
    g = make_grid(z, cell_size_m=300)
    # 2 km × 2 km with 300 m cells: 7 × 7 cells, edge cells clipped to the area
    assert len(g) == 49
    assert g.frame["area_km2"].sum() == pytest.approx(4.0, rel=1e-9)
    assert g.frame["population"].sum() == pytest.approx(10_000)
    assert g.frame["parent_id"].notna().all()
    assert np.isclose(g.frame["area_km2"], 0.09).sum() == 36
    # a full cell inside Z4 (4,000 residents in 1 km²) gets 0.09 × 4,000
    b = g.frame.geometry.to_crs("EPSG:9377").bounds
    in_z4 = ((b.minx >= 4_881_000) & (b.miny >= 2_076_000) & np.isclose(g.frame["area_km2"], 0.09)).to_numpy()
    assert in_z4.sum() == 4 and g.frame.loc[in_z4, "population"].to_numpy() == pytest.approx(np.full(4, 360.0))


def test_hex_grid_cell_area_and_spacing():
    z = load_zones(square_zones(), id="cod")
    g = make_grid(z, cell_size_m=200, shape="hex", clip=False)
    metric = g.frame.geometry.to_crs("EPSG:9377")
    # pointy-top hexagon of width (across flats) d has area (√3 / 2) d²
    assert metric.area.to_numpy() == pytest.approx(np.full(len(g), math.sqrt(3) / 2 * 200**2), rel=1e-6)
    c = np.column_stack([metric.centroid.x, metric.centroid.y])
    d = np.sqrt(((c[:, None, :] - c[None, :, :]) ** 2).sum(-1))
    np.fill_diagonal(d, np.inf)
    assert d.min(axis=1) == pytest.approx(np.full(len(g), 200.0), rel=1e-6)
    clipped = make_grid(z, cell_size_m=200, shape="hex")
    assert clipped.frame["area_km2"].sum() == pytest.approx(4.0, rel=1e-9)
    assert shapely.union_all(clipped.frame.geometry.to_crs("EPSG:9377").values).area == pytest.approx(4e6, rel=1e-9)


def test_grid_bad_parameters():
    z = load_zones(square_zones(), id="cod")
    with pytest.raises(InputError, match="cell_size_m must be a positive"):
        make_grid(z, cell_size_m=0)
    with pytest.raises(InputError, match="shape must be"):
        make_grid(z, cell_size_m=100, shape="triangle")  # type: ignore[arg-type]
    with pytest.raises(InputError, match="choose a larger cell_size_m"):
        make_grid(z, cell_size_m=0.5)


def test_real_bogota_upz(shared_data):
    upz = load_zones(
        shared_data / "bogota" / "upz_sdp.geojson",
        id="UPlCodigo",
        name="UPlNombre",
        where={"UPlTipo": "1"},
        parent="LocCodigo",
        level="upz",
    )
    assert len(upz) == 112
    upz = with_population(
        upz, shared_data / "bogota" / "poblacion_upz_urbana.csv", zone_id="UPlCodigo", column="poblacion_urbana", duplicates="sum"
    )
    assert upz.frame["population"].sum() == 7_243_201
    loc = load_zones(shared_data / "bogota" / "localidades_sdp.geojson", id="LocCodigo", name="LocNombre")
    # the overlap join agrees with the layer's own LocCodigo for all 112 UPZ
    assert (join_parent(upz, loc).frame["parent_id"] == upz.frame["parent_id"]).all()
    # areas in EPSG:9377 are 0.2 % below the official UPlArea, which SDP computes on Bogotá's own
    # plane at the city's altitude (≈ +0.08 %) while Origen-Nacional has scale 0.9992 at its
    # origin (≈ −0.16 % in area); one UPZ's official area differs by more (a different outline)
    raw = gpd.read_file(shared_data / "bogota" / "upz_sdp.geojson")
    raw = raw[raw["UPlTipo"].astype(str) == "1"].set_index("UPlCodigo")
    ratio = upz.frame.set_index("zone_id")["area_km2"] * 1e6 / raw.loc[upz.frame["zone_id"], "UPlArea"].astype(float)
    assert ratio.median() == pytest.approx(0.998, abs=5e-4)
    assert (np.abs(ratio - 0.998) < 1e-3).sum() >= 110


def test_real_invalid_polygons_are_repaired(shared_data):
    sc = load_zones(shared_data / "bogota" / "barrios_sectorcatastral_sancristobal.geojson", id="SCACODIGO", name="SCANOMBRE")
    assert sc.report.corrected == {"repaired_geometry": 1} and len(sc) == 106
    med = load_zones(shared_data / "medellin" / "medellin_comunas.gpkg", id="COMUNA", name="NOMBRE")
    assert med.report.corrected == {"repaired_geometry": 1} and med.frame.geometry.is_valid.all()
    path = shared_data / "colombia" / "barranquilla_barrios_epsg3116.geojson"
    with pytest.raises(InputError, match=r"zone id 'PUMAREJO' in column 'Barrio' appears in features 20, 302"):
        load_zones(path, id="Barrio")  # barrio names repeat: the message says where
    barranquilla = load_zones(path, id="GEOID", name="Barrio")
    assert barranquilla.report.corrected["repaired_geometry"] >= 1  # one invalid in the source
    assert barranquilla.frame.crs.to_epsg() == 4326 and barranquilla.frame.geometry.is_valid.all()
    lat = barranquilla.frame.geometry.total_bounds[[1, 3]]
    assert 10.8 < lat[0] < lat[1] < 11.1  # EPSG:3116 metres came back as Barranquilla's latitudes


def test_unclipped_grid_spreads_population_by_overlap_only():
    z = load_zones(square_zones(), id="cod", population="pob")
    g = make_grid(z, cell_size_m=300, clip=False)
    # cells stick out of the 2 km block, but only the part inside a zone carries residents
    assert g.frame["population"].sum() == pytest.approx(10_000)
