"""Printing maps to PDF and PNG with headless Chromium (geoprio.maps.printing, ``geoprio print``).

The PDF is read by the small reader in tests/report/pdf.py (page count, page size in mm); one
page is rasterized with poppler's ``pdftoppm`` and compared with the screenshot of the same
page where ``pdftoppm`` is installed (skipped with the reason otherwise). The module skips
when Debian's ``chromium`` is missing.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
import typer
from PIL import Image
from typer.testing import CliRunner

import geoprio.maps as maps
from geoprio.cli import report as report_cli
from geoprio.errors import InputError, MissingDependencyError
from geoprio.maps.printing import PAPERS, page_pixels, print_page
from tests.report.pdf import pdf_info, rasterize

if shutil.which("chromium") is None:
    pytest.skip("Debian's chromium is not installed (apt-get install -y chromium)", allow_module_level=True)

METRIC = "EPSG:9377"
X0, Y0 = 4_880_000.0, 2_066_000.0
RED = (220, 20, 20)


def _index_map(folder: Path) -> Path:
    """A map of three 1-km zones (alta, media, baja) written with inline assets and no basemap."""
    boxes = [shapely.box(X0 + i * 1000, Y0, X0 + (i + 1) * 1000, Y0 + 1000) for i in range(3)]
    df = pd.DataFrame(
        {
            "zone_id": ["Z1", "Z2", "Z3"],
            "level": "upz",
            "name": ["Zona Industrial", "Chapinero", "Usaquén"],
            "index": [92.8, 51.9, 10.0],
            "rank": [1, 2, 3],
            "tier": ["alta", "media", "baja"],
            "drivers": ["Homicidios 48 %", "Hurto a personas 60 %", "Lesiones 100 %"],
        }
    )
    table = gpd.GeoDataFrame(df, geometry=boxes, crs=METRIC).to_crs("EPSG:4326")
    result = maps.build_map(index=table, tiles="none")
    return maps.write_map(result, folder / "mapa.html", assets="inline").path


@pytest.fixture(scope="module")
def map_html(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _index_map(tmp_path_factory.mktemp("print"))


@pytest.mark.parametrize("paper", ["a4", "letter"])
def test_a_map_prints_to_one_landscape_page_and_a_png_of_the_sheet(map_html, tmp_path, paper):
    done = print_page(map_html, pdf=tmp_path / "m.pdf", png=tmp_path / "m.png", paper=paper)
    assert done.paths == [tmp_path / "m.pdf", tmp_path / "m.png"]
    info = pdf_info(done.pdf)
    w, h = PAPERS[paper]
    assert info.pages == 1
    assert info.sizes_mm[0] == pytest.approx((w, h), abs=0.2)  # landscape, in mm
    with Image.open(done.png) as im:
        assert im.size == page_pixels(paper)
        pixels = np.asarray(im.convert("RGB"), dtype=int)
    # the zones are drawn: the top tier's red fills part of the sheet
    reddish = (pixels[..., 0] > 200) & (pixels[..., 1] < 150) & (pixels[..., 2] < 130)
    assert reddish.mean() > 0.01
    # the map file itself is left as it was written
    assert "geoprio-print" not in map_html.read_text(encoding="utf-8") and "<base " not in map_html.read_text(encoding="utf-8")


def test_the_network_is_blocked_while_printing(tmp_path):
    page = tmp_path / "net.html"
    page.write_text(
        "<html><head></head><body style='margin:0'><div id='box' style='width:100vw;height:100vh;background:#fff'></div>"
        "<script>fetch('https://example.com/').then(() => {}, () => {"
        f"document.getElementById('box').style.background = 'rgb{RED}';"
        "});</script></body></html>",
        encoding="utf-8",
    )
    done = print_page(page, png=tmp_path / "net.png", wait_ms=2000)
    with Image.open(done.png) as im:
        assert im.convert("RGB").getpixel((10, 10)) == RED  # the request failed


def test_a_rasterized_pdf_page_matches_the_screen(map_html, tmp_path):
    done = print_page(map_html, pdf=tmp_path / "m.pdf", png=tmp_path / "m.png")
    raster = rasterize(done.pdf, 1, tmp_path / "page1")
    if raster is None:
        pytest.skip("poppler's pdftoppm is not installed (apt-get install -y poppler-utils): the PDF page is not rasterized")
    with Image.open(raster) as a, Image.open(done.png) as b:
        size = b.size
        printed = np.asarray(a.convert("RGB").resize(size), dtype=float)
        shown = np.asarray(b.convert("RGB"), dtype=float)
    # the same drawing: on average within 10 % per channel (fonts and anti-aliasing differ)
    assert np.abs(printed - shown).mean() / 255 < 0.10
    red = (shown[..., 0] > 200) & (shown[..., 1] < 150) & (shown[..., 2] < 130)
    red_printed = (printed[..., 0] > 200) & (printed[..., 1] < 150) & (printed[..., 2] < 130)
    assert abs(red.mean() - red_printed.mean()) < 0.02


def test_errors_name_the_problem(map_html, tmp_path):
    with pytest.raises(MissingDependencyError, match=r"apt-get install chromium"):
        print_page(map_html, png=tmp_path / "x.png", chromium=tmp_path / "no-chromium")
    with pytest.raises(InputError, match=r"give pdf=, png= or both"):
        print_page(map_html)
    with pytest.raises(InputError, match=r"paper: expected one of \['a4', 'letter'\], got 'a3'"):
        print_page(map_html, pdf=tmp_path / "x.pdf", paper="a3")  # type: ignore[arg-type]
    with pytest.raises(InputError, match=r"no such HTML file"):
        print_page(tmp_path / "missing.html", pdf=tmp_path / "x.pdf")


def test_print_command(map_html, tmp_path):
    app = typer.Typer()
    app.callback()(lambda: None)
    report_cli.register(app)
    result = CliRunner().invoke(app, ["print", str(map_html), "--pdf", str(tmp_path / "p.pdf"), "--paper", "letter", "--lang", "en"])
    assert result.exit_code == 0, result.output
    assert "Printed:" in result.output and pdf_info(tmp_path / "p.pdf").sizes_mm[0] == pytest.approx((279.4, 215.9), abs=0.2)
    bad = CliRunner().invoke(app, ["print", str(map_html)])
    assert bad.exit_code == 1 and "give --pdf, --png or both" in bad.output


def test_the_printed_sheet_carries_the_map_elements(tmp_path):
    # issue 16: title, subtitle, source and period, north arrow, scale and legend on the sheet;
    # the layer control and the zoom buttons are not printed
    boxes = [shapely.box(X0 + i * 1000, Y0, X0 + (i + 1) * 1000, Y0 + 1000) for i in range(3)]
    table = gpd.GeoDataFrame(
        {
            "zone_id": ["Z1", "Z2", "Z3"],
            "name": ["A", "B", "C"],
            "index": [90.0, 50.0, 10.0],
            "rank": [1, 2, 3],
            "tier": ["alta", "media", "baja"],
        },
        geometry=boxes,
        crs=METRIC,
    ).to_crs("EPSG:4326")
    res = maps.build_map(index=table, tiles="none", title="Índice 2019", subtitle="UPZ de Bogotá", source="SDSCJ", period="2019")
    page = maps.write_map(res, tmp_path / "m.html", assets="inline").path
    done = print_page(page, pdf=tmp_path / "m.pdf", paper="a4")
    if shutil.which("pdftotext") is None:
        pytest.skip("poppler's pdftotext is not installed (apt-get install -y poppler-utils)")
    text = subprocess.run(["pdftotext", "-layout", str(done.pdf), "-"], capture_output=True, text=True, check=True).stdout
    for words in (
        "Índice 2019",
        "UPZ de Bogotá",
        "Fuente: SDSCJ · Periodo: 2019 · Elaborado con geoprio",
        "Prioridad",
        "alta (90,0–90,0)",
        "N",
    ):
        assert words in text, words
    assert "km" in text or " m" in text  # the scale bar's label
    assert "Índice de priorización — UPZ\n" not in text.split("Prioridad")[0]  # no layer control on paper
    assert "1\n" in text or " 1 " in text  # the rank label of the first zone
