"""The options of a hot-spot analysis: :class:`HotspotOptions`, a frozen pydantic model.

Every parameter of the grid, Gi*, the kernel density, the density clusters and the emerging
hot spots, with its default and its checks; a bad value raises one
:class:`~geoprio.errors.InputError` naming the parameter, the value and what was expected.
The same options serve :func:`geoprio.hotspots.find.find_hotspots` and
:func:`geoprio.hotspots.backtest_run.run_backtest`, and are recorded in every manifest.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import ValidationError, field_validator, model_validator

from geoprio.errors import InputError
from geoprio.hotspots.density import KERNELS, default_bandwidth
from geoprio.options import Options
from geoprio.settings import DEFAULT_LANG, DEFAULT_METRIC_CRS, DEFAULT_SEED, Lang
from geoprio.zones.layers import check_metric_crs

__all__ = ["PERIOD_FREQ", "HotspotOptions", "TimeBin", "as_timestamp", "check_positive", "options_error"]

#: Time bins of the emerging hot spots.
TimeBin = Literal["year", "quarter", "month", "week"]

#: pandas period frequency of each time bin.
PERIOD_FREQ: dict[str, str] = {"year": "Y", "quarter": "Q", "month": "M", "week": "W"}


def check_positive(name: str, value: float | None, *, allow_none: bool = True, allow_zero: bool = False) -> None:
    """Raise :class:`InputError` unless ``value`` is a finite positive (or non-negative) number."""
    if value is None:
        if not allow_none:
            raise InputError(f"{name} is required")
        return
    ok = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool) and math.isfinite(value)
    if not ok or value < 0 or (value == 0 and not allow_zero):
        expected = "a non-negative" if allow_zero else "a positive"
        unit = " of metres" if name.endswith("_m") else ""
        raise InputError(f"{name} must be {expected} number{unit}, got {value!r}")


def as_timestamp(value: dt.date | str | pd.Timestamp, name: str) -> pd.Timestamp:
    """``value`` as a pandas Timestamp; an :class:`InputError` naming ``name`` when it is not a date."""
    try:
        ts = pd.Timestamp(value)
    except (ValueError, TypeError):
        raise InputError(f"{name}: {value!r} is not a date; expected e.g. 2018-01-01") from None
    if pd.isna(ts):
        raise InputError(f"{name}: {value!r} is not a date; expected e.g. 2018-01-01")
    return ts


def _value_error(fn: Any, *args: Any, **kwargs: Any) -> None:
    """Run a check that raises :class:`InputError` and re-raise it as the ``ValueError`` pydantic collects."""
    try:
        fn(*args, **kwargs)
    except InputError as exc:
        raise ValueError(str(exc)) from None


def options_error(exc: ValidationError) -> InputError:
    """One :class:`InputError` from a pydantic error: each bad parameter, its value and what was expected."""
    parts = []
    for e in exc.errors():
        loc = ".".join(str(p) for p in e["loc"])
        msg = str(e["msg"]).removeprefix("Value error, ")
        if e["type"] == "extra_forbidden":
            parts.append(f"unknown option {loc!r}")
        elif loc and msg.startswith(loc.split(".")[-1]):
            parts.append(msg)
        else:
            parts.append(f"{loc or 'options'}: {msg}, got {e.get('input')!r}")
    return InputError("; ".join(parts))


class HotspotOptions(Options):
    """Every parameter of a hot-spot run (recorded in the manifest).

    Attributes
    ----------
    cell_size_m
        Grid cell size (square side, or hexagon width across flats): 150 m by default,
        about a block with its streets, like the 500-ft cells of US evaluations.
    shape
        ``"square"`` or ``"hex"``.
    weights, distance_m, k
        Gi* neighbours: a distance band (default ``1.5 × cell_size_m``: the 8 cells around
        a square, the 6 around a hexagon) or the ``k`` nearest cells.
    permutations, random_state
        Gi* conditional permutations (seeded); 0, the default, is analytic inference, as
        ArcGIS's Hot Spot Analysis does. With the FDR correction over thousands of cells
        permutations need to be many (the smallest p-value is ``1/(P + 1)``): 9,999 or more.
    fdr
        Benjamini–Hochberg correction of the Gi* p-values before classing (default on).
    bandwidth_m, kernel
        Kernel density radius in metres: by default twice the cell size (300 m with
        150 m cells), local enough to predict where the next incidents fall (see the
        README's backtests: wider kernels lose to prior counts at small flagged areas);
        ``"silverman"`` uses ArcGIS's spatial Silverman rule (:func:`geoprio.hotspots.density.default_bandwidth`,
        smoother, for city-wide maps). The kernel is ``"quartic"`` by default.
    clusters, eps_m, min_samples, min_cluster_size, min_membership, selection, engine
        ``"hdbscan"``, ``"dbscan"`` or ``"none"``, and their parameters
        (:class:`geoprio.hotspots.clusters.DensityClusters`).
    hull_ratio, hull_buffer_m
        Cluster polygons: concave-hull ratio and buffer.
    time_bin, alpha, trend_alpha
        Emerging hot spots: ``"year"``, ``"quarter"``, ``"month"``, ``"week"`` or None
        (skip); bin significance and trend significance.
    metric_crs
        Projected CRS in metres.
    lang
        ``"es"`` or ``"en"`` for labels.

    A bad value raises :class:`~geoprio.errors.InputError` when the options are built.
    """

    cell_size_m: float = 150.0
    shape: Literal["square", "hex"] = "square"
    weights: Literal["distance", "knn"] = "distance"
    distance_m: float | None = None
    k: int = 8
    permutations: int = 0
    random_state: int = DEFAULT_SEED
    fdr: bool = True
    bandwidth_m: float | Literal["silverman"] | None = None
    kernel: str = "quartic"
    clusters: Literal["hdbscan", "dbscan", "none"] = "hdbscan"
    eps_m: float | None = None
    min_samples: float | None = None
    min_cluster_size: int | None = None
    min_membership: float = 0.1
    selection: Literal["leaf", "eom"] = "leaf"
    engine: Literal["auto", "knn", "hdbscan", "sklearn", "fast_hdbscan"] = "auto"
    hull_ratio: float = 0.3
    hull_buffer_m: float = 25.0
    time_bin: TimeBin | None = "year"
    alpha: float = 0.05
    trend_alpha: float = 0.05
    metric_crs: str = DEFAULT_METRIC_CRS
    lang: Lang = DEFAULT_LANG

    def __init__(self, **data: Any) -> None:
        try:
            super().__init__(**data)
        except ValidationError as exc:
            raise options_error(exc) from None
        check_metric_crs(self.metric_crs)

    @field_validator("cell_size_m", "distance_m", "eps_m", mode="before")
    @classmethod
    def _positive_m(cls, v: Any, info: Any) -> Any:
        _value_error(check_positive, info.field_name, v, allow_none=info.field_name != "cell_size_m")
        return v

    @field_validator("hull_buffer_m", mode="before")
    @classmethod
    def _non_negative_m(cls, v: Any, info: Any) -> Any:
        _value_error(check_positive, info.field_name, v, allow_zero=True, allow_none=False)
        return v

    @field_validator("bandwidth_m", mode="before")
    @classmethod
    def _bandwidth(cls, v: Any) -> Any:
        if v != "silverman":
            _value_error(check_positive, "bandwidth_m", v)
        return v

    @field_validator("min_samples")
    @classmethod
    def _min_samples(cls, v: float | None) -> float | None:
        if v is not None and (not math.isfinite(v) or v < 1):
            raise ValueError(f"min_samples must be at least 1, got {v!r}")
        return v

    @field_validator("min_cluster_size")
    @classmethod
    def _min_cluster_size(cls, v: int | None) -> int | None:
        if v is not None and v < 2:
            raise ValueError(f"min_cluster_size must be at least 2, got {v!r}")
        return v

    @field_validator("permutations")
    @classmethod
    def _permutations(cls, v: int) -> int:
        if v < 0:
            raise ValueError(f"permutations must be 0 or more, got {v!r}")
        return v

    @field_validator("kernel")
    @classmethod
    def _kernel(cls, v: str) -> str:
        if v not in KERNELS:
            raise ValueError(f"kernel must be one of {list(KERNELS)}, got {v!r}")
        return v

    @field_validator("min_membership")
    @classmethod
    def _membership(cls, v: float) -> float:
        if not 0 <= v < 1:
            raise ValueError(f"min_membership must be in [0, 1), got {v!r}")
        return v

    @field_validator("hull_ratio")
    @classmethod
    def _hull_ratio(cls, v: float) -> float:
        if not 0 <= v <= 1:
            raise ValueError(f"hull_ratio must be in [0, 1], got {v!r}")
        return v

    @field_validator("alpha", "trend_alpha")
    @classmethod
    def _alpha(cls, v: float, info: Any) -> float:
        if not 0 < v < 1:
            raise ValueError(f"{info.field_name} must be in (0, 1), got {v!r}")
        return v

    @model_validator(mode="after")
    def _k(self) -> HotspotOptions:
        if self.weights == "knn" and (isinstance(self.k, bool) or self.k < 1):
            raise ValueError(f"k must be a positive integer, got {self.k!r}")
        return self

    def validate(self) -> HotspotOptions:  # type: ignore[override]
        """The options themselves: they are checked when built (kept for older callers)."""
        return self

    @property
    def band_m(self) -> float:
        """The Gi* distance band in metres."""
        return float(self.distance_m) if self.distance_m is not None else 1.5 * float(self.cell_size_m)

    def kde_bandwidth(self, xy: np.ndarray, weights: np.ndarray) -> float:
        """The KDE bandwidth for these points: given, twice the cell size (default) or ArcGIS's rule."""
        if self.bandwidth_m is None:
            return 2.0 * float(self.cell_size_m)
        if self.bandwidth_m == "silverman":
            return default_bandwidth(xy, weights, min_m=self.cell_size_m)
        return float(self.bandwidth_m)

    def to_dict(self) -> dict[str, Any]:
        """The options as the manifest's ``parameters.options`` records them (with the band used)."""
        d = self.model_dump()
        d["distance_m_used"] = self.band_m if self.weights == "distance" else None
        return d
