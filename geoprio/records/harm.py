"""Harm weights per crime category (a Colombian crime harm index).

The default table (``resources/harm_weights.toml``) weighs each category by the minimum
prison term, in months, of its basic form in the Código Penal; see that file for the
rationale of every weight. Categories are matched case- and accent-insensitively, with
``*`` wildcards, most specific alias first.
"""

from __future__ import annotations

import fnmatch
import os
import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from geoprio.errors import ConfigError
from geoprio.io import files as io
from geoprio.records.text import fold, fold_series

__all__ = ["HarmTable", "load_harm_table"]


@dataclass(frozen=True)
class HarmEntry:
    key: str
    weight: float
    article: str
    rationale: str
    aliases: tuple[str, ...]


@dataclass(frozen=True)
class HarmTable:
    """Category → harm weight, with the article and rationale of each entry."""

    entries: tuple[HarmEntry, ...]
    source: str = "geoprio default"

    def _patterns(self) -> list[tuple[str, HarmEntry]]:
        pats = [(fold(a) if "*" not in a else "*".join(fold(p) for p in a.split("*")), e) for e in self.entries for a in e.aliases]
        # exact aliases before wildcards, longer (more specific) first
        return sorted(pats, key=lambda p: ("*" in p[0], -len(p[0].replace("*", ""))))

    def lookup(self, categories: pd.Series) -> pd.Series:
        """Harm weight of each category (NaN where no alias matches)."""
        folded = fold_series(categories.astype("string"))
        uniq = folded.dropna().unique()
        pats = self._patterns()
        found: dict[str, float] = {}
        for u in uniq:
            for pat, entry in pats:
                if (pat == u) if "*" not in pat else fnmatch.fnmatchcase(u, pat):
                    found[u] = entry.weight
                    break
        return folded.map(found).astype(float)

    def weight(self, category: str) -> float:
        """Harm weight of one category; raises :class:`ConfigError` if unknown."""
        w = float(self.lookup(pd.Series([category])).iloc[0])
        if np.isnan(w):
            raise ConfigError(
                f"category {category!r} is not in the harm table ({self.source}); add it or give the indicator an explicit harm"
            )
        return w

    def to_frame(self) -> pd.DataFrame:
        return (
            pd.DataFrame(
                [
                    {
                        "category": e.key,
                        "weight_months": e.weight,
                        "article": e.article,
                        "rationale": e.rationale,
                        "aliases": ", ".join(e.aliases),
                    }
                    for e in self.entries
                ]
            )
            .sort_values("weight_months", ascending=False, kind="stable")
            .reset_index(drop=True)
        )


def load_harm_table(path: str | os.PathLike[str] | None = None) -> HarmTable:
    """Read a harm table TOML (the default one when ``path`` is None)."""
    if path is None:
        doc = tomllib.loads(resources.files("geoprio").joinpath("resources/harm_weights.toml").read_text(encoding="utf-8"))
        source = "geoprio default"
    else:
        doc, source = io.read_toml(path, what="harm table"), Path(path).name
    entries = []
    for key, e in doc.get("categories", {}).items():
        try:
            w = float(e["weight"])
        except (KeyError, TypeError, ValueError):
            raise ConfigError(f"{source}: category {key!r} needs a numeric weight") from None
        if w < 0:
            raise ConfigError(f"{source}: category {key!r} has a negative weight {w}")
        entries.append(HarmEntry(key, w, str(e.get("article", "")), str(e.get("rationale", "")), tuple(e.get("aliases", [key]))))
    if not entries:
        raise ConfigError(f"{source}: no [categories.*] entries")
    return HarmTable(tuple(entries), source)
