"""Disclosure control: one policy for every channel that publishes (API routes and formats,
the maps the API serves, the files commands write with ``--public``).

:mod:`~geoprio.disclosure.policy` (:class:`DisclosurePolicy`: the threshold and protection
interval), :mod:`~geoprio.disclosure.complementary` (secondary suppression chosen by integer
programming with HiGHS, and the attacker's linear program that audits it),
:mod:`~geoprio.disclosure.points` (anonymous map points). Each stage publishes through its own
``public`` module built on these.
"""

from geoprio.disclosure.complementary import Protection, Relation, attack_intervals, protect
from geoprio.disclosure.points import AnonymousPoints, anonymous_points
from geoprio.disclosure.policy import DEFAULT_MIN_COUNT, DisclosurePolicy, disclosure_of, disclosure_record, hidden_counts

__all__ = [
    "DEFAULT_MIN_COUNT",
    "AnonymousPoints",
    "DisclosurePolicy",
    "Protection",
    "Relation",
    "anonymous_points",
    "attack_intervals",
    "disclosure_of",
    "disclosure_record",
    "hidden_counts",
    "protect",
]
