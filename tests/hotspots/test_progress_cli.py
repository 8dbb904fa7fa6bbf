"""The rich progress helper: one bar per running step, removed when the step ends, silent off a terminal."""

from __future__ import annotations

import io

import numpy as np
from rich.console import Console

from geoprio.cli.progress import console_progress
from geoprio.hotspots.gistar import distance_band_weights, gi_star


def test_bars_follow_the_steps_and_go_away():
    con = Console(file=io.StringIO(), force_terminal=True, width=100)
    with console_progress("es", console=con) as progress:
        progress("gistar_permutations", 0, 10)
        progress("gistar_permutations", 4, 10)
        bar = progress._progress
        assert bar is not None and len(bar.tasks) == 1 and bar.tasks[0].completed == 4
        progress("dbscan", 0, 1)
        assert len(bar.tasks) == 2
        progress("gistar_permutations", 10, 10)
        progress("dbscan", 1, 1)
        assert len(bar.tasks) == 0


def test_off_a_terminal_nothing_is_drawn_and_the_library_runs():
    buf = io.StringIO()
    con = Console(file=buf, force_terminal=False)
    gx, gy = np.meshgrid(np.arange(20) * 100.0, np.arange(20) * 100.0)
    xy = np.column_stack([gx.ravel(), gy.ravel()])
    y = np.random.default_rng(1).gamma(2.0, 1.0, len(xy))
    with console_progress("en", console=con) as progress:
        r = gi_star(y, distance_band_weights(xy, distance_m=150), permutations=19, random_state=2, progress=progress)
    assert buf.getvalue() == "" and r.p_sim is not None
