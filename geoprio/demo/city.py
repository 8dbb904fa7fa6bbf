"""The synthetic coastal city "Puerto Demo": :class:`DemoCity`, its generator and its files.

The city is fictional but shaped like a Colombian Caribbean city: about 14 km (north-south)
by 10 km, with the Caribbean sea to the west behind an irregular coastline, 6 localidades
split into 30 UPZ-like sectors, beaches, beach guard posts (garitas) and CCTV cameras, and
two years (2023-2024) of crime incidents, citizen complaints and coexistence-violation
records laid out the way Colombian open-data portals publish them (Spanish categories,
``YYYY-MM-DD`` dates, ``HH:MM`` hours, ``latitud``/``longitud`` columns).

Everything is built in a metric CRS (by default MAGNA-SIRGAS 2018 / Origen-Nacional,
EPSG:9377) and returned in EPSG:4326 with coordinates rounded to 6 decimals (about 0.1 m).
The only source of randomness is :func:`numpy.random.default_rng` seeded with ``seed``, so
the same arguments always give identical frames. The geography and the populations depend
on ``seed`` only, not on ``n_incidents``.

Incidents come from planted Gaussian hot spots (:attr:`DemoCity.hotspot_centers`) and from a
background spread in proportion to resident plus floating population. A few dirty rows are
planted on purpose (empty, swapped and far-away coordinates, duplicated rows, unparseable
dates); :attr:`DemoCity.planted` counts them so tests can check a loader's report.

:func:`make_demo_city` assembles the city from :mod:`geoprio.demo.geography` and
:mod:`geoprio.demo.records`; :func:`write_demo_city` writes it, with the demo's two
configuration files (package resources under ``geoprio/resources/demo/``, read by
:func:`demo_config_text`).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Final

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer

from geoprio.demo.geography import build_geography, geoms_to_wgs, make_places
from geoprio.demo.parameters import CATEGORY_SHARES, CENTER_LONLAT, COMPORTAMIENTOS, DEFAULT_N_INCIDENTS, LOCALIDADES
from geoprio.demo.records import make_convivencia, make_incidents, make_quejas, text_columns_as_str
from geoprio.errors import ConfigError
from geoprio.io import files as io
from geoprio.settings import DEFAULT_METRIC_CRS, DEFAULT_SEED, OUTPUT_CRS
from geoprio.zones.layers import check_metric_crs

__all__ = [
    "CATEGORY_SHARES",
    "COMPORTAMIENTOS",
    "CONFIG_FILES",
    "DemoCity",
    "demo_config_text",
    "make_demo_city",
    "write_demo_city",
]

#: The demo's configuration files: package resources under ``geoprio/resources/demo/`` that
#: :func:`write_demo_city` copies next to the city's data (``geoprio index indice.toml``,
#: ``geoprio entornos entornos.toml``).
CONFIG_FILES: Final = ("indice.toml", "entornos.toml")


@dataclass(frozen=True, eq=False)
class DemoCity:
    """A synthetic city with its layers and event tables.

    All geographic layers are in EPSG:4326; point tables carry ``latitud``/``longitud``
    rounded to 6 decimals.

    Attributes
    ----------
    localidades : geopandas.GeoDataFrame
        ``cod_localidad`` ("01".."06"), ``nombre``, ``geometry`` (Polygon); each is the
        exact union of its UPZ.
    upz : geopandas.GeoDataFrame
        ``cod_upz`` ("UPZ01"..), ``nombre``, ``cod_localidad``, ``geometry`` (Polygon).
    poblacion : pandas.DataFrame
        ``cod_upz``, ``nombre_upz``, ``poblacion`` (residents), ``poblacion_flotante``
        (visitors and workers per day).
    delitos : pandas.DataFrame
        Crime incidents: ``id``, ``fecha``, ``hora``, ``delito``, ``latitud``,
        ``longitud``, ``cantidad``; includes the planted dirty rows.
    quejas : pandas.DataFrame
        Citizen requests without coordinates: ``radicado``, ``fecha``, ``tipo``,
        ``motivo``, ``upz`` (the UPZ name as typed by clerks).
    convivencia : pandas.DataFrame
        Coexistence-violation records: ``id``, ``fecha``, ``hora``, ``comportamiento``,
        ``medida``, ``latitud``, ``longitud``.
    costa : geopandas.GeoDataFrame
        The coastline (LineString), column ``nombre``.
    playas : geopandas.GeoDataFrame
        Beach polygons along the coast, column ``nombre``.
    garitas : geopandas.GeoDataFrame
        Existing beach guard posts (points): ``id``, ``nombre``.
    camaras : geopandas.GeoDataFrame
        Existing CCTV cameras (points): ``id``.
    entornos : geopandas.GeoDataFrame
        Public places to rank (``geoprio entornos``): ``codigo``, ``nombre``, ``tipo``
        (*estación* points along a trunk line, *parque* polygons, *colegio* points, *zona
        nocturna* street lines), some of them at planted hot spots.
    hotspot_centers : geopandas.GeoDataFrame
        The planted hot spots (points): ``id``, ``rol``, ``nombre``, ``sigma_m``, ``weight``
        (share of hot-spot incidents), ``weight_convivencia``, ``trend`` (incidence goes
        from ``1 - trend`` to ``1 + trend`` over the two years, relative to the mean).
    planted : dict of str to int
        Counts of planted dirty rows: ``missing_coordinates``, ``swapped_coordinates``,
        ``outside_city``, ``duplicate_rows``, ``bad_dates`` (in ``delitos``) and
        ``quejas_upz_unmatched`` (in ``quejas``).
    planted_rows : dict of str to tuple of int
        Row positions (``iloc``) of the planted dirty rows, same keys as ``planted``; for
        ``duplicate_rows`` the positions of the copies.
    seed : int
        The seed used.
    metric_crs : str
        The CRS the city was built in.
    """

    localidades: gpd.GeoDataFrame
    upz: gpd.GeoDataFrame
    poblacion: pd.DataFrame
    delitos: pd.DataFrame
    quejas: pd.DataFrame
    convivencia: pd.DataFrame
    costa: gpd.GeoDataFrame
    playas: gpd.GeoDataFrame
    garitas: gpd.GeoDataFrame
    camaras: gpd.GeoDataFrame
    hotspot_centers: gpd.GeoDataFrame
    entornos: gpd.GeoDataFrame
    planted: dict[str, int]
    planted_rows: dict[str, tuple[int, ...]]
    seed: int
    metric_crs: str


def make_demo_city(
    seed: int = DEFAULT_SEED,
    *,
    n_incidents: int = DEFAULT_N_INCIDENTS,
    metric_crs: str = DEFAULT_METRIC_CRS,
) -> DemoCity:
    """Generate the synthetic coastal city "Puerto Demo".

    Parameters
    ----------
    seed : int, default :data:`geoprio.settings.DEFAULT_SEED`
        Seed of :func:`numpy.random.default_rng`; the same seed gives identical frames.
    n_incidents : int, default 40000
        Number of rows of ``delitos`` (dirty rows included). Complaints are about 20 % and
        coexistence records about 30 % of this number. Planted dirty rows scale with it
        (40 empty, 25 swapped, 20 far-away coordinates, 10 duplicated rows and 10 bad dates
        at 40 000; none below 200 incidents).
    metric_crs : str, default "EPSG:9377"
        Projected CRS in metres in which the city is built.

    Returns
    -------
    DemoCity
        The layers and tables, in EPSG:4326.

    Raises
    ------
    ConfigError
        If ``seed`` or ``n_incidents`` is not a suitable integer.
    CRSError
        If ``metric_crs`` is unknown or not a projected CRS in metres.
    """
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ConfigError(f"seed: expected a non-negative integer, got {seed!r}")
    if isinstance(n_incidents, bool) or not isinstance(n_incidents, (int, np.integer)) or n_incidents < 1:
        raise ConfigError(f"n_incidents: expected a positive integer, got {n_incidents!r}")
    crs = check_metric_crs(metric_crs)
    seed = int(seed)
    n_incidents = int(n_incidents)

    root = np.random.default_rng(seed)
    rng_geo, rng_inc, rng_q, rng_conv, rng_places = root.spawn(5)  # a 5th child leaves the first 4 unchanged

    to_metric = Transformer.from_crs(OUTPUT_CRS, crs, always_xy=True)
    to_wgs = Transformer.from_crs(crs, OUTPUT_CRS, always_xy=True)
    x0, y0 = to_metric.transform(*CENTER_LONLAT)

    geo = build_geography(rng_geo, float(x0), float(y0))
    inc = make_incidents(rng_inc, n_incidents, geo, to_wgs)
    quejas, n_unmatched, unmatched_rows = make_quejas(rng_q, round(0.2 * n_incidents), geo, inc.upz_counts)
    convivencia = make_convivencia(rng_conv, round(0.3 * n_incidents), geo, to_wgs)

    def to_gdf(data: Mapping[str, object], geoms: np.ndarray) -> gpd.GeoDataFrame:
        return gpd.GeoDataFrame(data, geometry=geoms_to_wgs(geoms, to_wgs), crs=OUTPUT_CRS)

    upz_wgs = geoms_to_wgs(geo.upz_geoms, to_wgs)
    upz = gpd.GeoDataFrame(
        {"cod_upz": geo.upz_codes, "nombre": geo.upz_names, "cod_localidad": geo.upz_loc_codes},
        geometry=upz_wgs,
        crs=OUTPUT_CRS,
    )
    loc_geoms = np.array(
        [shapely.union_all(upz_wgs[geo.upz_loc == i]) for i in range(len(LOCALIDADES))],
        dtype=object,
    )
    localidades = gpd.GeoDataFrame(
        {
            "cod_localidad": [code for code, *_ in LOCALIDADES],
            "nombre": [name for _, name, *_ in LOCALIDADES],
        },
        geometry=loc_geoms,
        crs=OUTPUT_CRS,
    )
    poblacion = text_columns_as_str(
        pd.DataFrame(
            {
                "cod_upz": geo.upz_codes,
                "nombre_upz": geo.upz_names,
                "poblacion": geo.residents,
                "poblacion_flotante": geo.floating,
            }
        )
    )
    costa = to_gdf({"nombre": ["Línea de costa – Mar Caribe"]}, np.array([geo.coast]))
    playas = to_gdf({"nombre": geo.beach_names}, geo.beach_geoms)
    garitas = to_gdf(
        {"id": [f"GAR-{i + 1:02d}" for i in range(len(geo.garita_names))], "nombre": geo.garita_names},
        geo.garita_points,
    )
    camaras = to_gdf(
        {"id": [f"CAM-{i + 1:03d}" for i in range(len(geo.camera_points))]},
        geo.camera_points,
    )
    hs = geo.hotspots
    hotspot_centers = to_gdf(
        {
            "id": [f"HS{i + 1:02d}" for i in range(len(hs.roles))],
            "rol": list(hs.roles),
            "nombre": list(hs.names),
            "sigma_m": hs.sigma,
            "weight": hs.weight,
            "weight_convivencia": hs.weight_conv,
            "trend": hs.trend,
        },
        np.asarray(shapely.points(hs.x, hs.y), dtype=object),
    )
    place_data, place_geoms = make_places(rng_places, geo)
    entornos = to_gdf(place_data, place_geoms)
    planted = dict(inc.planted)
    planted["quejas_upz_unmatched"] = n_unmatched
    planted_rows = dict(inc.planted_rows)
    planted_rows["quejas_upz_unmatched"] = unmatched_rows

    return DemoCity(
        localidades=localidades,
        upz=upz,
        poblacion=poblacion,
        delitos=inc.frame,
        quejas=quejas,
        convivencia=convivencia,
        costa=costa,
        playas=playas,
        garitas=garitas,
        camaras=camaras,
        hotspot_centers=hotspot_centers,
        entornos=entornos,
        planted=planted,
        planted_rows=planted_rows,
        seed=seed,
        metric_crs=str(metric_crs),
    )


def write_demo_city(city: DemoCity, out_dir: str | os.PathLike[str]) -> Path:
    """Write the demo city's layers and tables into ``out_dir`` and return its index config.

    Incidents and coexistence records are written as Colombian portals publish them
    (``;`` separator, decimal comma); complaints carry a UPZ name instead of
    coordinates; layers are GeoJSON in EPSG:4326.
    """
    out = Path(out_dir)
    for name in ("localidades", "upz", "costa", "playas", "garitas", "camaras", "hotspot_centers", "entornos"):
        io.write_layer(getattr(city, name), out / f"{name}.geojson")
    io.write_table(city.poblacion, out / "poblacion_upz.csv")
    io.write_table(city.delitos, out / "delitos.csv", sep=";", decimal=",")
    io.write_table(city.convivencia, out / "convivencia.csv", sep=";", decimal=",")
    io.write_table(city.quejas, out / "quejas.csv")
    io.write_json({"seed": city.seed, "planted": city.planted}, out / "generador.json")
    io.write_text(demo_config_text("entornos.toml"), out / "entornos.toml")
    return io.write_text(demo_config_text("indice.toml"), out / "indice.toml")


def demo_config_text(name: str) -> str:
    """The text of one of the demo's configuration files (one of :data:`CONFIG_FILES`), byte for byte."""
    if name not in CONFIG_FILES:
        raise ConfigError(f"{name!r}: not a demo configuration file; choose one of {', '.join(CONFIG_FILES)}")
    return (resources.files("geoprio") / "resources" / "demo" / name).read_bytes().decode("utf-8")
