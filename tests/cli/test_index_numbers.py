"""``geoprio index`` prints the index and P(top k) in the command's number format: ``75,6`` and
``0,85`` in Spanish, ``75.6`` and ``0.85`` in English (the CSV keeps plain numbers).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from geoprio.cli import app

runner = CliRunner()
DEMO = Path(__file__).resolve().parents[2] / "data" / "demo"


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, tuple[str, pd.DataFrame]]:
    out: dict[str, tuple[str, pd.DataFrame]] = {}
    for lang in ("es", "en"):
        folder = tmp_path_factory.mktemp(f"index_{lang}")
        args = ["index", str(DEMO / "indice.toml"), "--out", str(folder), "--draws", "20", "--format", "csv", "--top", "8", "--lang", lang]
        r = runner.invoke(app, args, terminal_width=200)
        assert r.exit_code == 0, r.output
        out[lang] = (r.output, pd.read_csv(folder / "indice_upz.csv", dtype={"zone_id": str}))
    return out


@pytest.mark.parametrize("lang", ["es", "en"])
def test_index_and_p_top_in_the_commands_number_format(runs, lang):
    output, table = runs[lang]
    assert table["index"].round(1).tolist()[:3] == [75.6, 55.7, 42.3]  # the demo's top three (seed 42)
    rows = [line for line in output.splitlines() if line.count("│") > 8 and line.split("│")[2].strip()]  # not wrapped lines
    lines = {line.split("│")[2].strip(): line for line in rows}
    top = table[table["rank"].notna()].sort_values("rank").head(8)
    assert list(lines)[:8] == top["zone_id"].tolist()
    for _, r in top.iterrows():
        cells = [c.strip() for c in lines[r["zone_id"]].split("│")]
        index, p_top = f"{r['index']:.1f}", f"{r['p_top_5']:.2f}"
        if lang == "es":
            index, p_top = index.replace(".", ","), p_top.replace(".", ",")
        assert cells[5] == index and cells[8] == p_top, cells
    first = [c.strip() for c in lines["UPZ02"].split("│")]
    assert first[5] == ("75,6" if lang == "es" else "75.6") and first[8] == ("1,00" if lang == "es" else "1.00")
    fifth = [c.strip() for c in lines["UPZ16"].split("│")]  # in the top 5 in 12 of 20 draws
    assert fifth[5] == ("22,0" if lang == "es" else "22.0") and fifth[8] == ("0,60" if lang == "es" else "0.60")
