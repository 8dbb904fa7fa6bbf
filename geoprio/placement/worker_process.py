"""Entry point of a solver worker process: ``python -m geoprio.placement.worker_process``.

Started by :class:`geoprio.placement.workers.Worker`; runs :func:`geoprio.placement.workers.serve`
(one task read from standard input, messages back through the original standard output).
Nothing imports this module, so running it with ``-m`` executes it exactly once.
"""

from __future__ import annotations

import sys

from geoprio.placement.workers import serve

if __name__ == "__main__":  # pragma: no cover - the worker process
    sys.exit(serve())
