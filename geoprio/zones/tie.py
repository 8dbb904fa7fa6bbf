"""Tie records to zones: points by location, keyed records by place name or code.

:func:`attach` adds a ``zone_id`` column to validated :class:`~geoprio.records.load.Records` and
records in their report what could not be placed: points outside every zone
(``outside_study_area``) and keys that match no zone (``unmatched_key``), with the most
frequent unmatched keys listed so an analyst can fix them with ``aliases``.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import replace
from typing import Literal

import numpy as np
import pandas as pd

from geoprio.errors import InputError
from geoprio.records.load import Records
from geoprio.records.text import fold_series
from geoprio.zones.assign import PointLocator
from geoprio.zones.layers import Zones, as_zones

__all__ = ["attach", "match_keys", "normalize_keys"]


def normalize_keys(values: pd.Series) -> pd.Series:
    """Fold names (accents, case, punctuation); codes made only of digits lose leading zeros."""
    folded = fold_series(values)
    digits = folded.str.fullmatch(r"\d+").fillna(False)
    return folded.where(~digits, folded.str.lstrip("0").replace("", "0"))


def match_keys(
    keys: pd.Series,
    zones: Zones,
    *,
    on: Literal["name", "id"] = "name",
    pattern: str | None = None,
    aliases: dict[str, str] | None = None,
    fuzzy: float | None = None,
) -> pd.Series:
    r"""Return the zone id matching each key (``<NA>`` where none does).

    Parameters
    ----------
    keys
        Place names or codes as written in the records.
    on
        Match against the zones' ``name`` or their ``zone_id``.
    pattern
        Regular expression with one group that extracts the part to match, e.g.
        ``r"E-(\\d+)\\s*$"`` takes the police station number from ``"LAS DELICIAS E-8"``
        and ``r"^(.*?)\\s*E-\\d+$"`` takes the barrio name.
    aliases
        Extra spellings: key as written (before ``pattern``) → zone name (or id, with
        ``on="id"``); they take precedence over the normal match.
    fuzzy
        If given (0–1), keys still unmatched are compared with :func:`difflib.get_close_matches`
        at this cutoff; off by default because a wrong match is worse than none.
    """
    zones = as_zones(zones)
    if not isinstance(keys, pd.Series):
        if isinstance(keys, str) or not hasattr(keys, "__len__"):
            raise InputError(f"keys must be a sequence of place names or codes, got {type(keys).__name__}")
        keys = pd.Series(list(keys), dtype="string")
    raw = normalize_keys(keys.astype("string"))
    if pattern is not None:
        try:
            rx = re.compile(pattern)
        except re.error as exc:
            raise InputError(f"invalid key pattern {pattern!r}: {exc}") from exc
        if rx.groups < 1:
            raise InputError(f"key pattern {pattern!r} needs one capturing group, e.g. 'E-(\\d+)'")
        keys = keys.astype("string").str.extract(rx, expand=False)
        if isinstance(keys, pd.DataFrame):
            keys = keys.iloc[:, 0]
    target = zones.frame["name" if on == "name" else "zone_id"]
    folded_target = normalize_keys(target)
    lookup: dict[str, str] = {}
    for k, zid in zip(folded_target, zones.frame["zone_id"], strict=True):
        if pd.isna(k):
            continue
        if k in lookup and lookup[k] != zid:
            lookup[k] = ""  # ambiguous: two zones share the folded name
        else:
            lookup.setdefault(k, zid)
    ambiguous = {k for k, v in lookup.items() if v == ""}
    folded = normalize_keys(keys)
    result = folded.map(lambda k: lookup.get(k) if isinstance(k, str) else None)
    result = result.where(result != "", None)
    if aliases:
        # aliases name the key as written (before any pattern), e.g. "AEROPUERTO EL DORADO"
        by_target = dict(zip(folded_target, zones.frame["zone_id"], strict=True))
        alias_ids = {}
        for written, zone in aliases.items():
            zid = by_target.get(normalize_keys(pd.Series([str(zone)])).iloc[0])
            if zid is None:
                raise InputError(f"alias {written!r} → {zone!r}: no zone has that {on}")
            alias_ids[normalize_keys(pd.Series([written])).iloc[0]] = zid
        result = raw.map(alias_ids).fillna(result) if len(result) else result
    if fuzzy is not None:
        candidates = [k for k in lookup if k not in ambiguous]
        todo = folded[result.isna() & folded.notna()].unique()
        extra = {}
        for k in todo:
            close = difflib.get_close_matches(str(k), candidates, n=1, cutoff=fuzzy)
            if close:
                extra[k] = lookup[close[0]]
        result = result.fillna(folded.map(extra))
    return result.astype("string")


def attach(
    records: Records,
    zones: Zones,
    *,
    on: Literal["name", "id"] = "name",
    pattern: str | None = None,
    aliases: dict[str, str] | None = None,
    fuzzy: float | None = None,
    locator: PointLocator | None = None,
) -> Records:
    """Return ``records`` with a ``zone_id`` column; unplaced records are dropped and reported.

    Points are located in the zone polygons (a vectorized grid + exact test, see
    :class:`geoprio.zones.assign.PointLocator`); keyed records are matched by
    :func:`match_keys` with ``on``, ``pattern``, ``aliases`` and ``fuzzy``. A fitted
    ``locator`` can be passed to reuse its index across sources.
    """
    if not isinstance(records, Records):
        raise InputError(f"records must be geoprio Records (from load_points or load_keyed), got {type(records).__name__}")
    zones = as_zones(zones)
    data = records.data
    report = replace(
        records.report, dropped=dict(records.report.dropped), examples=dict(records.report.examples), settings=dict(records.report.settings)
    )
    if records.layout == "points":
        if locator is None:
            locator = PointLocator().fit(zones.frame.geometry.values)
        codes = locator.locate(data["x"].to_numpy(), data["y"].to_numpy())
        ok = codes >= 0
        zone_id = np.where(ok, zones.frame["zone_id"].to_numpy()[np.maximum(codes, 0)], None)
        out = ~ok
        report.drop(
            "outside_study_area",
            data["row"].to_numpy()[out],
            f"{report.columns.get('x')}/{report.columns.get('y')}",
            [f"{a:.6f}, {b:.6f}" for a, b in zip(data["x"].to_numpy()[out][:5], data["y"].to_numpy()[out][:5], strict=True)],
        )
    else:
        zone_id = match_keys(data["key"], zones, on=on, pattern=pattern, aliases=aliases, fuzzy=fuzzy)
        ok = zone_id.notna().to_numpy()
        unmatched = data.loc[~ok]
        report.drop("unmatched_key", unmatched["row"].to_numpy(), report.columns.get("key"), unmatched["key"].to_numpy())
        top = unmatched.groupby("key")["weight"].sum().sort_values(ascending=False).head(20)
        report.settings["unmatched_keys"] = {str(k): float(v) for k, v in top.items()}
        zone_id = zone_id.to_numpy(dtype=object)
    placed = data.assign(zone_id=pd.array(zone_id, dtype="string")).loc[ok].reset_index(drop=True)
    if placed.empty:
        raise InputError(
            f"{report.source}: none of {len(data):,} records falls in or matches a zone of {zones.report.source} "
            f"({zones.level}); check the zone layer, the key column and the pattern"
        )
    return replace(records, data=placed, report=report)
