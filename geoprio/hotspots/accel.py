"""Optional numba acceleration and the progress-callback protocol of the hot-spot cores.

numba is optional (``pip install geoprio[fast]``): without it the numeric cores run their
vectorized numpy versions, which give the same results, more slowly. ``GEOPRIO_NO_NUMBA=1``
in the environment forces the numpy versions (tests compare both; benchmarks time both).

Long computations take ``progress``, a callable ``progress(step, done, total)``: ``step`` a
short code (``"gistar_permutations"``, ``"dbscan"``, ``"hdbscan"``…), ``done`` out of
``total`` units. The library never imports rich; :mod:`geoprio.cli.progress` draws the bar.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from typing import Any

__all__ = ["HAVE_NUMBA", "PARALLEL_LOCK", "ProgressCallback", "jit", "numba_enabled", "report"]

#: held while a parallel compiled kernel runs: numba's threading layers other than TBB must not
#: launch parallel regions from several threads at once (API workers run jobs in threads)
PARALLEL_LOCK = threading.Lock()

#: ``progress(step, done, total)``
ProgressCallback = Callable[[str, int, int], None]

_numba: Any
try:  # pragma: no cover - depends on the environment
    import numba as _numba

    HAVE_NUMBA = True
except ImportError:  # pragma: no cover
    _numba = None
    HAVE_NUMBA = False


def numba_enabled() -> bool:
    """Whether numba is installed and not disabled with ``GEOPRIO_NO_NUMBA=1``."""
    return HAVE_NUMBA and os.environ.get("GEOPRIO_NO_NUMBA", "") not in ("1", "true", "yes")


def jit(parallel: bool = False) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """``numba.njit(cache=True, nogil=True)`` when numba is installed; the plain function otherwise."""

    def wrap(fn: Callable[..., Any]) -> Callable[..., Any]:
        if _numba is None:  # pragma: no cover
            return fn
        compiled: Callable[..., Any] = _numba.njit(cache=True, nogil=True, parallel=parallel)(fn)
        return compiled

    return wrap


#: ``numba.prange`` inside compiled functions, ``range`` in plain Python
prange: Callable[..., Any] = range if _numba is None else _numba.prange


def report(progress: ProgressCallback | None, step: str, done: int, total: int) -> None:
    """Call ``progress`` if given."""
    if progress is not None:
        progress(step, int(done), int(total))
