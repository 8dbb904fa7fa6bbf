"""Loading configured sources: errors name the configuration key that points to the file."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pytest
from shapely.geometry import box

from geoprio.errors import ColumnError, InputError
from geoprio.index import load_config, load_source, run_index
from geoprio.index.config import SourceConfig

CONFIG = (
    '[zones]\npath = "z.geojson"\nid = "cod"\n'
    '[sources.delitos]\npath = "{path}"\n{extra}'
    '[[indicators]]\nname = "n"\nsource = "delitos"\nweight = 1\n'
)


def _config(root: Path, path: str, extra: str = "") -> Path:
    zones = gpd.GeoDataFrame({"cod": ["A", "B"]}, geometry=[box(-74.1, 4.6, -74.09, 4.61), box(-74.09, 4.6, -74.08, 4.61)], crs="EPSG:4326")
    zones.to_file(root / "z.geojson")
    (root / "c.toml").write_text(CONFIG.format(path=path, extra=extra), encoding="utf-8")
    return root / "c.toml"


def test_a_missing_file_names_its_config_key(tmp_path):
    cfg = load_config(_config(tmp_path, "no_existe.csv"))
    with pytest.raises(InputError, match=r"^sources\.delitos\.path: .*no_existe\.csv: file not found"):
        load_source("delitos", cfg.sources["delitos"])


def test_an_input_error_in_the_file_names_the_source(tmp_path):
    (tmp_path / "d.csv").write_text("lat,lon\n4.6,-74.1\n", encoding="utf-8")
    cfg = load_config(_config(tmp_path, "d.csv", 'x = "longitud"\n'))
    with pytest.raises(ColumnError, match=r"^sources\.delitos: d\.csv: .*'longitud'") as info:
        load_source("delitos", cfg.sources["delitos"])
    assert isinstance(info.value, InputError) and "sources.delitos.path" not in str(info.value)


def test_run_index_reports_the_key_too(tmp_path):
    with pytest.raises(InputError, match=r"sources\.delitos\.path: "):
        run_index(load_config(_config(tmp_path, "falta.csv")))


def test_section_none_leaves_the_message_as_the_loader_wrote_it(tmp_path):
    src = SourceConfig(path=tmp_path / "falta.csv")
    with pytest.raises(InputError, match=r"^\S*falta\.csv: file not found"):
        load_source("falta.csv", src, section=None)
