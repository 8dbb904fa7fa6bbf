"""The attacks of issue 14 on the seguimiento channel (``/indicators``: JSON, CSV, GeoJSON),
run against the SERVED outputs with the default settings (no key, min_count 10).

The city is the tiny city's geography (tests/builders.py: four UPZ, two localidades) with
more records, so that some counts are published and some are not: hurtos and homicides per
UPZ and year (2022 to 2024), tracked at city, localidad and UPZ level, with relative targets
(the target is ``baseline × (1 + r)``) and absolute ones, and breakdowns of the city values
per UPZ and per localidad.

The attacker knows the definitions (which indicators count the same records), the geography
(which UPZ make each localidad), the population and ``relative_targets``; it collects every
count, value and target the three formats serve and tries: (1) the ratio, baseline =
target / (1 + r), and a breakdown zone's baseline from its proportional target; (2) every
subtraction a published sum allows (city = Σ zones + unplaced, localidad = Σ its UPZ, year =
Σ its months), repeated until nothing more follows. It must recover no more hidden counts
exactly than the best constant guess (the most common hidden count). The same attack on a
release that only blanks the small counts (the old behaviour) recovers them all.
"""

from __future__ import annotations

import io
from collections import Counter
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from fastapi.testclient import TestClient
from geoprio.api.keys import create_key
from geoprio.api.main import create_app
from geoprio.api.settings import Settings

from geoprio.seguimiento import load_targets, track
from tests.builders import POPULATION, ZONES, write_tiny_city

YEARS = (2022, 2023, 2024)
# records per UPZ and year (2022, 2023, 2024)
HURTOS = {"A1": (42, 37, 30), "A2": (14, 6, 11), "B1": (3, 12, 8), "B2": (25, 19, 2)}
HOMICIDIOS = {"A1": (4, 2, 6), "A2": (0, 1, 3), "B1": (12, 10, 11), "B2": (7, 13, 1)}
PARENT = {z: loc for z, (_n, loc, _xy) in ZONES.items()}
PER = 100_000

TOML = """
title = "Ciudad de prueba (divulgación)"

[zones]
path = "zonas.geojson"
id = "cod"
name = "nombre"
level = "upz"
parent_column = "loc"

[sources.delitos]
path = "delitos.csv"
kind = "crime"

[population]
path = "poblacion.csv"
id = "cod"
year = "anio"
column = "poblacion"

[objectives.seguridad]
weight = 1

[[indicators]]
id = "hurto"
objective = "seguridad"
source = "delitos"
categories = ["Hurto"]
unit = "rate"
trend = "decreciente"
baseline_year = 2022
relative_targets = { 2023 = -0.1, 2024 = -0.2 }
breakdown = "upz"

[[indicators]]
id = "hurto_upz"
objective = "seguridad"
source = "delitos"
categories = ["Hurto"]
unit = "count"
trend = "decreciente"
level = "upz"
baseline_year = 2022
relative_targets = { 2023 = -0.1, 2024 = -0.2 }

[[indicators]]
id = "hurto_localidad"
objective = "seguridad"
source = "delitos"
categories = ["Hurto"]
unit = "count"
trend = "decreciente"
level = "localidad"
baseline_year = 2022
relative_targets = { 2023 = -0.1, 2024 = -0.2 }

[[indicators]]
id = "homicidio"
objective = "seguridad"
source = "delitos"
categories = ["Homicidio"]
unit = "count"
trend = "decreciente"
baseline_year = 2022
relative_targets = { 2023 = -0.15, 2024 = -0.3 }
breakdown = "localidad"

[[indicators]]
id = "homicidio_upz"
objective = "seguridad"
source = "delitos"
categories = ["Homicidio"]
unit = "count"
trend = "constante"
level = "upz"
baseline_year = 2022
targets = { 2023 = 3, 2024 = 3 }

[options]
as_of = 2024-12-31

[output]
dir = "salida"
"""

#: indicator → (category, level) of the counts it publishes
COUNTS = {
    "hurto": ("Hurto", "city"),
    "hurto_upz": ("Hurto", "upz"),
    "hurto_localidad": ("Hurto", "localidad"),
    "homicidio": ("Homicidio", "city"),
    "homicidio_upz": ("Homicidio", "upz"),
}


def write_city(root: Path) -> Path:
    """The tiny city's zones with the records of HURTOS and HOMICIDIOS; returns the targets file."""
    pop = {(z, y): p for z, p in POPULATION.items() for y in YEARS}
    path = write_tiny_city(root, toml=TOML, population=pop)
    lines = ["id;fecha;hora;delito;latitud;longitud"]
    k = 0
    for cat, table in (("Hurto", HURTOS), ("Homicidio", HOMICIDIOS)):
        for z, counts in table.items():
            _n, _loc, (x, y0) = ZONES[z]
            for year, n in zip(YEARS, counts, strict=True):
                for i in range(n):
                    k += 1
                    lines.append(f"r{k};{year}-{1 + (i * 5) % 12:02d}-{1 + i % 27:02d};10:00;{cat};{y0 + 0.005:.4f};{x + 0.005:.4f}")
    (root / "delitos.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def truth() -> dict[tuple[str, str, str, int], float]:
    """(category, level, zone, year) → the true count."""
    out: dict[tuple[str, str, str, int], float] = {}
    for cat, table in (("Hurto", HURTOS), ("Homicidio", HOMICIDIOS)):
        for i, year in enumerate(YEARS):
            for z, counts in table.items():
                out[(cat, "upz", z, year)] = counts[i]
                loc = ("localidad", PARENT[z], year)
                out[(cat, *loc)] = out.get((cat, *loc), 0) + counts[i]
                out[(cat, "city", "city", year)] = out.get((cat, "city", "city", year), 0) + counts[i]
    return out


def population(level: str, zone: str) -> float:
    if level == "city":
        return float(sum(POPULATION.values()))
    if level == "localidad":
        return float(sum(p for z, p in POPULATION.items() if PARENT[z] == zone))
    return float(POPULATION[zone])


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("disclosure_ind")
    out = root / "datos"
    track(load_targets(write_city(root / "ciudad"))).write(out / "seguimiento")
    return out


def settings_for(data_dir: Path, **kw: Any) -> Settings:
    # the default min_count (10) is under test: not passed
    return Settings(data_dir=data_dir, maps_dir=data_dir / "maps", database_url=f"sqlite:///{data_dir}/api.sqlite", **kw)


# --------------------------------------------------------------------------- the attacker


class Knowledge:
    """What the attacker learned: counts by (category, level, zone, year), and the targets."""

    def __init__(self) -> None:
        self.counts: dict[tuple[str, str, str, int], float] = {}
        self.ratio: dict[tuple[str, str, str, int], float] = {}  # counts inferred from targets

    def learn(self, key: tuple[str, str, str, int], value: Any) -> None:
        if value is None or value == "" or (isinstance(value, float) and value != value):
            return
        self.counts[key] = round(float(value), 6)


def _rate_to_count(value: float, level: str, zone: str) -> float:
    return value * population(level, zone) / PER


def collect(client: TestClient, headers: dict[str, str] | None = None) -> Knowledge:
    """Everything the three formats serve, as counts."""
    k = Knowledge()
    headers = headers or {}
    for ind_id, (cat, level) in COUNTS.items():
        for year in (2023, 2024):
            d = client.get(f"/indicators/{ind_id}", params={"year": year}, headers=headers).json()
            _from_detail(k, d, cat, level)
    table = pd.read_csv(io.StringIO(client.get("/indicators", params={"format": "csv"}, headers=headers).text), dtype={"zone_id": str})
    for r in table.itertuples():
        cat, level = COUNTS[r.indicator]
        k.learn((cat, level, r.zone_id, int(r.year)), r.count)
    layer = client.get("/indicators", params={"format": "geojson"}, headers=headers).json()
    for f in layer["features"]:
        p = f["properties"]
        cat, _ = COUNTS[p["indicator"]]
        k.learn((cat, p["level"], p["zone_id"], int(p["year"])), p["count"])
    return k


def _from_detail(k: Knowledge, d: dict[str, Any], cat: str, level: str) -> None:
    rel = d.get("relative_targets") or {}
    by = d["baseline_year"]
    units = [("city", d["baseline"], d.get("targets") or {}, d["series"], d.get("monthly", []))]
    units += [(z["zone_id"], z["baseline"], z["targets"], z["series"], z.get("months", [])) for z in d["zone_series"]]
    for zone, baseline, targets, series, months in units:
        for e in series:
            k.learn((cat, level, zone, e["year"]), e["count"])
            if d["unit"] == "count":
                k.learn((cat, level, zone, e["year"]), e["actual"])
        if baseline is not None:
            k.learn((cat, level, zone, by), baseline if d["unit"] == "count" else _rate_to_count(baseline, level, zone))
        for y, t in targets.items():  # the ratio: baseline = target / (1 + r)
            if t is not None and y in rel:
                b = t / (1 + rel[y])
                k.ratio[(cat, level, zone, by)] = round(b if d["unit"] == "count" else _rate_to_count(b, level, zone), 6)
        by_month: dict[int, list[Any]] = {}
        for m in months:
            by_month.setdefault(int(m["month"][:4]), []).append(m["count"])
        for y, ms in by_month.items():
            if len(ms) == 12 and all(c is not None for c in ms):
                k.learn((cat, level, zone, y), sum(ms))
    b = d.get("breakdown")
    if b:
        city_b = d["baseline"]
        city_t = (d.get("targets") or {}).get(str(b["year"]))
        for r in b["rows"]:
            zl = b["level"] if r["zone_id"] != "_unplaced" else "unplaced"
            k.learn((cat, zl, r["zone_id"], b["year"]), r["count"])
            k.learn((cat, zl, r["zone_id"], b["baseline_year"]), r["count_base"])
            pt = r.get("proportional_target")
            if pt is not None and city_b and city_t:  # zone baseline = proportional target × B / T
                v = pt * city_b / city_t
                k.ratio[(cat, zl, r["zone_id"], b["baseline_year"])] = round(
                    v if d["unit"] == "count" else _rate_to_count(v, zl, r["zone_id"]), 6
                )


def subtract(k: Knowledge) -> dict[tuple[str, str, str, int], float]:
    """Every count that published sums give away (from the served counts and those the ratio
    gave), by repeated subtraction."""
    known = {**k.ratio, **k.counts}
    relations = []
    for cat in ("Hurto", "Homicidio"):
        for y in YEARS:
            city = (cat, "city", "city", y)
            un = (cat, "unplaced", "_unplaced", y)
            relations.append((city, [(cat, "upz", z, y) for z in ZONES] + [un]))
            relations.append((city, [(cat, "localidad", loc, y) for loc in ("L1", "L2")] + [un]))
            for loc in ("L1", "L2"):
                relations.append(((cat, "localidad", loc, y), [(cat, "upz", z, y) for z in ZONES if PARENT[z] == loc]))
    for _ in range(len(relations)):
        changed = False
        for total, parts in relations:
            cells = [total, *parts]
            unknown = [c for c in cells if c not in known and not (c[1] == "unplaced")]
            for c in cells:
                if c[1] == "unplaced" and c not in known:
                    known[c] = 0.0  # nothing served outside the zones: the attacker may assume 0
            if len(unknown) == 1:
                u = unknown[0]
                rest = sum(known[c] for c in parts if c != u)
                known[u] = round(known[total] - rest, 6) if u != total else round(rest, 6)
                changed = True
        if not changed:
            break
    return known


def attack(k: Knowledge, hidden: dict[tuple[str, str, str, int], float]) -> tuple[int, int]:
    """(hidden counts recovered exactly, hidden counts the best constant guess gets right)."""
    known = subtract(k)
    exact = sum(1 for key, v in hidden.items() if known.get(key) == v)
    best_constant = max(Counter(hidden.values()).values()) if hidden else 0
    return exact, best_constant


def hidden_cells(k: Knowledge, full: dict[tuple[str, str, str, int], float]) -> dict[tuple[str, str, str, int], float]:
    """The true counts the release does not show directly."""
    return {key: v for key, v in full.items() if key not in k.counts}


# --------------------------------------------------------------------------- the tests


@pytest.fixture(scope="module")
def served(data_dir) -> tuple[Knowledge, Knowledge]:
    """(what a caller without a key learns, what a key with read:records learns)."""
    with TestClient(create_app(settings_for(data_dir))) as c:
        public = collect(c)
        key = create_key(c.app.state.engine, "analista", scopes=["read:records"])
        full = collect(c, {"X-API-Key": key})
    return public, full


def test_the_default_hides_small_counts_and_a_key_sees_them(served):
    public, full = served
    t = truth()
    assert {k: v for k, v in full.counts.items() if k[1] != "unplaced"} == {k: float(v) for k, v in t.items()}  # a key sees all
    small = {k for k, v in t.items() if 0 < v < 10}
    assert small and not small & set(public.counts)  # no count of 1 to 9 is served
    assert all(v == 0 or v >= 10 for v in public.counts.values())


def test_the_ratio_and_the_subtraction_recover_no_more_than_a_constant_guess(served):
    public, _ = served
    hidden = hidden_cells(public, {k: float(v) for k, v in truth().items()})
    exact, best_constant = attack(public, hidden)
    assert len(hidden) >= 20
    assert exact <= best_constant, (exact, best_constant)
    assert not set(public.ratio) & set(hidden)  # no target derived from a hidden baseline is served


#: (category, level) whose 2022 counts the old release gave away through its targets: relative
#: targets (baseline = target / (1 + r)) and the breakdowns' proportional targets
RATIO_LEAKS = {("Hurto", "city"), ("Hurto", "upz"), ("Hurto", "localidad"), ("Homicidio", "city"), ("Homicidio", "localidad")}


def old_release(full: Knowledge) -> Knowledge:
    """What the old code served: every count but those of 1 to 9, and every target."""
    old = Knowledge()
    old.counts = {k: v for k, v in full.counts.items() if not 0 < v < 10}
    old.ratio = {k: v for k, v in full.counts.items() if k[3] == 2022 and (k[0], k[1]) in RATIO_LEAKS}
    return old


def test_the_same_attack_breaks_a_release_that_only_blanks_small_counts(served):
    """The attack works: on the old release (small counts blanked, targets shown) the ratio
    gives every hidden baseline and the subtraction more (8 of the 14 hidden counts, where a
    constant guess gets 3)."""
    _, full = served
    old = old_release(full)
    hidden = hidden_cells(old, {k: float(v) for k, v in truth().items()})
    exact, best_constant = attack(old, hidden)
    ratio = {k: v for k, v in hidden.items() if k in old.ratio}
    assert ratio and all(old.ratio[k] == v for k, v in ratio.items())  # every hidden baseline, exact
    assert exact > best_constant, (exact, len(hidden), best_constant)


def test_min_count_zero_publishes_everything(data_dir):
    with TestClient(create_app(settings_for(data_dir, min_count=0))) as c:
        k = collect(c)
    assert {k: v for k, v in k.counts.items() if k[1] != "unplaced"} == {k: float(v) for k, v in truth().items()}


def test_a_public_release_says_what_it_was_made_under(data_dir):
    with TestClient(create_app(settings_for(data_dir))) as c:
        d = c.get("/indicators/homicidio").json()
        rows = {r["zone_id"]: r for r in d["breakdown"]["rows"]}
        assert d["suppressed_below"] == 10 and rows["L1"]["suppressed"] and rows["L1"]["count"] is None  # 9 homicides in 2024
        layer = c.get("/indicators", params={"format": "geojson"}).json()
        assert layer["suppressed_below"] == 10 and any(f["properties"]["suppressed"] for f in layer["features"])
        table = pd.read_csv(io.StringIO(c.get("/indicators", params={"format": "csv"}).text))
        assert table["count"].isna().any() and table.loc[table["count"].isna(), "suppressed"].all()


def test_without_the_zones_hierarchy_the_upz_counts_are_withheld(data_dir, tmp_path):
    """Served without its manifest (so without the zones file that says which UPZ make each
    localidad), the release cannot protect localidad = Σ its UPZ: every UPZ count is withheld."""
    folder = tmp_path / "sin_manifiesto"
    folder.mkdir()
    for name in ("seguimiento.json", "seguimiento.csv", "seguimiento_zonas.geojson"):
        (folder / name).write_bytes(next(data_dir.glob(f"**/{name}")).read_bytes())
    with TestClient(create_app(settings_for(folder))) as c:
        k = collect(c)
    assert not [key for key, v in k.counts.items() if key[1] == "upz" and v > 0]
    assert k.counts[("Hurto", "localidad", "L1", 2022)] == 56
    hidden = hidden_cells(k, {key: float(v) for key, v in truth().items()})
    exact, best_constant = attack(k, hidden)
    assert exact <= best_constant
