"""The one disclosure policy: which counts are too small to publish, and how well a hidden
count must be protected.

Incident records can identify people (Ley 1581 de 2012). A count of 1 to ``min_count - 1``
records in a published unit (a zone's indicator, a hot-spot cell, a place, a cluster, a
period, an hour) is *primary suppressed*; a count of 0 is published (it identifies nobody).
Every value derived from a hidden count (rates, shares, scores, densities, harm, profiles,
peak hours, drivers, targets, baselines) is hidden with it, and where margins are published
(totals, parent levels, an index that is the sum of its contributions) further cells are
hidden (*complementary suppression*, :mod:`geoprio.disclosure.complementary`) so that no
hidden count can be derived within ``protection`` records of its true value.

``None`` in place of a policy means full access (a key with the ``read:records`` scope, or a
command run without ``--public``): nothing is hidden.

The default threshold, 10, follows the rule CDC WONDER applies to sub-national counts of
deaths (counts of 0 to 9 are suppressed; here 0 is published, as a zero identifies nobody).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from pydantic import Field

from geoprio.options import Options

__all__ = ["DEFAULT_MIN_COUNT", "DisclosurePolicy", "disclosure_of", "disclosure_record", "hidden_counts"]

#: Counts from 1 to DEFAULT_MIN_COUNT - 1 are hidden from the public (see the module docstring).
DEFAULT_MIN_COUNT = 10


class DisclosurePolicy(Options):
    """What a public release hides.

    ``min_count``: a published count of 1 to ``min_count - 1`` records is hidden.
    ``protection``: an attacker who knows every published value and every relation between
    them (sums, totals, linear scores) must not be able to bound a hidden count more tightly
    than ``protection`` records on either side of its true value (clipped at the a-priori bound
    of 1, since zeros are published); default ``ceil(min_count / 2)``.
    ``min_site_spacing_m``: published sites (plans) are candidate points of a grid at least
    this coarse, never single incidents.
    """

    min_count: int = Field(DEFAULT_MIN_COUNT, ge=1, description="counts from 1 to min_count - 1 are hidden")
    protection: int | None = Field(None, ge=1, description="± records a hidden count must stay uncertain by; default ceil(min_count/2)")
    min_site_spacing_m: float = Field(100.0, gt=0, description="published sites come from a candidate grid at least this coarse")

    @property
    def protection_level(self) -> int:
        """The protection interval, in records, on each side of a hidden count."""
        return self.protection if self.protection is not None else max(1, math.ceil(self.min_count / 2))

    def hides(self, count: Any) -> bool:
        """True when ``count`` records are too few to publish (1 ≤ count < min_count)."""
        try:
            c = float(count)
        except (TypeError, ValueError):
            return False
        return not math.isnan(c) and 0 < c < self.min_count

    def hidden(self, counts: Any) -> np.ndarray:
        """Boolean mask of the counts in ``counts`` (array-like) that are too few to publish."""
        c = np.asarray(counts, dtype=float)
        return (c > 0) & (c < self.min_count)


def hidden_counts(policy: DisclosurePolicy | None, counts: Any) -> np.ndarray:
    """:meth:`DisclosurePolicy.hidden` that accepts ``None`` (full access: nothing hidden)."""
    c = np.asarray(counts, dtype=float)
    return np.zeros(c.shape, dtype=bool) if policy is None else policy.hidden(c)


def disclosure_record(policy: DisclosurePolicy | None) -> dict[str, Any] | None:
    """What a run's manifest records under ``"disclosure"``: the policy of a public release,
    or None for a full (internal) one.
    """
    if policy is None:
        return None
    return {"public": True, "min_count": policy.min_count, "protection": policy.protection_level}


def disclosure_of(manifest: dict[str, Any]) -> DisclosurePolicy | None:
    """The policy a manifest says its outputs were released under (None: a full release,
    including every manifest written before disclosure control existed).
    """
    doc = manifest.get("disclosure")
    if not isinstance(doc, dict) or not doc.get("public"):
        return None
    return DisclosurePolicy(min_count=int(doc["min_count"]), protection=int(doc["protection"]))
