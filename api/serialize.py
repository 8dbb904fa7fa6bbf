"""JSON-safe values for responses built from pandas and NumPy data, and the links of a page."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import numpy as np
import pandas as pd
from starlette.requests import Request

__all__ = ["json_value", "page_links"]


def json_value(v: Any) -> Any:
    """A JSON-safe value: NaN → None, timestamps → ISO text, numpy scalars → Python."""
    if v is None or v is pd.NaT:
        return None
    if isinstance(v, (pd.Timestamp, dt.datetime, dt.date)):
        return v.isoformat()
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float) and math.isnan(v):
        return None
    return v


def page_links(request: Request, page: int, has_next: bool) -> list[dict[str, str]]:
    """GeoJSON ``links`` of one page of a paged route: ``self``, and ``next``/``prev`` (absolute
    URLs with the same parameters and another ``page``) where there is such a page.
    """
    links = [{"href": str(request.url), "rel": "self", "type": "application/geo+json"}]
    if has_next:
        links.append({"href": str(request.url.include_query_params(page=page + 1)), "rel": "next", "type": "application/geo+json"})
    if page > 1:
        links.append({"href": str(request.url.include_query_params(page=page - 1)), "rel": "prev", "type": "application/geo+json"})
    return links
