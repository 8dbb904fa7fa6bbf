"""Reading and writing files: sniffing Colombian open-data files, atomic writes, run manifests.

The only subpackage of geoprio that touches the disk directly.
"""

from geoprio.io import export, files, manifest
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

__all__ = [
    "Export",
    "atomic_path",
    "export",
    "files",
    "manifest",
    "read_layer",
    "read_table",
    "read_toml",
    "sha256_file",
    "write_formats",
    "write_json",
    "write_layer",
    "write_outputs",
    "write_shapefile",
    "write_table",
    "write_text",
    "write_workbook",
]
