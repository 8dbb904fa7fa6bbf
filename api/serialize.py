"""JSON-safe values for responses built from pandas and NumPy data."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["json_value"]


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
