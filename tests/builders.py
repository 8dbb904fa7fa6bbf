"""A tiny city built by hand, shared by the seguimiento, CLI, maps and API tests.

Four square UPZ (A1, A2 in localidad L1; B1, B2 in L2), a handful of crime records and
citizen requests, a population table and a targets file; expected values in the tests are
computed by hand from the records listed here.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
from shapely.geometry import box

from geoprio.io import files as io

# Four square UPZ: A1, A2 in localidad L1, B1, B2 in L2 (0.01° ≈ 1.1 km a side).
ZONES = {
    "A1": ("Alfa Uno", "L1", (-74.10, 4.60)),
    "A2": ("Alfa Dos", "L1", (-74.09, 4.60)),
    "B1": ("Beta Uno", "L2", (-74.10, 4.61)),
    "B2": ("Beta Dos", "L2", (-74.09, 4.61)),
}
POPULATION = {"A1": 1000, "A2": 1000, "B1": 2000, "B2": 1000}  # 2022 and 2023: city 5,000; L1 2,000; L2 3,000

# id, date, hour, category, zone (None = outside every zone)
DELITOS = [
    ("d1", "2022-01-10", "10:00", "Hurto", "A1"),
    ("d2", "2022-03-05", "20:00", "Hurto", "A1"),
    ("d3", "2022-06-15", "21:00", "Hurto", "A1"),
    ("d4", "2022-12-20", "08:00", "Hurto", "A1"),
    ("d5", "2022-02-02", "23:00", "Homicidio", "A1"),
    ("d6", "2022-04-04", "12:00", "Hurto", "A2"),
    ("d7", "2022-07-07", "19:00", "Hurto", "A2"),
    ("d8", "2022-05-05", "02:00", "Hurto", "B1"),
    ("d9", "2022-08-08", "03:00", "Hurto", "B1"),
    ("d10", "2022-11-11", "14:00", "Hurto", "B1"),
    ("d11", "2022-09-09", "22:00", "Homicidio", "B1"),
    ("d12", "2022-10-10", "09:00", "Hurto", "B2"),
    ("d13", "2023-02-14", "18:00", "Hurto", "A1"),
    ("d14", "2023-01-20", "07:00", "Hurto", "A2"),
    ("d15", "2023-06-28", "22:00", "Hurto", "A2"),
    ("d16", "2023-05-01", "01:00", "Hurto", "B1"),
    ("d17", "2023-03-03", "04:00", "Homicidio", "A1"),
    ("d18", "2023-04-01", "12:00", "Hurto", None),  # outside the city: dropped, not "without a zone"
]
# hurtos: 2022 L1 6 (A1 4, A2 2), L2 4 (B1 3, B2 1) = 10; 2023 to June: L1 3, L2 1 = 4
# homicides: 2022 2 of 12 records (16.67 %); 2023 1 of 5 (20 %)

QUEJAS = [  # radicado, fecha, upz (the place names the zone)
    ("q1", "2022-01-15", "Alfa Uno"),
    ("q2", "2022-04-15", "ALFA UNO"),
    ("q3", "2022-06-15", "Beta Uno"),
    ("q4", "2022-09-15", "Beta Uno"),
    ("q5", "2022-12-15", "Desconocido"),  # matches no zone: counts in the city, in no zone
    ("q6", "2023-02-15", "Alfa Dos"),
    ("q7", "2023-05-15", "Beta Dos"),
]

TARGETS_TOML = """
title = "Ciudad de prueba"

[zones]
path = "zonas.geojson"
id = "cod"
name = "nombre"
level = "upz"
parent_column = "loc"

[sources.delitos]
path = "delitos.csv"
kind = "crime"

[sources.quejas]
path = "quejas.csv"
kind = "complaint"
key = "upz"

[population]
path = "poblacion.csv"
id = "cod"
year = "anio"
column = "poblacion"

[objectives.seguridad]
label = "Seguridad"
weight = 2

[objectives.servicio]
label = "Servicio"
weight = 1

[[indicators]]
id = "hurto"
label = "Tasa de hurto"
objective = "seguridad"
source = "delitos"
categories = ["Hurto"]
unit = "rate"
trend = "decreciente"
baseline_year = 2022
targets = { 2023 = 150 }

[[indicators]]
id = "hurto_localidad"
objective = "seguridad"
source = "delitos"
categories = ["Hurto"]
unit = "count"
trend = "decreciente"
level = "localidad"
relative_targets = { 2023 = -0.5 }

[[indicators]]
id = "homicidio_share"
objective = "seguridad"
weight = 2
source = "delitos"
categories = ["Homicidio"]
unit = "share"
trend = "constante"
targets = { 2023 = 10 }

[[indicators]]
id = "quejas"
objective = "servicio"
source = "quejas"
unit = "count"
trend = "suma"
direction = "higher_is_better"
targets = { 2022 = 4, 2023 = 6 }

[options]
as_of = 2023-06-30               # the data's cut: quejas' last record is in May, delitos' in June

[output]
dir = "salida"
"""


def write_tiny_city(root: Path, *, toml: str = TARGETS_TOML, population: dict | None = None) -> Path:
    """Write the tiny city's files and its targets file into ``root``; return the targets file."""
    root.mkdir(parents=True, exist_ok=True)
    rows = [{"cod": k, "nombre": n, "loc": loc, "geometry": box(x, y, x + 0.01, y + 0.01)} for k, (n, loc, (x, y)) in ZONES.items()]
    io.write_layer(gpd.GeoDataFrame(rows, crs="EPSG:4326"), root / "zonas.geojson")
    centre = {k: (x + 0.005, y + 0.005) for k, (_n, _l, (x, y)) in ZONES.items()}
    lines = ["id;fecha;hora;delito;latitud;longitud"]
    for i, d, h, cat, z in DELITOS:
        lon, lat = centre[z] if z else (-74.20, 4.605)
        lines.append(f"{i};{d};{h};{cat};{lat:.4f};{lon:.4f}")
    (root / "delitos.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    q = ["radicado,fecha,tipo,upz"] + [f"{i},{d},Solicitud,{u}" for i, d, u in QUEJAS]
    (root / "quejas.csv").write_text("\n".join(q) + "\n", encoding="utf-8")
    pop = population if population is not None else {(z, y): p for z, p in POPULATION.items() for y in (2022, 2023)}
    p = ["cod,anio,poblacion"] + [f"{z},{y},{v}" for (z, y), v in pop.items()]
    (root / "poblacion.csv").write_text("\n".join(p) + "\n", encoding="utf-8")
    path = root / "metas.toml"
    path.write_text(toml, encoding="utf-8")
    return path
