"""Kernel density on grid cells: kernels by hand and against scikit-learn, the bandwidth rule, errors."""

from __future__ import annotations

import math

import numpy as np
import pytest
from sklearn.neighbors import KernelDensity

from geoprio.errors import InputError
from geoprio.hotspots.density import default_bandwidth, kernel_density


def test_epanechnikov_equals_scikit_learn():
    rng = np.random.default_rng(0)
    pts = rng.normal(0, 300, (2000, 2))
    at = rng.uniform(-900, 900, (400, 2))
    ours = kernel_density(pts, at, bandwidth_m=200, kernel="epanechnikov")
    ref = np.exp(KernelDensity(kernel="epanechnikov", bandwidth=200).fit(pts).score_samples(at)) * len(pts) * 1e6
    # scikit-learn works in log space: where no point is in reach it returns ~1e-13 instead of 0
    assert np.allclose(ours, ref, rtol=1e-10, atol=1e-9)
    assert (ours > 0).sum() > 300


def test_quartic_by_hand_and_weights_count_like_duplicates():
    h = 400.0
    pts = np.array([[0.0, 0.0]])
    at = np.array([[0.0, 0.0], [200.0, 0.0], [0.0, 400.0], [500.0, 0.0]])
    d = kernel_density(pts, at, bandwidth_m=h)
    expected = [3 / math.pi / h**2 * 1e6, 3 / math.pi * (1 - 0.25) ** 2 / h**2 * 1e6, 0.0, 0.0]
    assert d == pytest.approx(expected, rel=1e-12, abs=1e-15)
    two = kernel_density(np.array([[0.0, 0.0], [0.0, 0.0]]), at, bandwidth_m=h)
    weighted = kernel_density(pts, at, bandwidth_m=h, weights=np.array([2.0]))
    assert weighted == pytest.approx(two)
    uni = kernel_density(pts, at, bandwidth_m=h, kernel="uniform")
    assert uni[:2] == pytest.approx([1 / math.pi / h**2 * 1e6] * 2)


def test_density_integrates_to_the_number_of_points():
    rng = np.random.default_rng(1)
    pts = rng.uniform(2000, 3000, (50, 2))
    g = np.arange(0, 5000, 20.0) + 10
    gx, gy = np.meshgrid(g, g)
    at = np.column_stack([gx.ravel(), gy.ravel()])
    d = kernel_density(pts, at, bandwidth_m=300)
    total = d.sum() * (20 * 20) / 1e6  # per km² times cell area in km²
    assert total == pytest.approx(50, rel=2e-3)


def test_default_bandwidth_by_hand():
    # four points 100 m from their centre: standard distance 100, median distance 100
    pts = np.array([[100.0, 0], [-100, 0], [0, 100], [0, -100]])
    h = 0.9 * min(100.0, math.sqrt(1 / math.log(2)) * 100.0) * 4 ** (-0.2)
    assert default_bandwidth(pts) == pytest.approx(h)
    assert default_bandwidth(pts, min_m=150) == 150


def test_errors():
    pts = np.zeros((3, 2))
    with pytest.raises(InputError, match="bandwidth_m must be a positive number of metres, got -5"):
        kernel_density(pts, pts, bandwidth_m=-5)
    with pytest.raises(InputError, match="kernel must be one of"):
        kernel_density(pts, pts, bandwidth_m=5, kernel="gaussian")  # type: ignore[arg-type]
    with pytest.raises(InputError, match="all points are at the same place"):
        default_bandwidth(pts)
    with pytest.raises(InputError, match=r"weights must have one value per point \(3\)"):
        kernel_density(pts, pts, bandwidth_m=5, weights=np.ones(2))
