"""Fixed parameters of the fictional city "Puerto Demo".

Its extent and centre, the localidades and the pools of UPZ and beach names, the crime
categories and coexistence behaviours with their target shares, the kinds of planted hot spot
(:class:`Role`), the weekly, monthly and hourly patterns of the records, and the dirty rows
planted on purpose. Only constants live here: :mod:`geoprio.demo.geography` and
:mod:`geoprio.demo.records` draw the city from them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np

__all__ = [
    "BACKGROUND_AFF",
    "BACKGROUND_AFFC",
    "BAD_DATES",
    "BEHAVIOURS",
    "BEHAVIOUR_DAY_GROUP",
    "BEHAVIOUR_HOURS",
    "CATEGORY_SHARES",
    "CATS",
    "CAT_DAY_GROUP",
    "CAT_HOURS",
    "CENTER_LONLAT",
    "COMPORTAMIENTOS",
    "CONV_HOT_SHARE",
    "CORE_ROLES",
    "DEFAULT_N_INCIDENTS",
    "DIRTY_AT_DEFAULT",
    "DOW_WEIGHTS",
    "EROSION_M",
    "EW_M",
    "EXTRA_ROLES",
    "HOT_SHARE",
    "LOCALIDADES",
    "MEDIDAS",
    "MEDIDA_GIVEN_BEHAVIOUR",
    "MONTH_WEIGHTS",
    "MOTIVOS",
    "MOTIVOS_P",
    "NS_M",
    "N_DAYS",
    "N_UPZ",
    "PLAYAS",
    "Peaks",
    "ROLES",
    "Role",
    "START",
    "TIPOS_QUEJA",
    "TIPOS_QUEJA_P",
    "UNMATCHED_UPZ",
    "UPZ_CENTRO",
    "UPZ_COASTAL",
    "UPZ_GENERAL",
    "UPZ_PERIPHERY",
    "UPZ_PUERTO",
]


#: (lon, lat) near which the city is centred.
CENTER_LONLAT: Final = (-75.50, 10.40)
NS_M: Final = 14_000.0  # north-south extent
EW_M: Final = 10_000.0  # west-east extent
N_UPZ: Final = 30
START: Final = np.datetime64("2023-01-01", "D")
N_DAYS: Final = 731  # 2023-01-01 .. 2024-12-31 (2024 is a leap year)
EROSION_M: Final = 2.0  # points are kept this far inside the city so rounding never moves them out
HOT_SHARE: Final = 0.60  # share of incidents coming from planted hot spots
CONV_HOT_SHARE: Final = 0.50
#: Rows of ``delitos`` in the default city (dirty rows included).
DEFAULT_N_INCIDENTS: Final = 40_000

#: Localidades: code, name, anchor (fraction of the land's bounding box, west->east,
#: south->north) and relative residential density.
LOCALIDADES: Final = (
    ("01", "Centro Histórico", (0.10, 0.58), 0.55),
    ("02", "La Bahía", (0.14, 0.20), 0.90),
    ("03", "El Bosque", (0.47, 0.42), 1.00),
    ("04", "San José", (0.60, 0.80), 1.05),
    ("05", "Los Almendros", (0.16, 0.88), 0.75),
    ("06", "Nueva Esperanza", (0.84, 0.30), 1.45),
)

UPZ_CENTRO: Final = "La Candelaria"
UPZ_PUERTO: Final = "Zona Portuaria"
UPZ_COASTAL: Final = (
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
UPZ_PERIPHERY: Final = (
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
UPZ_GENERAL: Final = (
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
PLAYAS: Final = (
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
CATS: Final = tuple(CATEGORY_SHARES)

#: Coexistence behaviours (Ley 1801 de 2016) and their target shares.
COMPORTAMIENTOS: Final[dict[str, float]] = {
    "Riñas (art. 27 num. 1)": 0.24,
    "Porte de armas blancas (art. 27 num. 6)": 0.14,
    "Consumo de sustancias en espacio público (art. 140 num. 7)": 0.31,
    "Ruido excesivo (art. 33)": 0.15,
    "Ocupación indebida del espacio público (art. 140 num. 4)": 0.16,
}
BEHAVIOURS: Final = tuple(COMPORTAMIENTOS)

MEDIDAS: Final = (
    "Multa general tipo 1",
    "Multa general tipo 2",
    "Participación en programa comunitario",
    "Amonestación",
    "Destrucción de bien",
)
#: P(medida | comportamiento), rows in the order of COMPORTAMIENTOS, columns of MEDIDAS.
MEDIDA_GIVEN_BEHAVIOUR: Final = np.array(
    [
        [0.15, 0.55, 0.15, 0.15, 0.00],
        [0.05, 0.55, 0.00, 0.05, 0.35],
        [0.15, 0.35, 0.20, 0.10, 0.20],
        [0.35, 0.10, 0.20, 0.35, 0.00],
        [0.50, 0.00, 0.15, 0.30, 0.05],
    ]
)

TIPOS_QUEJA: Final = ("Derecho de petición", "Solicitud ciudadana", "Llamada Línea 123")
TIPOS_QUEJA_P: Final = (0.25, 0.35, 0.40)
MOTIVOS: Final = (
    "Consumo de sustancias",
    "Ruido",
    "Riña",
    "Inseguridad en parque",
    "Habitante de calle",
    "Venta ambulante",
    "Presencia de pandillas",
    "Alumbrado público deficiente",
)
MOTIVOS_P: Final = np.array([0.22, 0.20, 0.12, 0.14, 0.10, 0.10, 0.06, 0.06])

BAD_DATES: Final = ("31/02/2024", "sin fecha", "30/02/2023")
UNMATCHED_UPZ: Final = "SIN DATO"

#: Dirty rows planted at the default size (scaled with ``n_incidents``).
DIRTY_AT_DEFAULT: Final = {
    "missing_coordinates": 40,
    "swapped_coordinates": 25,
    "outside_city": 20,
    "duplicate_rows": 10,
    "bad_dates": 10,
}


@dataclass(frozen=True)
class Role:
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


ROLES: Final[dict[str, Role]] = {
    "centro": Role(
        "Centro histórico ({upz})",
        (180, 260),
        0.20,
        0.18,
        0.0,
        (3.0, 4.5, 0.3, 0.8, 0.8, 3.0, 0.8, 0.2, 0.2, 0.6),
        (0.8, 0.6, 1.3, 1.0, 3.0),
    ),
    "playa_1": Role(
        "{upz}",
        (120, 220),
        0.12,
        0.16,
        0.0,
        (3.0, 1.0, 0.2, 0.5, 0.5, 3.5, 1.0, 0.1, 0.2, 0.8),
        (0.8, 0.5, 1.6, 2.0, 2.0),
    ),
    "playa_2": Role(
        "{upz}",
        (120, 220),
        0.10,
        0.14,
        0.35,
        (3.0, 1.0, 0.2, 0.5, 0.5, 3.5, 1.0, 0.1, 0.2, 0.8),
        (0.8, 0.5, 1.6, 2.0, 2.0),
    ),
    "mercado": Role(
        "Mercado de {upz}",
        (200, 300),
        0.13,
        0.10,
        -0.35,
        (2.5, 2.0, 0.3, 1.5, 0.5, 2.5, 1.2, 0.3, 0.5, 0.5),
        (1.0, 1.5, 1.0, 0.6, 2.5),
    ),
    "periferia_1": Role(
        "Periferia de {upz}",
        (300, 400),
        0.10,
        0.12,
        0.0,
        (0.8, 0.5, 1.5, 1.2, 0.3, 0.7, 2.5, 3.0, 9.0, 1.5),
        (2.2, 2.5, 1.0, 0.8, 0.3),
    ),
    "periferia_2": Role(
        "Periferia de {upz}",
        (300, 400),
        0.09,
        0.10,
        0.35,
        (0.8, 0.5, 1.5, 1.2, 0.3, 0.7, 2.5, 3.0, 9.0, 1.5),
        (2.2, 2.5, 1.0, 0.8, 0.3),
    ),
    "corredor": Role(
        "Corredor comercial de {upz}",
        (250, 350),
        0.10,
        0.05,
        0.0,
        (1.5, 3.0, 1.0, 2.0, 3.0, 1.5, 0.7, 0.5, 0.3, 0.4),
        (1.0, 0.8, 0.8, 0.8, 2.0),
    ),
    "puerto": Role(
        "Zona portuaria",
        (200, 300),
        0.08,
        0.0,
        0.0,
        (1.2, 2.0, 0.3, 1.5, 3.0, 1.0, 1.0, 0.2, 1.0, 0.3),
        (1.0, 1.0, 1.0, 1.0, 1.0),
    ),
    "zona_rosa": Role(
        "Zona rosa de {upz}",
        (150, 250),
        0.08,
        0.15,
        0.0,
        (2.0, 0.6, 0.2, 0.8, 0.6, 2.5, 3.0, 0.3, 1.0, 1.5),
        (2.5, 1.2, 1.5, 2.5, 0.5),
    ),
    "residencial": Role(
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
CORE_ROLES: Final = (
    "centro",
    "playa_1",
    "playa_2",
    "mercado",
    "periferia_1",
    "periferia_2",
    "corredor",
    "puerto",
)
EXTRA_ROLES: Final = ("zona_rosa", "residencial")
BACKGROUND_AFF: Final = (1.0, 0.9, 1.3, 1.0, 0.9, 0.9, 1.0, 1.6, 0.5, 1.0)
BACKGROUND_AFFC: Final = (1.0, 0.8, 1.1, 1.2, 0.8)

# Weekly pattern, Monday..Sunday, per day group.
DOW_WEIGHTS: Final = {
    "theft": (1.00, 1.00, 1.00, 1.02, 1.12, 1.08, 0.78),
    "violence": (0.75, 0.70, 0.75, 0.85, 1.25, 1.55, 1.45),
    "vif": (0.85, 0.80, 0.80, 0.85, 1.05, 1.35, 1.60),
    "flat": (1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0),
}
CAT_DAY_GROUP: Final = (
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
BEHAVIOUR_DAY_GROUP: Final = ("violence", "violence", "violence", "violence", "flat")
#: Mild seasonality (tourist high seasons in December-January and June-July), by month.
MONTH_WEIGHTS: Final = np.array([1.12, 1.00, 0.95, 1.00, 0.97, 1.05, 1.06, 1.00, 0.95, 0.97, 1.00, 1.15])

# Hour profiles: (base, ((centre hour, height, spread h), ...)) for weekdays and for
# weekends (Friday-Sunday).
Peaks = tuple[float, tuple[tuple[float, float, float], ...]]
CAT_HOURS: Final[tuple[tuple[Peaks, Peaks], ...]] = (
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
BEHAVIOUR_HOURS: Final[tuple[tuple[Peaks, Peaks], ...]] = (
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
