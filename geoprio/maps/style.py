"""What a map looks like: the colour palettes, colour ramps and the HTML of legends.

Palettes are ColorBrewer's (colorbrewer2.org): YlOrRd for priority and density, RdBu for
Gi* classes, RdYlGn for progress towards a target. Legends are small HTML boxes that
:class:`geoprio.maps.elements.Panel` shows while their layer is on the map.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

import numpy as np

from geoprio.maps.text import fmt_num, is_finite

__all__ = [
    "DENSITY_COLORS",
    "EXISTING_COLOR",
    "GI_COLORS",
    "INDEX_STOPS",
    "NO_DATA",
    "PLAN_COLORS",
    "PROGRESS_CLASSES",
    "TIER_COLORS",
    "gradient_legend_html",
    "legend_html",
    "mix",
    "notes_html",
    "progress_color",
    "rgba",
]

#: Fill colours of 2–5 priority tiers, lowest first (YlOrRd).
TIER_COLORS = {
    2: ["#ffeda0", "#f03b20"],
    3: ["#ffeda0", "#feb24c", "#f03b20"],
    4: ["#ffffb2", "#fecc5c", "#fd8d3c", "#e31a1c"],
    5: ["#ffffb2", "#fecc5c", "#fd8d3c", "#f03b20", "#bd0026"],
}
#: The 0–100 index ramp (YlOrRd, 9 stops).
INDEX_STOPS = ["#ffffcc", "#ffeda0", "#fed976", "#feb24c", "#fd8d3c", "#fc4e2a", "#e31a1c", "#bd0026", "#800026"]
#: Density classes, lowest first (YlOrRd, 7 classes).
DENSITY_COLORS = ["#ffffb2", "#fed976", "#feb24c", "#fd8d3c", "#fc4e2a", "#e31a1c", "#b10026"]
#: Gi* classes (RdBu).
GI_COLORS = {
    "hot_99": "#b2182b",
    "hot_95": "#ef8a62",
    "hot_90": "#fddbc7",
    "cold_90": "#d1e5f0",
    "cold_95": "#67a9cf",
    "cold_99": "#2166ac",
}
#: Zones or places without a value.
NO_DATA = "#bdbdbd"
#: Classes of capped progress towards a target: ``(lower bound, colour)``, met first
#: (ColorBrewer RdYlGn, 5 classes: red far from the target, green met).
PROGRESS_CLASSES: tuple[tuple[float, str], ...] = (
    (1.0, "#1a9641"),
    (0.75, "#a6d96a"),
    (0.5, "#ffffbf"),
    (0.25, "#fdae61"),
    (0.0, "#d7191c"),
)
#: Proposed sites of each plan.
PLAN_COLORS = {"cameras": "#1f78b4", "garitas": "#6a3d9a"}
#: Existing facilities.
EXISTING_COLOR = "#525252"


def rgba(color: str, alpha: float) -> str:
    """``#rrggbb`` with an opacity: ``rgba(r,g,b,alpha)`` (legend swatches that look like a translucent fill)."""
    r, g, b = (int(color[k : k + 2], 16) for k in (1, 3, 5))
    return f"rgba({r},{g},{b},{alpha:g})"


def mix(stops: Sequence[str], t: float) -> str:
    """Colour at ``t`` ∈ [0, 1] on a piecewise-linear ramp through ``stops``."""
    t = min(1.0, max(0.0, t))
    pos = t * (len(stops) - 1)
    i = min(int(pos), len(stops) - 2)
    f = pos - i
    a = np.array([int(stops[i][k : k + 2], 16) for k in (1, 3, 5)])
    b = np.array([int(stops[i + 1][k : k + 2], 16) for k in (1, 3, 5)])
    c = np.round(a + (b - a) * f).astype(int)
    return "#" + "".join(f"{v:02x}" for v in c)


def progress_color(progress_capped: Any) -> str:
    """Fill colour of a capped progress value (:data:`PROGRESS_CLASSES`; grey without data)."""
    if not is_finite(progress_capped):
        return NO_DATA
    v = float(progress_capped)
    return next((color for lo, color in PROGRESS_CLASSES if v >= lo), PROGRESS_CLASSES[-1][1])


def notes_html(note: str | Sequence[str] | None) -> str:
    """Legend notes: one ``<div class="note">`` per non-empty line (escaped)."""
    lines = [note] if isinstance(note, str) else list(note or [])
    return "".join(f'<div class="note">{html.escape(n)}</div>' for n in lines if n)


def legend_html(title: str, rows: Sequence[tuple[str, str, str]], note: str | Sequence[str] | None = None) -> str:
    """Legend HTML: rows of ``(fill colour, border css, label)``, then the note line(s)."""
    out = [f"<h4>{html.escape(title)}</h4>"]
    for color, border, label in rows:
        out.append(f'<div class="row"><span class="sw" style="background:{color};{border}"></span>{html.escape(label)}</div>')
    out.append(notes_html(note))
    return "".join(out)


def gradient_legend_html(title: str, stops: Sequence[str], lo: float, hi: float, note: str | Sequence[str] | None = None) -> str:
    """Legend HTML of a continuous ramp from ``lo`` to ``hi``, then the note line(s)."""
    grad = ",".join(stops)
    mid = (lo + hi) / 2
    out = (
        f"<h4>{html.escape(title)}</h4>"
        f'<div class="grad" style="background:linear-gradient(to right,{grad})"></div>'
        f'<div class="ticks"><span>{lo:g}</span><span>{mid:g}</span><span>{hi:g}</span></div>'
    )
    return out + notes_html(note)


def quantile_classes(values: np.ndarray, k: int, *, digits: int, lang: str) -> tuple[np.ndarray, list[str], list[str]]:
    """``values`` in at most ``k`` quantile classes (distinct edges): each value's class, each
    class's colour from :data:`DENSITY_COLORS` (spread over the ramp) and its range as the
    legend writes it (``digits`` decimals in ``lang``'s format).
    """
    edges = np.unique(np.quantile(values, np.linspace(0, 1, k + 1)))
    n = max(1, len(edges) - 1)
    cls = np.clip(np.searchsorted(edges, values, side="right") - 1, 0, n - 1) if n > 1 else np.zeros(len(values), int)
    colors = [DENSITY_COLORS[round(i * (len(DENSITY_COLORS) - 1) / max(1, n - 1))] for i in range(n)]
    if n > 1:
        ranges = [f"{fmt_num(edges[i], digits, lang)}–{fmt_num(edges[i + 1], digits, lang)}" for i in range(n)]
    else:
        ranges = [f"{fmt_num(values.min(), digits, lang)}–{fmt_num(values.max(), digits, lang)}"]
    return cls, colors, ranges
