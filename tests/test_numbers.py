"""Numbers as a Colombian reader reads them (es) and as an English one does (en)."""

from __future__ import annotations

import math

from geoprio.numbers import LangNumber, fmt_int, fmt_number, fmt_pct, fmt_spec


def test_house_formats_in_both_languages():
    assert (fmt_int(39920, "es"), fmt_int(39920, "en")) == ("39.920", "39,920")
    assert (fmt_number(3.74, "es", 1), fmt_number(3.74, "en", 1)) == ("3,7", "3.7")
    assert fmt_pct(0.061, "es", 1).startswith("6,1")


def test_a_format_spec_in_spanish_swaps_the_separators():
    assert fmt_spec(39920.5, ",.1f", "es") == "39.920,5" and fmt_spec(39920.5, ",.1f", "en") == "39,920.5"
    assert fmt_spec(-1234, "+,.0f", "es") == "-1.234" and fmt_spec(math.nan, ".2f", "es") == "—"
    assert "{n:,} filas, {s:.1f} %".format(n=LangNumber(12537, "es"), s=LangNumber(3.74, "es")) == "12.537 filas, 3,7 %"
    assert str(LangNumber(2.5, "es")) == "2,5" and str(LangNumber(None, "en")) == "—"
