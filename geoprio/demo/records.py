"""The records of Puerto Demo: crime incidents, citizen complaints and coexistence records.

Incidents and coexistence records are drawn around the planted hot spots and over a
population-weighted background, with categories, days, hours and trends from
:mod:`geoprio.demo.parameters`; a few dirty rows are planted on purpose (empty, swapped and
far-away coordinates, duplicated rows, unparseable dates) and counted so tests can check a
loader's report. Complaints carry a UPZ name as clerks type it (some misspelt) instead of
coordinates. :func:`synthetic_incidents` draws a clearly synthetic point set for any zone layer
from per-zone totals.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer

from geoprio.demo.geography import Geography, sample_gaussian, sample_uniform
from geoprio.demo.parameters import (
    BACKGROUND_AFF,
    BACKGROUND_AFFC,
    BAD_DATES,
    BEHAVIOUR_DAY_GROUP,
    BEHAVIOUR_HOURS,
    BEHAVIOURS,
    CAT_DAY_GROUP,
    CAT_HOURS,
    CATEGORY_SHARES,
    CATS,
    COMPORTAMIENTOS,
    CONV_HOT_SHARE,
    DEFAULT_N_INCIDENTS,
    DIRTY_AT_DEFAULT,
    DOW_WEIGHTS,
    HOT_SHARE,
    MEDIDA_GIVEN_BEHAVIOUR,
    MEDIDAS,
    MONTH_WEIGHTS,
    MOTIVOS,
    MOTIVOS_P,
    N_DAYS,
    ROLES,
    START,
    TIPOS_QUEJA,
    TIPOS_QUEJA_P,
    UNMATCHED_UPZ,
    Peaks,
)
from geoprio.errors import ConfigError
from geoprio.records.text import fold
from geoprio.settings import DEFAULT_METRIC_CRS, DEFAULT_SEED, OUTPUT_CRS
from geoprio.zones.layers import check_metric_crs

__all__ = [
    "Incidents",
    "make_convivencia",
    "make_incidents",
    "make_quejas",
    "synthetic_incidents",
    "text_columns_as_str",
]


def _hour_profile(peaks: Peaks) -> np.ndarray:
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
    all_days = np.arange(N_DAYS)
    months = (START + all_days).astype("datetime64[M]").astype(int) % 12
    base = MONTH_WEIGHTS[months]
    t = all_days / (N_DAYS - 1)
    dow = _day_of_week(all_days)
    out = np.empty(len(group), dtype=np.int64)
    combos = np.unique(np.column_stack([group, np.round(trend * 1000).astype(int)]), axis=0)
    for g, tr in combos:
        sel = np.flatnonzero((group == g) & (np.round(trend * 1000).astype(int) == tr))
        w = base * np.array(DOW_WEIGHTS[groups[g]])[dow] * (1.0 + (tr / 1000.0) * (2 * t - 1))
        cdf = np.cumsum(w) / w.sum()
        out[sel] = np.minimum(np.searchsorted(cdf, rng.random(sel.size), side="right"), N_DAYS - 1)
    return out


def _sample_minutes(
    rng: np.random.Generator,
    kind: np.ndarray,
    days: np.ndarray,
    profiles: Sequence[tuple[Peaks, Peaks]],
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
    return np.datetime_as_string(START + days.astype("timedelta64[D]"), unit="D")


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
    geo: Geography,
    background_weights: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Metric x, y: Gaussian around hot spot ``source`` or, for the last source, background."""
    hs = geo.hotspots
    n_hot = len(hs.roles)
    x = np.empty(len(source))
    y = np.empty(len(source))
    hot = np.flatnonzero(source < n_hot)
    x[hot], y[hot] = sample_gaussian(hs.x, hs.y, hs.sigma, source[hot], geo.land_inner, rng)
    bg = np.flatnonzero(source == n_hot)
    upz_idx = rng.choice(len(geo.upz_geoms), size=bg.size, p=background_weights)
    x[bg], y[bg] = sample_uniform(geo.upz_inner, upz_idx, rng)
    return x, y


def text_columns_as_str(frame: pd.DataFrame) -> pd.DataFrame:
    """Give text columns the ``str`` dtype even when the frame is empty."""
    text = [c for c in frame.columns if frame[c].dtype == object]
    return frame.astype(dict.fromkeys(text, "str")) if text else frame


def _scaled_dirty_counts(n: int) -> dict[str, int]:
    if n < 200:
        return dict.fromkeys(DIRTY_AT_DEFAULT, 0)
    return {k: max(1, round(v * n / DEFAULT_N_INCIDENTS)) for k, v in DIRTY_AT_DEFAULT.items()}


@dataclass(frozen=True, eq=False)
class Incidents:
    """The crime incidents of the demo city and what was planted in them.

    Attributes
    ----------
    frame : pandas.DataFrame
        ``id``, ``fecha``, ``hora``, ``delito``, ``latitud``, ``longitud``, ``cantidad``,
        sorted by date and time, dirty rows included.
    planted : dict of str to int
        Counts of planted dirty rows by kind.
    planted_rows : dict of str to tuple of int
        Row positions of the planted dirty rows, same keys as ``planted``.
    upz_counts : numpy.ndarray
        Clean incidents per UPZ (in the order of :attr:`Geography.upz_codes`).
    """

    frame: pd.DataFrame
    planted: dict[str, int]
    planted_rows: dict[str, tuple[int, ...]]
    upz_counts: np.ndarray


def make_incidents(rng: np.random.Generator, n: int, geo: Geography, to_wgs: Transformer) -> Incidents:
    """``n`` crime incidents (dirty rows included): hot spots and background, categories by
    affinity, days with weekly pattern, seasonality and trend, hours by category.
    """
    hs = geo.hotspots
    affinity = np.array([ROLES[r].aff for r in hs.roles] + [BACKGROUND_AFF], dtype=float)
    rows = np.append(HOT_SHARE * hs.weight / hs.weight.sum(), 1.0 - HOT_SHARE)
    cols = np.array(list(CATEGORY_SHARES.values()))
    joint = _sinkhorn(affinity, rows, cols / cols.sum())
    pair = rng.choice(joint.size, size=n, p=joint.ravel())
    source, cat = pair // len(CATS), pair % len(CATS)

    people = (geo.residents + geo.floating).astype(float)
    x, y = _locations(rng, source, geo, people / people.sum())

    groups = ("theft", "violence", "vif")
    cat_group = np.array([groups.index(g) for g in CAT_DAY_GROUP])[cat]
    trend = np.append(hs.trend, 0.0)[source]
    days = _sample_days(rng, cat_group, trend, groups)
    minutes = _sample_minutes(rng, cat, days, CAT_HOURS)
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
        "delito": np.array(CATS, dtype=object)[cat[order]],
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
    fecha[rows_bad_date] = np.array(BAD_DATES, dtype=object)[rng.integers(0, len(BAD_DATES), rows_bad_date.size)]
    for col in frame_cols.values():
        col[rows_dup] = col[rows_dup_src]

    frame = text_columns_as_str(pd.DataFrame(frame_cols))
    planted_rows = {
        "missing_coordinates": tuple(int(i) for i in rows_missing),
        "swapped_coordinates": tuple(int(i) for i in rows_swapped),
        "outside_city": tuple(int(i) for i in rows_outside),
        "duplicate_rows": tuple(int(i) for i in rows_dup),
        "bad_dates": tuple(int(i) for i in rows_bad_date),
    }
    return Incidents(frame=frame, planted=counts, planted_rows=planted_rows, upz_counts=upz_counts)


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
    return UNMATCHED_UPZ  # pragma: no cover


def make_quejas(rng: np.random.Generator, n: int, geo: Geography, upz_counts: np.ndarray) -> tuple[pd.DataFrame, int, tuple[int, ...]]:
    """``n`` citizen complaints with the UPZ name as typed, more where incidents are.

    Returns the table, the number of rows whose UPZ matches no name, and their positions.
    """
    n_upz = len(geo.upz_names)
    w = (upz_counts + 5.0) ** 0.9 * rng.lognormal(0.0, 0.35, n_upz)
    upz = rng.choice(n_upz, size=n, p=w / w.sum())

    # motives: base mix, boosted by the UPZ's character, with per-UPZ noise
    probs = np.tile(MOTIVOS_P, (n_upz, 1))
    m = {name: i for i, name in enumerate(MOTIVOS)}
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
    motivo = np.minimum((cdf[upz] < rng.random(n)[:, None]).sum(axis=1), len(MOTIVOS) - 1)

    tipo = rng.choice(len(TIPOS_QUEJA), size=n, p=TIPOS_QUEJA_P)
    days = rng.integers(0, N_DAYS, n)
    working = np.flatnonzero(_day_of_week(np.arange(N_DAYS)) < 5)
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
                UNMATCHED_UPZ,
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
    frame = text_columns_as_str(
        pd.DataFrame(
            {
                "radicado": radicado,
                "fecha": _date_strings(days).astype(object),
                "tipo": np.array(TIPOS_QUEJA, dtype=object)[tipo],
                "motivo": np.array(MOTIVOS, dtype=object)[motivo],
                "upz": written,
            }
        )
    )
    unmatched = np.flatnonzero(kind >= 6)
    return frame, int(unmatched.size), tuple(int(i) for i in unmatched)


def make_convivencia(rng: np.random.Generator, n: int, geo: Geography, to_wgs: Transformer) -> pd.DataFrame:
    """``n`` coexistence-violation records (Ley 1801 de 2016) with the measure taken."""
    hs = geo.hotspots
    affinity = np.array([ROLES[r].affc for r in hs.roles] + [BACKGROUND_AFFC], dtype=float)
    rows = np.append(CONV_HOT_SHARE * hs.weight_conv, 1.0 - CONV_HOT_SHARE)
    active = rows > 0
    cols = np.array(list(COMPORTAMIENTOS.values()))
    joint = np.zeros_like(affinity)
    joint[active] = _sinkhorn(affinity[active], rows[active] / rows[active].sum(), cols / cols.sum())
    pair = rng.choice(joint.size, size=n, p=joint.ravel() / joint.sum())
    source, beh = pair // len(BEHAVIOURS), pair % len(BEHAVIOURS)

    people = 0.6 * geo.residents + 0.4 * geo.floating
    x, y = _locations(rng, source, geo, people / people.sum())

    groups = ("violence", "flat")
    beh_group = np.array([groups.index(g) for g in BEHAVIOUR_DAY_GROUP])[beh]
    days = _sample_days(rng, beh_group, np.zeros(n), groups)
    minutes = _sample_minutes(rng, beh, days, BEHAVIOUR_HOURS)
    med_cdf = np.cumsum(MEDIDA_GIVEN_BEHAVIOUR, axis=1)
    medida = np.minimum((med_cdf[beh] < rng.random(n)[:, None]).sum(axis=1), len(MEDIDAS) - 1)

    order = np.lexsort((minutes, days))
    lon, lat = to_wgs.transform(x[order], y[order])
    frame = pd.DataFrame(
        {
            "id": _ids("C", n).astype(object),
            "fecha": _date_strings(days[order]).astype(object),
            "hora": _HHMM[minutes[order]].astype(object),
            "comportamiento": np.array(BEHAVIOURS, dtype=object)[beh[order]],
            "medida": np.array(MEDIDAS, dtype=object)[medida[order]],
            "latitud": np.round(np.asarray(lat, dtype=float), 6),
            "longitud": np.round(np.asarray(lon, dtype=float), 6),
        }
    )
    return text_columns_as_str(frame)


def synthetic_incidents(
    zones: gpd.GeoDataFrame,
    counts: Sequence[float] | np.ndarray,
    *,
    seed: int = DEFAULT_SEED,
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
    x, y = sample_uniform(geoms, idx, rng)
    days = np.arange(np.datetime64(f"{year}-01-01"), np.datetime64(f"{year + 1}-01-01"))
    day = days[rng.integers(0, len(days), len(idx))]
    weekend = ((day.astype("datetime64[D]").astype(np.int64) + 3) % 7) >= 5  # 1970-01-01 was a Thursday
    weekday_p, weekend_p = (_hour_profile(p) for p in CAT_HOURS[0])
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
