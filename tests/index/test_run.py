"""The index's run protocol: nothing written unless asked, ``write`` and its manifest, replay
(also of manifests written before the protocol), and clear errors for a wrong type.
"""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import box

from geoprio.errors import InputError, ManifestError
from geoprio.index import IndexRun, build_zones, config_from_manifest, indicator_table, load_config, replay_manifest, run_index
from geoprio.index.estimator import TIER_CODES, tier_codes, tier_labels
from geoprio.io.results import Written
from geoprio.labels import labels
from geoprio.zones import as_zones, attach, join_parent, load_zones, make_grid, match_keys, with_population


def tiny_config(root: Path) -> Path:
    """Three zones, four crimes, a harm-weighted index; outputs configured into ``root/out``."""
    zones = gpd.GeoDataFrame(
        {"cod": ["A", "B", "C"], "pob": [10, 20, 30]},
        geometry=[box(-74.10 + 0.01 * i, 4.60, -74.09 + 0.01 * i, 4.61) for i in range(3)],
        crs="EPSG:4326",
    )
    zones.to_file(root / "z.geojson")
    (root / "d.csv").write_text(
        "lat,lon,delito\n4.605,-74.095,Hurto\n4.605,-74.085,Hurto\n4.605,-74.085,Hurto\n4.605,-74.075,Homicidio\n", encoding="utf-8"
    )
    (root / "c.toml").write_text(
        '[zones]\npath = "z.geojson"\nid = "cod"\npopulation_column = "pob"\n'
        '[sources.d]\npath = "d.csv"\n'
        '[index]\nweighting = "harm"\n'
        "[robustness]\ndraws = 20\n"
        '[output]\ndir = "out"\nformats = ["csv", "geojson"]\n'
        '[[indicators]]\nname = "hurto"\nsource = "d"\ncategories = ["hurto"]\nmeasure = "rate"\n'
        '[[indicators]]\nname = "homicidio"\nsource = "d"\ncategories = ["homicidio"]\n',
        encoding="utf-8",
    )
    return root / "c.toml"


def test_run_index_writes_nothing_until_asked(tmp_path):
    run = run_index(load_config(tiny_config(tmp_path)), command="geoprio index c.toml")
    assert isinstance(run, IndexRun) and run.kind == "geoprio.index"
    assert not (tmp_path / "out").exists()
    written = run.write()
    assert isinstance(written, Written)
    assert [p.name for p in written.files] == [
        "indice_zona.csv",
        "indice_zona.geojson",
        "indice_zona_validacion.json",
        "indice_zona_notas.json",
    ]
    assert written.manifest == tmp_path / "out" / "manifest.json"
    doc = json.loads(written.manifest.read_text(encoding="utf-8"))
    assert doc["kind"] == "geoprio.index" and doc["command"] == "geoprio index c.toml" and doc["formats"] == ["csv", "geojson"]
    assert doc["options"]["output"]["dir"] == str((tmp_path / "out").resolve())
    assert Path(doc["options"]["zones"]["path"]).is_absolute()
    assert config_from_manifest(doc).indicators == run.config.indicators


def test_write_into_another_folder_and_formats_then_replay(tmp_path):
    run = run_index(load_config(tiny_config(tmp_path)))
    written = run.write(tmp_path / "elsewhere", ["csv"])
    assert sorted(p.name for p in (tmp_path / "elsewhere").iterdir()) == [
        "indice_zona.csv",
        "indice_zona_notas.json",
        "indice_zona_validacion.json",
        "manifest.json",
    ]
    assert not (tmp_path / "out").exists()
    replay = replay_manifest(written.manifest, out_dir=tmp_path / "again")
    assert replay.different == [] and sorted(replay.identical) == sorted(p.name for p in written.files)
    assert [p.name for p in replay.written.files] == [p.name for p in written.files]
    assert isinstance(replay.result, IndexRun)
    # without out_dir the replay writes beside the manifest it reads
    assert replay_manifest(written.manifest).written.manifest == written.manifest


def test_replay_of_a_manifest_written_before_the_run_protocol(tmp_path):
    """Old manifests hold the config under "config" and no "formats"."""
    run = run_index(load_config(tiny_config(tmp_path)))
    written = run.write()
    doc = json.loads(written.manifest.read_text(encoding="utf-8"))
    doc["config"] = doc.pop("options")
    del doc["formats"], doc["kind"]  # the first manifests had no kind either
    written.manifest.write_text(json.dumps(doc), encoding="utf-8")
    replay = replay_manifest(written.manifest, out_dir=tmp_path / "again")
    assert replay.different == [] and "indice_zona.csv" in replay.identical
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "again" / "indice_zona.csv"), pd.read_csv(written.files[0]))
    del doc["config"]
    written.manifest.write_text(json.dumps(doc), encoding="utf-8")
    with pytest.raises(ManifestError, match="records no index configuration"):
        replay_manifest(written.manifest)


def test_wrong_types_are_input_errors(tmp_path):
    cfg = load_config(tiny_config(tmp_path))
    zones = build_zones(cfg)
    assert build_zones(cfg.zones).ids.tolist() == zones.ids.tolist()
    gdf = gpd.read_file(tmp_path / "z.geojson")
    with pytest.raises(InputError, match="run_index needs a RunConfig"):
        run_index(tmp_path / "c.toml")  # type: ignore[arg-type]
    with pytest.raises(InputError, match="build_zones needs a RunConfig or a ZonesConfig, got dict"):
        build_zones({"zones": {}})  # type: ignore[arg-type]
    with pytest.raises(InputError, match=r"zones must be geoprio Zones .* got GeoDataFrame; load_zones\(gdf"):
        with_population(gdf, tmp_path / "p.csv", zone_id="cod", column="pob")  # type: ignore[arg-type]
    with pytest.raises(InputError, match="parent must be geoprio Zones"):
        join_parent(zones, gdf)  # type: ignore[arg-type]
    with pytest.raises(InputError, match="make_grid covers Zones or a GeoDataFrame"):
        make_grid("z.geojson", cell_size_m=100)  # type: ignore[arg-type]
    with pytest.raises(InputError, match="records must be geoprio Records"):
        attach(pd.DataFrame({"x": [1.0]}), zones)  # type: ignore[arg-type]
    with pytest.raises(InputError, match="load_zones reads a file path or a GeoDataFrame, got Zones"):
        load_zones(zones, id="cod")  # type: ignore[arg-type]
    with pytest.raises(InputError, match="zones must be geoprio Zones"):
        as_zones(None)
    with pytest.raises(InputError, match=r"indicator_table: no records for source\(s\) \['d'\]"):
        indicator_table(cfg.indicators, {}, zones)
    with pytest.raises(InputError, match="zones must be geoprio Zones"):
        indicator_table(cfg.indicators, {}, gdf)  # type: ignore[arg-type]
    matched = match_keys(["B", "Z"], zones, on="id")  # a plain list of keys is accepted
    assert matched.iloc[0] == "B" and pd.isna(matched.iloc[1])
    with pytest.raises(InputError, match="keys must be a sequence of place names or codes"):
        match_keys("B", zones)


def test_tier_words_come_from_the_label_table():
    words = labels("index_tiers", "es")
    assert tier_labels(3) == ["baja", "media", "alta"] and tier_labels(5, "en") == ["very low", "low", "medium", "high", "very high"]
    for k, codes in TIER_CODES.items():
        assert tier_codes(k) == list(codes) and tier_labels(k, "es") == [words[c] for c in codes]
