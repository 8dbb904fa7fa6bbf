"""Zone layers: invalid polygons are repaired and the repair reported (count and ids); empty
layers and wrong columns say so."""

from __future__ import annotations

import pytest
import shapely

from geoprio.errors import ColumnError
from geoprio.zones.layers import load_zones


def test_medellin_invalid_comuna_is_repaired_and_reported_with_its_id(shared_data):
    z = load_zones(shared_data / "medellin" / "medellin_comunas.gpkg", id="COMUNA", name="NOMBRE")
    assert z.report.corrected == {"repaired_geometry": 1} and z.report.settings["repaired_ids"] == ["60"]
    example = z.report.examples["repaired_geometry"][0]
    assert example.row == 7 and str(example.value).startswith("id '60': Nested shells")
    assert shapely.is_valid(z.frame.geometry.values).all()
    assert z.report.has_issues
    assert "1 × polígono inválido reparado (p. ej. objeto 7, columna 'geometry': \"id '60': Nested shells" in z.report.summary("es")


def test_barranquilla_barrios_repairs_reported_with_their_ids(shared_data):
    # one polygon is invalid in EPSG:3116; checked in EPSG:4326, where the zones are kept, two are
    z = load_zones(shared_data / "colombia" / "barranquilla_barrios_epsg3116.geojson", id="GEOID", name="Barrio")
    assert z.report.corrected == {"repaired_geometry": 2} and z.report.settings["repaired_ids"] == ["66", "175"]
    assert shapely.is_valid(z.frame.geometry.values).all()


def test_a_wrong_zone_column_guesses_the_right_one(shared_data):
    with pytest.raises(ColumnError, match=r"column 'comuna' \(zone id\) not found; did you mean 'COMUNA'\?; columns found: \["):
        load_zones(shared_data / "medellin" / "medellin_comunas.gpkg", id="comuna")
