"""The map job (geoprio.maps.from_files): MapOptions in, MapResult out, nothing written unless asked,
``geoprio map --manifest`` replay; and Gi* classes read from ``gi_code``."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from typer.testing import CliRunner

import geoprio.maps as maps
from geoprio.cli import app as cli_app
from geoprio.errors import ConfigError, InputError, ManifestError
from geoprio.maps import hotspot_layers

METRIC = "EPSG:9377"
X0, Y0 = 4_880_000.0, 2_066_000.0
runner = CliRunner()


def _zones() -> gpd.GeoDataFrame:
    boxes = [shapely.box(X0 + i * 1000, Y0, X0 + (i + 1) * 1000, Y0 + 1000) for i in range(3)]
    df = pd.DataFrame(
        {
            "zone_id": ["Z1", "Z2", "Z3"],
            "level": "upz",
            "name": ["Norte", "Centro", "Sur"],
            "index": [90.0, 50.0, 10.0],
            "rank": [1, 2, 3],
            "tier": ["alta", "media", "baja"],
        }
    )
    return gpd.GeoDataFrame(df, geometry=boxes, crs=METRIC).to_crs("EPSG:4326")


@pytest.fixture
def index_file(tmp_path) -> Path:
    path = tmp_path / "in" / "indice_upz.geojson"
    path.parent.mkdir()
    _zones().to_file(path)
    return path


def _cells(**columns: list) -> gpd.GeoDataFrame:
    n = len(next(iter(columns.values())))
    boxes = [shapely.box(X0 + i * 250, Y0, X0 + (i + 1) * 250, Y0 + 250) for i in range(n)]
    return gpd.GeoDataFrame({"gi_z": np.linspace(3, -3, n), "gi_p": 0.01, **columns}, geometry=boxes, crs=METRIC).to_crs("EPSG:4326")


# --------------------------------------------------------------------------- the run protocol


def test_make_map_writes_nothing_until_asked(index_file, tmp_path):
    options = maps.map_options(index=[index_file], tiles="none", carto_key="secret-key", assets="cdn")
    assert options.index == (index_file,) and options.tiles == ("none",)
    with pytest.raises(Exception, match="frozen"):
        options.lang = "en"  # type: ignore[misc]
    before = sorted(tmp_path.rglob("*"))
    result = maps.make_map(options)
    assert sorted(tmp_path.rglob("*")) == before  # nothing written
    assert result.kind == "geoprio.map" and result.options == options and result.inputs == (("index", index_file),)
    assert [li.kind for li in result.layers] == ["index"]
    # a folder: the map is mapa.html in it, its manifest mapa.manifest.json
    written = result.write(tmp_path / "out")
    assert written.files == (tmp_path / "out" / "mapa.html",) and written.path == written.files[0]
    assert written.manifest == tmp_path / "out" / "mapa.manifest.json" and written.paths == [written.path, written.manifest]
    doc = json.loads(written.manifest.read_text(encoding="utf-8"))
    assert doc["kind"] == "geoprio.map" and doc["options"]["index"] == [str(index_file)] and doc["options"]["tiles"] == ["none"]
    assert "carto_key" not in doc["options"] and "secret-key" not in written.manifest.read_text(encoding="utf-8")
    assert doc["inputs"][0]["role"] == "index" and doc["outputs"][0]["path"] == str(written.path)
    # an .html path is the file itself; other suffixes are refused
    assert result.write(tmp_path / "x.html").path == tmp_path / "x.html"
    with pytest.raises(InputError, match="a map is written as .html"):
        result.write(tmp_path / "x.png")
    with pytest.raises(InputError, match="HTML only"):
        result.write(tmp_path / "y.html", ["csv"])


def test_map_options_are_checked_once_with_every_bad_setting_named(index_file):
    with pytest.raises(ConfigError) as exc:
        maps.map_options(index=[index_file], color_by="rank", tolerance_m=-1, colour="red")
    text = str(exc.value)
    assert "color_by" in text and "tolerance_m" in text and "colour: unknown setting; did you mean 'color_by'?" in text


def test_the_same_map_renders_to_the_same_bytes():
    # folium names its elements at random; geoprio numbers them, so a map can be replayed and compared
    from tests.maps.test_maps import _full_map

    pages = [maps.render_html(_full_map().map, assets="inline")[0] for _ in range(2)]
    assert pages[0] == pages[1] and "map_00000000000000000000000000000001" in pages[0]


def test_cli_map_manifest_replays_the_map(index_file, tmp_path):
    html = tmp_path / "maps" / "i.html"
    res = runner.invoke(cli_app, ["map", "--index", str(index_file), "--tiles", "none", "--out", str(html)])
    assert res.exit_code == 0, res.output
    manifest = tmp_path / "maps" / "i.manifest.json"
    first = hashlib.sha256(html.read_bytes()).hexdigest()
    assert json.loads(manifest.read_text(encoding="utf-8"))["map"]["sha256"] == first
    # replayed where it was: the same HTML
    res = runner.invoke(cli_app, ["map", "--manifest", str(manifest)])
    assert res.exit_code == 0, res.output
    assert "Reproducido: 1 salidas idénticas" in res.output and str(html) in res.output
    assert hashlib.sha256(html.read_bytes()).hexdigest() == first
    # replayed elsewhere (a folder: the recorded name in it), in English
    res = runner.invoke(cli_app, ["map", "--manifest", str(manifest), "--out", str(tmp_path / "again"), "--lang", "en"])
    assert res.exit_code == 0, res.output
    assert "Reproduced: 1 identical outputs" in res.output and (tmp_path / "again" / "i.html").read_bytes() == html.read_bytes()
    # from Python
    rep = maps.replay_map(manifest, out=tmp_path / "py.html")
    assert rep.identical == ["py.html"] and rep.different == [] and rep.written.manifest == tmp_path / "py.manifest.json"


def test_cli_map_manifest_refuses_changed_inputs_and_maps_drawn_in_memory(index_file, tmp_path):
    html = tmp_path / "i.html"
    assert runner.invoke(cli_app, ["map", "--index", str(index_file), "--tiles", "none", "--out", str(html)]).exit_code == 0
    _zones().iloc[:2].to_file(index_file)
    res = runner.invoke(cli_app, ["map", "--manifest", str(tmp_path / "i.manifest.json")])
    assert res.exit_code == 1 and "Traceback" not in res.output
    assert "changed since the run" in res.output.replace("\n", "")
    memory = maps.write_map(maps.build_map(index=_zones(), tiles="none"), tmp_path / "m.html")
    with pytest.raises(ManifestError, match="no options recorded"):
        maps.replay_map(memory.manifest)
    res = runner.invoke(cli_app, ["map", "--manifest", str(tmp_path / "nope.manifest.json")])
    assert res.exit_code == 1 and "manifest not found" in res.output


def test_cli_map_bad_option_is_one_message_and_exit_1(index_file, tmp_path):
    res = runner.invoke(cli_app, ["map", "--index", str(index_file), "--color-by", "rank", "--out", str(tmp_path / "m.html")])
    assert res.exit_code == 1 and "color_by" in res.output and "Traceback" not in res.output


# --------------------------------------------------------------------------- Gi* codes


def test_gi_code_is_read_first():
    # gi_code (what geoprio hotspots writes beside the readable gi_class) wins over gi_bin and gi_class
    cells = _cells(
        gi_code=["hot_99", "none", "cold_90"],
        gi_bin=[0, 0, 0],
        gi_class=["no significativo"] * 3,
        incidents=[12, 3, 0],
        kde_km2=[9.0, 1.0, 0.5],
    )
    r = maps.build_map(cells=cells)
    assert [(li.kind, li.features) for li in r.layers] == [("density", 3), ("gistar", 2)]
    props = [f["properties"] for f in r.layers[1].layer.data["features"]]
    assert [p["_c"] for p in props] == ["hot_99", "cold_90"]
    assert [p["cls"] for p in props] == ["Caliente, 99 % de confianza", "Frío, 90 % de confianza"]
    # gi_code alone is enough for a Gi* layer (no gi_bin, no gi_class, no density)
    only = maps.build_map(cells=_cells(gi_code=["cold_99", "hot_95"]), lang="en")
    assert [(li.kind, li.features) for li in only.layers] == [("gistar", 2)]
    with pytest.raises(InputError, match=r"column 'gi_code' has unknown codes \['caliente'\]"):
        maps.build_map(cells=_cells(gi_code=["caliente", "none"]))


def test_gi_class_words_of_older_files_map_back_to_codes():
    assert maps.gi_code_of_word("caliente 99 %") == "hot_99" and maps.gi_code_of_word(" Cold 95 % ") == "cold_95"
    assert maps.gi_code_of_word("no significativo") == "none" and maps.gi_code_of_word("hot_90") == "hot_90"
    assert maps.gi_code_of_word("tibio") is None
    with pytest.raises(InputError, match=r"column 'gi_class' has unknown classes \['tibio'\]"):
        maps.build_map(cells=_cells(gi_class=["tibio", "none"]))


def test_gi_class_words_of_the_hotspots_label_topic(monkeypatch):
    # the words geoprio hotspots writes come from the `hotspots` label topic: read back through it
    table = {"es": {"hot_99": "Punto caliente (99 %)", "none": "Sin patrón"}, "en": {"hot_99": "Hot spot (99%)", "none": "No pattern"}}
    monkeypatch.setattr(hotspot_layers, "topics", lambda: ["hotspots", "maps"])
    monkeypatch.setattr(hotspot_layers, "labels", lambda topic, lang: table[lang])
    hotspot_layers._words.cache_clear()
    try:
        assert maps.gi_code_of_word("punto caliente (99 %)") == "hot_99" and maps.gi_code_of_word("Hot spot (99%)") == "hot_99"
        assert maps.gi_code_of_word("caliente 99 %") == "hot_99"  # older files still read
        r = maps.build_map(cells=_cells(gi_class=["Punto caliente (99 %)", "Sin patrón"]))
        assert [f["properties"]["_c"] for f in r.layers[0].layer.data["features"]] == ["hot_99"]
    finally:
        hotspot_layers._words.cache_clear()
