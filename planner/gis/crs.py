"""The one CRS policy: layers are stored in EPSG:4326; anything else is reprojected at the edge.

A layer without a CRS is refused with the fix (name the CRS) rather than guessed.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from planner.lazy import lazy_module
from planner.model.site import PlannerError

if TYPE_CHECKING:
    import geopandas as gpd
    import pyproj
else:  # imported on first use: the window shows before these load (planner.lazy)
    gpd = lazy_module("geopandas", globals(), "gpd")
    pyproj = lazy_module("pyproj", globals(), "pyproj")

WGS84 = "EPSG:4326"


class CRSError(PlannerError, ValueError):
    """A missing, unknown or unusable coordinate reference system."""


def parse_crs(value: Any) -> pyproj.CRS:
    """Parse a user-given CRS ("EPSG:32614", "32614", WKT, PROJ string) or raise :class:`CRSError`."""
    if isinstance(value, pyproj.CRS):
        return value
    text = str(value).strip()
    if text.isdigit():
        text = f"EPSG:{text}"
    try:
        return pyproj.CRS.from_user_input(text)
    except (pyproj.exceptions.CRSError, TypeError, ValueError):
        raise CRSError(f"unknown CRS {str(value)[:80]!r}: give it as EPSG:<code>, e.g. EPSG:32614") from None


def describe_crs(crs: Any) -> str | None:
    """Short label of a CRS ("EPSG:3857" when it has a code, else its name); None when unknown."""
    if crs is None:
        return None
    c = parse_crs(crs)
    auth = c.to_authority()
    return f"{auth[0]}:{auth[1]}" if auth else c.name


def is_wgs84(crs: Any) -> bool:
    """True when ``crs`` is EPSG:4326 (lon/lat WGS84) or equivalent."""
    return crs is not None and parse_crs(crs).equals(pyproj.CRS.from_epsg(4326), ignore_axis_order=True)


def ensure_wgs84(gdf: gpd.GeoDataFrame, source_crs: Any = None) -> gpd.GeoDataFrame:
    """Return ``gdf`` in EPSG:4326, reprojecting when needed.

    ``source_crs`` names the CRS of the coordinates: it is required when the layer
    carries none and overrides a wrong one. Without either, :class:`CRSError` is
    raised telling the user to name the CRS.
    """
    if source_crs is not None:
        gdf = gdf.set_crs(parse_crs(source_crs), allow_override=True)
    if gdf.crs is None:
        raise CRSError("the layer has no coordinate reference system (CRS); name it, "
                       "e.g. --crs EPSG:4326 for lon/lat or the file's projected EPSG code")
    if is_wgs84(gdf.crs):
        if gdf.crs != pyproj.CRS.from_epsg(4326):
            gdf = gdf.set_crs(WGS84, allow_override=True)
        return gdf
    try:
        return gdf.to_crs(WGS84)
    except Exception as e:  # pyproj raises several types for impossible transforms
        raise CRSError(f"cannot reproject from {describe_crs(gdf.crs)} to EPSG:4326: {e}") from None
