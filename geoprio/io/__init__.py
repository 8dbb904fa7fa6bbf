"""Reading and writing files: sniffing Colombian open-data files, atomic writes, run manifests.

The only subpackage of geoprio that touches the disk directly.
"""

from geoprio.io import cluster, export, files, manifest, postgis, postgis_write
from geoprio.io.cluster import Engine, EngineOptions, open_engine
from geoprio.io.export import Export
from geoprio.io.files import (
    atomic_path,
    read_layer,
    read_table,
    read_toml,
    sha256_file,
    write_formats,
    write_json,
    write_layer,
    write_outputs,
    write_shapefile,
    write_table,
    write_text,
    write_workbook,
)
from geoprio.io.postgis import PostgisError, PostgisSource
from geoprio.io.postgis_write import write_run

__all__ = [
    "Engine",
    "EngineOptions",
    "Export",
    "PostgisError",
    "PostgisSource",
    "atomic_path",
    "cluster",
    "export",
    "files",
    "manifest",
    "open_engine",
    "postgis",
    "postgis_write",
    "read_layer",
    "read_table",
    "read_toml",
    "sha256_file",
    "write_formats",
    "write_json",
    "write_layer",
    "write_outputs",
    "write_run",
    "write_shapefile",
    "write_table",
    "write_text",
    "write_workbook",
]
