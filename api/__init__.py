"""geoprio's HTTP API (FastAPI).

It serves what ``geoprio index`` (and the hot-spot and plan commands) wrote into a data
directory: ranked zone lists, each zone's explanation and rank interval, hot spots, plans
and maps; it computes new plans as background jobs. Start it with ``geoprio serve``.
"""
