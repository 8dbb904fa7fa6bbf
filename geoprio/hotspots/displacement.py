r"""Did an intervention move crime next door? Counts before and after, and the WDQ.

Given intervention (target) polygons and a start date, incidents are counted in three
areas, before and after the start, over two periods of equal length:

* **A**, the target area (the intervention polygons);
* **B**, the buffer: a ring of ``buffer_m`` metres around the target, where displaced
  crime (or a diffusion of benefits) would show first;
* **C**, the control area, which absorbs the city-wide trend: given polygons, or by
  default the rest of the study area beyond a second ring of ``buffer_m`` (so that the
  control is not contaminated by the intervention).

The **weighted displacement quotient** of Bowers & Johnson (2003), with subscripts ``b``
before and ``a`` after:

.. math::

    \text{WDQ} = \frac{B_a/C_a - B_b/C_b}{A_a/C_a - A_b/C_b}

The denominator is the **success measure** (negative when the target improved relative to
the control), the numerator the **buffer displacement measure**. Reading it (only when the
success measure is negative): ``WDQ > 1`` the benefit spread to the buffer and exceeded
the direct effect; ``0 < WDQ ≤ 1`` diffusion of benefits; ``WDQ ≈ 0`` no displacement nor
diffusion; ``−1 ≤ WDQ < 0`` some displacement, smaller than the direct benefit (net
gain); ``WDQ < −1`` displacement larger than the direct benefit (net loss). The **total
net effect** (Guerette 2009) counts incidents prevented: ``(A_b·C_a/C_b − A_a) +
(B_b·C_a/C_b − B_a)``; positive means fewer incidents than the control's trend predicts.

Default ``buffer_m = 250``: the Bogotá hot-spot policing trial (Blattman et al. 2021)
measured spillovers on streets within 250 m of the treated segments.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import shapely

from geoprio.errors import InputError
from geoprio.labels import label

__all__ = ["DEFAULT_BUFFER_M", "DisplacementResult", "displacement_areas", "measure_displacement", "reading", "reading_code", "wdq"]

#: Buffer ring width (metres) by default; see the module docstring.
DEFAULT_BUFFER_M = 250.0


def wdq(
    target_before: float,
    target_after: float,
    buffer_before: float,
    buffer_after: float,
    control_before: float,
    control_after: float,
) -> dict[str, float]:
    """Bowers & Johnson's weighted displacement quotient and its parts, from six counts.

    Returns ``success`` (``A_a/C_a − A_b/C_b``), ``buffer_displacement``
    (``B_a/C_a − B_b/C_b``), ``wdq`` (their ratio; NaN when the success measure is 0),
    ``total_net_effect`` and ``control_ratio`` (``C_a/C_b``).
    """
    vals = (target_before, target_after, buffer_before, buffer_after, control_before, control_after)
    if any((not np.isfinite(v)) or v < 0 for v in vals):
        raise InputError(f"counts must be finite and non-negative, got {vals}")
    A_b, A_a, B_b, B_a, C_b, C_a = (float(v) for v in vals)
    if C_b <= 0 or C_a <= 0:
        raise InputError(f"the control area needs incidents in both periods (before {C_b:g}, after {C_a:g}); choose a larger control area")
    success = A_a / C_a - A_b / C_b
    buffer_disp = B_a / C_a - B_b / C_b
    ratio = C_a / C_b
    return {
        "success": success,
        "buffer_displacement": buffer_disp,
        "wdq": buffer_disp / success if success != 0 else float("nan"),
        "total_net_effect": (A_b * ratio - A_a) + (B_b * ratio - B_a),
        "control_ratio": ratio,
    }


def reading(measures: dict[str, float], lang: str = "es", *, tol: float = 0.05) -> str:
    """The reading of a WDQ (see the module docstring); ``|WDQ| < tol`` counts as zero."""
    return label("hotspots", f"reading_{reading_code(measures, tol=tol)}", "en" if lang == "en" else "es")


def reading_code(measures: dict[str, float], *, tol: float = 0.05) -> str:
    """The code of a WDQ's reading: ``no_success``, ``none``, ``diffusion_big``, ``diffusion``, ``displacement`` or ``backfire``."""
    if not measures["success"] < 0:
        return "no_success"
    q = measures["wdq"]
    if abs(q) < tol:
        return "none"
    if q > 1:
        return "diffusion_big"
    if q > 0:
        return "diffusion"
    if q >= -1:
        return "displacement"
    return "backfire"


def displacement_areas(
    targets: np.ndarray,
    *,
    buffer_m: float = DEFAULT_BUFFER_M,
    study_area: shapely.Geometry | None = None,
    control: np.ndarray | None = None,
) -> tuple[shapely.Geometry, shapely.Geometry, shapely.Geometry]:
    """Target, buffer ring and control polygons (metric CRS).

    The control is ``control`` (minus target and buffer) when given, else the study area
    minus the target grown by ``2 × buffer_m``.
    """
    if not np.isfinite(buffer_m) or buffer_m <= 0:
        raise InputError(f"buffer_m must be a positive number of metres, got {buffer_m!r}")
    geoms = np.asarray(targets, dtype=object)
    if geoms.size == 0:
        raise InputError("no intervention polygon given")
    target = shapely.union_all(shapely.make_valid(geoms))
    if shapely.is_empty(target) or shapely.area(target) <= 0:
        raise InputError("the intervention polygons have no area")
    grown = shapely.buffer(target, buffer_m)
    ring = shapely.difference(grown, target)
    if control is not None:
        ctrl = shapely.difference(shapely.union_all(shapely.make_valid(np.asarray(control, dtype=object))), grown)
    elif study_area is not None:
        ctrl = shapely.difference(study_area, shapely.buffer(target, 2 * buffer_m))
    else:
        raise InputError("give a control area or a study area (zones) to take the control from")
    if shapely.is_empty(ctrl) or shapely.area(ctrl) <= 0:
        raise InputError("the control area is empty (the buffer covers the whole study area?); give control polygons")
    return target, ring, ctrl


@dataclass(frozen=True)
class DisplacementResult:
    """Counts per area and period, the WDQ measures and their reading."""

    table: pd.DataFrame
    measures: dict[str, float]
    reading: str
    before: tuple[dt.date, dt.date]
    after: tuple[dt.date, dt.date]
    areas_km2: dict[str, float]
    params: dict[str, Any]


def measure_displacement(
    xy: np.ndarray,
    dates: pd.Series | np.ndarray,
    weights: np.ndarray | None,
    target: shapely.Geometry,
    ring: shapely.Geometry,
    control: shapely.Geometry,
    *,
    start: dt.date,
    days: int | None = None,
    lang: str = "es",
) -> DisplacementResult:
    """Count incidents (metres ``xy``, ``dates``) in each area before and after ``start``.

    ``days`` is the length of each period; by default the longest equal periods the data
    allows on both sides of ``start``. The "before" period is ``[start − days, start)`` and
    the "after" period ``[start, start + days)``.
    """
    xy = np.asarray(xy, dtype=float)
    d = pd.to_datetime(pd.Series(np.asarray(dates))).reset_index(drop=True)
    w = np.ones(len(xy)) if weights is None else np.asarray(weights, dtype=float)
    if len(d) != len(xy) or len(w) != len(xy):
        raise InputError("xy, dates and weights must be aligned")
    ok = d.notna().to_numpy()
    if not ok.any():
        raise InputError("no record has a date; displacement needs dated records")
    first, last = d[ok].min(), d[ok].max()
    start_ts = pd.Timestamp(start)
    if not (first < start_ts <= last):
        raise InputError(f"start date {start_ts.date()} is outside the data ({first.date()} – {last.date()}); it must fall inside")
    if days is None:
        days = int(min((start_ts - first.normalize()).days, (last.normalize() - start_ts).days + 1))
    if isinstance(days, bool) or days < 1:
        raise InputError(f"days must be a positive number of days, got {days!r}")
    b0, a1 = start_ts - pd.Timedelta(days=days), start_ts + pd.Timedelta(days=days)
    before = ok & (d >= b0).to_numpy() & (d < start_ts).to_numpy()
    after = ok & (d >= start_ts).to_numpy() & (d < a1).to_numpy()
    if not before.any():
        raise InputError(f"the period before {start_ts.date()} ({b0.date()} – {start_ts.date()}) has no incident")
    if not after.any():
        raise InputError(f"the period after {start_ts.date()} ({start_ts.date()} – {a1.date()}) has no incident")
    counts: dict[str, tuple[float, float]] = {}
    taken = np.zeros(len(xy), dtype=bool)  # a point on a shared boundary counts once: target, then buffer, then control
    for name, geom in (("target", target), ("buffer", ring), ("control", control)):
        shapely.prepare(geom)
        inside = shapely.intersects_xy(geom, xy[:, 0], xy[:, 1]) & ~taken
        taken |= inside
        counts[name] = (float(w[inside & before].sum()), float(w[inside & after].sum()))
    meas = wdq(
        counts["target"][0], counts["target"][1], counts["buffer"][0], counts["buffer"][1], counts["control"][0], counts["control"][1]
    )
    area = {k: float(shapely.area(g)) / 1e6 for k, g in (("target", target), ("buffer", ring), ("control", control))}
    table = pd.DataFrame(
        {
            "area": ["target", "buffer", "control"],
            "area_km2": [area["target"], area["buffer"], area["control"]],
            "before": [counts[k][0] for k in ("target", "buffer", "control")],
            "after": [counts[k][1] for k in ("target", "buffer", "control")],
        }
    )
    table["change"] = table["after"] - table["before"]
    table["change_pct"] = np.divide(100 * table["change"], table["before"], out=np.full(3, np.nan), where=table["before"].to_numpy() > 0)
    return DisplacementResult(
        table=table,
        measures=meas,
        reading=reading(meas, lang),
        before=(b0.date(), (start_ts - pd.Timedelta(days=1)).date()),
        after=(start_ts.date(), (a1 - pd.Timedelta(days=1)).date()),
        areas_km2=area,
        params={"start": str(start_ts.date()), "days": int(days)},
    )
