"""Does a hot-spot map predict? Hit rate, PAI, PEI and RRI of cell rankings on a later period.

The numeric core: every method gives each grid cell a score computed on the earlier
(training) period; cells are flagged from the highest score down until a share ``s`` of
the study area is flagged, and the flagged area is scored on the later (test) period.
With ``n`` test incidents in the flagged area, ``N`` in the whole area, ``a`` the flagged
area and ``A`` the whole area (``a/A = s``):

* **hit rate** ``n / N`` — the share of later incidents the flagged area captures;
* **PAI**, Predictive Accuracy Index (Chainey, Tompson & Uhlig 2008): ``(n/N) / (a/A)``;
  1 is no better than flagging at random, good hot-spot maps reach well above 1;
* **PEI**, Predictive Efficiency Index (Hunt 2016): ``n / n*``, where ``n*`` is the most any
  flagged area of the same size could have captured (cells taken by their test-period
  density); 1 is perfect;
* **RRI**, Recapture Rate Index (Levine 2008): ``(n / m) / (N / M)`` with ``m`` and ``M`` the
  training incidents in the flagged and in the whole area: above 1 the flagged area
  keeps (or grows) its share of incidents, below 1 its share fell.

**Ties and the last cell.** Cells whose scores tie at the threshold (common with the
prior-counts baseline: many cells with 1 or 2 past incidents) are flagged fractionally,
in proportion to the area still to fill, so the flagged area is exactly ``s`` and the
capture is the expected value under a random choice among the tied cells. This treats
every method alike and never rewards an arbitrary tie-break.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from geoprio.errors import InputError

__all__ = ["DEFAULT_AREA_SHARES", "capture", "capture_curve", "evaluate", "evaluate_methods"]

#: Flagged-area shares reported by default (1 %, 2 %, 5 %, 10 % of the study area).
DEFAULT_AREA_SHARES: tuple[float, ...] = (0.01, 0.02, 0.05, 0.10)


def _check(scores: np.ndarray, counts: np.ndarray, areas: np.ndarray, name: str = "counts") -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    s = np.asarray(scores, dtype=float)
    c = np.asarray(counts, dtype=float)
    a = np.asarray(areas, dtype=float)
    if not (s.shape == c.shape == a.shape) or s.ndim != 1:
        raise InputError(f"scores, {name} and areas must be 1-D arrays of one value per cell; got shapes {s.shape}, {c.shape}, {a.shape}")
    if len(s) == 0:
        raise InputError("no cells to score")
    if not np.isfinite(a).all() or (a <= 0).any():
        raise InputError("cell areas must be positive")
    if not np.isfinite(c).all() or (c < 0).any():
        raise InputError(f"{name} must be finite and non-negative")
    return np.where(np.isnan(s), -np.inf, s), c, a


def _check_shares(shares: Sequence[float] | np.ndarray) -> np.ndarray:
    sh = np.asarray(list(shares), dtype=float)
    if sh.size == 0 or not np.isfinite(sh).all() or (sh <= 0).any() or (sh > 1).any():
        raise InputError(f"area shares must be in (0, 1], e.g. 0.05 for 5 %; got {list(shares)}")
    return sh


def capture(scores: np.ndarray, counts: np.ndarray, areas: np.ndarray, shares: Sequence[float] | np.ndarray) -> np.ndarray:
    """Counts captured when the highest-scoring cells covering each area share are flagged.

    Cells tied at the threshold are taken fractionally (see the module docstring).
    Several count columns can be scored at once: ``counts`` may be ``(cells, k)``.
    """
    s = np.asarray(scores, dtype=float)
    s = np.where(np.isnan(s), -np.inf, s)
    a = np.asarray(areas, dtype=float)
    c = np.asarray(counts, dtype=float)
    sh = _check_shares(shares)
    one = c.ndim == 1
    C = c[:, None] if one else c
    # group cells with equal scores, highest first
    uniq, group = np.unique(-s, return_inverse=True)
    g_area = np.bincount(group, weights=a, minlength=len(uniq))
    g_count = np.stack([np.bincount(group, weights=C[:, j], minlength=len(uniq)) for j in range(C.shape[1])], axis=1)
    cum_area = np.cumsum(g_area)
    cum_count = np.cumsum(g_count, axis=0)
    target = sh * a.sum()
    k = np.minimum(np.searchsorted(cum_area, target * (1 - 1e-12), side="left"), len(uniq) - 1)
    before_area = np.where(k > 0, cum_area[k - 1], 0.0)
    before = np.where((k > 0)[:, None], cum_count[np.maximum(k - 1, 0)], 0.0)
    frac = np.clip((target - before_area) / g_area[k], 0.0, 1.0)
    out = before + frac[:, None] * g_count[k]
    return out[:, 0] if one else out


def evaluate(
    scores: np.ndarray,
    test_counts: np.ndarray,
    areas: np.ndarray,
    *,
    train_counts: np.ndarray | None = None,
    shares: Sequence[float] = DEFAULT_AREA_SHARES,
) -> pd.DataFrame:
    """Hit rate, PAI, PEI (and RRI when ``train_counts`` is given) at each flagged-area share.

    Returns one row per share with ``area_share``, ``captured`` (``n``), ``hit_rate``,
    ``pai``, ``captured_max`` (``n*``), ``pai_max``, ``pei``, and with training counts
    ``captured_train`` (``m``) and ``rri``.
    """
    s, t, a = _check(scores, test_counts, areas, "test counts")
    sh = _check_shares(shares)
    total = t.sum()
    if total <= 0:
        raise InputError("the test period has no incident in the study area; nothing to score")
    n = capture(s, t, a, sh)
    best = capture(t / a, t, a, sh)  # the best possible flagged area: cells by test density
    hit = n / total
    out = pd.DataFrame(
        {
            "area_share": sh,
            "captured": n,
            "hit_rate": hit,
            "pai": hit / sh,
            "captured_max": best,
            "pai_max": best / total / sh,
            "pei": np.divide(n, best, out=np.full(len(sh), np.nan), where=best > 0),
        }
    )
    if train_counts is not None:
        _s, m_all, _a = _check(scores, train_counts, areas, "training counts")
        m = capture(s, m_all, a, sh)
        M = m_all.sum()
        out["captured_train"] = m
        rri = np.full(len(sh), np.nan)
        ok = m > 0
        if M > 0:
            rri[ok] = (n[ok] / m[ok]) / (total / M)
        out["rri"] = rri
    return out


def evaluate_methods(
    scores: Mapping[str, np.ndarray],
    test_counts: np.ndarray,
    areas: np.ndarray,
    *,
    train_counts: np.ndarray | None = None,
    shares: Sequence[float] = DEFAULT_AREA_SHARES,
    baseline: str | None = "prior",
) -> pd.DataFrame:
    """:func:`evaluate` for several methods; with a ``baseline`` method, adds ``pai_vs_baseline``."""
    if not scores:
        raise InputError("no method to evaluate")
    frames = []
    for name, sc in scores.items():
        f = evaluate(sc, test_counts, areas, train_counts=train_counts, shares=shares)
        f.insert(0, "method", name)
        frames.append(f)
    table = pd.concat(frames, ignore_index=True)
    if baseline is not None and baseline in scores:
        base = table.loc[table["method"] == baseline].set_index("area_share")["pai"]
        table["pai_vs_baseline"] = table["pai"].to_numpy() / table["area_share"].map(base).to_numpy()
    return table


def capture_curve(
    scores: Mapping[str, np.ndarray],
    test_counts: np.ndarray,
    areas: np.ndarray,
    *,
    shares: Sequence[float] | None = None,
) -> pd.DataFrame:
    """Hit rate against flagged-area share for each method (the curve analysts plot).

    Returns ``area_share`` and one ``hit_rate`` column per method, plus ``best`` (the
    most any area of that size could capture) and ``random`` (equal to the share).
    """
    sh = _check_shares(np.unique(np.concatenate([np.arange(1, 201) / 1000.0, np.arange(21, 101) / 100.0])) if shares is None else shares)
    t = np.asarray(test_counts, dtype=float)
    total = t.sum()
    if total <= 0:
        raise InputError("the test period has no incident in the study area; nothing to score")
    a = np.asarray(areas, dtype=float)
    cols: dict[str, np.ndarray] = {"area_share": sh}
    for name, sc in scores.items():
        s, _t, _a = _check(sc, t, a, "test counts")
        cols[name] = capture(s, t, a, sh) / total
    cols["best"] = capture(t / a, t, a, sh) / total
    cols["random"] = sh
    return pd.DataFrame(cols)
