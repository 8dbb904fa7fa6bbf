"""The grid self-exciting point process: parameters recovered from a simulation, the forecast by hand."""

from __future__ import annotations

import numpy as np
import pytest

from geoprio.errors import InputError
from geoprio.hotspots.forecast_methods import Past, forecast_surface
from geoprio.hotspots.forecast_sepp import SeppFit, fit_sepp, sepp_forecast, simulate_sepp


def test_em_recovers_a_simulated_process():
    # 300 cells, background 0.005–0.04 a day, each incident triggers 0.3 more after 5 days on average
    rng = np.random.default_rng(3)
    mu = rng.uniform(0.005, 0.04, 300)
    cell, t = simulate_sepp(mu, 0.3, 0.2, 1000.0, seed=1)
    fit = fit_sepp(cell, t, 300, 1000.0, max_lag_days=365.0)
    # tolerances: the closed-form M-step ignores the edge at T, and the sample is finite (≈ 10,000 incidents)
    assert fit.theta == pytest.approx(0.3, abs=0.05)
    assert fit.omega == pytest.approx(0.2, rel=0.2)
    assert fit.mu.sum() == pytest.approx(mu.sum(), rel=0.1)
    assert np.corrcoef(fit.mu, mu)[0, 1] > 0.8
    # a process without triggering: θ goes to (nearly) 0 and μ to the counts / T
    c0, t0 = simulate_sepp(mu, 0.0, 0.2, 1000.0, seed=2)
    fit0 = fit_sepp(c0, t0, 300, 1000.0)
    assert fit0.theta < 0.02
    assert fit0.mu == pytest.approx(np.bincount(c0, minlength=300) / 1000.0, abs=0.01)


def test_forecast_by_hand():
    # cell 0: μ = 0.1 a day; one incident in cell 1 two days before T; θ = 0.5, ω = 0.25 a day
    fit = SeppFit(mu=np.array([0.1, 0.0]), theta=0.5, omega=0.25, T=10.0, cell=np.array([1]), t=np.array([8.0]), iterations=0)
    got = sepp_forecast(fit, 7.0)
    # cell 0: 0.1 × 7; cell 1: 0.5 (e^(−0.25·2) − e^(−0.25·9))
    assert got.tolist() == pytest.approx([0.7, 0.5 * (np.exp(-0.5) - np.exp(-2.25))])


def test_surface_uses_the_window_and_errors():
    past = Past(cell=np.array([0, 0, 1, 1]), xy=np.zeros((4, 2)), age_days=np.array([400.0, 300.0, 20.0, 10.0]), weight=np.ones(4))
    centres = np.zeros((2, 2))
    # a window of 365 days leaves out the incident 400 days old: the surfaces differ from the 1,095-day window
    short = forecast_surface("sepp", past, centres, cell_size_m=100.0, params={"window_days": 365.0}, horizon_days=30.0)
    long = forecast_surface("sepp", past, centres, cell_size_m=100.0, params={"window_days": 1095.0}, horizon_days=30.0)
    assert short.shape == (2,) and (short >= 0).all() and not np.allclose(short, long)
    with pytest.raises(InputError, match="theta must be in"):
        simulate_sepp(np.ones(2), 1.2, 0.1, 10.0)
    with pytest.raises(InputError, match="T_days must be positive"):
        fit_sepp(np.array([0]), np.array([0.0]), 1, 0.0)


def test_simultaneous_incidents_cap_omega():
    # pairs of incidents at the same time in the same cell (one event, two victims): the
    # delay 0 would send ω to infinity; it stops at the cap of 24 a day, with finite forecasts
    t = np.repeat(np.arange(5.0, 100.0, 10.0), 2)
    fit = fit_sepp(np.zeros(len(t), dtype=np.int64), t, 1, 100.0)
    assert fit.omega == pytest.approx(24.0)
    assert np.isfinite(sepp_forecast(fit, 30.0)).all()
