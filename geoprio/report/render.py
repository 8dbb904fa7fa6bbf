"""The bulletin as one self-contained HTML file: the words, the number formats, the template.

:func:`render_bulletin` formats what :mod:`geoprio.report.content` gathered (Spanish numbers in
Spanish, English in English; :mod:`geoprio.report.text`) and fills the Jinja2 template
``resources/report/boletin.html.j2`` with its CSS (``boletin.css``) inlined and the map as a
``data:`` PNG, so the file needs nothing beside it. The print CSS starts every section and
every zone sheet on a new page.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import jinja2
import numpy as np
import pandas as pd

from geoprio.index import TIER_CODES
from geoprio.labels import label
from geoprio.report.content import IndicatorInfo, ZoneSheet, tier_level
from geoprio.report.text import MISSING, fmt_change, fmt_int, fmt_number, fmt_pct, is_number, report_labels

__all__ = ["Cover", "level_name", "render_bulletin"]

#: How many zones the summary names, and each list of the changes section holds.
SUMMARY_TOP = 5
#: How many hot spots and places a zone sheet lists (the first by rank), so it fits one page.
SHEET_ROWS = 5


@dataclass(frozen=True)
class Cover:
    """What the cover says: title, subtitle, periods, release, dates."""

    title: str
    subtitle: str
    period: str | None
    previous_period: str | None
    previous_folder: str | None
    public_min_count: int | None
    created_at: str
    version: str


@cache
def _template() -> jinja2.Template:
    folder = resources.files("geoprio") / "resources" / "report"
    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    return env.from_string((folder / "boletin.html.j2").read_text(encoding="utf-8"))


@cache
def _css() -> str:
    return (resources.files("geoprio") / "resources" / "report" / "boletin.css").read_text(encoding="utf-8")


def _text(x: Any) -> str:
    if x is None or (isinstance(x, float) and pd.isna(x)) or x is pd.NA:
        return MISSING
    s = str(x).strip()
    return s or MISSING


def _unit(i: IndicatorInfo | Mapping[str, Any], lang: str) -> str:
    t = report_labels(lang)
    get = i.get if isinstance(i, Mapping) else lambda k, d=None: getattr(i, k, d)
    measure = str(get("measure"))
    if measure == "rate":
        den = t["den_ambient"] if get("denominator") == "ambient" else t["den_population"]
        return t["measure_rate"].format(per=fmt_int(get("per"), lang), denominator=den)
    return t.get(f"measure_{measure}", measure)


def _digits(value: Any) -> int:
    return 0 if is_number(value) and abs(float(value)) >= 1000 else (1 if is_number(value) and abs(float(value)) >= 10 else 2)


def level_name(level: str) -> str:
    """A zone level as the text names it (``upz`` → ``UPZ``)."""
    return "UPZ" if level.lower() == "upz" else level.replace("_", " ")


def _tier_css(tier: Any, n_tiers: int) -> str:
    level = tier_level(tier, n_tiers)
    if not is_number(level):
        return "x"
    top = len(TIER_CODES.get(n_tiers, ())) - 1
    # the colour classes count down from the top tier (3 = highest shown as tier-3)
    return str(int(3 - (top - level))) if top >= 0 else "x"


def _method(facts: Mapping[str, Any], lang: str) -> list[str]:
    t = report_labels(lang)
    lines = [
        t.get(f"norm_{facts['normalization']}", ""),
        t.get(f"agg_{facts['aggregation']}", ""),
        t.get(f"weighting_{facts['weighting']}", ""),
    ]
    n = int(facts["n_tiers"])
    names = ", ".join(label("index_tiers", c, lang) for c in reversed(TIER_CODES.get(n, ())))
    lines.append(t["tiers_text"].format(n=n, method=t.get(f"tiers_{facts['tiers']}", facts["tiers"]), names=names))
    if is_number(facts.get("min_population")):
        lines.append(
            t["denominators_text"].format(
                min=fmt_int(facts["min_population"], lang), action=t.get(f"small_{facts['small_zones']}", facts["small_zones"])
            )
        )
    if facts["draws"] > 0:
        spread = facts.get("weight_spread")
        lines.append(
            t["robustness_text_denominators" if facts["denominators"] else "robustness_text"].format(
                draws=fmt_int(facts["draws"], lang),
                spread=fmt_pct(spread, lang, 0) if is_number(spread) else MISSING,
                norms=", ".join(facts["normalizations"]) or MISSING,
                dens=", ".join(facts["denominators"]) or MISSING,
                k=facts.get("top_k") or MISSING,
            )
        )
    else:
        lines.append(t["robustness_none"])
    return [line for line in lines if line]


def _flagged(value: Any) -> bool:
    """Whether a ``small_denominator`` cell is true (a bool, or its text; NaN and blanks are not)."""
    if isinstance(value, str):
        return value.strip().lower() == "true"
    return isinstance(value, (bool, np.bool_)) and bool(value)


def _change_class(change: Any) -> str:
    """``up`` / ``down`` (CSS class) for a positive / negative change, ``""`` otherwise."""
    if not is_number(change):
        return ""
    return "up" if float(change) > 0 else "down" if float(change) < 0 else ""


def _row(r: Mapping[str, Any], lang: str, n_tiers: int, k: Any, flag_min: Any) -> dict[str, Any]:
    change = r.get("rank_change")
    new = "rank_previous" in r and not is_number(r.get("rank_previous")) and is_number(r.get("rank"))
    p_top = r.get(f"p_top_{k}")
    lo, hi = r.get("rank_p05"), r.get("rank_p95")
    return {
        "zone_id": str(r["zone_id"]),
        "rank": fmt_int(r.get("rank"), lang),
        "name": _text(r.get("name")),
        "flag": " †" if _flagged(r.get("small_denominator")) and is_number(flag_min) else "",
        "parent": _text(r.get("parent_name")),
        "population": fmt_int(r.get("population"), lang),
        "index": fmt_number(r.get("index"), lang, 1),
        "tier": _text(r.get("tier")),
        "tier_level": _tier_css(r.get("tier"), n_tiers),
        "interval": f"{fmt_int(lo, lang)}–{fmt_int(hi, lang)}" if is_number(lo) and is_number(hi) else MISSING,
        "p_top": fmt_pct(p_top, lang, 0),
        "rank_previous": report_labels(lang)["new_zone"] if new else fmt_int(r.get("rank_previous"), lang),
        "rank_change": fmt_change(change, lang),
        "change_class": _change_class(change),
        "tier_previous": _text(r.get("tier_previous")),
    }


def _changes(ranking: pd.DataFrame, lang: str) -> list[dict[str, Any]]:
    t = report_labels(lang)
    moved = ranking[pd.to_numeric(ranking.get("rank_change"), errors="coerce").notna()].copy()
    moved["rank_change"] = moved["rank_change"].astype(float)

    def line(r: pd.Series) -> str:
        return (
            f"{_text(r['name'])}: {fmt_int(r['rank_previous'], lang)} → {fmt_int(r['rank'], lang)} ({fmt_change(r['rank_change'], lang)})"
        )

    def tier_line(r: pd.Series) -> str:
        return f"{_text(r['name'])}: {_text(r['tier_previous'])} → {_text(r['tier'])}"

    up = moved[moved["rank_change"] > 0].sort_values(["rank_change", "rank"], ascending=[False, True]).head(SUMMARY_TOP)
    down = moved[moved["rank_change"] < 0].sort_values(["rank_change", "rank"], ascending=[True, True]).head(SUMMARY_TOP)
    tiers = ranking[pd.to_numeric(ranking.get("tier_change"), errors="coerce").notna()] if "tier_change" in ranking else ranking.iloc[:0]
    return [
        {"title": t["climbers"], "rows": [line(r) for _, r in up.iterrows()]},
        {"title": t["fallers"], "rows": [line(r) for _, r in down.iterrows()]},
        {"title": t["tier_ups"], "rows": [tier_line(r) for _, r in tiers[tiers["tier_change"] > 0].iterrows()]},
        {"title": t["tier_downs"], "rows": [tier_line(r) for _, r in tiers[tiers["tier_change"] < 0].iterrows()]},
    ]


def _sheet(s: ZoneSheet, lang: str, base: dict[str, Any], *, hotspots_given: bool, places_given: bool, flag_min: Any) -> dict[str, Any]:
    t = report_labels(lang)
    inds = []
    for _, i in s.indicators.iterrows():
        digits = _digits(i["value"])
        inds.append(
            {
                "label": i["label"],
                "unit": _unit(i.to_dict(), lang),
                "value": fmt_number(i["value"], lang, digits),
                "count": fmt_int(i["count"], lang),
                "contribution": fmt_number(i["contribution"], lang, 1),
                "share": fmt_pct(i["share"], lang, 0),
                "previous": fmt_number(i["previous"], lang, digits),
                "change": fmt_change(i["change"], lang, digits),
            }
        )
    hotspots = [
        {
            "id": _text(h.get("cluster_id")),
            "tier": f"{_text(h.get('complexity_tier'))} (#{fmt_int(h.get('complexity_rank'), lang)})",
            "incidents": fmt_int(h.get("incidents"), lang),
            "hours": _text(h.get("peak_hours")),
            "categories": _text(h.get("top_categories")),
        }
        for _, h in s.hotspots.head(SHEET_ROWS).iterrows()
    ]
    places = [
        {
            "name": _text(p.get("name")),
            "type": _text(p.get("type")),
            "rank": fmt_int(p.get("rank"), lang),
            "tier": _text(p.get("tier")),
            "hours": _text(p.get("peak_hours")),
        }
        for _, p in s.places.head(SHEET_ROWS).iterrows()
    ]
    peak = ", ".join(f"{h} h ({fmt_pct(share, lang, 0)})" for h, share in s.peak_hours)
    small = t["small_zone"].format(min=fmt_int(flag_min, lang)) if base["flag"] else ""
    return {
        **base,
        "drivers": _text(s.row.get("drivers")),
        "indicators": inds,
        "hotspots": hotspots,
        "places": places,
        "peak_hours": peak,
        "small": small,
        "hotspots_more": t["more"].format(n=len(s.hotspots) - SHEET_ROWS) if len(s.hotspots) > SHEET_ROWS else "",
        "places_more": t["more"].format(n=len(s.places) - SHEET_ROWS) if len(s.places) > SHEET_ROWS else "",
        "hotspots_empty": t["no_hotspots"] if hotspots_given else t["not_given_hotspots"],
        "places_empty": t["no_places"] if places_given else t["not_given_entornos"],
    }


def render_bulletin(
    *,
    cover: Cover,
    facts: Mapping[str, Any],
    indicators: Sequence[IndicatorInfo],
    ranking: pd.DataFrame,
    sheets: Sequence[ZoneSheet],
    lang: str,
    map_png: bytes | None,
    map_missing: str | None = None,
    hotspots_given: bool = False,
    places_given: bool = False,
    parent_level: str | None = None,
) -> str:
    """The bulletin's HTML (one self-contained file)."""
    t = report_labels(lang)
    n_tiers = int(facts["n_tiers"])
    k = facts.get("top_k")
    flag_min = facts.get("min_population")
    has_previous = "rank_previous" in ranking
    rows = [_row(r, lang, n_tiers, k, flag_min) for r in ranking.to_dict("records")]
    by_zone = {r["zone_id"]: r for r in rows}
    ranked = ranking[pd.to_numeric(ranking["rank"], errors="coerce").notna()]
    top = [_text(n) for n in ranked["name"].head(SUMMARY_TOP)] if "name" in ranked else []
    level = level_name(str(facts["level"]))
    release = (
        t["public_cover"].format(max=fmt_int(cover.public_min_count - 1, lang))
        if cover.public_min_count is not None
        else t["internal_cover"]
    )
    context = {
        "lang": lang,
        "version": cover.version,
        "css": _css(),
        "t": t,
        "title": cover.title,
        "subtitle": cover.subtitle,
        "period": cover.period,
        "previous_period": cover.previous_period,
        "generated": t["generated"].format(date=cover.created_at[:10] or MISSING, version=cover.version or MISSING),
        "public": cover.public_min_count is not None,
        "release": release,
        "summary": t["summary_text"].format(
            ranked=fmt_int(facts["ranked"], lang), zones=fmt_int(facts["zones"], lang), level=level, top=len(top), names="; ".join(top)
        ),
        "small_message": facts.get("small_message") or "",
        "indicators": [
            {
                "label": i.label + (f" ({i.detail})" if i.detail else ""),
                "measure": _unit(i, lang)
                + (f"; {t[f'smoothing_{i.smoothing}']}" if i.measure == "rate" and f"smoothing_{i.smoothing}" in t else ""),
                "source": i.source,
                "weight": fmt_pct(i.weight, lang, 1),
                "direction": t.get(i.direction, i.direction),
            }
            for i in indicators
        ],
        "method": _method(facts, lang),
        "inputs": facts.get("inputs") or [],
        "parent_label": (parent_level or "").replace("_", " ").capitalize() if "parent_name" in ranking else "",
        "robust": "rank_p05" in ranking,
        "p_top_label": t["p_top"].format(k=k),
        "has_previous": has_previous,
        "ranking": rows,
        "small_note": t["small_zone"].format(min=fmt_int(flag_min, lang)) if any(r["flag"] for r in rows) else "",
        "map_uri": f"data:image/png;base64,{base64.b64encode(map_png).decode('ascii')}" if map_png else None,
        "map_alt": t["title_zones"].format(level=level),
        "map_missing": map_missing or t["map_missing"],
        "changes_text": t["changes_text"].format(folder=cover.previous_folder or MISSING),
        "change_blocks": _changes(ranking, lang) if has_previous else [],
        "sheets": [
            _sheet(s, lang, by_zone[s.zone_id], hotspots_given=hotspots_given, places_given=places_given, flag_min=flag_min) for s in sheets
        ],
    }
    return _template().render(**context)
