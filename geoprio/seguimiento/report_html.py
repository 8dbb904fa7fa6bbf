"""A small self-contained HTML report of a plan's indicators (``seguimiento.html``).

:func:`render_report` turns the document that ``geoprio indicators`` writes as
``seguimiento.json`` (and the API serves) into one HTML page: the plan's and objectives'
progress, a table of indicators, and per indicator one chart drawn as inline SVG (no
scripts, no network, no fonts to fetch): the actual values against the programmed path
(the baseline, then the yearly targets) for city indicators, each zone's progress as bars
for zone-level indicators, and where the city target is won or lost (the per-zone
breakdown). Spanish by default, English when the document's ``lang`` is ``"en"``.
"""

from __future__ import annotations

import html
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from geoprio.labels import labels
from geoprio.numbers import fmt_spec
from geoprio.seguimiento.formatting import format_number, format_percent

__all__ = ["bar_chart", "line_chart", "nice_ticks", "render_report"]

#: Label topic of the report's words (``geoprio/resources/labels/seguimiento_report.toml``).
TOPIC = "seguimiento_report"


def _text(lang: str) -> Mapping[str, str]:
    """The report's words in ``lang`` (Spanish unless ``lang`` is ``"en"``)."""
    return labels(TOPIC, "en" if lang == "en" else "es")


_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:2rem auto;max-width:980px;color:#1f2937;padding:0 1rem}
h1{font-size:1.6rem;margin-bottom:.2rem}h2{font-size:1.25rem;margin-top:2.2rem;border-bottom:1px solid #e5e7eb;padding-bottom:.3rem}
h3{font-size:1rem;margin-top:1.2rem}.meta{color:#6b7280;font-size:.9rem}
table{border-collapse:collapse;width:100%;font-size:.88rem;margin:.6rem 0}
th,td{padding:.3rem .5rem;border-bottom:1px solid #e5e7eb;text-align:left}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}.big{font-size:2.4rem;font-weight:600}
.bar{display:inline-block;height:.7rem;background:#2563eb;vertical-align:middle}.ok{color:#047857}.bad{color:#b91c1c}
ul.notes{font-size:.85rem;color:#4b5563}svg{max-width:100%;height:auto}footer{margin-top:3rem;color:#6b7280;font-size:.8rem}
"""

_ACTUAL = "#b91c1c"
_PROGRAM = "#4b5563"
_BAR = "#2563eb"


def _e(text: Any) -> str:
    return html.escape(str(text), quote=True)


def nice_ticks(lo: float, hi: float, n: int = 5) -> list[float]:
    """Round tick values (1, 2, 2.5, 5 × 10^k steps) covering [lo, hi]."""
    if not (math.isfinite(lo) and math.isfinite(hi)):
        raise ValueError(f"tick range must be finite, got [{lo}, {hi}]")
    if hi <= lo:
        hi = lo + (abs(lo) or 1.0)
    raw = (hi - lo) / max(n, 1)
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    start = math.floor(lo / step) * step
    ticks = []
    k = 0
    while True:
        v = start + k * step
        ticks.append(round(v, 10))
        if v >= hi - 1e-9 * step:
            break
        k += 1
    return ticks


def _line_marks(
    ys: Sequence[int],
    actual: Mapping[int, float | None],
    programmed: Sequence[tuple[int, float]],
    partial: Mapping[int, float],
    px: Callable[[float], float],
    py: Callable[[float], float],
    lang: str = "es",
) -> list[str]:
    """The programmed path (dashed, squares), the actual values (solid, dots) and the years to date (hollow dots)."""
    parts: list[str] = []
    if programmed:
        pts = " ".join(f"{px(x):.1f},{py(v):.1f}" for x, v in sorted(programmed))
        parts.append(
            f'<polyline class="programmed" points="{pts}" fill="none" stroke="{_PROGRAM}" stroke-width="2" stroke-dasharray="6 4"/>'
        )
        for x, v in sorted(programmed):
            parts.append(
                f'<rect x="{px(x) - 3.5:.1f}" y="{py(v) - 3.5:.1f}" width="7" height="7"'
                f' fill="{_PROGRAM}"><title>{x}: {_e(format_number(v, lang=lang))}</title></rect>'
            )
    seq = [(x, a) for x in ys if (a := actual.get(x)) is not None and x not in partial]
    if len(seq) > 1:
        pts = " ".join(f"{px(x):.1f},{py(v):.1f}" for x, v in seq)
        parts.append(f'<polyline class="actual" points="{pts}" fill="none" stroke="{_ACTUAL}" stroke-width="2.5"/>')
    for x, v in seq:
        parts.append(
            f'<circle cx="{px(x):.1f}" cy="{py(v):.1f}" r="4" fill="{_ACTUAL}">'
            f"<title>{x}: {_e(format_number(v, lang=lang))}</title></circle>"
        )
    for x, v in sorted(partial.items()):
        if seq:
            lx, lv = seq[-1]
            parts.append(
                f'<line x1="{px(lx):.1f}" y1="{py(lv):.1f}" x2="{px(x):.1f}" y2="{py(v):.1f}"'
                f' stroke="{_ACTUAL}" stroke-width="1.5" stroke-dasharray="2 3"/>'
            )
        parts.append(
            f'<circle class="partial" cx="{px(x):.1f}" cy="{py(v):.1f}" r="4.5" fill="#ffffff" stroke="{_ACTUAL}" stroke-width="2">'
            f"<title>{x}: {_e(format_number(v, lang=lang))}</title></circle>"
        )
    return parts


def _legend(t: Mapping[str, str], left: int, *, with_partial: bool) -> list[str]:
    """The line chart's legend, in one row above the plot."""
    parts: list[str] = []
    legend = [(t["actual_line"], _ACTUAL, ""), (t["programmed"], _PROGRAM, ' stroke-dasharray="6 4"')]
    if with_partial:
        legend.append((t["partial"], _ACTUAL, ' stroke-dasharray="2 3"'))
    lx = left
    for label, color, dash in legend:
        parts.append(f'<line x1="{lx}" y1="14" x2="{lx + 22}" y2="14" stroke="{color}" stroke-width="2.5"{dash}/>')
        parts.append(f'<text x="{lx + 28}" y="18" font-size="11" fill="#374151">{_e(label)}</text>')
        lx += 40 + 6 * len(label)
    return parts


def line_chart(
    *,
    years: Sequence[int],
    actual: Mapping[int, float | None],
    programmed: Sequence[tuple[int, float]],
    partial: Mapping[int, float] | None = None,
    title: str,
    description: str,
    unit: str,
    lang: str = "es",
    chart_id: str = "c",
    width: int = 640,
    height: int = 260,
) -> str:
    """An SVG line chart: ``actual`` (solid, dots) against the ``programmed`` path (dashed).

    ``partial`` holds annualized values of years to date (hollow dots).
    """
    t = _text(lang)
    partial = dict(partial or {})
    left, right, top, bottom = 72, 16, 34, 34
    ys = sorted(set(years))
    values = [v for v in actual.values() if v is not None] + [v for _, v in programmed] + list(partial.values())
    hi = max(values) if values else 1.0
    lo = min(0.0, min(values)) if values else 0.0
    ticks = nice_ticks(lo, hi * 1.08 if hi > 0 else 1.0)
    y_lo, y_hi = ticks[0], ticks[-1]
    step = ticks[1] - ticks[0] if len(ticks) > 1 else 1.0
    decimals = max(0, -math.floor(math.log10(step) + 1e-9)) if step < 1 else (1 if step % 1 else 0)
    x0, x1 = (ys[0], ys[-1]) if ys else (0, 1)
    pw, ph = width - left - right, height - top - bottom

    def px(year: float) -> float:
        return left + (pw / 2 if x1 == x0 else (year - x0) / (x1 - x0) * pw)

    def py(v: float) -> float:
        return top + ph - (v - y_lo) / (y_hi - y_lo) * ph

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'role="img" aria-labelledby="{chart_id}-t {chart_id}-d">',
        f'<title id="{chart_id}-t">{_e(title)}</title><desc id="{chart_id}-d">{_e(description)}</desc>',
        f'<rect x="0" y="0" width="{width}" height="{height}" fill="#ffffff"/>',
    ]
    for v in ticks:
        y = py(v)
        parts.append(f'<line x1="{left}" y1="{y:.1f}" x2="{width - right}" y2="{y:.1f}" stroke="#e5e7eb"/>')
        parts.append(
            f'<text x="{left - 6}" y="{y + 4:.1f}" font-size="11" text-anchor="end" fill="#6b7280">'
            f"{_e(fmt_spec(v, f',.{decimals}f', lang))}</text>"
        )
    for yr in ys:
        parts.append(f'<text x="{px(yr):.1f}" y="{height - 12}" font-size="11" text-anchor="middle" fill="#374151">{yr}</text>')
    parts.append(
        f'<text x="12" y="{top + ph / 2:.1f}" font-size="11" fill="#6b7280" transform="rotate(-90'
        f' 12 {top + ph / 2:.1f})" text-anchor="middle">{_e(unit)}</text>'
    )
    parts += _line_marks(ys, actual, programmed, partial, px, py, lang)
    parts += _legend(t, left, with_partial=bool(partial))
    parts.append("</svg>")
    return "".join(parts)


def bar_chart(
    items: Sequence[tuple[str, float | None]],
    *,
    title: str,
    description: str,
    lang: str = "es",
    chart_id: str = "b",
    width: int = 640,
) -> str:
    """Horizontal bars of progress (1 = 100 %), one per item, with a line at 100 %.

    Values are drawn within [-50 %, 150 %] (the label shows the true value); items without
    a value say so.
    """
    t = _text(lang)
    left, right, row, top = 190, 70, 18, 10
    height = top + row * len(items) + 26
    lo, hi = -0.5, 1.5
    pw = width - left - right

    def px(v: float) -> float:
        return left + (min(max(v, lo), hi) - lo) / (hi - lo) * pw

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'role="img" aria-labelledby="{chart_id}-t {chart_id}-d">',
        f'<title id="{chart_id}-t">{_e(title)}</title><desc id="{chart_id}-d">{_e(description)}</desc>',
    ]
    for tick in (0.0, 0.5, 1.0):
        parts.append(
            f'<line x1="{px(tick):.1f}" y1="{top}" x2="{px(tick):.1f}" y2="{height - 22}" '
            f'stroke="{"#111827" if tick == 1 else "#d1d5db"}"/>'
        )
        parts.append(
            f'<text x="{px(tick):.1f}" y="{height - 8}" font-size="11" text-anchor="middle" fill="#6b7280">{int(tick * 100)} %</text>'
        )
    for i, (label, v) in enumerate(items):
        y = top + i * row
        parts.append(f'<text x="{left - 6}" y="{y + 12}" font-size="11" text-anchor="end" fill="#374151">{_e(label[:30])}</text>')
        if v is None:
            parts.append(f'<text x="{left + 4}" y="{y + 12}" font-size="11" fill="#9ca3af">{_e(t["no_data"])}</text>')
            continue
        x_a, x_b = sorted((px(0.0), px(v)))
        color = "#047857" if v >= 1 else _BAR if v >= 0 else _ACTUAL
        parts.append(
            f'<rect x="{x_a:.1f}" y="{y + 3}" width="{max(x_b - x_a, 1):.1f}" height="{row - 6}" '
            f'fill="{color}"><title>{_e(label)}: {format_percent(v, lang=lang)}</title></rect>'
        )
        parts.append(f'<text x="{width - right + 6}" y="{y + 12}" font-size="11" fill="#374151">{format_percent(v, lang=lang)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _programmed(ind: Mapping[str, Any]) -> list[tuple[int, float]]:
    pts: list[tuple[int, float]] = []
    if ind["trend"] == "suma":
        total = 0.0
        for y in sorted(int(k) for k in (ind.get("targets") or {})):
            total += float(ind["targets"][str(y)])
            pts.append((y, total))
        return pts
    if ind.get("baseline") is not None and ind.get("baseline_year") is not None:
        pts.append((int(ind["baseline_year"]), float(ind["baseline"])))
    for k, v in sorted((ind.get("targets") or {}).items()):
        if v is not None:
            pts.append((int(k), float(v)))
    return pts


def _indicator_chart(ind: Mapping[str, Any], lang: str, n: int) -> str:
    t = _text(lang)
    years = [int(y) for y in ind["years"]]
    if ind["level"] != "city":
        year_key = str(ind["summary"]["year"])
        items = []
        for z in ind.get("zones", []):
            e = next((s for s in z["series"] if str(s["year"]) == year_key), None)
            items.append((f"{z['zone_id']} {z['name']}".strip(), None if e is None else e["progress"]))
        items.sort(key=lambda it: (it[1] is None, -(it[1] or 0)))
        title = t["zones_progress"].format(year=year_key)
        return bar_chart(
            items, title=title, description=t["bars_desc"].format(label=ind["label"], year=year_key), lang=lang, chart_id=f"b{n}"
        )
    series = ind.get("series", [])
    suma = ind["trend"] == "suma"
    actual: dict[int, float | None] = {}
    partial: dict[int, float] = {}
    for s in series:
        y = int(s["year"])
        if suma:
            actual[y] = s["cumulative_actual"]
        elif s.get("actual_annualized") is not None:
            partial[y] = float(s["actual_annualized"])
        else:
            actual[y] = s["actual"]
    unit = ind["unit_label"] + (f" ({t['cumulative']})" if suma else "")
    first, last = (years[0], years[-1]) if years else ("", "")
    return line_chart(
        years=years,
        actual=actual,
        programmed=_programmed(ind),
        partial=partial,
        title=ind["label"],
        description=t["chart_desc"].format(label=ind["label"], first=first, last=last),
        unit=unit,
        lang=lang,
        chart_id=f"c{n}",
    )


def _breakdown_table(ind: Mapping[str, Any], year: int, lang: str) -> str:
    t = _text(lang)
    b = ind.get("breakdown")
    if not b or str(year) not in b["by_year"]:
        return ""
    rows = sorted(b["by_year"][str(year)], key=lambda r: -(r.get("shortfall") or -math.inf))
    base = b["baseline_year"]
    head = [
        (t["zone"], ""),
        (t["value_base"].format(base=base), "n"),
        (t["value"].format(year=year), "n"),
        (t["change"], "n"),
        (t["share_change"], "n"),
        (t["expected"], "n"),
        (t["shortfall"], "n"),
        (t["prop_target"], "n"),
        (t["progress"], "n"),
    ]
    out = [f"<h3>{_e(t['breakdown'].format(level=b['level'], year=year, base=base))}</h3>", "<table><thead><tr>"]
    out += [f'<th class="{c}">{_e(h)}</th>' for h, c in head]
    out.append("</tr></thead><tbody>")
    for r in rows:
        short = r.get("shortfall")
        cls = "bad" if short is not None and short > 0 else "ok"
        cells = [
            (f"{r['zone_id']} {r['name']}".strip() if not r["zone_id"].startswith("_") else r["name"], ""),
            (format_number(r.get("value_base"), lang=lang), "n"),
            (format_number(r.get("value_annualized"), lang=lang), "n"),
            (format_number(r.get("change"), 2, lang=lang), "n"),
            (format_percent(r.get("share_of_change"), lang=lang), "n"),
            (format_number(r.get("expected"), 2, lang=lang), "n"),
            (format_number(short, 2, lang=lang), f"n {cls}"),
            (format_number(r.get("proportional_target"), lang=lang), "n"),
            (format_percent(r.get("progress"), lang=lang), "n"),
        ]
        out.append("<tr>" + "".join(f'<td class="{c}">{_e(v)}</td>' for v, c in cells) + "</tr>")
    out.append("</tbody></table>")
    out.append(f'<p class="meta">{_e(t["shortfall_help"])}</p>')
    return "".join(out)


def render_report(doc: Mapping[str, Any]) -> str:
    """The HTML page of a ``seguimiento.json`` document (see :meth:`geoprio.seguimiento.result.TrackingResult.to_dict`)."""
    lang = "en" if doc.get("lang") == "en" else "es"
    t = _text(lang)
    year = int(doc["year"])
    title = doc.get("title") or t["title"]
    out = [
        f'<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_e(title)} — {year}</title><style>{_CSS}</style></head><body>",
        f"<h1>{_e(title)}</h1>",
        f'<p class="meta">{_e(t["year"])}: {year}</p>',
        f'<p>{_e(t["plan"])} {year}: <span class="big">{_e(format_percent(doc["plan"]["progress"], lang=lang))}</span></p>',
        f"<h2>{_e(t['objectives'])}</h2><table><thead><tr>",
        f'<th>{_e(t["objective"])}</th><th class="n">{_e(t["weight"])}</th><th class="n">{_e(t["progress"])}'
        f" {year}</th><th></th></tr></thead><tbody>",
    ]
    for o in doc["objectives"]:
        p = o["progress"]
        bar = f'<span class="bar" style="width:{max(0.0, min(p or 0.0, 1.0)) * 160:.0f}px"></span>' if p is not None else ""
        out.append(
            f'<tr><td>{_e(o["label"])}</td><td class="n">{_e(format_number(o["weight"], lang=lang))}</td>'
            f'<td class="n">{_e(format_percent(p, lang=lang))}</td><td>{bar}</td></tr>'
        )
    out.append("</tbody></table>")
    out.append(f"<h2>{_e(t['indicators'])}</h2><table><thead><tr>")
    head = [
        t["indicator"],
        t["objective"],
        t["level"],
        t["trend"],
        t["baseline"],
        t["target"],
        t["actual"],
        t["progress"],
        t["progress_uncapped"],
    ]
    out += [f'<th class="{"n" if i >= 4 else ""}">{_e(h)}</th>' for i, h in enumerate(head)]
    out.append("</tr></thead><tbody>")
    objectives = {o["id"]: o["label"] for o in doc["objectives"]}
    for ind in doc["indicators"]:
        s = ind["summary"]
        city = ind["level"] == "city"
        level = t["city"] if city else ind["level"]
        base = f"{format_number(ind['baseline'], lang=lang)} ({ind['baseline_year']})" if city and ind.get("baseline") is not None else "–"
        target = format_number(s.get("target"), lang=lang) if city else "–"
        met = t["zones_met"].format(met=s.get("zones_met", 0), n=s.get("zones", 0))
        actual = format_number(s.get("actual"), lang=lang) if city else met
        cells = [ind["label"], objectives.get(ind["objective"], ind["objective"]), level, ind["trend_label"], base, target, actual]
        cells += [format_percent(s.get("progress"), lang=lang), format_percent(s.get("progress_uncapped"), lang=lang)]
        out.append("<tr>" + "".join(f'<td class="{"n" if i >= 4 else ""}">{_e(c)}</td>' for i, c in enumerate(cells)) + "</tr>")
    out.append("</tbody></table>")
    for n, ind in enumerate(doc["indicators"], start=1):
        meta = f"{ind['unit_label']} · {ind['trend_label']} · {t['level']}: {t['city'] if ind['level'] == 'city' else ind['level']}"
        out.append(f'<section id="{_e(ind["id"])}"><h2>{_e(ind["label"])}</h2><p class="meta">{_e(meta)}</p>')
        out.append(_indicator_chart(ind, lang, n))
        out.append(_breakdown_table(ind, year, lang))
        if ind["notes"]:
            out.append(
                f'<h3>{_e(t["notes"])}</h3><ul class="notes">' + "".join(f"<li>{_e(x['text'])}</li>" for x in ind["notes"]) + "</ul>"
            )
        out.append("</section>")
    out.append(f"<footer>{_e(t['generated'].format(version=doc.get('geoprio_version', '')))}</footer></body></html>")
    return "\n".join(out)
