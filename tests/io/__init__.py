"""Tests of geoprio.io: exports (CRS, shapefile, XLSX, Excel CSV)."""
