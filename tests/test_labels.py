"""The labels table: every topic speaks both languages, and a bad language is an input error."""

from __future__ import annotations

import tomllib
from importlib import resources

import pytest

from geoprio.errors import InputError
from geoprio.labels import LANGS, check_lang, label, labels, topics


def test_every_topic_gives_every_code_in_every_language():
    assert {"cli", "records", "maps", "hotspots", "placement", "entornos", "seguimiento"} <= set(topics())
    for topic in topics():
        raw = tomllib.loads((resources.files("geoprio") / "resources" / "labels" / f"{topic}.toml").read_text(encoding="utf-8"))
        for code, entry in raw.items():
            assert set(entry) == set(LANGS), f"{topic}.{code} has {sorted(entry)}, expected {LANGS}"
            assert all(isinstance(v, str) and v for v in entry.values()), f"{topic}.{code} has an empty label"


def test_label_lookup_in_both_languages():
    assert label("records", "bad_date", "es") == "fecha no interpretable"
    assert label("records", "bad_date", "en") == "unparseable date"
    assert labels("cli", "en")["written"] == "Files written"


def test_unknown_language_topic_and_code_are_named():
    with pytest.raises(InputError, match="language 'fr' is not available; choose one of es, en"):
        check_lang("fr")
    with pytest.raises(KeyError, match="no label topic 'nada'"):
        labels("nada")
    with pytest.raises(KeyError, match="no 'es' label for 'nada' in topic 'records'"):
        label("records", "nada")


def test_plural_forms_take_the_count_in_the_language_s_format():
    from geoprio.labels import plural

    assert plural("{n} trabajador|{n} trabajadores", 1, "es") == "1 trabajador"
    assert plural("{n} trabajador|{n} trabajadores", 12000, "es") == "12.000 trabajadores"
    assert plural("{n} worker|{n} workers", 12000, "en") == "12,000 workers"
    assert plural("{n} vez", 3, "es") == "3 vez"  # one form only: used for every count
