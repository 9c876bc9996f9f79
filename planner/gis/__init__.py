"""GIS layer: file I/O, GeoPackage projects, CRS policy, proximity. geopandas/shapely/pyproj, never Qt."""
