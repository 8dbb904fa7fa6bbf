"""The gazetteer's match summary and approximate-location line in the reader's number format:
``12.345`` and ``81,0 %`` in Spanish, ``12,345`` and ``81.0%`` in English.
"""

from __future__ import annotations

from geoprio.records import PlaceMatch, approximate_note

MATCH = PlaceMatch(
    source="hurtos.csv",
    gazetteer="barrios.geojson",
    n_records=15_240,
    matched=12_345,  # 12,345 / 15,240 = 81.0 %
    unmatched=1_895,  # 12.4 %
    ambiguous=1_000,  # 6.6 %
    matched_weight=12_000.0,
    total_weight=16_000.0,  # 75.0 % of the count
    by_group=1_200,
    fuzzy=3,
    unmatched_names={"Sin barrio": 1_500, "Otro": 395},
    ambiguous_names={"San José": 1_000},
    ambiguous_places={"San José": 1_002},
)


def test_match_summary_in_spanish():
    lines = MATCH.summary("es").splitlines()
    assert lines[1] == "  ubicados: 12.345 de 15.240 registros (81,0 %; 75,0 % de la cantidad), cada uno en un único lugar"
    assert lines[2] == "    de ellos 1.200 con un nombre que comparten varios lugares, resuelto por el grupo"
    assert lines[4] == "  sin lugar: 1.895 registros (12,4 %)"
    assert lines[5] == "    los más frecuentes: Sin barrio (1.500), Otro (395)"
    assert lines[6].startswith("  ambiguos: 1.000 registros (6,6 %)")
    assert lines[7] == "    los más frecuentes: San José (1.000; 1.002 lugares)"


def test_match_summary_in_english():
    lines = MATCH.summary("en").splitlines()
    assert lines[1] == "  located: 12,345 of 15,240 records (81.0%; 75.0% of the count), each at exactly one place"
    assert lines[4] == "  no place: 1,895 records (12.4%)"
    assert lines[5] == "    the most frequent: Sin barrio (1,500), Otro (395)"
    assert lines[7] == "    the most frequent: San José (1,000; 1,002 places)"


def test_approximate_note_counts_in_the_language():
    info = {"records": 4_321, "share": 0.5, "methods": {"place_point": 4_000, "place_centroid": 321}}
    assert approximate_note(info, "es") == (
        "ubicación aproximada: 4.321 puntos ubicados por nombre de lugar (place_point 4.000, place_centroid 321), "
        "no por coordenadas del registro"
    )
    assert approximate_note(info, "en").startswith("approximate location: 4,321 points located by place name (place_point 4,000, ")
