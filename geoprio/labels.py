"""Every label a user reads, in Spanish and English, from one table.

Computations use codes (``"hot_99"``, ``"very_high"``, ``"mclp"``); writers, maps and the CLI
turn codes into words at the edge with :func:`label` or :func:`labels`. The table lives in
``geoprio/resources/labels/<topic>.toml``, one file per stage of the flow, each entry a code
with its ``es`` and ``en`` text::

    [hot_99]
    es = "Punto caliente (99 %)"
    en = "Hot spot (99%)"

:func:`check_lang` is the one place a language code is validated.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from functools import cache
from importlib import resources
from typing import cast, get_args

from geoprio.errors import InputError
from geoprio.numbers import fmt_int
from geoprio.settings import DEFAULT_LANG, Lang

__all__ = ["LANGS", "check_lang", "label", "labels", "plural", "topics"]

#: The languages geoprio speaks.
LANGS: tuple[str, ...] = get_args(Lang)


def check_lang(lang: str) -> Lang:
    """``lang`` if geoprio speaks it, else an :class:`InputError` that lists the choices."""
    if lang not in LANGS:
        raise InputError(f"language {lang!r} is not available; choose one of {', '.join(LANGS)}")
    return cast(Lang, lang)


def topics() -> list[str]:
    """The label topics shipped with geoprio (one TOML file each)."""
    folder = resources.files("geoprio") / "resources" / "labels"
    return sorted(p.name.removesuffix(".toml") for p in folder.iterdir() if p.name.endswith(".toml"))


@cache
def _table(topic: str) -> dict[str, dict[str, str]]:
    path = resources.files("geoprio") / "resources" / "labels" / f"{topic}.toml"
    if not path.is_file():
        raise KeyError(f"no label topic {topic!r}; topics: {', '.join(topics())}")
    doc = tomllib.loads(path.read_text(encoding="utf-8"))
    return {str(code): {str(k): str(v) for k, v in entry.items()} for code, entry in doc.items()}


def labels(topic: str, lang: str = DEFAULT_LANG) -> Mapping[str, str]:
    """``{code: text}`` of one topic in ``lang``."""
    lang = check_lang(lang)
    return {code: entry[lang] for code, entry in _table(topic).items()}


def label(topic: str, code: str, lang: str = DEFAULT_LANG) -> str:
    """The text of ``code`` in ``lang``; a missing code raises ``KeyError`` naming the topic."""
    lang = check_lang(lang)
    try:
        return _table(topic)[code][lang]
    except KeyError:
        raise KeyError(f"no {lang!r} label for {code!r} in topic {topic!r}") from None


def plural(forms: str, n: int, lang: str = DEFAULT_LANG) -> str:
    """The singular or plural of a label written ``"{n} hilo|{n} hilos"``, with ``n`` in ``lang``'s
    number format: ``plural("{n} hilo|{n} hilos", 1)`` is ``"1 hilo"``, with 1200 ``"1.200 hilos"``.
    """
    one, _, many = forms.partition("|")
    return (one if n == 1 or not many else many).format(n=fmt_int(n, lang))
