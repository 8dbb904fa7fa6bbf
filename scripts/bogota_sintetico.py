"""Write a clearly synthetic 2019 personal-theft point set for Bogotá (see ``geoprio.demo.records.synthetic_incidents``).

Bogotá publishes crime per UPZ, not as points. This script keeps the SDSCJ's real 2019
per-UPZ totals of *hurto a personas* and scatters them uniformly inside each urban UPZ,
with the demo's hour profile, so that the TransMilenio stations can be ranked as an
illustration (``data/examples/bogota_transmilenio_sintetico.toml``). The stations'
ranking then reflects each UPZ's theft density, not real station-level crime.

    .venv/bin/python scripts/bogota_sintetico.py [--shared ../shared/data] [--out output/bogota_sintetico]

Run it with the Python that has geoprio installed (the project's ``.venv``). By default it
writes into the repository's ``output/`` folder (ignored by git), where the example config
looks for the file; ``--out`` writes elsewhere (then point the config's ``path`` there).
"""

from __future__ import annotations

import argparse
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def write_synthetic(shared: Path, out_dir: Path, *, seed: int = 2019) -> Path:
    """Write ``hurtos_sinteticos_2019.csv`` into ``out_dir`` and return its path."""
    from geoprio.demo import synthetic_incidents
    from geoprio.io import files as io
    from geoprio.records.load import load_zone_table
    from geoprio.zones.layers import load_zones

    zones = load_zones(shared / "bogota" / "upz_sdp.geojson", id="UPlCodigo", name="UPlNombre", where={"UPlTipo": "1"})
    table = load_zone_table(shared / "bogota" / "dai_upz_2018_2021_attributes.csv", zone_id="CMIUUPLA", columns=["CMHP19CONT"])
    counts = table.values["CMHP19CONT"].reindex(zones.ids).fillna(0).to_numpy()
    frame = synthetic_incidents(zones.frame, counts, seed=seed, year=2019, category="Hurto a personas")
    return io.write_table(frame, out_dir / "hurtos_sinteticos_2019.csv", sep=";", decimal=",")


def main() -> None:
    """Parse the options and write the file."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--out", type=Path, default=ROOT / "output" / "bogota_sintetico")
    args = parser.parse_args()
    try:
        import geoprio  # noqa: F401
    except ImportError:
        parser.exit(1, "geoprio is not installed in this Python; run the script with the project's .venv/bin/python\n")
    print(write_synthetic(args.shared, args.out))


if __name__ == "__main__":
    main()
