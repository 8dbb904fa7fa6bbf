"""Times: heaping on a default 00:00 (flagged, left out of hour profiles) and the offsets rule."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from geoprio.entornos.profiles import peak_mask, place_profiles
from geoprio.records.load import load_keyed, load_points
from geoprio.records.times import HEAPING_MIN_RECORDS, HEAPING_RATIO, OFFSETS_RULE, detect_time_heaping, offsets_evidence


def test_heaping_rule_by_minute_and_by_hour():
    # times to the minute: 30 at 00:00 against 5 at each other on-the-hour time → ratio 6
    hours = np.r_[np.zeros(30), np.repeat(np.arange(1, 24), 5), np.arange(24)]
    minutes = np.r_[np.zeros(30), np.zeros(23 * 5), np.full(24, 30)]
    h = detect_time_heaping(hours, minutes)
    assert h is not None and h.resolution == "minute" and h.n_default == 30 and h.reference == 5 and h.ratio == 6 and h.heaped
    assert h.on_the_hour_share == pytest.approx(145 / 169)
    # hours only: hour 0 against the mean of hours 23 and 1
    hours_only = np.r_[np.zeros(12), np.full(4, 23), np.full(8, 1), np.arange(2, 23)]
    h2 = detect_time_heaping(hours_only)
    assert h2 is not None and h2.resolution == "hour" and h2.reference == 6 and h2.ratio == 2 and h2.heaped
    # under the minimum count, or under the ratio, nothing is heaped
    assert not detect_time_heaping(np.r_[np.zeros(9), np.full(2, 23), np.full(2, 1)]).heaped  # type: ignore[union-attr]
    assert not detect_time_heaping(np.r_[np.zeros(11), np.full(6, 23), np.full(6, 1)]).heaped  # type: ignore[union-attr]
    assert detect_time_heaping(np.full(5, np.nan)) is None
    assert (HEAPING_RATIO, HEAPING_MIN_RECORDS) == (2.0, 10)


def test_bogota_police_thefts_heap_at_midnight(shared_data):
    r = load_keyed(shared_data / "bogota" / "ponal_hurto_personas_bogota_2019.csv.gz", key="Barrio", keep=["estacion_policia"])
    th = r.report.settings["time_heaping"]
    # 7,981 of 126,686 records (6.3 %) at exactly 00:00:00 against 2,163.5 at an average other hh:00
    assert th["resolution"] == "minute" and th["n_timed"] == 126_686 and th["n_default"] == 7_981
    assert th["default_share"] == pytest.approx(0.063, abs=5e-4) and th["ratio"] == pytest.approx(3.6889, abs=1e-4)
    assert th["on_the_hour_share"] == pytest.approx(0.4558, abs=1e-4) and th["heaped"]
    assert r.report.flagged == {"heaped_time": 7_981} and int(r.data["time_heaped"].sum()) == 7_981
    assert (r.data.loc[r.data["time_heaped"], "hour"] == 0).all()
    # hour 0 holds 7.2 % of the records; the heaped ones are 6.4 % of the thefts (Σ Cantidad)
    assert (r.data["hour"] == 0).mean() == pytest.approx(0.0716, abs=5e-4)
    heaped_weight = r.data.loc[r.data["time_heaped"], "weight"].sum() / r.data["weight"].sum()
    assert heaped_weight == pytest.approx(0.0644, abs=5e-4)
    summary = r.report.summary("es")
    assert "7.981 × hora 00:00 por defecto" in summary and "3,7 veces la media de 01:00 … 23:00" in summary

    # profiles per police station: kept, 00:00 is in the peak hours of all 19 and the busiest
    # hour of 7; left out (the default), of none
    d = r.data.dropna(subset=["estacion_policia"])
    ids = pd.Index(sorted(d["estacion_policia"].unique()))
    args = (
        ids.get_indexer(d["estacion_policia"]),
        d["date"].dt.day_of_week.to_numpy(dtype=float),
        d["hour"].astype(float).to_numpy(),
        d["weight"].to_numpy(dtype=float),
        ids,
    )
    kept = place_profiles(*args, heaped=d["time_heaped"].to_numpy(), keep_heaped=True)
    default = place_profiles(*args, heaped=d["time_heaped"].to_numpy())
    assert len(ids) == 19
    assert peak_mask(kept.day, 0.5)[:, 0].sum() == 19 and (kept.day.argmax(axis=1) == 0).sum() == 7
    assert peak_mask(default.day, 0.5)[:, 0].sum() == 0 and (default.day.argmax(axis=1) == 0).sum() == 0
    assert default.heaped is not None and default.heaped.sum() == 8_169 and default.no_hour.sum() == 8_169
    assert kept.heaped is not None and kept.heaped.sum() == 0 and kept.no_hour.sum() == 0
    assert default.day.sum() + 8_169 == kept.day.sum()


def test_medellin_offsets_one_rule_and_its_evidence(shared_data):
    path = shared_data / "medellin" / "medellin_homicides.csv"
    converted = load_points(path, category="modalidad")
    as_written = load_points(path, category="modalidad", offsets="drop")
    # the two readings are 5 hours apart: 2019-05-12T00:51:00Z is 00:51 or 19:51 the day before
    assert converted.report.settings["utc_offsets"] == "converted to America/Bogota"
    assert as_written.report.settings["utc_offsets"] == "ignored (wall-clock time kept)"
    shift = (as_written.data["date"] - converted.data["date"]).dt.total_seconds().unique()
    assert shift.tolist() == [5 * 3600]
    # evidence: converting moves 3 records out of 2010–2019, the years the file covers
    note = converted.report.notes["offsets_local_years"]
    assert note == {
        "column": "fecha_hecho",
        "n": 3,
        "years": "2010–2019",
        "example": "2010-01-01 02:00:00",
        "moved": "2009-12-31 21:00:00",
    }
    assert "offsets_dropped_years" in as_written.report.notes and "offsets_local_years" not in as_written.report.notes
    assert 'offsets = "drop"' in converted.report.summary("es")
    # peak hours move with the reading: 02:00 as written, 21:00 converted
    assert np.bincount(as_written.data["hour"].astype(int), minlength=24).argmax() == 2
    assert np.bincount(converted.data["hour"].astype(int), minlength=24).argmax() == 21
    # no heaping at 00:00 in either reading (1.5 and 1.6 times an average hh:00)
    assert not as_written.report.settings["time_heaping"]["heaped"] and not converted.report.settings["time_heaping"]["heaped"]
    assert "offsets='convert', the default" in OFFSETS_RULE and "offsets='drop'" in OFFSETS_RULE


def test_offsets_evidence_from_heaping_as_written():
    # a local default 00:00 labelled Z: heaped as written, at 19:00 once converted
    defaults = [f"2020-03-0{1 + i % 9}T00:00:00Z" for i in range(40)]
    text = pd.Series(defaults + [f"2020-03-01T{h:02d}:{m:02d}:00Z" for h in range(24) for m in (0, 17)])
    r = load_points(pd.DataFrame({"lat": ["4.6"] * len(text), "lon": ["-74.1"] * len(text), "fecha": text}))
    assert r.report.notes["offsets_local_heaping"]["share"] == pytest.approx(41 / 88, abs=5e-4)  # 41 of 88 at 00:00
    assert "(46,6 %, " in r.report.summary("es") and "(46.6 %, " in r.report.summary("en")
    assert r.report.settings["time_heaping"]["heaped"] is False  # converted, the heap sits at 19:00
    written = pd.to_datetime(text, utc=True).dt.tz_localize(None)
    assert offsets_evidence(written, written) is not None
    assert offsets_evidence(pd.Series(pd.to_datetime(["2020-06-01 10:00"])), pd.Series(pd.to_datetime(["2020-06-01 05:00"]))) is None
