"""The bulletin of the real Bogotá 2019 UPZ example (data/examples/bogota_upz_2019.toml), against 2018.

The 2019 index is run as the example says (with 200 Monte Carlo draws instead of 1,000, for
time), and the same configuration on the 2018 columns of the SDSCJ table (``CM…18CONT``) is the
previous period. Real data comes through the ``shared_data`` fixture (skipped where absent).
"""

from __future__ import annotations

import html
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest

from geoprio.index import load_config, run_index
from geoprio.report import build_report, report_options
from tests.report.pages import es, rows
from tests.report.pdf import pdf_info

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "data" / "examples" / "bogota_upz_2019.toml"


def _run(year: int, out: Path) -> Path:
    cfg = load_config(EXAMPLE)
    inds = [i.model_copy(update={"column": str(i.column).replace("19CONT", f"{year % 100:02d}CONT")}) for i in cfg.indicators]
    cfg = cfg.model_copy(
        update={
            "indicators": inds,
            "output": cfg.output.model_copy(update={"dir": out, "formats": ["csv", "geojson"]}),
            "robustness": cfg.robustness.model_copy(update={"draws": 200}),
        }
    )
    run_index(cfg).write()
    return out


@pytest.fixture(scope="module")
def bogota(shared_data, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("bogota")
    return {"2019": _run(2019, root / "2019"), "2018": _run(2018, root / "2018")}


@pytest.mark.skipif(shutil.which("chromium") is None, reason="Debian's chromium is not installed (apt-get install -y chromium)")
def test_bogota_2019_bulletin_against_2018(bogota, tmp_path):
    report = build_report(report_options(index=bogota["2019"], previous=bogota["2018"], pdf=True))
    written = report.write(tmp_path / "boletin")
    page = written.files[0].read_text(encoding="utf-8")
    now = pd.read_csv(bogota["2019"] / "indice_upz.csv", dtype={"zone_id": str})
    before = pd.read_csv(bogota["2018"] / "indice_upz.csv", dtype={"zone_id": str}).set_index("zone_id")
    cells = rows(page)
    # the first ranked UPZ and its index as the index run wrote them: Zona Industrial, as the example says
    first = now.sort_values("rank").iloc[0]
    assert first["zone_id"] == "UPZ108" and list(cells)[0] == "UPZ108"
    assert cells["UPZ108"][1] == f"{first['name']} †"  # under 5,000 residents: flagged
    assert cells["UPZ108"][4] == es(first["index"]) and cells["UPZ108"][2] == first["parent_name"]
    # every UPZ's rank change is its 2018 rank minus its 2019 rank
    for _, r in now.iterrows():
        delta = int(before.loc[r["zone_id"], "rank"] - r["rank"])
        assert cells[r["zone_id"]][-1] == ("=" if delta == 0 else f"{'▲' if delta > 0 else '▼'} {abs(delta)}"), r["zone_id"]
    # a sheet per UPZ (112), each with the six indicators and the 2018 value beside 2019's
    assert page.count('class="sheet ficha"') == len(now) == 112
    sheet = page.split('id="ficha-UPZ108"', 1)[1].split("</section>", 1)[0]
    assert sheet.count("· tasa por 100.000 habitantes") == 6
    value = now.set_index("zone_id").loc["UPZ108", "homicidios"]
    previous = before.loc["UPZ108", "homicidios"]
    digits = 0 if abs(value) >= 1000 else 1 if abs(value) >= 10 else 2
    homicides = re.search(r"Homicidios <span.*?</tr>", sheet, re.DOTALL)
    assert homicides is not None
    numbers = [html.unescape(c) for c in re.findall(r'<td class="num">(.*?)</td>', homicides.group(0))]
    assert numbers[0] == es(value, digits) and numbers[4] == es(previous, digits)
    # the method in Spanish: harm weights, min–max, the Monte Carlo, the period found in the columns
    assert "tabla de daño" in page and "mínimo–máximo" in page and "se recalculó 200 veces" in page
    assert "<b>Periodo:</b> 2019" in page and "<b>Periodo anterior:</b> 2018" in page
    info = pdf_info(written.files[-1])
    assert info.pages > 112 and info.sizes_mm[0] == pytest.approx((297.0, 210.0), abs=0.2)
