"""Coordinate systems: GCJ-02 / BD-09 to WGS84, and the metric CRS the analysis runs in."""

from __future__ import annotations

from collections.abc import Callable

import geopandas as gpd
import numpy as np
import prcoords
import shapely
from numpy.typing import ArrayLike
from pyproj import CRS

from spatial.core import settings

#: EPSG of the CGCS2000 3-degree Gauss-Krüger zone with central meridian 75°E (no zone prefix).
_CGCS2000_GK3_FIRST = 4534
_GK3_MERIDIANS = range(75, 136, 3)


def _convert(
    lon: np.ndarray, lat: np.ndarray, func: Callable[[prcoords.Coords], prcoords.Coords]
) -> tuple[np.ndarray, np.ndarray]:
    out = [func(prcoords.Coords(float(a), float(o))) for o, a in zip(lon, lat, strict=True)]
    if not out:
        return np.asarray(lon, float), np.asarray(lat, float)
    return np.array([c.lon for c in out]), np.array([c.lat for c in out])


def gcj02_to_wgs84(lon: ArrayLike, lat: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Convert GCJ-02 (Gaode/Tencent) lon/lat to WGS84, iteratively (error well under 1 m).

    Parameters
    ----------
    lon, lat : array_like
        Degrees.

    Returns
    -------
    lon, lat : float arrays
    """
    return _convert(np.atleast_1d(lon), np.atleast_1d(lat), prcoords.gcj_wgs_bored)


def bd09_to_wgs84(lon: ArrayLike, lat: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Convert BD-09 (Baidu) lon/lat to WGS84.

    Parameters
    ----------
    lon, lat : array_like
        Degrees.

    Returns
    -------
    lon, lat : float arrays
    """
    return _convert(np.atleast_1d(lon), np.atleast_1d(lat), prcoords.bd_wgs_bored)


def wgs84_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Convert WGS84 lon/lat to GCJ-02 (used to line overlays up with Gaode tiles).

    Parameters
    ----------
    lon, lat : array_like
        Degrees.

    Returns
    -------
    lon, lat : float arrays
    """
    return _convert(np.atleast_1d(lon), np.atleast_1d(lat), prcoords.wgs_gcj)


_TO_WGS84 = {"gcj02": gcj02_to_wgs84, "bd09": bd09_to_wgs84}


def to_wgs84_lonlat(lon: ArrayLike, lat: ArrayLike, coords: str) -> tuple[np.ndarray, np.ndarray]:
    """Lon/lat in ``coords`` ('wgs84', 'cgcs2000', 'gcj02', 'bd09') to WGS84.

    Parameters
    ----------
    lon, lat : array_like
    coords : str

    Returns
    -------
    lon, lat : float arrays
        As given for ``wgs84``, ``cgcs2000`` or an empty setting.
    """
    func = _TO_WGS84.get(coords)
    if func is None:
        return np.asarray(lon, float), np.asarray(lat, float)
    return func(lon, lat)


def shift_geometries(gdf: gpd.GeoDataFrame, coords: str) -> gpd.GeoDataFrame:
    """Return a copy of a lon/lat GeoDataFrame with every vertex converted to WGS84.

    Parameters
    ----------
    gdf : GeoDataFrame
    coords : str
        ``gcj02`` or ``bd09`` (anything else: the geometry unchanged, labelled WGS84).

    Returns
    -------
    GeoDataFrame
    """
    func = _TO_WGS84.get(coords)
    out = gdf.copy()
    if func is not None:

        def _shift(xy: np.ndarray) -> np.ndarray:
            x, y = func(xy[:, 0], xy[:, 1])
            return np.column_stack([x, y])

        out.geometry = shapely.transform(gdf.geometry.values, _shift)
    return out.set_crs("EPSG:4326", allow_override=True)


def in_china(lon: float, lat: float) -> bool:
    """Whether a lon/lat lies in China's bounding box (``settings.CHINA_LON`` / ``CHINA_LAT``).

    Parameters
    ----------
    lon, lat : float

    Returns
    -------
    bool
    """
    return (
        settings.CHINA_LON[0] <= lon <= settings.CHINA_LON[1]
        and settings.CHINA_LAT[0] <= lat <= settings.CHINA_LAT[1]
    )


def metric_crs_for(lon: float, lat: float) -> CRS:
    """The metric CRS for data centred at (lon, lat).

    Inside China: the CGCS2000 3-degree Gauss-Krüger zone of the central meridian nearest to
    ``lon`` (EPSG:4534-4554, e.g. 4548 for Jinan and Linyi, 4549 for Qingdao). Elsewhere: UTM.

    Parameters
    ----------
    lon, lat : float

    Returns
    -------
    pyproj.CRS
    """
    if in_china(lon, lat):
        meridian = min(_GK3_MERIDIANS, key=lambda m: abs(m - lon))
        return CRS.from_epsg(_CGCS2000_GK3_FIRST + (meridian - 75) // 3)
    zone = int((lon + 180) // 6) + 1
    return CRS.from_epsg((32600 if lat >= 0 else 32700) + zone)


def choose_metric_crs(frames: list[gpd.GeoDataFrame], override: str = "") -> CRS:
    """Pick the analysis CRS from the median lon/lat of ``frames``' features (or ``override``).

    The median, not the centre of the bounds: one stray feature far away does not move the zone.

    Parameters
    ----------
    frames : list of GeoDataFrame
        In lon/lat or any CRS with a known definition.
    override : str
        The project's ``crs`` (anything pyproj reads).

    Returns
    -------
    pyproj.CRS
        CGCS2000 3-degree Gauss-Krüger zone in China, else UTM.
    """
    if override:
        return CRS.from_user_input(override)
    pts = [median_lonlat(f) for f in frames if len(f)]
    return metric_crs_for(*np.median(np.array(pts), axis=0))


def lonlat_points(gdf: gpd.GeoDataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Lon/lat (WGS84) of a representative point of every feature.

    Parameters
    ----------
    gdf : GeoDataFrame
        With a CRS.

    Returns
    -------
    lon, lat : float arrays
    """
    pts = gdf.geometry.representative_point().to_crs("EPSG:4326")
    return pts.x.to_numpy(float), pts.y.to_numpy(float)


def median_lonlat(gdf: gpd.GeoDataFrame) -> tuple[float, float]:
    """The median lon/lat (WGS84) of the features' representative points.

    Parameters
    ----------
    gdf : GeoDataFrame

    Returns
    -------
    lon, lat : float
    """
    lon, lat = lonlat_points(gdf)
    return float(np.nanmedian(lon)), float(np.nanmedian(lat))


def distance_km(lon: ArrayLike, lat: ArrayLike, lon0: float, lat0: float) -> np.ndarray:
    """Great-circle distance (km) from (lon0, lat0), haversine on a 6371 km sphere.

    Parameters
    ----------
    lon, lat : array_like
    lon0, lat0 : float

    Returns
    -------
    float array
    """
    lon, lat = np.radians(np.asarray(lon, float)), np.radians(np.asarray(lat, float))
    lon0, lat0 = np.radians(lon0), np.radians(lat0)
    h = np.sin((lat - lat0) / 2) ** 2 + np.cos(lat) * np.cos(lat0) * np.sin((lon - lon0) / 2) ** 2
    return 2 * 6371.0 * np.arcsin(np.sqrt(np.clip(h, 0, 1)))


#: lon/lat systems tested by ``coords = "auto"``
LONLAT_SYSTEMS = ("wgs84", "gcj02", "bd09")


def lonlat_fit(
    lon: ArrayLike, lat: ArrayLike, reference: gpd.GeoDataFrame, cap_m: float = 300.0
) -> dict[str, float]:
    """How well points line up with ``reference`` polygons under each Chinese lon/lat system.

    For each of WGS84, GCJ-02 and BD-09: the points are read in that system, converted to WGS84,
    and the mean distance (metres, each capped at ``cap_m``, 0 inside) to the nearest reference
    polygon is measured, over the points within ``cap_m`` of a polygon under at least one system. The system the data is really in gives the smallest value: the others
    shift every point by ~300-1000 m, off the places the facilities sit in and next to.

    Parameters
    ----------
    lon, lat : array_like
        As written in the file.
    reference : GeoDataFrame
        Polygons in WGS84 (the communities).
    cap_m : float

    Returns
    -------
    dict of str to float
        ``wgs84``, ``gcj02``, ``bd09`` → mean distance (m); NaN when no point is near.
    """
    metric = metric_crs_for(*median_lonlat(reference))
    polys = reference.to_crs(metric).geometry.values
    tree = shapely.STRtree(polys)
    dist = {}
    for system in LONLAT_SYSTEMS:
        x, y = to_wgs84_lonlat(lon, lat, system)
        pts = gpd.GeoSeries(gpd.points_from_xy(x, y), crs="EPSG:4326").to_crs(metric).values
        idx, d = tree.query_nearest(pts, return_distance=True, all_matches=False)
        dist[system] = np.full(len(pts), cap_m, float)
        dist[system][idx[0]] = np.minimum(d, cap_m)
    # facilities beyond the communities under every system say nothing about the system
    near = np.min(np.array(list(dist.values())), axis=0) < cap_m if dist else []
    return {k: float(np.mean(d[near])) if np.any(near) else float("nan") for k, d in dist.items()}


def describe(crs: CRS) -> str:
    """A CRS as planners read it: ``EPSG:4548 CGCS2000 / 3-degree Gauss-Kruger CM 117E``.

    Parameters
    ----------
    crs : pyproj.CRS

    Returns
    -------
    str
    """
    epsg = crs.to_epsg()
    return f"EPSG:{epsg} {crs.name}" if epsg else crs.name
