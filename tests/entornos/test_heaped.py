"""Heaped default times (00:00) stay out of the entornos' hour profiles and peak windows."""

from __future__ import annotations

import textwrap
from pathlib import Path

import geopandas as gpd
import pytest
import shapely

from geoprio.entornos.run import load_entornos_config, run_entornos


def _write_case(root: Path, *, keep: bool) -> Path:
    """Place P with 12 incidents at a default 00:00 and 6 at 20:15–21:40 (the real evening peak);
    place Q, 6 km away, with one incident at 09:30 (the index needs two places).

    With minutes in the file, the 12 records at exactly 00:00 are compared with the other
    on-the-hour times (none): they are heaped (12 ≥ 10 records, ratio ≥ 2).
    """
    gpd.GeoDataFrame(
        {"codigo": ["P", "Q"], "tipo": ["estación", "estación"]},
        geometry=[shapely.Point(-74.08, 4.60), shapely.Point(-74.05, 4.65)],
        crs="EPSG:4326",
    ).to_file(root / "lugares.geojson")
    lines = ["fecha,hora,latitud,longitud"]
    lines += [f"2024-03-{1 + i % 7:02d},00:00,4.6001,-74.0801" for i in range(12)]
    lines += [f"2024-03-0{1 + i},{20 + i % 2}:{15 + 5 * i},4.6001,-74.0801" for i in range(6)]
    lines.append("2024-03-04,09:30,4.6501,-74.0501")
    (root / "delitos.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    config = root / "entornos.toml"
    config.write_text(
        textwrap.dedent(
            f"""
            [places]
            path = "lugares.geojson"
            type = "tipo"
            id = "codigo"
            radius_m = 100

            [sources.delitos]
            path = "delitos.csv"

            [[indicators]]
            name = "delitos"
            source = "delitos"
            weight = 1

            [profile]
            share = 0.5
            keep_heaped_times = {"true" if keep else "false"}
            """
        ),
        encoding="utf-8",
    )
    return config


def test_heaped_midnight_makes_no_peak_by_default(tmp_path):
    run = run_entornos(load_entornos_config(_write_case(tmp_path, keep=False)))
    assert int(run.sources["delitos"].data["time_heaped"].sum()) == 12
    row = run.table.set_index("place_id").loc["P"]
    # hours left: 20:15 ×3, 21:xx ×3 → half of 6 is one hour, the earliest of the tie (20:00)
    assert row["peak_hours"] == "20:00–21:00"
    assert "00:00" not in row["peak_hours"]
    assert row["no_hour"] == 12  # the heaped records count as without an hour
    assert row["weighted_incidents"] == 18  # and still count as incidents
    assert run.profiles.day[0, 0] == 0
    assert run.profiles.heaped is not None and run.profiles.heaped[0] == 12
    assert run.notes["weighted_incidents"]["heaped_times"] == 12
    assert run.notes["weighted_incidents"]["heaped_times_kept"] is False


def test_keep_heaped_times_puts_them_back_at_midnight(tmp_path):
    run = run_entornos(load_entornos_config(_write_case(tmp_path, keep=True)))
    row = run.table.set_index("place_id").loc["P"]
    assert row["peak_hours"] == "00:00–01:00"  # 12 of 18: the default hour is the "peak"
    assert row["no_hour"] == 0
    assert run.profiles.day[0, 0] == pytest.approx(12)
    assert run.notes["weighted_incidents"]["heaped_times_kept"] is True
