"""The prioritization index (índice de priorización): normalize, weight, aggregate, rank.

This is the numeric core: it takes a table of raw indicator values (zones × indicators)
and knows nothing about files or geometry. :mod:`geoprio.index.measures` builds that table from
records and zones; :mod:`geoprio.index.run` runs the whole chain from a config file.

Conventions, following the OECD/JRC *Handbook on Constructing Composite Indicators*:

* **transform** (optional): ``log`` = log(1 + x), then winsorizing at given quantiles;
* **direction**: an indicator where more is better (e.g. operational results) is
  reversed so that a high normalized value always means more need of intervention;
* **normalize**: ``minmax`` → [0, 1]; ``zscore`` → (x − mean) / sd (population sd);
  ``rank`` → percentile rank (rank − 1) / (n − 1) with average ranks for ties. A constant
  indicator normalizes to 0 everywhere (it cannot tell zones apart);
* **aggregate** with weights summing to 1: ``arithmetic`` Σ wᵢ nᵢ; ``geometric``
  Π (1 + 99 nᵢ)^wᵢ, i.e. the weighted geometric mean of the values rescaled to [1, 100],
  which penalizes zones that are low on some indicators (less compensation);
* **index on 0–100**: arithmetic with ``minmax``/``rank``: 100 Σ wᵢ nᵢ (100 = worst on every
  indicator); geometric: (G − 1) / 99 × 100; arithmetic with ``zscore`` (unbounded):
  rescaled so that the lowest zone is 0 and the highest 100.
* **contributions** add up to each zone's index: 100 wᵢ nᵢ (arithmetic, bounded); the
  share of wᵢ log(1 + 99 nᵢ) in log G (geometric); 100 wᵢ (zᵢ − zᵢ of the lowest zone) / range
  (z-score).

**Pillars** (optional; ``pillars`` = pillar → its indicators, every indicator in exactly one),
the two-level scheme of published city indices (e.g. ProBogotá's *Índice Integral de
Seguridad*: winsorize and normalize each indicator, aggregate per pillar, then across pillars):

* transform and normalize **per indicator**, exactly as above;
* the indicator weights are relative **within** their pillar: w̃ᵢ = wᵢ / Σ_{j∈p} wⱼ;
* **pillar score** Sₚ on 0–100: the index above restricted to the pillar's indicators with
  weights w̃ᵢ and ``aggregation`` (arithmetic ``minmax``/``rank``: 100 Σ w̃ᵢ nᵢ; geometric:
  (Gₚ − 1) / 99 × 100; arithmetic ``zscore``: rescaled per pillar so its lowest zone is 0
  and its highest 100);
* **index** from the pillar scores sₚ = Sₚ / 100 with pillar weights Wₚ (summing to 1) and
  ``pillar_aggregation``: arithmetic Σ Wₚ Sₚ; geometric (Π (1 + 99 sₚ)^Wₚ − 1) / 99 × 100;
* the **effective weight** of an indicator (``weights_``) is Wₚ w̃ᵢ. With arithmetic
  aggregation at both levels and a bounded normalization the index equals the flat index
  with the effective weights: Σₚ Wₚ 100 Σᵢ w̃ᵢ nᵢ = 100 Σᵢ (Wₚ w̃ᵢ) nᵢ;
* **contributions** still add up to the index. Let cₚᵢ be indicator i's contribution to its
  pillar score (the flat rules above, within the pillar; Σᵢ cₚᵢ = Sₚ). Arithmetic across
  pillars: contribution Wₚ cₚᵢ (= 100 Wₚ w̃ᵢ nᵢ for bounded arithmetic within). Geometric
  across pillars: pillar p's share of the index is Pₚ = I · Wₚ log(1 + 99 sₚ) / Σ_q W_q
  log(1 + 99 s_q) (the share of its term in log G, as for flat geometric aggregation, 0 when
  log G = 0), split within the pillar proportionally to the indicators' contributions to the
  pillar score: contribution Pₚ cₚᵢ / Sₚ (0 when Sₚ = 0). ``pillar_contributions_`` holds
  the Pₚ (= Wₚ Sₚ when arithmetic across pillars).
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Mapping, Sequence
from typing import Literal

import numpy as np
import pandas as pd
from scipy.stats import rankdata

from geoprio.errors import ConfigError, InputError
from geoprio.labels import LANGS, label
from geoprio.settings import DEFAULT_LANG

__all__ = [
    "AGGREGATIONS",
    "NORMALIZATIONS",
    "TIER_CODES",
    "PriorityIndex",
    "aggregate",
    "check_pillars",
    "normalize",
    "tier_codes",
    "tier_labels",
    "transform",
]

Normalization = Literal["minmax", "zscore", "rank"]
Aggregation = Literal["arithmetic", "geometric"]
Direction = Literal["higher_is_worse", "higher_is_better"]
TierMethod = Literal["quantiles", "natural_breaks"]

NORMALIZATIONS: tuple[str, ...] = ("minmax", "zscore", "rank")
AGGREGATIONS: tuple[str, ...] = ("arithmetic", "geometric")

#: Tier codes from lowest to highest priority, per number of tiers; their words are in the
#: ``index_tiers`` label topic (``high`` is ``alta`` in Spanish).
TIER_CODES: dict[int, tuple[str, ...]] = {
    2: ("low", "high"),
    3: ("low", "medium", "high"),
    4: ("low", "medium", "high", "very_high"),
    5: ("very_low", "low", "medium", "high", "very_high"),
}


def tier_codes(k: int) -> list[str]:
    """Tier codes from lowest to highest priority for ``k`` tiers (2 to 5)."""
    if k not in TIER_CODES:
        raise ConfigError(f"tiers: k must be 2 to 5, got k={k!r}")
    return list(TIER_CODES[k])


def tier_labels(k: int, lang: str = DEFAULT_LANG) -> list[str]:
    """Tier names from lowest to highest priority (``alta`` is the top tier in Spanish)."""
    if k not in TIER_CODES or lang not in LANGS:
        raise ConfigError(f"tiers: k must be 2 to 5 and lang 'es' or 'en', got k={k!r}, lang={lang!r}")
    return [label("index_tiers", code, lang) for code in TIER_CODES[k]]


# --------------------------------------------------------------------------- array functions


def transform(X: np.ndarray, *, log: bool = False, winsorize: tuple[float, float] | None = None) -> np.ndarray:
    """Apply log(1 + x) and/or winsorizing (per column, at the given quantiles); returns a copy."""
    X = np.array(X, dtype=float)
    if log:
        if np.nanmin(X) < 0:
            raise ConfigError("log transform needs non-negative values; an indicator has negative values (a change?)")
        X = np.log1p(X)
    if winsorize is not None:
        lo, hi = winsorize
        if not 0 <= lo < hi <= 1:
            raise ConfigError(f"winsorize quantiles must satisfy 0 <= low < high <= 1, got {winsorize!r}")
        qlo = np.nanquantile(X, lo, axis=0)
        qhi = np.nanquantile(X, hi, axis=0)
        X = np.clip(X, qlo, qhi)
    return X


def normalize(X: np.ndarray, method: str = "minmax") -> np.ndarray:
    """Normalize each column of ``X`` (zones × indicators); see the module docstring."""
    X = np.asarray(X, dtype=float)
    if X.ndim != 2:
        raise InputError(f"normalize expects a 2-D array (zones × indicators), got shape {X.shape}")
    n = X.shape[0]
    if method == "minmax":
        lo, hi = X.min(axis=0), X.max(axis=0)
        span = hi - lo
        return np.divide(X - lo, span, out=np.zeros_like(X), where=span > 0)
    if method == "zscore":
        mu, sd = X.mean(axis=0), X.std(axis=0)
        return np.divide(X - mu, sd, out=np.zeros_like(X), where=sd > 0)
    if method == "rank":
        if n < 2:
            return np.zeros_like(X)
        r = rankdata(X, method="average", axis=0)
        out = (r - 1) / (n - 1)
        out[:, np.ptp(X, axis=0) == 0] = 0.0
        return out
    raise ConfigError(f"unknown normalization {method!r}; expected one of {list(NORMALIZATIONS)}")


def aggregate(N: np.ndarray, W: np.ndarray, method: str = "arithmetic", *, bounded: bool = True) -> np.ndarray:
    """Aggregate normalized values into the 0–100 index.

    Parameters
    ----------
    N
        Normalized values, zones × indicators.
    W
        Weights: one vector (indicators,) or one row per draw (draws × indicators); each row
        is rescaled to sum to 1.
    method
        ``"arithmetic"`` or ``"geometric"``.
    bounded
        True when ``N`` lies in [0, 1] (min-max, rank); False for z-scores, whose composite
        is rescaled to 0–100 per draw.

    Returns
    -------
    numpy.ndarray
        Index values, shape (zones,) for one weight vector or (zones, draws).
    """
    W = np.asarray(W, dtype=float)
    single = W.ndim == 1
    W2 = np.atleast_2d(W)
    W2 = W2 / W2.sum(axis=1, keepdims=True)
    if method == "arithmetic":
        C = N @ W2.T
        if bounded:
            out = 100.0 * C
        else:
            lo, span = _composite_span(C)
            out = 100.0 * np.divide(C - lo, span, out=np.zeros_like(C), where=span > 0)
    elif method == "geometric":
        if not bounded:
            raise ConfigError("geometric aggregation needs a bounded normalization ('minmax' or 'rank'), not 'zscore'")
        G = np.exp(np.log1p(99.0 * N) @ W2.T)
        out = (G - 1.0) / 99.0 * 100.0
    else:
        raise ConfigError(f"unknown aggregation {method!r}; expected one of {list(AGGREGATIONS)}")
    out = np.clip(out, 0.0, 100.0)  # guard rounding just outside the scale
    return out[:, 0] if single else out


def _composite_span(C: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per column of z-score composites: the minimum and the range, with a range that is
    only rounding noise (composites equal up to ~1e-12, e.g. two opposed indicators that
    cancel exactly) set to 0, so that noise is never stretched to 0–100.
    """
    lo, hi = C.min(axis=0), C.max(axis=0)
    span = hi - lo
    scale = np.maximum(np.abs(C).max(axis=0), 1.0)
    return lo, np.where(span > 1e-12 * scale, span, 0.0)


def _contributions(N: np.ndarray, w: np.ndarray, method: str, bounded: bool, index: np.ndarray) -> np.ndarray:
    w = w / w.sum()
    if method == "geometric":
        L = np.log1p(99.0 * N) * w
        total = L.sum(axis=1, keepdims=True)
        return np.divide(L * index[:, None], total, out=np.zeros_like(L), where=total > 0)
    if bounded:
        return 100.0 * N * w
    C = N @ w
    lo_zone = int(np.argmin(C))
    _, span = _composite_span(C[:, None])
    if span[0] <= 0:
        return np.zeros_like(N)
    return 100.0 * w * (N - N[lo_zone]) / span[0]


# --------------------------------------------------------------------------- pillars

_PILLAR_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9]*(?:_[A-Za-z0-9]+)*$")
# pillar__<name> must not end like another column of the result table (API and maps read them)
_RESERVED_PILLAR_NAMES = frozenset({"norm", "contrib", "count", "rate_raw"})


def check_pillars(
    pillars: Mapping[str, Sequence[str]],
    indicators: Sequence[str] | None = None,
    pillar_weights: Literal["equal"] | Mapping[str, float] | None = "equal",
) -> None:
    """Check a pillar definition; raise :class:`ConfigError` naming what is wrong.

    Pillar names are letters, digits and single underscores (they become ``pillar__<name>``
    columns); each pillar names at least one indicator; with ``indicators`` given, every
    indicator is in exactly one pillar and every named indicator exists; ``pillar_weights``
    (``"equal"``/None or a mapping) names every pillar exactly, non-negative with a positive sum.
    """
    if not isinstance(pillars, Mapping) or not pillars:
        raise ConfigError(f"pillars must be a non-empty mapping pillar name → indicator names, got {pillars!r}")
    for name, members in pillars.items():
        if not isinstance(name, str) or not _PILLAR_NAME.match(name) or name in _RESERVED_PILLAR_NAMES:
            raise ConfigError(
                f"pillar name {name!r} is not allowed: use letters, digits and single underscores, starting with a letter "
                f"(not {sorted(_RESERVED_PILLAR_NAMES)}); it becomes the column 'pillar__<name>'"
            )
        if isinstance(members, str) or not isinstance(members, Sequence) or len(members) == 0:
            raise ConfigError(f"pillar {name!r} must list at least one indicator name, got {members!r}")
    owners: dict[str, list[str]] = {}
    for name, members in pillars.items():
        for ind in members:
            owners.setdefault(ind, []).append(name)
    repeated = {ind: names for ind, names in owners.items() if len(names) > 1}
    if repeated:
        detail = "; ".join(f"{ind!r} in {names}" for ind, names in repeated.items())
        raise ConfigError(f"every indicator must be in exactly one pillar; in more than one (or listed twice): {detail}")
    if indicators is not None:
        unknown = [ind for ind in owners if ind not in indicators]
        missing = [ind for ind in indicators if ind not in owners]
        if unknown:
            raise ConfigError(f"pillars name unknown indicators {unknown}; indicators: {list(indicators)}")
        if missing:
            raise ConfigError(f"every indicator must be in exactly one pillar; in no pillar: {missing}")
    if pillar_weights is None or isinstance(pillar_weights, str):
        if pillar_weights not in (None, "equal"):
            raise ConfigError(f"pillar_weights must be 'equal' or a mapping pillar → weight, got {pillar_weights!r}")
        return
    if isinstance(pillar_weights, pd.Series):
        pillar_weights = pillar_weights.to_dict()
    if not isinstance(pillar_weights, Mapping):
        raise ConfigError(f"pillar_weights must be 'equal' or a mapping pillar → weight, got {pillar_weights!r}")
    missing_w = [p for p in pillars if p not in pillar_weights]
    extra_w = [p for p in pillar_weights if p not in pillars]
    if missing_w or extra_w:
        raise ConfigError(f"pillar_weights must name every pillar exactly: missing {missing_w}, unknown pillars {extra_w}")
    try:
        w = np.array([float(pillar_weights[p]) for p in pillars])
    except (TypeError, ValueError):
        raise ConfigError(f"pillar_weights must be numbers, got {dict(pillar_weights)}") from None
    if (w < 0).any() or not np.isfinite(w).all() or w.sum() <= 0:
        raise ConfigError(f"pillar_weights must be non-negative with a positive sum, got {dict(pillar_weights)}")


def _combine_pillars(S: np.ndarray, WP: np.ndarray, method: str) -> np.ndarray:
    """Index from pillar scores ``S`` (zones × draws × pillars, 0–100) and pillar weights
    ``WP`` (draws × pillars, rows rescaled to sum 1): zones × draws, on 0–100.
    """
    WP = WP / WP.sum(axis=1, keepdims=True)
    if method == "arithmetic":
        out = np.einsum("zdp,dp->zd", S, WP)
    elif method == "geometric":
        G = np.exp(np.einsum("zdp,dp->zd", np.log1p(0.99 * S), WP))
        out = (G - 1.0) / 99.0 * 100.0
    else:
        raise ConfigError(f"unknown pillar_aggregation {method!r}; expected one of {list(AGGREGATIONS)}")
    return np.clip(out, 0.0, 100.0)


def _ranks(index: np.ndarray) -> np.ndarray:
    """Rank 1 = highest index; ties share the best rank. Works on (zones,) or (zones, draws)."""
    return rankdata(-np.round(index, 9), method="min", axis=0).astype(np.int64)


# --------------------------------------------------------------------------- the estimator


class PriorityIndex:
    """Composite prioritization index over zones, in the style of a scikit-learn estimator.

    Parameters
    ----------
    normalization
        ``"minmax"``, ``"zscore"`` or ``"rank"``.
    log
        Apply log(1 + x) before normalizing (tames heavy-tailed counts).
    winsorize
        ``(low, high)`` quantiles to clip each indicator at, e.g. ``(0.05, 0.95)``.
    weights
        ``"equal"``, or a mapping indicator → weight (any positive scale; rescaled to sum 1).
    directions
        Mapping indicator → ``"higher_is_worse"`` (default) or ``"higher_is_better"``.
    aggregation
        ``"arithmetic"`` or ``"geometric"``.
    tiers
        ``"quantiles"`` (equal-count classes) or ``"natural_breaks"`` (Fisher–Jenks), both
        computed with mapclassify.
    n_tiers
        Number of tiers (2–5); with 3 they are *alta*, *media*, *baja*.
    labels
        Mapping indicator → display name (used in the ``drivers`` explanation).
    lang
        ``"es"`` (default) or ``"en"`` for tier names and explanations.
    pillars
        Optional mapping pillar name → its indicator names (every indicator in exactly one
        pillar): indicators are aggregated per pillar into 0–100 pillar scores, and those
        across pillars into the index (see the module docstring). ``weights`` are then
        relative within each pillar.
    pillar_weights
        ``"equal"`` (or None) or a mapping pillar → weight (any positive scale, zeros allowed);
        only with ``pillars``.
    pillar_aggregation
        ``"arithmetic"`` or ``"geometric"`` across pillars; only with ``pillars``.

    Attributes
    ----------
    raw_ : DataFrame
        The indicator values of the ranked zones (zones with a missing value are in
        ``excluded_`` instead).
    excluded_ : Series
        Zone id → reason, for zones that could not be scored.
    normalized_, contributions_ : DataFrame
        Per zone and indicator; contributions add up to ``index_``.
    weights_ : Series
        Weights used, summing to 1 (with pillars, the effective weights Wₚ w̃ᵢ).
    pillar_scores_ : DataFrame
        With pillars: the score of each pillar on 0–100, zones × pillars.
    pillar_weights_ : Series
        With pillars: the pillar weights used, summing to 1.
    pillar_contributions_ : DataFrame
        With pillars: each pillar's share of the index, zones × pillars; rows add up to ``index_``.
    index_ : Series
        The index on 0–100, by zone.
    rank_ : Series
        1 = highest priority.
    tier_ : Series
        Tier name per zone.
    """

    def __init__(
        self,
        *,
        normalization: Normalization = "minmax",
        log: bool = False,
        winsorize: tuple[float, float] | None = None,
        weights: Literal["equal"] | Mapping[str, float] = "equal",
        directions: Mapping[str, Direction] | None = None,
        aggregation: Aggregation = "arithmetic",
        tiers: TierMethod = "quantiles",
        n_tiers: int = 3,
        labels: Mapping[str, str] | None = None,
        lang: str = DEFAULT_LANG,
        pillars: Mapping[str, Sequence[str]] | None = None,
        pillar_weights: Literal["equal"] | Mapping[str, float] | None = "equal",
        pillar_aggregation: Aggregation = "arithmetic",
    ) -> None:
        self.normalization = normalization
        self.log = log
        self.winsorize = winsorize
        self.weights = weights
        self.directions = directions
        self.aggregation = aggregation
        self.tiers = tiers
        self.n_tiers = n_tiers
        self.labels = labels
        self.lang = lang
        self.pillars = pillars
        self.pillar_weights = pillar_weights
        self.pillar_aggregation = pillar_aggregation

    # -- helpers -------------------------------------------------------------------------

    def get_params(self) -> dict[str, object]:
        """Constructor parameters (for manifests)."""
        return {
            k: getattr(self, k)
            for k in (
                "normalization",
                "log",
                "winsorize",
                "weights",
                "directions",
                "aggregation",
                "tiers",
                "n_tiers",
                "labels",
                "lang",
                "pillars",
                "pillar_weights",
                "pillar_aggregation",
            )
        }

    def _validate(self, X: pd.DataFrame) -> None:
        if self.normalization not in NORMALIZATIONS:
            raise ConfigError(f"unknown normalization {self.normalization!r}; expected one of {list(NORMALIZATIONS)}")
        if self.aggregation not in AGGREGATIONS:
            raise ConfigError(f"unknown aggregation {self.aggregation!r}; expected one of {list(AGGREGATIONS)}")
        if self.aggregation == "geometric" and self.normalization == "zscore":
            raise ConfigError("geometric aggregation needs a bounded normalization ('minmax' or 'rank'), not 'zscore'")
        if self.tiers not in ("quantiles", "natural_breaks"):
            raise ConfigError(f"unknown tier method {self.tiers!r}; expected 'quantiles' or 'natural_breaks'")
        tier_labels(self.n_tiers, self.lang)
        if not isinstance(X, pd.DataFrame) or X.shape[1] == 0:
            raise InputError("the index needs a DataFrame with one column per indicator")
        if not X.index.is_unique:
            raise InputError(f"zone ids must be unique; repeated: {sorted(set(X.index[X.index.duplicated()]))[:5]}")
        for c in X.columns:
            if not pd.api.types.is_numeric_dtype(X[c]):
                raise InputError(f"indicator {c!r} is not numeric (dtype {X[c].dtype})")
        if np.isinf(X.to_numpy(dtype=float)).any():
            bad = X.columns[np.isinf(X.to_numpy(dtype=float)).any(axis=0)].tolist()
            raise InputError(f"indicators {bad} have infinite values (a rate over zero population?)")
        for name, d in (self.directions or {}).items():
            if name not in X.columns:
                raise ConfigError(f"direction given for unknown indicator {name!r}; indicators: {list(X.columns)}")
            if d not in ("higher_is_worse", "higher_is_better"):
                raise ConfigError(f"indicator {name!r}: direction must be 'higher_is_worse' or 'higher_is_better', got {d!r}")
        if self.pillar_aggregation not in AGGREGATIONS:
            raise ConfigError(f"unknown pillar_aggregation {self.pillar_aggregation!r}; expected one of {list(AGGREGATIONS)}")
        if self.pillars is None:
            equal = self.pillar_weights is None or (isinstance(self.pillar_weights, str) and self.pillar_weights == "equal")
            if not equal or self.pillar_aggregation != "arithmetic":
                raise ConfigError("pillar_weights and pillar_aggregation apply only with pillars; give pillars or leave them as defaults")
        else:
            check_pillars(self.pillars, list(X.columns), self.pillar_weights)
            clash = [c for c in X.columns if c in {f"pillar__{p}" for p in self.pillars}]
            if clash:
                raise ConfigError(
                    f"indicators {clash} have the name of a pillar column ('pillar__<name>') of the result table; rename them"
                )

    def _weight_vector(self, columns: Sequence[str]) -> np.ndarray:
        if isinstance(self.weights, str):
            if self.weights != "equal":
                raise ConfigError(f"weights must be 'equal' or a mapping indicator → weight, got {self.weights!r}")
            return np.full(len(columns), 1.0 / len(columns))
        missing = [c for c in columns if c not in self.weights]
        extra = [k for k in self.weights if k not in columns]
        if missing or extra:
            raise ConfigError(f"weights must name every indicator exactly: missing {missing}, unknown {extra}")
        w = np.array([float(self.weights[c]) for c in columns])
        if (w < 0).any() or not np.isfinite(w).all() or w.sum() <= 0:
            raise ConfigError(f"weights must be non-negative with a positive sum, got {dict(zip(columns, w, strict=True))}")
        return w / w.sum()

    def _pillar_layout(self, columns: Sequence[str], w: np.ndarray) -> tuple[list[np.ndarray], np.ndarray, np.ndarray]:
        """Column positions per pillar, the indicator weights rescaled within each pillar and
        the pillar weights (summing to 1), in the order the pillars were given.
        """
        assert self.pillars is not None
        pos = {c: k for k, c in enumerate(columns)}
        groups = [np.array([pos[c] for c in members], dtype=np.int64) for members in self.pillars.values()]
        within = np.zeros_like(w)
        for name, g in zip(self.pillars, groups, strict=True):
            total = w[g].sum()
            if total <= 0:
                raise ConfigError(f"pillar {name!r}: the weights of its indicators {list(self.pillars[name])} sum to 0")
            within[g] = w[g] / total
        if self.pillar_weights is None or isinstance(self.pillar_weights, str):
            wp = np.full(len(groups), 1.0 / len(groups))
        else:
            wp = np.array([float(self.pillar_weights[k]) for k in self.pillars])
            wp = wp / wp.sum()
        return groups, within, wp

    def _prepared(self, X: pd.DataFrame) -> np.ndarray:
        T = transform(X.to_numpy(dtype=float), log=self.log, winsorize=self.winsorize)
        dirs = self.directions or {}
        flip = np.array([dirs.get(c, "higher_is_worse") == "higher_is_better" for c in X.columns])
        T[:, flip] = -T[:, flip]
        return T

    # -- fitting -------------------------------------------------------------------------

    def fit(self, X: pd.DataFrame, *, exclude: Mapping[str, str] | None = None) -> PriorityIndex:
        """Compute the index for the zones (rows) of ``X`` from its indicators (columns).

        Zones with a missing value, and those named in ``exclude`` (zone → reason, e.g.
        a population under the minimum), are left out of the ranking and listed in
        ``excluded_`` with their reason.
        """
        self._validate(X)
        exclude = dict(exclude or {})
        unknown = [z for z in exclude if z not in X.index]
        if unknown:
            raise InputError(f"exclude names zones that are not in the table: {unknown[:5]}")
        nan_rows = X.isna().any(axis=1)
        missing = label("index", "missing_values", self.lang)
        reasons = {z: missing.format(indicators=", ".join(X.columns[X.loc[z].isna()])) for z in X.index[nan_rows]}
        reasons.update(exclude)
        out_mask = X.index.isin(list(reasons))
        self.excluded_ = pd.Series([reasons[z] for z in X.index[out_mask]], index=X.index[out_mask], dtype="string", name="excluded")
        Xk = X.loc[~out_mask]
        if len(Xk) < 2:
            raise InputError(f"the index needs at least 2 zones with every indicator; {len(Xk)} of {len(X)} have them")
        self.raw_ = Xk.copy()
        w = self._weight_vector(list(X.columns))
        self.prepared_ = self._prepared(Xk)
        N = normalize(self.prepared_, self.normalization)
        bounded = self.normalization != "zscore"
        if self.pillars is None:
            self.weights_ = pd.Series(w, index=X.columns, name="weight")
            idx = aggregate(N, w, self.aggregation, bounded=bounded)
            contrib = _contributions(N, w, self.aggregation, bounded, idx)
        else:
            idx, contrib = self._fit_pillars(N, w, list(X.columns), Xk.index, bounded)
        self.normalized_ = pd.DataFrame(N, index=Xk.index, columns=X.columns)
        self.contributions_ = pd.DataFrame(contrib, index=Xk.index, columns=X.columns)
        self.index_ = pd.Series(idx, index=Xk.index, name="index")
        self.rank_ = pd.Series(_ranks(idx), index=Xk.index, name="rank")
        self.tier_ = pd.Series(self._tiers(idx), index=Xk.index, name="tier", dtype="string")
        return self

    def _fit_pillars(
        self, N: np.ndarray, w: np.ndarray, columns: list[str], zones: pd.Index, bounded: bool
    ) -> tuple[np.ndarray, np.ndarray]:
        """Pillar scores, the index across pillars and the indicator contributions."""
        assert self.pillars is not None
        groups, within, wp = self._pillar_layout(columns, w)
        names = list(self.pillars)
        S = np.empty((N.shape[0], len(groups)))
        inner = []  # per pillar: the indicators' contributions to the pillar score
        for k, g in enumerate(groups):
            S[:, k] = aggregate(N[:, g], within[g], self.aggregation, bounded=bounded)
            inner.append(_contributions(N[:, g], within[g], self.aggregation, bounded, S[:, k]))
        idx = _combine_pillars(S[:, None, :], wp[None, :], self.pillar_aggregation)[:, 0]
        if self.pillar_aggregation == "arithmetic":
            shares = S * wp
        else:
            L = np.log1p(0.99 * S) * wp
            total = L.sum(axis=1, keepdims=True)
            shares = np.divide(L * idx[:, None], total, out=np.zeros_like(L), where=total > 0)
        contrib = np.zeros_like(N)
        for k, g in enumerate(groups):
            if self.pillar_aggregation == "arithmetic":
                contrib[:, g] = wp[k] * inner[k]
            else:
                scale = np.divide(shares[:, k], S[:, k], out=np.zeros(len(S)), where=S[:, k] > 0)
                contrib[:, g] = inner[k] * scale[:, None]
        eff = np.zeros_like(w)
        for k, g in enumerate(groups):
            eff[g] = wp[k] * within[g]
        self.weights_ = pd.Series(eff, index=columns, name="weight")
        self.pillar_weights_ = pd.Series(wp, index=names, name="pillar_weight")
        self.pillar_scores_ = pd.DataFrame(S, index=zones, columns=names)
        self.pillar_contributions_ = pd.DataFrame(shares, index=zones, columns=names)
        self._pillar_groups = groups
        self._pillar_within = within
        return idx, contrib

    def _tiers(self, idx: np.ndarray) -> list[str]:
        import mapclassify

        labels = tier_labels(self.n_tiers, self.lang)
        k = min(self.n_tiers, len(np.unique(np.round(idx, 9))))
        if k < 2:
            return [labels[0]] * len(idx)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # mapclassify warns when classes collapse on ties
            cls = mapclassify.Quantiles(idx, k=k) if self.tiers == "quantiles" else mapclassify.FisherJenks(idx, k=k)
        yb = np.asarray(cls.yb)
        # map the k classes onto the top k labels' spread: with fewer classes than asked, keep ends
        positions = np.round(np.linspace(0, self.n_tiers - 1, k)).astype(int) if k < self.n_tiers else np.arange(k)
        return [labels[positions[b]] for b in yb]

    def _check_fitted(self) -> None:
        if not hasattr(self, "index_"):
            raise RuntimeError("this PriorityIndex is not fitted yet; call fit(X) first")

    # -- outputs -------------------------------------------------------------------------

    def drivers(self, top: int = 3) -> pd.Series:
        """The indicators that contribute most to each zone's index, as text."""
        self._check_fitted()
        labels = dict(self.labels or {})
        names = [labels.get(i, i) for i in self.contributions_.columns]
        C = self.contributions_.to_numpy(dtype=float)
        total = self.index_.to_numpy(dtype=float)
        order = np.argsort(-C, axis=1, kind="stable")[:, :top]  # largest first; ties keep the indicators' order
        top_c = np.take_along_axis(C, order, axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            share = 100 * top_c / total[:, None]
        out = [
            "; ".join(f"{names[j]} {p:.0f} %" for j, v, p in zip(order[r], top_c[r], share[r], strict=True) if v > 0)
            if np.isfinite(total[r]) and total[r] != 0
            else ""
            for r in range(len(C))
        ]
        return pd.Series(out, index=self.contributions_.index, name="drivers", dtype="string")

    def table(self) -> pd.DataFrame:
        """One row per zone, best-ranked first: index, rank, tier, drivers, and per indicator
        its raw value, normalized value and contribution. Excluded zones come last, unranked.
        """
        self._check_fitted()
        cols: dict[str, pd.Series] = {
            "index": self.index_.round(4),
            "rank": self.rank_,
            "tier": self.tier_,
            "drivers": self.drivers(),
        }
        if self.pillars is not None:
            for p in self.pillar_scores_.columns:
                cols[f"pillar__{p}"] = self.pillar_scores_[p].round(4)
        for c in self.raw_.columns:
            cols[f"{c}"] = self.raw_[c]
            cols[f"{c}__norm"] = self.normalized_[c].round(6)
            cols[f"{c}__contrib"] = self.contributions_[c].round(4)
        t = pd.DataFrame(cols)
        t.index.name = "zone_id"
        t = t.sort_values(["rank"], kind="stable")
        if len(self.excluded_):
            ex = pd.DataFrame(index=self.excluded_.index)
            ex.index.name = "zone_id"
            ex["excluded"] = self.excluded_
            t = pd.concat([t, ex])
            t["rank"] = t["rank"].astype("Int64")
        return t

    # -- robustness ----------------------------------------------------------------------

    def robustness(
        self,
        *,
        n_draws: int = 1000,
        weight_spread: float = 0.5,
        normalizations: Sequence[str] = NORMALIZATIONS,
        aggregations: Sequence[str] | None = None,
        top_k: int = 10,
        random_state: int | np.random.Generator | None = None,
        alternatives: Mapping[str, pd.DataFrame] | None = None,
        pillar_aggregations: Sequence[str] | None = None,
    ) -> pd.DataFrame:
        """Monte Carlo uncertainty analysis of the ranks (OECD/JRC handbook, ch. 7).

        Each draw multiplies every weight by an independent uniform factor in
        [1 − spread, 1 + spread] (then renormalizes), picks a normalization from
        ``normalizations`` and an aggregation from ``aggregations`` (the fitted one by
        default; z-score is never combined with geometric aggregation) and ranks the zones.
        Transform options (log, winsorize, directions) stay as fitted.

        ``alternatives`` adds another source of uncertainty: name → a table with the same
        indicators as ``X`` computed another way (e.g. rates per ambient population, Empirical
        Bayes rates, densities or counts instead of raw rates); each draw then also picks
        one of them (the fitted table counts as one, named ``"nominal"``).

        With pillars, the indicator weights are perturbed and renormalized within their
        pillar, the pillar weights are perturbed the same way (each by an independent factor
        in [1 − spread, 1 + spread]), ``aggregations`` applies within pillars and each draw
        also picks an aggregation across pillars from ``pillar_aggregations`` (the fitted
        ``pillar_aggregation`` by default).

        Returns
        -------
        DataFrame
            Per zone: ``rank_median``, ``rank_p05``, ``rank_p95`` (the 5–95 % rank
            interval), ``p_top_k`` (share of draws in which the zone ranks in the top
            ``top_k``) and ``rank_nominal``.
        """
        self._check_fitted()
        if n_draws < 1:
            raise ConfigError(f"n_draws must be at least 1, got {n_draws}")
        if not 0 <= weight_spread < 1:
            raise ConfigError(f"weight_spread must be in [0, 1), got {weight_spread}")
        if top_k < 1:
            raise ConfigError(f"top_k must be at least 1, got {top_k}")
        aggregations = tuple(aggregations) if aggregations is not None else (self.aggregation,)
        for m in normalizations:
            if m not in NORMALIZATIONS:
                raise ConfigError(f"unknown normalization {m!r} in robustness; expected {list(NORMALIZATIONS)}")
        for a in aggregations:
            if a not in AGGREGATIONS:
                raise ConfigError(f"unknown aggregation {a!r} in robustness; expected {list(AGGREGATIONS)}")
        if self.pillars is None:
            if pillar_aggregations is not None:
                raise ConfigError("pillar_aggregations in robustness needs an index fitted with pillars")
            across: tuple[str, ...] = ("arithmetic",)
        else:
            across = tuple(pillar_aggregations) if pillar_aggregations is not None else (self.pillar_aggregation,)
            for a in across:
                if a not in AGGREGATIONS:
                    raise ConfigError(f"unknown pillar aggregation {a!r} in robustness; expected {list(AGGREGATIONS)}")
        tables = {"nominal": self.prepared_}
        for name, alt in (alternatives or {}).items():
            if list(alt.columns) != list(self.raw_.columns):
                raise ConfigError(f"alternative {name!r} must have the indicators {list(self.raw_.columns)}, got {list(alt.columns)}")
            alt = alt.reindex(self.raw_.index)
            if alt.isna().any().any():
                missing = list(alt.index[alt.isna().any(axis=1)][:5])
                raise ConfigError(f"alternative {name!r} has no value for zones {missing} that the index ranks")
            tables[name] = self._prepared(alt)
        combos = [
            (t, m, a, pa)
            for t in tables
            for m in normalizations
            for a in aggregations
            for pa in across
            if not (m == "zscore" and a == "geometric")
        ]
        if not combos:
            raise ConfigError("robustness: no valid normalization/aggregation combination")
        rng = np.random.default_rng(random_state)
        w0 = self.weights_.to_numpy() if self.pillars is None else self._pillar_within
        W = w0 * rng.uniform(1 - weight_spread, 1 + weight_spread, size=(n_draws, len(w0)))
        if self.pillars is None:
            W = W / W.sum(axis=1, keepdims=True)
        else:  # rescaled within each pillar by aggregate(); the pillar weights drawn alike
            p0 = self.pillar_weights_.to_numpy()
            WP = p0 * rng.uniform(1 - weight_spread, 1 + weight_spread, size=(n_draws, len(p0)))
            WP = WP / WP.sum(axis=1, keepdims=True)
        pick = rng.integers(0, len(combos), size=n_draws)
        n = len(self.raw_)
        scores = np.empty((n, n_draws))
        normalized = {(t, m): normalize(tables[t], m) for t, m, _a, _pa in combos}
        for j, (t, m, a, pa) in enumerate(combos):
            cols = np.flatnonzero(pick == j)
            if not cols.size:
                continue
            Nm = normalized[(t, m)]
            if self.pillars is None:
                scores[:, cols] = aggregate(Nm, W[cols], a, bounded=m != "zscore")
            else:
                S = np.stack([aggregate(Nm[:, g], W[np.ix_(cols, g)], a, bounded=m != "zscore") for g in self._pillar_groups], axis=2)
                scores[:, cols] = _combine_pillars(S, WP[cols], pa)
        ranks = _ranks(scores)
        self.draw_ranks_ = ranks
        out = pd.DataFrame(
            {
                "rank_nominal": self.rank_.to_numpy(),
                "rank_median": np.median(ranks, axis=1),
                "rank_p05": np.quantile(ranks, 0.05, axis=1, method="inverted_cdf").astype(int),
                "rank_p95": np.quantile(ranks, 0.95, axis=1, method="inverted_cdf").astype(int),
                f"p_top_{top_k}": (ranks <= top_k).mean(axis=1),
            },
            index=self.raw_.index,
        )
        out.index.name = "zone_id"
        return out
