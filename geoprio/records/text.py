"""Text normalization shared by column detection and place-name matching."""

from __future__ import annotations

import re
import unicodedata

import pandas as pd

__all__ = ["fold", "fold_series", "MISSING_TOKENS"]

#: Cell values that mean "no data" in Colombian open-data exports.
MISSING_TOKENS = frozenset({"", "na", "n/a", "nan", "null", "none", "-", "--", "sin dato", "sin informacion", "s/d", "nd"})

_NON_ALNUM = re.compile(r"[^0-9a-z]+")


def fold(text: str) -> str:
    """Lower-case, strip accents and collapse punctuation to single spaces.

    ``"  Chicó   Lago "`` and ``"CHICO LAGO"`` both fold to ``"chico lago"``;
    ``"Ñ"`` folds to ``"n"``. The mojibake of a Latin-1 file read as UTF-8
    (``"Localizaci?n"``) is not repaired, but its ``?`` folds away like punctuation.
    """
    decomposed = unicodedata.normalize("NFKD", str(text))
    ascii_only = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _NON_ALNUM.sub(" ", ascii_only.lower()).strip()


def fold_series(values: pd.Series) -> pd.Series:
    """Vectorized :func:`fold` over a Series (missing stays missing)."""
    out = values.astype("string").str.normalize("NFKD").str.encode("ascii", "ignore").str.decode("ascii")
    return out.str.lower().str.replace(_NON_ALNUM, " ", regex=True).str.strip()
