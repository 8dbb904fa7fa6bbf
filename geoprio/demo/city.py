"""Seeded generator of a realistic synthetic coastal city, "Puerto Demo".

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
"""

from __future__ import annotations

import os
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Final

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer
from shapely import LineString, Point, Polygon, affinity
from shapely.ops import substring

from geoprio.errors import ConfigError
from geoprio.records.text import fold
from geoprio.settings import DEFAULT_METRIC_CRS, OUTPUT_CRS
from geoprio.zones.layers import check_metric_crs

__all__ = [
    "DemoRun",
    "run_demo",
    "write_demo_city",
    "CATEGORY_SHARES",
    "COMPORTAMIENTOS",
    "DemoCity",
    "make_demo_city",
]

# --------------------------------------------------------------------------------------
# Fixed parameters of the fictional city
# --------------------------------------------------------------------------------------

#: (lon, lat) near which the city is centred.
CENTER_LONLAT: Final = (-75.50, 10.40)
_NS_M: Final = 14_000.0  # north-south extent
_EW_M: Final = 10_000.0  # west-east extent
_N_UPZ: Final = 30
_START: Final = np.datetime64("2023-01-01", "D")
_N_DAYS: Final = 731  # 2023-01-01 .. 2024-12-31 (2024 is a leap year)
_EROSION_M: Final = 2.0  # points are kept this far inside the city so rounding never moves them out
_HOT_SHARE: Final = 0.60  # share of incidents coming from planted hot spots
_CONV_HOT_SHARE: Final = 0.50
_DEFAULT_N: Final = 40_000

#: Localidades: code, name, anchor (fraction of the land's bounding box, west->east,
#: south->north) and relative residential density.
_LOCALIDADES: Final = (
    ("01", "Centro Histórico", (0.10, 0.58), 0.55),
    ("02", "La Bahía", (0.14, 0.20), 0.90),
    ("03", "El Bosque", (0.47, 0.42), 1.00),
    ("04", "San José", (0.60, 0.80), 1.05),
    ("05", "Los Almendros", (0.16, 0.88), 0.75),
    ("06", "Nueva Esperanza", (0.84, 0.30), 1.45),
)

_UPZ_CENTRO: Final = "La Candelaria"
_UPZ_PUERTO: Final = "Zona Portuaria"
_UPZ_COASTAL: Final = (
    "Bocagrande Sur",
    "Bocagrande Norte",
    "Marbella",
    "Cielo Mar",
    "El Laguito",
    "Playa Linda",
    "Castillogrande",
    "La Boquilla",
    "Crespo",
    "Puerto Colón",
    "Las Gaviotas",
    "Los Corales",
    "Punta Canoas",
)
_UPZ_PERIPHERY: Final = (
    "El Pozón",
    "Nelson Mandela",
    "Villa Estrella",
    "La Unión",
    "Nuevo Amanecer",
    "El Milagro",
    "San Isidro",
    "Olaya Herrera",
    "Villa Rosita",
    "Nuevo Porvenir",
)
_UPZ_GENERAL: Final = (
    "El Prado",
    "San Martín",
    "Los Ángeles",
    "Santa Lucía",
    "El Recreo",
    "Villa Olímpica",
    "Los Cerezos",
    "San Fernando",
    "Bellavista",
    "El Carmen",
    "La Concepción",
    "Camagüey",
    "San Diego",
    "Los Alpes",
    "Zaragocilla",
    "Blas de Lezo",
    "El Socorro",
    "Santa Mónica",
    "Alto Bosque",
    "Policarpa",
    "La Victoria",
    "Las Américas",
    "Simón Bolívar",
    "El Edén",
    "San Andrés",
    "Pie de la Popa",
    "Getsemaní",
    "Manga",
    "Torices",
    "Chambacú",
    "Amberes",
    "El Cabrero",
    "Ternera",
    "La María",
    "Jardín Botánico",
    "Los Caracoles",
)
_PLAYAS: Final = (
    "Playa Azul",
    "Playa del Muelle",
    "Playa de los Pescadores",
    "Playa Bonita",
    "Playa Chica",
    "Playa del Faro",
    "Playa Escondida",
    "Playa de las Tortugas",
)

#: Crime categories (Policía Nacional) and their target shares of incidents.
CATEGORY_SHARES: Final[dict[str, float]] = {
    "Hurto a personas": 0.45,
    "Hurto a comercio": 0.08,
    "Hurto a residencias": 0.07,
    "Hurto de motocicletas": 0.05,
    "Hurto de automotores": 0.02,
    "Hurto de celulares": 0.10,
    "Lesiones personales": 0.15,
    "Violencia intrafamiliar": 0.06,
    "Homicidio": 0.01,
    "Delitos sexuales": 0.01,
}
_CATS: Final = tuple(CATEGORY_SHARES)

#: Coexistence behaviours (Ley 1801 de 2016) and their target shares.
COMPORTAMIENTOS: Final[dict[str, float]] = {
    "Riñas (art. 27 num. 1)": 0.24,
    "Porte de armas blancas (art. 27 num. 6)": 0.14,
    "Consumo de sustancias en espacio público (art. 140 num. 7)": 0.31,
    "Ruido excesivo (art. 33)": 0.15,
    "Ocupación indebida del espacio público (art. 140 num. 4)": 0.16,
}
_BEHAVIOURS: Final = tuple(COMPORTAMIENTOS)

_MEDIDAS: Final = (
    "Multa general tipo 1",
    "Multa general tipo 2",
    "Participación en programa comunitario",
    "Amonestación",
    "Destrucción de bien",
)
#: P(medida | comportamiento), rows in the order of COMPORTAMIENTOS, columns of _MEDIDAS.
_MEDIDA_GIVEN_BEHAVIOUR: Final = np.array(
    [
        [0.15, 0.55, 0.15, 0.15, 0.00],
        [0.05, 0.55, 0.00, 0.05, 0.35],
        [0.15, 0.35, 0.20, 0.10, 0.20],
        [0.35, 0.10, 0.20, 0.35, 0.00],
        [0.50, 0.00, 0.15, 0.30, 0.05],
    ]
)

_TIPOS_QUEJA: Final = ("Derecho de petición", "Solicitud ciudadana", "Llamada Línea 123")
_TIPOS_QUEJA_P: Final = (0.25, 0.35, 0.40)
_MOTIVOS: Final = (
    "Consumo de sustancias",
    "Ruido",
    "Riña",
    "Inseguridad en parque",
    "Habitante de calle",
    "Venta ambulante",
    "Presencia de pandillas",
    "Alumbrado público deficiente",
)
_MOTIVOS_P: Final = np.array([0.22, 0.20, 0.12, 0.14, 0.10, 0.10, 0.06, 0.06])

_BAD_DATES: Final = ("31/02/2024", "sin fecha", "30/02/2023")
_UNMATCHED_UPZ: Final = "SIN DATO"

#: Dirty rows planted at the default size (scaled with ``n_incidents``).
_DIRTY_AT_DEFAULT: Final = {
    "missing_coordinates": 40,
    "swapped_coordinates": 25,
    "outside_city": 20,
    "duplicate_rows": 10,
    "bad_dates": 10,
}


@dataclass(frozen=True)
class _Role:
    """A kind of hot spot.

    ``nombre`` is a label template (``{upz}`` is the UPZ's name), ``sigma`` the range of the
    Gaussian spread in metres, ``w`` and ``wc`` the relative weights among hot spots for
    incidents and for coexistence records, ``trend`` the relative change (incidence goes
    from ``1 - trend`` to ``1 + trend`` over the two years), ``aff`` and ``affc`` the
    affinities by crime category and by behaviour (orders of CATEGORY_SHARES and
    COMPORTAMIENTOS).
    """

    nombre: str
    sigma: tuple[float, float]
    w: float
    wc: float
    trend: float
    aff: tuple[float, ...]
    affc: tuple[float, ...]


_ROLES: Final[dict[str, _Role]] = {
    "centro": _Role(
        "Centro histórico ({upz})",
        (180, 260),
        0.20,
        0.18,
        0.0,
        (3.0, 4.5, 0.3, 0.8, 0.8, 3.0, 0.8, 0.2, 0.2, 0.6),
        (0.8, 0.6, 1.3, 1.0, 3.0),
    ),
    "playa_1": _Role(
        "{upz}",
        (120, 220),
        0.12,
        0.16,
        0.0,
        (3.0, 1.0, 0.2, 0.5, 0.5, 3.5, 1.0, 0.1, 0.2, 0.8),
        (0.8, 0.5, 1.6, 2.0, 2.0),
    ),
    "playa_2": _Role(
        "{upz}",
        (120, 220),
        0.10,
        0.14,
        0.35,
        (3.0, 1.0, 0.2, 0.5, 0.5, 3.5, 1.0, 0.1, 0.2, 0.8),
        (0.8, 0.5, 1.6, 2.0, 2.0),
    ),
    "mercado": _Role(
        "Mercado de {upz}",
        (200, 300),
        0.13,
        0.10,
        -0.35,
        (2.5, 2.0, 0.3, 1.5, 0.5, 2.5, 1.2, 0.3, 0.5, 0.5),
        (1.0, 1.5, 1.0, 0.6, 2.5),
    ),
    "periferia_1": _Role(
        "Periferia de {upz}",
        (300, 400),
        0.10,
        0.12,
        0.0,
        (0.8, 0.5, 1.5, 1.2, 0.3, 0.7, 2.5, 3.0, 9.0, 1.5),
        (2.2, 2.5, 1.0, 0.8, 0.3),
    ),
    "periferia_2": _Role(
        "Periferia de {upz}",
        (300, 400),
        0.09,
        0.10,
        0.35,
        (0.8, 0.5, 1.5, 1.2, 0.3, 0.7, 2.5, 3.0, 9.0, 1.5),
        (2.2, 2.5, 1.0, 0.8, 0.3),
    ),
    "corredor": _Role(
        "Corredor comercial de {upz}",
        (250, 350),
        0.10,
        0.05,
        0.0,
        (1.5, 3.0, 1.0, 2.0, 3.0, 1.5, 0.7, 0.5, 0.3, 0.4),
        (1.0, 0.8, 0.8, 0.8, 2.0),
    ),
    "puerto": _Role(
        "Zona portuaria",
        (200, 300),
        0.08,
        0.0,
        0.0,
        (1.2, 2.0, 0.3, 1.5, 3.0, 1.0, 1.0, 0.2, 1.0, 0.3),
        (1.0, 1.0, 1.0, 1.0, 1.0),
    ),
    "zona_rosa": _Role(
        "Zona rosa de {upz}",
        (150, 250),
        0.08,
        0.15,
        0.0,
        (2.0, 0.6, 0.2, 0.8, 0.6, 2.5, 3.0, 0.3, 1.0, 1.5),
        (2.5, 1.2, 1.5, 2.5, 0.5),
    ),
    "residencial": _Role(
        "Sector residencial de {upz}",
        (300, 400),
        0.06,
        0.0,
        0.0,
        (0.8, 0.8, 4.0, 1.5, 2.5, 0.8, 0.6, 1.2, 0.2, 0.6),
        (1.0, 1.0, 1.0, 1.0, 1.0),
    ),
}
#: Hot spots always planted, then the optional ones (8 to 10 in all).
_CORE_ROLES: Final = (
    "centro",
    "playa_1",
    "playa_2",
    "mercado",
    "periferia_1",
    "periferia_2",
    "corredor",
    "puerto",
)
_EXTRA_ROLES: Final = ("zona_rosa", "residencial")
_BACKGROUND_AFF: Final = (1.0, 0.9, 1.3, 1.0, 0.9, 0.9, 1.0, 1.6, 0.5, 1.0)
_BACKGROUND_AFFC: Final = (1.0, 0.8, 1.1, 1.2, 0.8)

# Weekly pattern, Monday..Sunday, per day group.
_DOW_WEIGHTS: Final = {
    "theft": (1.00, 1.00, 1.00, 1.02, 1.12, 1.08, 0.78),
    "violence": (0.75, 0.70, 0.75, 0.85, 1.25, 1.55, 1.45),
    "vif": (0.85, 0.80, 0.80, 0.85, 1.05, 1.35, 1.60),
    "flat": (1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0),
}
_CAT_DAY_GROUP: Final = (
    "theft",
    "theft",
    "theft",
    "theft",
    "theft",
    "theft",
    "violence",
    "vif",
    "violence",
    "violence",
)
_BEHAVIOUR_DAY_GROUP: Final = ("violence", "violence", "violence", "violence", "flat")
#: Mild seasonality (tourist high seasons in December-January and June-July), by month.
_MONTH_WEIGHTS: Final = np.array([1.12, 1.00, 0.95, 1.00, 0.97, 1.05, 1.06, 1.00, 0.95, 0.97, 1.00, 1.15])

# Hour profiles: (base, ((centre hour, height, spread h), ...)) for weekdays and for
# weekends (Friday-Sunday).
_Peaks = tuple[float, tuple[tuple[float, float, float], ...]]
_CAT_HOURS: Final[tuple[tuple[_Peaks, _Peaks], ...]] = (
    # Hurto a personas
    ((0.25, ((7, 1.0, 1.0), (18.5, 1.4, 1.5), (12.5, 0.4, 2.0))), (0.25, ((7.5, 0.7, 1.2), (19.0, 1.3, 1.8), (22.0, 0.6, 2.0)))),
    # Hurto a comercio
    ((0.15, ((11, 0.8, 2.5), (18, 1.0, 1.5), (2, 0.4, 1.5))), (0.15, ((12, 0.8, 2.5), (19, 1.0, 1.5), (2, 0.5, 1.5)))),
    # Hurto a residencias
    ((0.20, ((10.5, 0.9, 2.5), (15, 0.6, 2.0), (2.5, 0.5, 1.5))), (0.20, ((11, 0.7, 2.5), (16, 0.6, 2.0), (2.5, 0.7, 1.5)))),
    # Hurto de motocicletas
    ((0.20, ((7, 0.8, 1.0), (19, 1.2, 2.0))), (0.20, ((8, 0.5, 1.5), (20, 1.3, 2.0)))),
    # Hurto de automotores
    ((0.20, ((7, 0.5, 1.0), (19, 0.8, 2.0), (1, 0.8, 2.5))), (0.20, ((19, 0.8, 2.0), (1, 1.0, 2.5)))),
    # Hurto de celulares
    ((0.25, ((7, 1.1, 1.0), (18, 1.5, 1.5))), (0.25, ((8, 0.6, 1.5), (19, 1.4, 2.0), (23, 0.6, 1.5)))),
    # Lesiones personales
    ((0.30, ((20, 0.8, 2.5), (13, 0.3, 2.0))), (0.25, ((23, 2.0, 2.5), (19, 0.5, 2.0)))),
    # Violencia intrafamiliar
    ((0.20, ((20, 1.2, 2.5), (13, 0.4, 2.0))), (0.20, ((19, 1.5, 3.0), (23, 0.7, 2.0)))),
    # Homicidio
    ((0.20, ((22, 0.8, 3.0),)), (0.15, ((23.5, 2.5, 2.5),))),
    # Delitos sexuales
    ((0.30, ((21, 0.8, 3.0), (15, 0.4, 3.0))), (0.25, ((0, 1.0, 3.0), (16, 0.3, 3.0)))),
)
_BEHAVIOUR_HOURS: Final[tuple[tuple[_Peaks, _Peaks], ...]] = (
    # Riñas
    ((0.20, ((21, 1.0, 2.5),)), (0.15, ((0, 2.0, 2.5), (19, 0.5, 2.0)))),
    # Armas blancas
    ((0.20, ((20, 1.0, 3.0),)), (0.15, ((23, 1.5, 3.0),))),
    # Consumo de sustancias
    ((0.20, ((17, 1.0, 3.0), (22, 0.6, 2.0))), (0.15, ((20, 1.2, 3.5),))),
    # Ruido
    ((0.15, ((22, 1.2, 2.5),)), (0.10, ((0, 2.0, 2.5),))),
    # Ocupación del espacio público
    ((0.05, ((11, 1.0, 3.0), (16, 0.6, 2.0))), (0.05, ((12, 1.0, 3.0), (17, 0.6, 2.0)))),
)


# --------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------


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
    seed: int = 20241,
    *,
    n_incidents: int = _DEFAULT_N,
    metric_crs: str = DEFAULT_METRIC_CRS,
) -> DemoCity:
    """Generate the synthetic coastal city "Puerto Demo".

    Parameters
    ----------
    seed : int, default 20241
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

    geo = _build_geography(rng_geo, float(x0), float(y0))
    inc = _make_incidents(rng_inc, n_incidents, geo, to_wgs)
    quejas, n_unmatched, unmatched_rows = _make_quejas(rng_q, round(0.2 * n_incidents), geo, inc["upz_counts"])
    convivencia = _make_convivencia(rng_conv, round(0.3 * n_incidents), geo, to_wgs)

    def to_gdf(data: dict[str, object], geoms: np.ndarray) -> gpd.GeoDataFrame:
        return gpd.GeoDataFrame(data, geometry=_to_wgs(geoms, to_wgs), crs=OUTPUT_CRS)

    upz_wgs = _to_wgs(geo.upz_geoms, to_wgs)
    upz = gpd.GeoDataFrame(
        {"cod_upz": geo.upz_codes, "nombre": geo.upz_names, "cod_localidad": geo.upz_loc_codes},
        geometry=upz_wgs,
        crs=OUTPUT_CRS,
    )
    loc_geoms = np.array(
        [shapely.union_all(upz_wgs[geo.upz_loc == i]) for i in range(len(_LOCALIDADES))],
        dtype=object,
    )
    localidades = gpd.GeoDataFrame(
        {
            "cod_localidad": [code for code, *_ in _LOCALIDADES],
            "nombre": [name for _, name, *_ in _LOCALIDADES],
        },
        geometry=loc_geoms,
        crs=OUTPUT_CRS,
    )
    poblacion = _text_columns_as_str(
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
        shapely.points(hs.x, hs.y),
    )
    place_data, place_geoms = _make_places(rng_places, geo)
    entornos = to_gdf(place_data, place_geoms)
    planted = dict(inc["planted"])
    planted["quejas_upz_unmatched"] = n_unmatched
    planted_rows = dict(inc["planted_rows"])
    planted_rows["quejas_upz_unmatched"] = unmatched_rows

    return DemoCity(
        localidades=localidades,
        upz=upz,
        poblacion=poblacion,
        delitos=inc["frame"],
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


def _make_places(rng: np.random.Generator, geo: _Geography) -> tuple[dict[str, list[str]], np.ndarray]:
    """Public places of four kinds (metric geometries): stations every ~700 m along a trunk
    line through the centre, the market and the commercial corridor; park polygons;
    schools; nightlife streets (one through the commercial corridor).
    """
    hs = geo.hotspots
    roles = list(hs.roles)
    codes: list[str] = []
    names: list[str] = []
    kinds: list[str] = []
    geoms: list[shapely.Geometry] = []

    def upz_name(pt: shapely.Geometry) -> str:
        hit = np.flatnonzero(shapely.contains(geo.upz_geoms, pt))
        return geo.upz_names[int(hit[0])] if hit.size else "Puerto Demo"

    def add(prefix: str, kind: str, name: str, geom: shapely.Geometry) -> None:
        codes.append(f"{prefix}{sum(k == kind for k in kinds) + 1:02d}")
        kinds.append(kind)
        names.append(name)
        geoms.append(geom)

    anchors = [r for r in ("periferia_1", "mercado", "centro", "corredor", "periferia_2") if r in roles]
    trunk = LineString([(hs.x[roles.index(r)], hs.y[roles.index(r)]) for r in anchors])
    for d in np.arange(0.0, trunk.length + 1.0, 700.0):
        pt = trunk.interpolate(d + rng.uniform(-60, 60) if 0 < d < trunk.length else d)
        if geo.land_inner.contains(pt):
            add("EST", "estación", f"Estación {upz_name(pt)}", pt)
    for _ in range(8):
        c = _point_inside(geo.land, rng, 300.0)
        side = rng.uniform(100.0, 220.0)
        park = affinity.rotate(shapely.box(c.x - side / 2, c.y - side / 2, c.x + side / 2, c.y + side / 2), rng.uniform(0, 90))
        add("PAR", "parque", f"Parque {upz_name(c)}", park)
    for _ in range(14):
        pt = _point_inside(geo.land, rng, 200.0)
        add("COL", "colegio", f"Colegio {upz_name(pt)}", pt)
    centres = [roles.index("corredor")] if "corredor" in roles else []
    centres += list(rng.choice(len(roles), 2, replace=False))
    for i in centres:
        angle = rng.uniform(0, np.pi)
        half = rng.uniform(150.0, 250.0)
        dx, dy = half * np.cos(angle), half * np.sin(angle)
        street = LineString([(hs.x[i] - dx, hs.y[i] - dy), (hs.x[i] + dx, hs.y[i] + dy)])
        add("RUM", "zona nocturna", f"Zona de rumba {upz_name(street.centroid)}", street)
    return {"codigo": codes, "nombre": names, "tipo": kinds}, np.array(geoms, dtype=object)


def synthetic_incidents(
    zones: gpd.GeoDataFrame,
    counts: Sequence[float] | np.ndarray,
    *,
    seed: int = 20241,
    year: int = 2019,
    category: str = "Hurto a personas",
    scale: float = 1.0,
    metric_crs: str = DEFAULT_METRIC_CRS,
) -> pd.DataFrame:
    """A clearly synthetic point set that keeps real per-zone totals.

    For cities that publish crime only per zone (Bogotá publishes counts per UPZ, no
    points), this draws ``round(counts[i] · scale)`` points uniformly inside zone ``i``,
    dates uniformly in ``year`` and hours from the demo's profile of personal theft
    (weekday and weekend shapes). Place rankings computed on it reflect each zone's density,
    not where inside the zone incidents really happen: use it to show the mechanics, and
    label it as synthetic. Columns as the demo's ``delitos`` (``id``, ``fecha``, ``hora``,
    ``delito``, ``latitud``, ``longitud``) plus ``sintetico = "sí"``.
    """
    crs = check_metric_crs(metric_crs)
    n = np.round(np.asarray(counts, dtype=float) * scale)
    if len(n) != len(zones) or np.isnan(n).any() or (n < 0).any():
        raise ConfigError(f"counts must be one non-negative number per zone ({len(zones)}), got {len(n)} values")
    rng = np.random.default_rng(seed)
    geoms = np.asarray(zones.geometry.to_crs(crs).values, dtype=object)
    idx = np.repeat(np.arange(len(zones)), n.astype(np.int64))
    x, y = _sample_uniform(geoms, idx, rng)
    days = np.arange(np.datetime64(f"{year}-01-01"), np.datetime64(f"{year + 1}-01-01"))
    day = days[rng.integers(0, len(days), len(idx))]
    weekend = ((day.astype("datetime64[D]").astype(np.int64) + 3) % 7) >= 5  # 1970-01-01 was a Thursday
    weekday_p, weekend_p = (_hour_profile(p) for p in _CAT_HOURS[0])
    hour = np.where(weekend, rng.choice(24, len(idx), p=weekend_p), rng.choice(24, len(idx), p=weekday_p))
    minute = rng.integers(0, 60, len(idx))
    lon, lat = Transformer.from_crs(crs, OUTPUT_CRS, always_xy=True).transform(x, y)
    return pd.DataFrame(
        {
            "id": [f"S{i + 1:07d}" for i in range(len(idx))],
            "fecha": day.astype(str),
            "hora": [f"{h:02d}:{m:02d}" for h, m in zip(hour, minute, strict=True)],
            "delito": category,
            "latitud": np.round(lat, 6),
            "longitud": np.round(lon, 6),
            "sintetico": "sí",
        }
    )


# --------------------------------------------------------------------------------------
# Geography
# --------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class _Hotspots:
    roles: tuple[str, ...]
    names: tuple[str, ...]
    x: np.ndarray
    y: np.ndarray
    sigma: np.ndarray
    weight: np.ndarray
    weight_conv: np.ndarray
    trend: np.ndarray
    upz: np.ndarray  # index of the UPZ holding the centre


@dataclass(frozen=True, eq=False)
class _Geography:
    land: Polygon
    land_inner: Polygon  # land eroded by _EROSION_M, prepared
    coast: LineString
    upz_geoms: np.ndarray
    upz_inner: np.ndarray  # each UPZ intersected with land_inner, prepared
    upz_codes: list[str]
    upz_names: list[str]
    upz_loc: np.ndarray
    upz_loc_codes: list[str]
    upz_roles: list[set[str]]
    residents: np.ndarray
    floating: np.ndarray
    beach_geoms: np.ndarray
    beach_names: list[str]
    garita_points: np.ndarray
    garita_names: list[str]
    camera_points: np.ndarray
    hotspots: _Hotspots


def _to_wgs(geoms: np.ndarray, to_wgs: Transformer) -> np.ndarray:
    """Transform metric geometries to lon/lat rounded to 6 decimals."""

    def func(coords: np.ndarray) -> np.ndarray:
        lon, lat = to_wgs.transform(coords[:, 0], coords[:, 1])
        return np.round(np.column_stack([lon, lat]), 6)

    return np.asarray(shapely.transform(np.asarray(geoms, dtype=object), func), dtype=object)


def _wiggle(t: np.ndarray, rng: np.random.Generator, terms: Sequence[tuple[float, float]]) -> np.ndarray:
    """Sum of sines of ``t`` (0..1) with seeded phases and amplitudes within +-20 %."""
    out = np.zeros_like(t)
    for amplitude, cycles in terms:
        amp = amplitude * rng.uniform(0.8, 1.2)
        out += amp * np.sin(2 * np.pi * cycles * t + rng.uniform(0, 2 * np.pi))
    return out


def _city_outline(rng: np.random.Generator, x0: float, y0: float) -> tuple[Polygon, LineString]:
    """Land polygon (irregular city limits) and its western edge, the coastline."""
    ys, yn = y0 - _NS_M / 2, y0 + _NS_M / 2
    t = np.linspace(0.0, 1.0, 281)  # every 50 m along the coast
    coast_x = x0 - _EW_M / 2 + _wiggle(t, rng, ((380, 1.6), (190, 3.3), (70, 8.1)))
    coast_y = ys + t * _NS_M
    east_x = x0 + _EW_M / 2 + _wiggle(t, rng, ((450, 1.2), (220, 2.7)))
    s = np.linspace(0.0, 1.0, 101)
    taper = np.sin(np.pi * s)
    north_x = coast_x[-1] + s * (east_x[-1] - coast_x[-1])
    north_y = yn + taper * _wiggle(s, rng, ((350, 1.5), (150, 3.2)))
    south_x = coast_x[0] + s * (east_x[0] - coast_x[0])
    south_y = ys + taper * _wiggle(s, rng, ((350, 1.4), (150, 2.9)))
    ring = np.concatenate(
        [
            np.column_stack([coast_x, coast_y]),
            np.column_stack([north_x, north_y])[1:-1],
            np.column_stack([east_x, coast_y])[::-1],
            np.column_stack([south_x, south_y])[::-1][1:-1],
        ]
    )
    land = Polygon(ring)
    if not land.is_valid:  # pragma: no cover - the wiggles are far too small for this
        raise RuntimeError("demo city outline is not a valid polygon")
    return land, LineString(np.column_stack([coast_x, coast_y]))


def _sample_uniform(geoms: np.ndarray, idx: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Uniform points, one in ``geoms[idx[i]]`` for each i, by rejection in bounding boxes."""
    n = len(idx)
    x = np.empty(n)
    y = np.empty(n)
    bounds = shapely.bounds(geoms)
    todo = np.arange(n)
    for _ in range(10_000):
        if todo.size == 0:
            return x, y
        b = bounds[idx[todo]]
        xs = rng.uniform(b[:, 0], b[:, 2])
        ys = rng.uniform(b[:, 1], b[:, 3])
        ok = shapely.contains_xy(geoms[idx[todo]], xs, ys)
        x[todo[ok]] = xs[ok]
        y[todo[ok]] = ys[ok]
        todo = todo[~ok]
    raise RuntimeError("rejection sampling did not converge")  # pragma: no cover


def _sample_gaussian(
    cx: np.ndarray,
    cy: np.ndarray,
    sigma: np.ndarray,
    idx: np.ndarray,
    mask: Polygon,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """Gaussian points around centre ``idx[i]``, redrawn until they fall inside ``mask``."""
    n = len(idx)
    x = np.empty(n)
    y = np.empty(n)
    todo = np.arange(n)
    for _ in range(10_000):
        if todo.size == 0:
            return x, y
        k = idx[todo]
        xs = cx[k] + sigma[k] * rng.standard_normal(todo.size)
        ys = cy[k] + sigma[k] * rng.standard_normal(todo.size)
        ok = shapely.contains_xy(mask, xs, ys)
        x[todo[ok]] = xs[ok]
        y[todo[ok]] = ys[ok]
        todo = todo[~ok]
    raise RuntimeError("rejection sampling did not converge")  # pragma: no cover


def _polygon_parts(geom: shapely.Geometry) -> list[Polygon]:
    parts = shapely.get_parts(geom)
    return [p for p in parts if isinstance(p, Polygon) and not p.is_empty]


def _voronoi_cells(xy: np.ndarray, land: Polygon) -> np.ndarray:
    """Voronoi cells of ``xy`` clipped to ``land``, one Polygon per point (input order)."""
    frame = shapely.box(*land.buffer(5_000).bounds)
    vor = shapely.voronoi_polygons(shapely.multipoints(xy), extend_to=frame, ordered=True)
    cells = shapely.intersection(shapely.get_parts(vor), land)
    cells = np.asarray(cells, dtype=object)
    for i, cell in enumerate(cells):
        parts = _polygon_parts(cell)
        if len(parts) == 1 and isinstance(cell, Polygon):
            continue
        parts.sort(key=lambda p: p.area, reverse=True)
        cells[i] = parts[0]
        for part in parts[1:]:  # give a stray piece to the neighbour it shares most with
            grown = part.buffer(0.5)
            shared = [grown.intersection(cells[j]).area if j != i else -1.0 for j in range(len(cells))]
            j = int(np.argmax(shared))
            merged = _polygon_parts(shapely.union(cells[j], part))
            cells[j] = max(merged, key=lambda p: p.area)
    return cells


def _shared_border(cells: np.ndarray) -> np.ndarray:
    """Approximate length (m) of the border shared by each pair of cells."""
    grown = shapely.buffer(cells, 0.5)
    inter = shapely.area(shapely.intersection(grown[:, None], grown[None, :]))
    np.fill_diagonal(inter, 0.0)
    return inter  # a strip 1 m wide: area ~ shared length


def _distances(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pairwise Euclidean distances between the rows of ``a`` (n, 2) and ``b`` (m, 2)."""
    return np.hypot(a[:, None, 0] - b[None, :, 0], a[:, None, 1] - b[None, :, 1])


def _assign_localidades(cells: np.ndarray, anchors: np.ndarray, shared: np.ndarray) -> np.ndarray:
    """Nearest-anchor assignment, repaired so each localidad is non-empty and connected."""
    cent = shapely.get_coordinates(shapely.centroid(cells))
    n_loc = len(anchors)
    anchors = anchors.copy()
    for _ in range(4):  # a few k-means steps from the semantic anchors balance the sizes
        dist = _distances(cent, anchors)
        loc = np.argmin(dist, axis=1)
        for k in range(n_loc):
            if np.any(loc == k):
                anchors[k] = 0.5 * anchors[k] + 0.5 * cent[loc == k].mean(axis=0)
    dist = _distances(cent, anchors)
    loc = np.argmin(dist, axis=1)
    for _ in range(200):
        changed = False
        counts = np.bincount(loc, minlength=n_loc)
        for k in range(n_loc):
            if counts[k] == 0:
                order = np.argsort(dist[:, k])
                cand = next(i for i in order if counts[loc[i]] > 1)
                loc[cand] = k
                changed = True
                break
        if changed:
            continue
        for k in range(n_loc):
            members = np.flatnonzero(loc == k)
            parts = _polygon_parts(shapely.union_all(cells[members]))
            if len(parts) <= 1:
                continue
            main = max(parts, key=lambda p: p.area)
            for i in members:
                if not main.contains(cells[i].representative_point()):
                    border = shared[i].copy()
                    border[loc == k] = 0.0
                    if border.max() > 0:
                        loc[i] = loc[int(np.argmax(border))]
                        changed = True
        if changed:
            continue
        if _rebalance_once(cells, loc, dist, shared, n_loc):
            continue
        return loc
    raise RuntimeError("could not build connected localidades")  # pragma: no cover


def _connected(cells: np.ndarray, members: np.ndarray) -> bool:
    return members.size > 0 and len(_polygon_parts(shapely.union_all(cells[members]))) == 1


def _rebalance_once(cells: np.ndarray, loc: np.ndarray, dist: np.ndarray, shared: np.ndarray, n_loc: int) -> bool:
    """Move one border UPZ from a large localidad to a small neighbour (3 to 8 UPZ each)."""
    counts = np.bincount(loc, minlength=n_loc)
    small = [k for k in np.argsort(counts, kind="stable") if counts[k] < 3]
    large = [k for k in np.argsort(-counts, kind="stable") if counts[k] > 8]
    moves: list[tuple[int, int]] = []  # (upz, to)
    for k in small:  # pull the nearest adjacent UPZ from a neighbour that can spare one
        near = np.flatnonzero((shared[loc == k].max(axis=0) > 50.0) & (loc != k))
        moves += [(int(i), int(k)) for i in near[np.argsort(dist[near, k])] if counts[loc[i]] > 3]
    for k in large:  # push a border UPZ to the smallest adjacent localidad
        members = np.flatnonzero(loc == k)
        for i in members[np.argsort(-dist[members, k])]:
            nb = {int(loc[j]) for j in np.flatnonzero(shared[i] > 50.0)} - {int(k)}
            moves += [(int(i), t) for t in sorted(nb, key=lambda t: counts[t]) if counts[t] < 7]
    for i, to in moves:
        frm = loc[i]
        loc[i] = to
        if _connected(cells, np.flatnonzero(loc == frm)) and _connected(cells, np.flatnonzero(loc == to)):
            return True
        loc[i] = frm
    return False


def _inland_point(coast: LineString, d: float, offset: float) -> Point:
    """Point ``offset`` metres inland (to the right of the south->north coast) at ``d``."""
    p1 = coast.interpolate(max(d - 5.0, 0.0))
    p2 = coast.interpolate(min(d + 5.0, coast.length))
    tx, ty = p2.x - p1.x, p2.y - p1.y
    norm = float(np.hypot(tx, ty))
    p = coast.interpolate(d)
    return Point(p.x + offset * ty / norm, p.y - offset * tx / norm)


def _place_beaches(rng: np.random.Generator, coast: LineString, excluded: tuple[float, float]) -> list[tuple[float, float, float]]:
    """Beaches as (start, end, width) along the coast, avoiding the ``excluded`` stretch."""
    length = coast.length
    margin = 150.0
    intervals = [(margin, excluded[0] - 100.0), (excluded[1] + 100.0, length - margin)]
    intervals = [(a, b) for a, b in intervals if b - a > 1_500.0]
    lengths = np.array([b - a for a, b in intervals])
    n_beaches = int(rng.integers(5, 8))
    total = min(rng.uniform(8_400.0, 9_800.0), 0.8 * lengths.sum())
    # beaches per interval by largest remainder
    quota = n_beaches * lengths / lengths.sum()
    counts = np.floor(quota).astype(int)
    for i in np.argsort(-(quota - counts))[: n_beaches - counts.sum()]:
        counts[i] += 1
    beaches: list[tuple[float, float, float]] = []
    used = lengths[counts > 0].sum()
    for (a, b), k in zip(intervals, counts, strict=True):
        if k == 0:
            continue
        span = b - a
        beach_total = min(total * span / used, 0.85 * span)
        sizes = rng.dirichlet(np.full(k, 6.0)) * beach_total
        gaps = rng.dirichlet(np.full(k + 1, 3.0)) * (span - beach_total)
        start = a
        for size, gap in zip(sizes, gaps[:-1], strict=True):
            start += gap
            beaches.append((start, start + size, rng.uniform(40.0, 80.0)))
            start += size
    return beaches


def _pick_upz(candidates: np.ndarray, score: np.ndarray, used: set[int], fallback: np.ndarray) -> int:
    """Best-scoring candidate not used yet (lowest score wins)."""
    for pool in (candidates, fallback):
        free = [int(i) for i in pool if int(i) not in used]
        if free:
            return min(free, key=lambda i: score[i])
    raise RuntimeError("no UPZ left for a hot spot")  # pragma: no cover


def _point_inside(poly: Polygon, rng: np.random.Generator, inset: float) -> Point:
    """A random point of ``poly`` at least ``inset`` metres from its border, if possible."""
    core = poly.buffer(-inset)
    target = core if (not core.is_empty and core.area > 0.05 * poly.area) else poly
    parts = _polygon_parts(target)
    target = max(parts, key=lambda p: p.area)
    x, y = _sample_uniform(np.array([target], dtype=object), np.zeros(1, dtype=int), rng)
    return Point(x[0], y[0])


def _upz_cells(rng: np.random.Generator, land: Polygon) -> np.ndarray:
    """About 30 UPZ: Lloyd-relaxed Voronoi cells of seeded points, clipped to the land."""
    px, py = _sample_uniform(np.array([land], dtype=object), np.zeros(_N_UPZ, dtype=int), rng)
    xy = np.column_stack([px, py])
    for _ in range(5):
        cells = _voronoi_cells(xy, land)
        xy = shapely.get_coordinates(shapely.centroid(cells))
    return _voronoi_cells(xy, land)


def _name_upz(rng: np.random.Generator, coastal: np.ndarray, loc: np.ndarray, centro: int, port: int) -> list[str]:
    """Spanish names: fixed ones for the centre and port, then from pools by position."""
    names: list[str] = [""] * len(loc)
    names[centro] = _UPZ_CENTRO
    names[port] = _UPZ_PUERTO
    pools = {
        "coastal": [str(v) for v in rng.permutation(_UPZ_COASTAL)],
        "periphery": [str(v) for v in rng.permutation(_UPZ_PERIPHERY)],
        "general": [str(v) for v in rng.permutation(_UPZ_GENERAL)],
    }
    for i in range(len(loc)):
        if names[i]:
            continue
        key = "coastal" if coastal[i] else ("periphery" if loc[i] == 5 else "general")
        names[i] = (pools[key] or pools["general"]).pop()
    return names


def _beach_layer(
    rng: np.random.Generator,
    coast: LineString,
    land: Polygon,
    beaches: list[tuple[float, float, float]],
    cells: np.ndarray,
    names: list[str],
) -> tuple[np.ndarray, list[str]]:
    """Beach polygons (strips inland of the coast) named after the UPZ they front."""
    geoms = []
    for d0, d1, width in beaches:
        strip = substring(coast, d0, d1).buffer(-width, single_sided=True)  # right = inland
        geoms.append(max(_polygon_parts(strip.intersection(land)), key=lambda p: p.area))
    beach_geoms = np.array(geoms, dtype=object)
    fronting = np.argmax(shapely.area(shapely.intersection(beach_geoms[:, None], cells[None, :])), axis=1)
    spare = [str(v) for v in rng.permutation(_PLAYAS)]
    labels: list[str] = []
    for i in fronting:
        label = names[i] if names[i].startswith("Playa ") else f"Playa {names[i]}"
        labels.append(label if label not in labels else spare.pop())
    return beach_geoms, labels


def _on_beach(
    rng: np.random.Generator,
    coast: LineString,
    beach: tuple[float, float, float],
    geom: Polygon,
    spread: float,
) -> Point:
    """A random point half-way across a beach, within the middle ``spread`` of its length."""
    d0, d1, width = beach
    lo = 0.5 - spread / 2
    pt = _inland_point(coast, rng.uniform(d0 + lo * (d1 - d0), d1 - lo * (d1 - d0)), width / 2)
    return pt if geom.contains(pt) else geom.point_on_surface()


def _plant_hotspots(
    rng: np.random.Generator,
    *,
    cells: np.ndarray,
    loc: np.ndarray,
    anchors: np.ndarray,
    shared: np.ndarray,
    coastal: np.ndarray,
    names: list[str],
    centro: int,
    port: int,
    port_front: float,
    coast: LineString,
    beaches: list[tuple[float, float, float]],
    beach_geoms: np.ndarray,
    beach_names: list[str],
) -> _Hotspots:
    """Place 8 to 10 hot spots by role (centre, beaches, market, periphery, ...)."""
    n = len(cells)
    centroids = shapely.get_coordinates(shapely.centroid(cells))
    anchor_dist = np.hypot(centroids[:, 0] - anchors[loc, 0], centroids[:, 1] - anchors[loc, 1])
    everyone = np.arange(n)
    roles = list(_CORE_ROLES) + list(_EXTRA_ROLES[: int(rng.integers(0, 3))])
    beach_xy = shapely.get_coordinates(shapely.centroid(beach_geoms))
    points: list[Point] = []
    holders: list[int] = []
    labels: list[str] = []
    used_upz = {centro, port}
    used_beaches: set[int] = set()
    for role in roles:
        spec = _ROLES[role]
        if role == "centro":
            pt, i = _point_inside(cells[centro], rng, 250.0), centro
        elif role == "puerto":  # behind the docks
            pt, i = _inland_point(coast, port_front, rng.uniform(250.0, 450.0)), port
            if not cells[port].buffer(-50.0).contains(pt):
                pt = _point_inside(cells[port], rng, 250.0)
        elif role.startswith("playa"):
            if role == "playa_1":  # the beach nearest the historic centre
                score = np.hypot(*(beach_xy - centroids[centro]).T)
            else:  # the northernmost other beach
                score = -beach_xy[:, 1]
            free = [b for b in range(len(beaches)) if b not in used_beaches]
            b = min(free, key=lambda k: score[k])
            used_beaches.add(b)
            pt = _on_beach(rng, coast, beaches[b], beach_geoms[b], 0.4)
            i = int(np.argmax(shapely.contains(cells, pt)))
            points.append(pt)
            holders.append(i)
            labels.append(beach_names[b])
            continue
        else:
            score = anchor_dist
            if role == "mercado":
                cand = np.flatnonzero(loc == 2)
            elif role == "corredor":
                cand = np.flatnonzero(loc == 3)
            elif role == "periferia_1":  # the easternmost sector of Nueva Esperanza
                cand, score = np.flatnonzero(loc == 5), -centroids[:, 0]
            elif role == "periferia_2":  # another eastern sector, at least 2 km away
                other = centroids[holders[roles.index("periferia_1")]]
                gap = np.hypot(*(centroids - other).T)
                cand = np.flatnonzero(np.isin(loc, (3, 5)) & (gap > 2_000.0))
                score = -centroids[:, 0]
            elif role == "zona_rosa":  # next to the historic centre
                cand = np.flatnonzero((shared[centro] > 50.0) & (everyone != port))
            else:  # residencial
                cand = np.flatnonzero((loc == 4) & ~coastal)
            i = _pick_upz(cand, score, used_upz, everyone)
            used_upz.add(i)
            pt = _point_inside(cells[i], rng, max(250.0, spec.sigma[0]))
        points.append(pt)
        holders.append(i)
        labels.append(spec.nombre.format(upz=names[i]))

    specs = [_ROLES[r] for r in roles]
    sigma = np.round([rng.uniform(*spec.sigma) for spec in specs], 0)
    weight = np.array([spec.w for spec in specs]) * rng.lognormal(0.0, 0.15, len(roles))
    weight_conv = np.array([spec.wc for spec in specs]) * rng.lognormal(0.0, 0.15, len(roles))
    return _Hotspots(
        roles=tuple(roles),
        names=tuple(labels),
        x=np.array([p.x for p in points]),
        y=np.array([p.y for p in points]),
        sigma=sigma,
        weight=(weight / weight.sum()).round(4),
        weight_conv=(weight_conv / weight_conv.sum()).round(4),
        trend=np.array([spec.trend for spec in specs]),
        upz=np.array(holders),
    )


def _build_geography(rng: np.random.Generator, x0: float, y0: float) -> _Geography:
    """Outline, UPZ, localidades, beaches, hot spots, populations, garitas and cameras."""
    land, coast = _city_outline(rng, x0, y0)
    land_inner = land.buffer(-_EROSION_M)
    shapely.prepare(land_inner)
    cells = _upz_cells(rng, land)
    n = len(cells)

    minx, miny, maxx, maxy = land.bounds
    rel = np.array([a for _, _, a, _ in _LOCALIDADES]) + rng.uniform(-0.03, 0.03, (6, 2))
    anchors = np.column_stack([minx + rel[:, 0] * (maxx - minx), miny + rel[:, 1] * (maxy - miny)])
    shared = _shared_border(cells)
    loc = _assign_localidades(cells, anchors, shared)
    centroids = shapely.get_coordinates(shapely.centroid(cells))
    coastal = shapely.distance(cells, coast) < 1.0

    # the historic centre and the port are on the coast, nearest their localidad's anchor
    on_coast = np.flatnonzero(coastal)
    d_centro = np.hypot(*(centroids - anchors[0]).T)
    centro = _pick_upz(np.flatnonzero((loc == 0) & coastal), d_centro, set(), on_coast)
    d_port = np.hypot(*(centroids - anchors[1]).T)
    port = _pick_upz(np.flatnonzero((loc == 1) & coastal), d_port, {centro}, on_coast)
    names = _name_upz(rng, coastal, loc, centro, port)

    # beaches, avoiding 1.2 km of the port's waterfront
    front = shapely.get_coordinates(shapely.intersection(coast, cells[port].buffer(1.0)))
    front_d = [coast.project(Point(c)) for c in front]
    port_mid = (min(front_d) + max(front_d)) / 2
    port_half = min(600.0, (max(front_d) - min(front_d)) / 2)
    beaches = _place_beaches(rng, coast, (port_mid - port_half, port_mid + port_half))
    beach_geoms, beach_names = _beach_layer(rng, coast, land, beaches, cells, names)

    hotspots = _plant_hotspots(
        rng,
        cells=cells,
        loc=loc,
        anchors=anchors,
        shared=shared,
        coastal=coastal,
        names=names,
        centro=centro,
        port=port,
        port_front=port_mid,
        coast=coast,
        beaches=beaches,
        beach_geoms=beach_geoms,
        beach_names=beach_names,
    )

    # what each UPZ is like (drives floating population and complaint motives)
    upz_roles: list[set[str]] = [set() for _ in range(n)]
    upz_roles[centro].add("centro")
    upz_roles[port].add("puerto")
    for role, i in zip(hotspots.roles, hotspots.upz, strict=True):
        upz_roles[i].add(role.split("_")[0] if role[-1].isdigit() else role)
    beach_front = np.zeros(n)
    for d0, d1, _ in beaches:
        strip = substring(coast, d0, d1).buffer(1.0)
        beach_front += shapely.length(shapely.intersection(cells, strip)) / 2.0
    for i in np.flatnonzero(beach_front > 300.0):
        upz_roles[i].add("playa")
    for i in np.flatnonzero(loc == 5):
        upz_roles[i].add("periferia")
    residents, floating = _populations(rng, cells, loc, upz_roles, centro, port)

    # codes: by localidad, then north to south, then west to east
    perm = np.lexsort((centroids[:, 0], -centroids[:, 1], loc))  # new position -> old index
    rank = np.empty(n, dtype=int)
    rank[perm] = np.arange(n)
    cells = cells[perm]
    upz_inner = shapely.intersection(cells, land_inner)
    shapely.prepare(upz_inner)
    hotspots = replace(hotspots, upz=rank[hotspots.upz])

    lengths = np.array([d1 - d0 for d0, d1, _ in beaches])
    garita_beaches = np.sort(rng.choice(len(beaches), size=min(4, len(beaches)), replace=False, p=lengths / lengths.sum()))
    garita_points = np.array(
        [_on_beach(rng, coast, beaches[b], beach_geoms[b], 0.6) for b in garita_beaches],
        dtype=object,
    )
    camera_points = _cameras(rng, cells, land_inner, hotspots, floating[perm])

    return _Geography(
        land=land,
        land_inner=land_inner,
        coast=coast,
        upz_geoms=cells,
        upz_inner=upz_inner,
        upz_codes=[f"UPZ{i + 1:02d}" for i in range(n)],
        upz_names=[names[i] for i in perm],
        upz_loc=loc[perm],
        upz_loc_codes=[_LOCALIDADES[loc[i]][0] for i in perm],
        upz_roles=[upz_roles[i] for i in perm],
        residents=residents[perm],
        floating=floating[perm],
        beach_geoms=beach_geoms,
        beach_names=beach_names,
        garita_points=garita_points,
        garita_names=[f"Garita {beach_names[b]}" for b in garita_beaches],
        camera_points=camera_points,
        hotspots=hotspots,
    )


def _populations(
    rng: np.random.Generator,
    cells: np.ndarray,
    loc: np.ndarray,
    roles: list[set[str]],
    centro: int,
    port: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Residents (skewed, ~1.1 M in total) and daily floating population per UPZ."""
    n = len(cells)
    density = np.array([d for *_, d in _LOCALIDADES])[loc]
    raw = shapely.area(cells) / 1e6 * density * rng.lognormal(0.0, 0.8, n)
    special = np.zeros(n, dtype=bool)
    special[[centro, port]] = True
    residents = np.zeros(n)
    residents[centro] = rng.integers(2_100, 2_900)
    residents[port] = rng.integers(1_600, 2_500)
    target = rng.uniform(1.06e6, 1.16e6) - residents[special].sum()
    # smooth saturation instead of clipping: every UPZ between ~3,500 and ~121,500
    r = raw[~special] / raw[~special].sum()
    floor, cap = 3_500.0, 118_000.0

    def total(scale: float) -> float:
        return float(np.sum(floor + cap * -np.expm1(-scale * r / cap)))

    lo, hi = 0.0, 1e9
    for _ in range(100):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if total(mid) < target else (lo, mid)
    vals = floor + cap * -np.expm1(-lo * r / cap)
    residents[~special] = vals
    residents = np.round(residents).astype(np.int64)

    floating = residents * rng.uniform(0.04, 0.20, n)
    boosts = {
        "centro": (120_000, 170_000),
        "puerto": (35_000, 60_000),
        "mercado": (45_000, 70_000),
        "corredor": (25_000, 40_000),
        "zona_rosa": (15_000, 30_000),
        "playa": (12_000, 35_000),
    }
    for i in range(n):
        for role, (lo, hi) in boosts.items():
            if role in roles[i]:
                floating[i] += rng.uniform(lo, hi)
    return residents, np.round(floating, -1).astype(np.int64)


def _cameras(
    rng: np.random.Generator,
    cells: np.ndarray,
    land_inner: Polygon,
    hotspots: _Hotspots,
    floating: np.ndarray,
) -> np.ndarray:
    """About 150 cameras: most around the historic centre, some at other hot spots."""
    n_total = 150
    roles = list(hotspots.roles)
    c = roles.index("centro")
    others = [roles.index(r) for r in ("mercado", "corredor", "puerto") if r in roles]
    n_centre, n_hot = 80, 25
    idx = np.concatenate([np.full(n_centre, c), rng.choice(others, size=n_hot)]).astype(int)
    spread = np.where(np.arange(len(roles)) == c, 700.0, 400.0)
    cx, cy = _sample_gaussian(hotspots.x, hotspots.y, spread, idx, land_inner, rng)
    upz_idx = rng.choice(len(cells), size=n_total - n_centre - n_hot, p=floating / floating.sum())
    bx, by = _sample_uniform(shapely.intersection(cells, land_inner), upz_idx, rng)
    x = np.round(np.concatenate([cx, bx]), 1)
    y = np.round(np.concatenate([cy, by]), 1)
    order = rng.permutation(n_total)
    return np.asarray(shapely.points(x[order], y[order]), dtype=object)


# --------------------------------------------------------------------------------------
# Event tables
# --------------------------------------------------------------------------------------


def _hour_profile(peaks: _Peaks) -> np.ndarray:
    base, bumps = peaks
    h = np.arange(24) + 0.5
    out = np.full(24, base)
    for centre, height, spread in bumps:
        d = np.abs(h - centre)
        d = np.minimum(d, 24 - d)
        out += height * np.exp(-0.5 * (d / spread) ** 2)
    return out / out.sum()


def _sinkhorn(affinity: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """Joint distribution close to ``affinity`` with the given row and column sums."""
    p = affinity.astype(float).copy()
    for _ in range(500):
        p *= (rows / p.sum(axis=1))[:, None]
        p *= (cols / p.sum(axis=0))[None, :]
    return p / p.sum()


def _day_of_week(days: np.ndarray) -> np.ndarray:
    """Monday=0 .. Sunday=6 for day offsets from 2023-01-01 (a Sunday)."""
    return (days + 6) % 7


def _sample_days(rng: np.random.Generator, group: np.ndarray, trend: np.ndarray, groups: Sequence[str]) -> np.ndarray:
    """Day offsets (0..730) with weekly pattern per day group, seasonality and trend."""
    all_days = np.arange(_N_DAYS)
    months = (_START + all_days).astype("datetime64[M]").astype(int) % 12
    base = _MONTH_WEIGHTS[months]
    t = all_days / (_N_DAYS - 1)
    dow = _day_of_week(all_days)
    out = np.empty(len(group), dtype=np.int64)
    combos = np.unique(np.column_stack([group, np.round(trend * 1000).astype(int)]), axis=0)
    for g, tr in combos:
        sel = np.flatnonzero((group == g) & (np.round(trend * 1000).astype(int) == tr))
        w = base * np.array(_DOW_WEIGHTS[groups[g]])[dow] * (1.0 + (tr / 1000.0) * (2 * t - 1))
        cdf = np.cumsum(w) / w.sum()
        out[sel] = np.minimum(np.searchsorted(cdf, rng.random(sel.size), side="right"), _N_DAYS - 1)
    return out


def _sample_minutes(
    rng: np.random.Generator,
    kind: np.ndarray,
    days: np.ndarray,
    profiles: Sequence[tuple[_Peaks, _Peaks]],
) -> np.ndarray:
    """Minute of the day from per-kind hour profiles (weekend = Friday to Sunday)."""
    table = np.array([[np.cumsum(_hour_profile(p)) for p in pair] for pair in profiles])
    weekend = (_day_of_week(days) >= 4).astype(int)
    cdf = table[kind, weekend]
    hour = np.minimum((cdf < rng.random(len(kind))[:, None]).sum(axis=1), 23)
    minute = rng.integers(0, 60, len(kind))
    minute[rng.random(len(kind)) < 0.05] = 0  # clerks round some times to the hour
    return hour * 60 + minute


_HHMM: Final = np.array([f"{h:02d}:{m:02d}" for h in range(24) for m in range(60)])


def _date_strings(days: np.ndarray) -> np.ndarray:
    return np.datetime_as_string(_START + days.astype("timedelta64[D]"), unit="D")


def _zfill6(values: np.ndarray) -> np.ndarray:
    """Zero-padded 6-digit strings (``numpy.char.zfill`` fails on empty arrays)."""
    if values.size == 0:
        return np.array([], dtype="<U6")
    return np.char.zfill(values.astype(str), 6)


def _ids(prefix: str, n: int) -> np.ndarray:
    return np.char.add(prefix, _zfill6(np.arange(1, n + 1)))


def _locations(
    rng: np.random.Generator,
    source: np.ndarray,
    geo: _Geography,
    background_weights: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Metric x, y: Gaussian around hot spot ``source`` or, for the last source, background."""
    hs = geo.hotspots
    n_hot = len(hs.roles)
    x = np.empty(len(source))
    y = np.empty(len(source))
    hot = np.flatnonzero(source < n_hot)
    x[hot], y[hot] = _sample_gaussian(hs.x, hs.y, hs.sigma, source[hot], geo.land_inner, rng)
    bg = np.flatnonzero(source == n_hot)
    upz_idx = rng.choice(len(geo.upz_geoms), size=bg.size, p=background_weights)
    x[bg], y[bg] = _sample_uniform(geo.upz_inner, upz_idx, rng)
    return x, y


def _text_columns_as_str(frame: pd.DataFrame) -> pd.DataFrame:
    """Give text columns the ``str`` dtype even when the frame is empty."""
    text = [c for c in frame.columns if frame[c].dtype == object]
    return frame.astype(dict.fromkeys(text, "str")) if text else frame


def _scaled_dirty_counts(n: int) -> dict[str, int]:
    if n < 200:
        return dict.fromkeys(_DIRTY_AT_DEFAULT, 0)
    return {k: max(1, round(v * n / _DEFAULT_N)) for k, v in _DIRTY_AT_DEFAULT.items()}


def _make_incidents(rng: np.random.Generator, n: int, geo: _Geography, to_wgs: Transformer) -> dict[str, object]:
    hs = geo.hotspots
    affinity = np.array([_ROLES[r].aff for r in hs.roles] + [_BACKGROUND_AFF], dtype=float)
    rows = np.append(_HOT_SHARE * hs.weight / hs.weight.sum(), 1.0 - _HOT_SHARE)
    cols = np.array(list(CATEGORY_SHARES.values()))
    joint = _sinkhorn(affinity, rows, cols / cols.sum())
    pair = rng.choice(joint.size, size=n, p=joint.ravel())
    source, cat = pair // len(_CATS), pair % len(_CATS)

    people = (geo.residents + geo.floating).astype(float)
    x, y = _locations(rng, source, geo, people / people.sum())

    groups = ("theft", "violence", "vif")
    cat_group = np.array([groups.index(g) for g in _CAT_DAY_GROUP])[cat]
    trend = np.append(hs.trend, 0.0)[source]
    days = _sample_days(rng, cat_group, trend, groups)
    minutes = _sample_minutes(rng, cat, days, _CAT_HOURS)
    cantidad = np.where(rng.random(n) < 0.93, 1, np.where(rng.random(n) < 0.8, 2, 3))

    # UPZ of each clean point (for the complaints), before any shuffling
    tree = shapely.STRtree(geo.upz_geoms)
    pts = shapely.points(x, y)
    hit_pt, hit_upz = tree.query(pts, predicate="within")
    upz_of = np.full(n, -1)
    upz_of[hit_pt] = hit_upz
    upz_counts = np.bincount(upz_of[upz_of >= 0], minlength=len(geo.upz_geoms))

    order = np.lexsort((minutes, days))
    lon, lat = to_wgs.transform(x[order], y[order])
    lat = np.round(np.asarray(lat, dtype=float), 6)
    lon = np.round(np.asarray(lon, dtype=float), 6)
    fecha = _date_strings(days[order]).astype(object)
    frame_cols: dict[str, np.ndarray] = {
        "id": _ids("D", n).astype(object),
        "fecha": fecha,
        "hora": _HHMM[minutes[order]].astype(object),
        "delito": np.array(_CATS, dtype=object)[cat[order]],
        "latitud": lat,
        "longitud": lon,
        "cantidad": cantidad.astype(np.int64),
    }

    # planted dirty rows, at disjoint seeded positions
    counts = _scaled_dirty_counts(n)
    perm = rng.permutation(n)
    cursor = 0

    def take(k: int) -> np.ndarray:
        nonlocal cursor
        out = np.sort(perm[cursor : cursor + k])
        cursor += k
        return out

    rows_missing = take(counts["missing_coordinates"])
    rows_swapped = take(counts["swapped_coordinates"])
    rows_outside = take(counts["outside_city"])
    rows_bad_date = take(counts["bad_dates"])
    pair_a = perm[cursor : cursor + counts["duplicate_rows"]]
    cursor += counts["duplicate_rows"]
    pair_b = perm[cursor : cursor + counts["duplicate_rows"]]
    cursor += counts["duplicate_rows"]
    # the copy comes after its source, as in a double export
    order_dup = np.argsort(np.maximum(pair_a, pair_b))
    rows_dup = np.maximum(pair_a, pair_b)[order_dup]
    rows_dup_src = np.minimum(pair_a, pair_b)[order_dup]

    lat[rows_missing] = np.nan
    lon[rows_missing] = np.nan
    lat[rows_swapped], lon[rows_swapped] = lon[rows_swapped].copy(), lat[rows_swapped].copy()
    angle = rng.uniform(0.0, 2 * np.pi, rows_outside.size)
    dist = rng.uniform(0.45, 0.75, rows_outside.size)
    lat[rows_outside] = np.round(lat[rows_outside] + dist * np.sin(angle), 6)
    lon[rows_outside] = np.round(lon[rows_outside] + dist * np.cos(angle), 6)
    fecha[rows_bad_date] = np.array(_BAD_DATES, dtype=object)[rng.integers(0, len(_BAD_DATES), rows_bad_date.size)]
    for col in frame_cols.values():
        col[rows_dup] = col[rows_dup_src]

    frame = _text_columns_as_str(pd.DataFrame(frame_cols))
    planted_rows = {
        "missing_coordinates": tuple(int(i) for i in rows_missing),
        "swapped_coordinates": tuple(int(i) for i in rows_swapped),
        "outside_city": tuple(int(i) for i in rows_outside),
        "duplicate_rows": tuple(int(i) for i in rows_dup),
        "bad_dates": tuple(int(i) for i in rows_bad_date),
    }
    return {
        "frame": frame,
        "planted": counts,
        "planted_rows": planted_rows,
        "upz_counts": upz_counts,
    }


def _strip_accents(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _misspell(name: str, rng: np.random.Generator, known: set[str]) -> str:
    """A typo of ``name`` (one letter dropped or two swapped) that matches no known name."""
    letters = [i for i, ch in enumerate(name) if ch.isalpha()]
    for _ in range(20):
        i = int(rng.choice(letters[1:-1])) if len(letters) > 2 else letters[0]
        if rng.random() < 0.5:
            typo = name[:i] + name[i + 1 :]
        else:
            typo = name[:i] + name[i + 1 : i + 2] + name[i] + name[i + 2 :]
        if fold(typo) not in known:
            return typo.upper() if rng.random() < 0.5 else typo
    return _UNMATCHED_UPZ  # pragma: no cover


def _make_quejas(rng: np.random.Generator, n: int, geo: _Geography, upz_counts: np.ndarray) -> tuple[pd.DataFrame, int, tuple[int, ...]]:
    n_upz = len(geo.upz_names)
    w = (upz_counts + 5.0) ** 0.9 * rng.lognormal(0.0, 0.35, n_upz)
    upz = rng.choice(n_upz, size=n, p=w / w.sum())

    # motives: base mix, boosted by the UPZ's character, with per-UPZ noise
    probs = np.tile(_MOTIVOS_P, (n_upz, 1))
    m = {name: i for i, name in enumerate(_MOTIVOS)}
    for i, roles in enumerate(geo.upz_roles):
        if roles & {"centro", "mercado", "corredor"}:
            probs[i, m["Venta ambulante"]] *= 2.5
            probs[i, m["Habitante de calle"]] *= 2.0
        if roles & {"playa", "zona_rosa"}:
            probs[i, m["Ruido"]] *= 1.8
            probs[i, m["Venta ambulante"]] *= 1.8
        if "periferia" in roles:
            probs[i, m["Presencia de pandillas"]] *= 2.5
            probs[i, m["Riña"]] *= 1.6
            probs[i, m["Alumbrado público deficiente"]] *= 1.8
    probs *= rng.gamma(20.0, 1.0 / 20.0, probs.shape)
    cdf = np.cumsum(probs / probs.sum(axis=1, keepdims=True), axis=1)
    motivo = np.minimum((cdf[upz] < rng.random(n)[:, None]).sum(axis=1), len(_MOTIVOS) - 1)

    tipo = rng.choice(len(_TIPOS_QUEJA), size=n, p=_TIPOS_QUEJA_P)
    days = rng.integers(0, _N_DAYS, n)
    working = np.flatnonzero(_day_of_week(np.arange(_N_DAYS)) < 5)
    written_req = np.flatnonzero(tipo != 2)  # written requests are filed on working days
    days[written_req] = working[rng.integers(0, working.size, written_req.size)]

    # the UPZ name as typed: exact, upper case without accents, lower case, extra spaces,
    # a typo, or no data
    known = {fold(s) for s in geo.upz_names}
    variants = np.array(
        [
            [
                name,
                _strip_accents(name).upper(),
                name.lower(),
                "  " + name,
                name + " ",
                name.replace(" ", "  ") if " " in name else " " + name + "  ",
                _misspell(name, rng, known),
                _misspell(name, rng, known),
                _UNMATCHED_UPZ,
            ]
            for name in geo.upz_names
        ],
        dtype=object,
    )
    kind = rng.choice(9, size=n, p=[0.50, 0.20, 0.12, 0.054, 0.053, 0.053, 0.005, 0.005, 0.01])
    written = variants[upz, kind]

    order = np.lexsort((rng.random(n), days))
    days, written, tipo = days[order], written[order], tipo[order]
    motivo, kind = motivo[order], kind[order]
    years = 2023 + (days >= 365).astype(int)
    first_2024 = int(np.searchsorted(years, 2024))
    seq = np.arange(n) - np.where(years == 2024, first_2024, 0) + 1
    radicado = np.char.add(np.char.add("Q-", years.astype(str)), np.char.add("-", _zfill6(seq))).astype(object)
    frame = _text_columns_as_str(
        pd.DataFrame(
            {
                "radicado": radicado,
                "fecha": _date_strings(days).astype(object),
                "tipo": np.array(_TIPOS_QUEJA, dtype=object)[tipo],
                "motivo": np.array(_MOTIVOS, dtype=object)[motivo],
                "upz": written,
            }
        )
    )
    unmatched = np.flatnonzero(kind >= 6)
    return frame, int(unmatched.size), tuple(int(i) for i in unmatched)


def _make_convivencia(rng: np.random.Generator, n: int, geo: _Geography, to_wgs: Transformer) -> pd.DataFrame:
    hs = geo.hotspots
    affinity = np.array([_ROLES[r].affc for r in hs.roles] + [_BACKGROUND_AFFC], dtype=float)
    rows = np.append(_CONV_HOT_SHARE * hs.weight_conv, 1.0 - _CONV_HOT_SHARE)
    active = rows > 0
    cols = np.array(list(COMPORTAMIENTOS.values()))
    joint = np.zeros_like(affinity)
    joint[active] = _sinkhorn(affinity[active], rows[active] / rows[active].sum(), cols / cols.sum())
    pair = rng.choice(joint.size, size=n, p=joint.ravel() / joint.sum())
    source, beh = pair // len(_BEHAVIOURS), pair % len(_BEHAVIOURS)

    people = 0.6 * geo.residents + 0.4 * geo.floating
    x, y = _locations(rng, source, geo, people / people.sum())

    groups = ("violence", "flat")
    beh_group = np.array([groups.index(g) for g in _BEHAVIOUR_DAY_GROUP])[beh]
    days = _sample_days(rng, beh_group, np.zeros(n), groups)
    minutes = _sample_minutes(rng, beh, days, _BEHAVIOUR_HOURS)
    med_cdf = np.cumsum(_MEDIDA_GIVEN_BEHAVIOUR, axis=1)
    medida = np.minimum((med_cdf[beh] < rng.random(n)[:, None]).sum(axis=1), len(_MEDIDAS) - 1)

    order = np.lexsort((minutes, days))
    lon, lat = to_wgs.transform(x[order], y[order])
    frame = pd.DataFrame(
        {
            "id": _ids("C", n).astype(object),
            "fecha": _date_strings(days[order]).astype(object),
            "hora": _HHMM[minutes[order]].astype(object),
            "comportamiento": np.array(_BEHAVIOURS, dtype=object)[beh[order]],
            "medida": np.array(_MEDIDAS, dtype=object)[medida[order]],
            "latitud": np.round(np.asarray(lat, dtype=float), 6),
            "longitud": np.round(np.asarray(lon, dtype=float), 6),
        }
    )
    return _text_columns_as_str(frame)


# --------------------------------------------------------------------------- writing

DEMO_CONFIG = """\
# Índice de priorización de la ciudad de demostración "Puerto Demo" (datos sintéticos).
# Generado por `geoprio demo`; córralo de nuevo con:  geoprio index data/demo/indice.toml

[zones]
path = "upz.geojson"
id = "cod_upz"
name = "nombre"
level = "upz"
parent_column = "cod_localidad"

[zones.population]
path = "poblacion_upz.csv"
id = "cod_upz"
column = "poblacion"
ambient = "poblacion_flotante"   # visitantes y trabajadores: otro denominador posible

[zones.parent]
path = "localidades.geojson"
id = "cod_localidad"
name = "nombre"
level = "localidad"
method = "attribute"

[sources.delitos]          # puntos; separador ';' y coma decimal, como los portales de datos
path = "delitos.csv"
kind = "crime"

[sources.convivencia]      # comportamientos contrarios a la convivencia (Ley 1801 de 2016)
path = "convivencia.csv"
kind = "coexistence"
category = "comportamiento"

[sources.quejas]           # derechos de petición, solicitudes y llamadas: sin coordenadas
path = "quejas.csv"
kind = "complaint"
key = "upz"
match_on = "name"
category = "tipo"

[index]
normalization = "minmax"
weighting = "explicit"
aggregation = "arithmetic"
tiers = "quantiles"
min_population = 3000            # UPZ con menos residentes: marcadas (†) en las salidas
small_zones = "flag"

[robustness]
draws = 1000
top_k = 5
denominators = ["population", "ambient", "eb"]   # el Monte Carlo también sortea el denominador

[output]
dir = "output"

[[indicators]]
name = "violencia"
label = "Violencia (daño ponderado)"
source = "delitos"
categories = ["Homicidio", "Lesiones personales", "Delitos sexuales", "Violencia intrafamiliar"]
harm_weighted = true
measure = "rate"
weight = 4

[[indicators]]
name = "hurto_personas"
label = "Hurto a personas y celulares"
source = "delitos"
categories = ["Hurto a personas", "Hurto de celulares"]
measure = "rate"
weight = 3

[[indicators]]
name = "hurto_patrimonio"
label = "Hurto a comercio, residencias y vehículos"
source = "delitos"
categories = ["Hurto a comercio", "Hurto a residencias", "Hurto de motocicletas", "Hurto de automotores"]
measure = "density"
weight = 2

[[indicators]]
name = "convivencia"
label = "Comportamientos contrarios a la convivencia"
source = "convivencia"
measure = "density"
weight = 1.5

[[indicators]]
name = "quejas"
label = "Quejas y solicitudes ciudadanas"
source = "quejas"
measure = "rate"
weight = 1

[[indicators]]
name = "tendencia"
label = "Cambio de delitos 2024 frente a 2023"
source = "delitos"
date_from = 2024-01-01
date_to = 2024-12-31
measure = "change"
weight = 1
"""


DEMO_ENTORNOS_CONFIG = """\
# Entornos priorizados de "Puerto Demo" (datos sintéticos): estaciones, parques, colegios y
# zonas de rumba, clasificados por los delitos y comportamientos contrarios a la convivencia
# cercanos, con sus horas pico y un plan de despliegue de equipos.
#   geoprio entornos data/demo/entornos.toml

[places]
path = "entornos.geojson"
type = "tipo"
name = "nombre"
id = "codigo"
radius_m = 100                                        # desde el borde del lugar
radius_by_type = { "colegio" = 200, "zona nocturna" = 50 }
overlap = "all"                                       # un delito cerca de dos lugares cuenta para ambos
ring_width_m = 300                                    # anillo de comparación alrededor de cada lugar

[sources.delitos]
path = "delitos.csv"
kind = "crime"

[sources.convivencia]
path = "convivencia.csv"
kind = "coexistence"
category = "comportamiento"

[[indicators]]
name = "violencia"
label = "Violencia (daño ponderado)"
source = "delitos"
categories = ["Homicidio", "Lesiones personales", "Delitos sexuales", "Violencia intrafamiliar"]
harm_weighted = true
weight = 4

[[indicators]]
name = "hurtos"
label = "Hurtos"
source = "delitos"
categories = ["Hurto*"]
weight = 3

[[indicators]]
name = "hurtos_noche"
label = "Hurtos de 18:00 a 06:00"
source = "delitos"
categories = ["Hurto*"]
hours = [18, 6]
weight = 1

[[indicators]]
name = "convivencia"
label = "Comportamientos contrarios a la convivencia"
source = "convivencia"
weight = 2

[index]
normalization = "minmax"
weighting = "explicit"
tiers = "quantiles"

[robustness]
draws = 1000
top_k = 5

[incidents]                  # lo que cuentan el perfil horario, el anillo y el plan
sources = ["delitos", "convivencia"]
harm_weighted = false

[profile]
share = 0.5                  # horas pico: las menos horas con la mitad de los incidentes

[deploy]
teams = 4
shift_hours = 8
days = [0, 1, 2, 3, 4, 5, 6]
top = 15                     # los 15 lugares mejor clasificados

[output]
dir = "output/entornos"
"""


def write_demo_city(city: DemoCity, out_dir: str | os.PathLike[str]) -> Path:
    """Write the demo city's layers and tables into ``out_dir`` and return its index config.

    Incidents and coexistence records are written as Colombian portals publish them
    (``;`` separator, decimal comma); complaints carry a UPZ name instead of
    coordinates; layers are GeoJSON in EPSG:4326.
    """
    from geoprio.io import files as io

    out = Path(out_dir)
    for name in ("localidades", "upz", "costa", "playas", "garitas", "camaras", "hotspot_centers", "entornos"):
        io.write_layer(getattr(city, name), out / f"{name}.geojson")
    io.write_table(city.poblacion, out / "poblacion_upz.csv")
    io.write_table(city.delitos, out / "delitos.csv", sep=";", decimal=",")
    io.write_table(city.convivencia, out / "convivencia.csv", sep=";", decimal=",")
    io.write_table(city.quejas, out / "quejas.csv")
    io.write_json({"seed": city.seed, "planted": city.planted}, out / "generador.json")
    io.write_text(DEMO_ENTORNOS_CONFIG, out / "entornos.toml")
    return io.write_text(DEMO_CONFIG, out / "indice.toml")


# --------------------------------------------------------------------------- the demo, end to end


@dataclass
class DemoRun:
    """What :func:`run_demo` produced: the index run, the hot spots, the two plans, the
    entornos run and the files.
    """

    index: object
    hotspots: object
    cameras: object
    garitas: object
    entornos: object
    outputs: dict[str, list[Path]]


def run_demo(
    out_dir: str | os.PathLike[str] = "data/demo",
    *,
    seed: int = 20241,
    n_incidents: int = 40_000,
    lang: str = "es",
    new_cameras: int = 15,
    new_garitas: int = 4,
    command: str | None = None,
) -> DemoRun:
    """Generate the demo city and run geoprio's main jobs on it, writing every output.

    ``out_dir/`` gets the city's inputs and ``indice.toml``; ``out_dir/output/`` the index
    (and its manifest), ``output/hotspots/`` the Gi*, density and cluster outputs,
    ``output/camaras/`` and ``output/garitas/`` the two plans, ``output/entornos/`` the
    ranked places with their hours and deployment plan (each folder with its manifest).
    The maps are drawn from these files by :func:`geoprio.maps.core.demo_maps`.
    """
    from geoprio.entornos.run import load_entornos_config, run_entornos
    from geoprio.hotspots.run import HotspotOptions, find_hotspots, write_hotspots
    from geoprio.index.config import load_config
    from geoprio.index.run import run_index
    from geoprio.placement.plan import plan_cameras, plan_garitas, write_plan

    out = Path(out_dir)
    config_path = write_demo_city(make_demo_city(seed, n_incidents=n_incidents), out)
    cfg = load_config(config_path)
    if lang != cfg.index.lang:
        cfg = cfg.model_copy(update={"index": cfg.index.model_copy(update={"lang": lang})})
    index = run_index(cfg, command=command)
    crimes = index.sources["delitos"]
    outputs: dict[str, list[Path]] = {"index": [*index.outputs, index.manifest]}
    hot = find_hotspots(crimes, zones=index.zones, context={"convivencia": index.sources["convivencia"]}, options=HotspotOptions(lang=lang))
    outputs["hotspots"] = write_hotspots(
        hot, out / "output" / "hotspots", formats=("csv", "geojson"), inputs=[out / "delitos.csv"], command=command
    )
    cameras = plan_cameras(
        crimes,
        p=new_cameras,
        radius_m=100.0,
        grid_spacing_m=100.0,
        existing=out / "camaras.geojson",
        index_zones=index.table,
        time_limit_s=30.0,
    )
    outputs["cameras"], _ = write_plan(cameras, out / "output" / "camaras", formats=("csv", "geojson"), command=command)
    garitas = plan_garitas(
        coast=out / "costa.geojson",
        beaches=out / "playas.geojson",
        existing=out / "garitas.geojson",
        incidents=crimes,
        p=new_garitas,
        time_limit_s=30.0,
    )
    outputs["garitas"], _ = write_plan(garitas, out / "output" / "garitas", formats=("csv", "geojson"), command=command)
    ecfg = load_entornos_config(out / "entornos.toml")
    if lang != ecfg.index.lang:
        ecfg = ecfg.model_copy(update={"index": ecfg.index.model_copy(update={"lang": lang})})
    entornos = run_entornos(
        ecfg.model_copy(update={"output": ecfg.output.model_copy(update={"formats": ["csv", "geojson"]})}), command=command
    )
    outputs["entornos"] = [*entornos.outputs, entornos.manifest]
    return DemoRun(index, hot, cameras, garitas, entornos, outputs)
