"""Public maps (geoprio.maps.release, MapOptions.public, ``geoprio map --public``): drawn from
public releases only, recorded as public, and the full map unchanged."""

from __future__ import annotations

import json
import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely
import typer
from typer.testing import CliRunner

from geoprio.cli.maps import register
from geoprio.disclosure import DisclosurePolicy, disclosure_record
from geoprio.errors import InputError
from geoprio.hotspots import public_cells
from geoprio.io import files as io
from geoprio.io.results import write_result
from geoprio.maps import check_public_inputs, make_map, map_disclosure, map_options, published_to

POLICY = DisclosurePolicy(min_count=10)


def _cells() -> gpd.GeoDataFrame:
    """A 6 × 6 grid with one hot corner; the cell c00 holds a single incident."""
    n = np.zeros((6, 6))
    n[:2, :2] = [[1, 40], [45, 50]]
    n[5, 5] = 3
    boxes, rows = [], []
    for i in range(6):
        for j in range(6):
            boxes.append(shapely.box(4_800_000 + 150 * j, 2_700_000 + 150 * i, 4_800_150 + 150 * j, 2_700_150 + 150 * i))
            hot = i < 2 and j < 2
            rows.append(
                {
                    "cell_id": f"c{i}{j}",
                    "incidents": float(n[i, j]),
                    "gi_z": 3.3 if hot else -0.4,
                    "gi_p": 0.001 if hot else 0.7,
                    "gi_q": 0.004 if hot else 0.8,
                    "gi_bin": 3 if hot else 0,
                    "gi_code": "hot_99" if hot else "none",
                    "gi_class": "caliente 99 %" if hot else "no significativo",
                    "kde_km2": 10.0 + n[i, j],
                }
            )
    return gpd.GeoDataFrame(rows, geometry=boxes, crs="EPSG:9377").to_crs("EPSG:4326")


def _release(folder: Path, cells: gpd.GeoDataFrame, policy: DisclosurePolicy | None) -> Path:
    """Write a hot-spot cells layer and its manifest (public when ``policy`` is given)."""
    files = io.write_formats(cells, folder, "hotspots_celdas", ["geojson"])
    write_result(
        kind="geoprio.hotspots",
        out_dir=folder,
        files=files,
        options=None,
        inputs=[],
        formats=["geojson"],
        command=None,
        disclosure=disclosure_record(policy),
    )
    return files[0]


@pytest.fixture(scope="module")
def releases(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("releases")
    cells = _cells()
    return {
        "full": _release(root / "full", cells, None),
        "public": _release(root / "public", public_cells(cells, POLICY), POLICY),
        "public5": _release(root / "public5", public_cells(cells, DisclosurePolicy(min_count=5)), DisclosurePolicy(min_count=5)),
        "bare": io.write_formats(cells, root / "bare", "hotspots_celdas", ["geojson"])[0],
    }


def test_public_inputs_are_checked(releases):
    check_public_inputs([("cells", releases["public"])], POLICY)
    check_public_inputs([("existing_cameras", releases["bare"])], POLICY)  # facilities are not a run's output
    with pytest.raises(InputError, match=r"cells .*full.*is a full \(internal\) release.*geoprio hotspots \.\.\. --public --min-count 10"):
        check_public_inputs([("cells", releases["full"])], POLICY)
    with pytest.raises(InputError, match="public release with min_count 5, below the map's 10"):
        check_public_inputs([("cells", releases["public5"])], POLICY)
    with pytest.raises(InputError, match="bare has no manifest.json"):
        check_public_inputs([("cells", releases["bare"])], POLICY)
    with pytest.raises(InputError, match="a public map draws only public releases"):
        make_map(map_options(cells=releases["full"], public=POLICY))


def _popup_counts(html: str) -> list[str]:
    return re.findall(r'"n": "([^"]*)"', html)


def test_public_map_is_recorded_and_shows_no_hidden_count(releases, tmp_path):
    out = make_map(map_options(cells=releases["public"], public=POLICY)).write(tmp_path / "publico.html")
    doc = json.loads(out.manifest.read_text(encoding="utf-8"))
    assert doc["disclosure"] == {"public": True, "min_count": 10, "protection": 5}
    assert doc["options"]["public"]["min_count"] == 10
    html = out.path.read_text(encoding="utf-8")
    # the hot cells: c00 (1 incident) hidden, 40/45/50 shown; no z or p on a public map
    assert sorted(_popup_counts(html)) == ["40", "45", "50", "\\u2014"]
    assert '"z":' not in html and '"p":' not in html
    assert map_disclosure(out.path) == DisclosurePolicy(min_count=10, protection=5)
    assert published_to(out.path, POLICY) and published_to(out.path, DisclosurePolicy(min_count=5))
    assert not published_to(out.path, DisclosurePolicy(min_count=20)) and published_to(out.path, None)


def test_full_map_is_unchanged_and_never_public(releases, tmp_path):
    out = make_map(map_options(cells=releases["full"])).write(tmp_path / "completo.html")
    doc = json.loads(out.manifest.read_text(encoding="utf-8"))
    assert "disclosure" not in doc and "public" not in doc["options"]  # as before public maps existed
    html = out.path.read_text(encoding="utf-8")
    assert sorted(_popup_counts(html)) == ["1", "40", "45", "50"] and '"z": "3,30"' in html
    assert map_disclosure(out.path) is None and not published_to(out.path, POLICY) and published_to(out.path, None)
    again = make_map(map_options(cells=releases["full"])).write(tmp_path / "otra" / "completo.html")
    assert again.path.read_bytes() == out.path.read_bytes()
    # a map without a manifest (or an unreadable one) is not public
    (tmp_path / "suelto.html").write_text("<html></html>", encoding="utf-8")
    (tmp_path / "roto.html").write_text("<html></html>", encoding="utf-8")
    (tmp_path / "roto.manifest.json").write_text("{", encoding="utf-8")
    assert map_disclosure(tmp_path / "suelto.html") is None and map_disclosure(tmp_path / "roto.html") is None


@pytest.fixture(scope="module")
def app() -> typer.Typer:
    a = typer.Typer()

    @a.callback()
    def _root() -> None:
        """Test app."""

    register(a)
    return a


def test_cli_public_map(app, releases, tmp_path):
    runner = CliRunner()
    r = runner.invoke(app, ["map", "--cells", str(releases["public"]), "--public", "--tiles", "none", "--out", str(tmp_path / "p.html")])
    assert r.exit_code == 0, r.output
    assert map_disclosure(tmp_path / "p.html") == DisclosurePolicy(min_count=10, protection=5)
    r = runner.invoke(app, ["map", "--cells", str(releases["full"]), "--public", "--min-count", "10", "--out", str(tmp_path / "f.html")])
    assert r.exit_code == 1 and "a public map draws only public releases" in r.output and not (tmp_path / "f.html").exists()
    r = runner.invoke(app, ["map", "--cells", str(releases["public"]), "--min-count", "10", "--out", str(tmp_path / "g.html")])
    assert r.exit_code == 1 and "--min-count applies only to a public release" in r.output
