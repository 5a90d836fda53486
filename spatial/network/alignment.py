"""The communities against the street network: a layer digitised on a Gaode or Baidu map (GCJ-02,
BD-09) but saved as WGS84 sits some hundred metres off the streets, and the facilities' own
coordinate test (:func:`spatial.inputs.georef.resolve_lonlat`), which takes the communities as its
reference, then advises the wrong fix. Main roads bound compounds rather than cross them: the
reading of the communities' lon/lat under which the least main-road length runs through them
is the one they were drawn in.
"""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import shapely

from spatial.core.crs import LONLAT_SYSTEMS, lonlat_points, to_wgs84_lonlat, wgs84_to_gcj02
from spatial.core.messages import Msg, msg
from spatial.core.problems import Problem
from spatial.network.graph import StreetNetwork, major_edges

#: the roads that bound compounds (a ``_link`` counts as its road)
MAIN_ROADS = ["motorway", "trunk", "primary", "secondary", "tertiary"]
#: another reading must put at most this share of the main-road length inside the communities …
CLEAR_RATIO = 0.5
#: … and the layer as loaded at least this many metres, before anything is said
MIN_INSIDE_M = 300.0
#: communities are shrunk by this much first: a road drawn along a compound's edge is not inside
INSET_M = 5.0
#: at most this many communities (evenly through the layer) are tested
SAMPLE_MAX = 2000
#: the codes of the facilities' coordinate test, judged against the communities
FACILITY_CODES = ("coords_auto", "coords_undecided", "coords_mismatch")


def _raw_lonlat(lon: np.ndarray, lat: np.ndarray, declared: str) -> tuple[np.ndarray, np.ndarray]:
    """The lon/lat as written in the file, from the WGS84 they were converted to."""
    if declared == "gcj02":
        return wgs84_to_gcj02(lon, lat)
    if declared == "bd09":
        import prcoords

        points = zip(lon, lat, strict=True)
        out = [prcoords.wgs_bd(prcoords.Coords(float(b), float(a))) for a, b in points]
        return np.array([c.lon for c in out]), np.array([c.lat for c in out])
    return lon, lat


def _offsets(communities: gpd.GeoDataFrame, declared: str) -> dict[str, np.ndarray]:
    """Per system, each community's move (metres, x and y) from where it was loaded to where it
    would be if the file's lon/lat were read in that system. The offsets of these systems vary
    by metres over a kilometre: they are computed once per 0.01° cell (a large layer took
    seconds point by point)."""
    lon, lat = lonlat_points(communities)
    cells, cell_of = np.unique(
        np.round(np.column_stack([lon, lat]), 2), axis=0, return_inverse=True
    )
    raw = _raw_lonlat(cells[:, 0], cells[:, 1], declared)
    metric = communities.crs

    def _xy(x: np.ndarray, y: np.ndarray) -> np.ndarray:
        pts = gpd.GeoSeries(gpd.points_from_xy(x, y), crs="EPSG:4326").to_crs(metric)
        return np.column_stack([pts.x.to_numpy(), pts.y.to_numpy()])

    here = _xy(cells[:, 0], cells[:, 1])
    moves = {}
    for system in LONLAT_SYSTEMS:
        moves[system] = (_xy(*to_wgs84_lonlat(*raw, system)) - here)[cell_of.ravel()]
    return moves


def _inside_m(polys: np.ndarray, roads: np.ndarray, tree: shapely.STRtree) -> float:
    """Metres of ``roads`` inside ``polys``."""
    which, road = tree.query(polys, predicate="intersects")
    if not len(which):
        return 0.0
    return float(shapely.length(shapely.intersection(polys[which], roads[road])).sum())


def _translated(polys: np.ndarray, move: np.ndarray) -> np.ndarray:
    coords, which = shapely.get_coordinates(polys, return_index=True)
    return shapely.set_coordinates(polys.copy(), coords + move[which])


#: the eight compass directions, anticlockwise from east (catalogue keys)
DIRECTIONS = ("dir_e", "dir_ne", "dir_n", "dir_nw", "dir_w", "dir_sw", "dir_s", "dir_se")


def _direction(dx: float, dy: float) -> Msg:
    return Msg(DIRECTIONS[round(math.degrees(math.atan2(dy, dx)) / 45) % 8])


def communities_off_streets(
    communities: gpd.GeoDataFrame, net: StreetNetwork, declared: str, lonlat: bool
) -> Problem | None:
    """A ``communities_shifted`` problem when the communities line up with the main roads
    clearly better read in another lon/lat system than the one they were loaded in.

    Parameters
    ----------
    communities : GeoDataFrame
        In the analysis CRS (metres).
    net : StreetNetwork
        In the same CRS.
    declared : str
        The communities' ``coords`` setting.
    lonlat : bool
        The file held lon/lat (the fix is then that setting; else exporting the layer again).

    Returns
    -------
    Problem or None
    """
    roads = net.edges.geometry.values[major_edges(net, MAIN_ROADS)]
    if not len(roads) or len(communities) < 3:
        return None
    total = len(communities)
    if total > SAMPLE_MAX:  # the verdict needs hundreds, not tens of thousands
        communities = communities.iloc[np.linspace(0, len(communities) - 1, SAMPLE_MAX).astype(int)]
    tree = shapely.STRtree(roads)
    polys = shapely.buffer(communities.geometry.values, -INSET_M)
    moves = _offsets(communities, declared)
    inside = {s: _inside_m(_translated(polys, m), roads, tree) for s, m in moves.items()}
    own = "wgs84" if declared in ("", "auto", "cgcs2000") else declared
    loaded = _inside_m(polys, roads, tree)
    best = min(inside, key=inside.get)
    if best == own or loaded < MIN_INSIDE_M or inside[best] > CLEAR_RATIO * loaded:
        return None
    dx, dy = np.nanmean(moves[best] - moves[own], axis=0)
    evidence = ", ".join(f"{s} {inside[s]:.0f} m" for s in LONLAT_SYSTEMS)
    fix = msg("fix_shift_coords", system=best) if lonlat else msg("fix_shift_export")
    fields = {
        "system": best,
        "loaded": f"{loaded:.0f}",
        "evidence": evidence,
        "metres": f"{math.hypot(dx, dy):.0f}",
        "direction": _direction(dx, dy),
        "fix": fix,
        "cause": msg("cause_shift_drawn" if own == "wgs84" else "cause_shift_declared"),
    }
    return Problem("communities_shifted", "communities", total, (), fields)


def check_alignment(result: object) -> None:
    """Add ``communities_shifted`` to a run's problems when it applies; the facilities' own
    coordinate verdict, made against those communities, is then withdrawn (its advice would be
    wrong: the next run, with the communities fixed, judges them again).

    Parameters
    ----------
    result : RunResult
        With ``network`` read and ``layers`` loaded.
    """
    net, layers, project = result.network, result.layers, result.project
    if net is None or not len(layers.communities):
        return
    report = next((r for r in layers.reports if r.layer == "communities"), None)
    lonlat = bool(report and _geographic(report.crs))
    found = communities_off_streets(layers.communities, net, project.communities.coords, lonlat)
    if found is None:
        return
    layers.problems[:] = [p for p in layers.problems if p.code not in FACILITY_CODES]
    layers.problems.append(found)


def _geographic(described: str) -> bool:
    """Whether a CRS as :func:`spatial.core.crs.describe` wrote it is lon/lat."""
    from pyproj import CRS
    from pyproj.exceptions import CRSError

    try:
        return CRS.from_user_input(described.split(" ")[0]).is_geographic
    except CRSError:
        return False
