"""Gates where a walkable way crosses a community's outline (``[gates] path = "osm"``).

Rule (see README, "Gates"): a gate is taken at each point where a street edge of the network
whose ``highway`` is listed in ``gates.toml`` ``[osm_crossings]`` (footways, paths, service roads,
living streets…) passes from outside a community's outline to inside it — one gate per crossing,
so a way through a compound gives two. Not gates:

- a way that runs *along* an outline: where it lies on the outline (a collinear overlap) it
  crosses nothing, and where it wanders across a roughly drawn outline it crosses at a shallow
  angle (below ``min_angle_deg`` to the outline);
- a way that only touches the outline (ends on it, or turns back) without going inside;
- a crossing with an OSM gate node (``entrance=*``, ``barrier=gate``) of the same community within
  ``tolerance_m``: the node is the gate.

Everything is array work on shapely 2: one STRtree query of the walkable edges against the
outlines, one vectorised intersection, and the side and angle tests on the crossing points.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from spatial.config.standards import load_gate_codes
from spatial.inputs.validate import LayerReport
from spatial.network.graph import StreetNetwork

#: how far either side of a crossing the side (inside / outside) and direction are taken (m)
SIDE_M = 0.5


@dataclass(frozen=True)
class Crossings:
    """The crossing gates of a network and a set of outlines.

    Attributes
    ----------
    xy : (k, 2) float array
        The crossings (the network's CRS).
    comm : (k,) int array
        The community (position in the outlines given) each crossing enters.
    edge : (k,) int array
        A network edge through each crossing (for its label).
    """

    xy: np.ndarray
    comm: np.ndarray
    edge: np.ndarray


def crossing_rule() -> tuple[frozenset[str], float]:
    """The ``highway`` values whose crossings are gates and the least crossing angle (degrees),
    from ``gates.toml`` ``[osm_crossings]``."""
    table = load_gate_codes()["osm_crossings"]
    return frozenset(map(str, table["highway"])), float(table["min_angle_deg"])


def outline_crossings(
    net: StreetNetwork, polygons: np.ndarray, kinds: frozenset[str], min_angle_deg: float
) -> Crossings:
    """Where the walkable ways of ``kinds`` cross the outlines from outside to inside.

    Parameters
    ----------
    net : StreetNetwork
    polygons : ndarray of Polygon / MultiPolygon
        The communities, in the network's CRS.
    kinds : frozenset of str
        The ``highway`` values whose crossings count.
    min_angle_deg : float
        A crossing at a smaller angle to the outline is a way running along it.

    Returns
    -------
    Crossings
        Sorted by community, then by position.
    """
    highway = net.edges["highway"].astype(str).to_numpy()
    pick = np.flatnonzero(np.isin(highway, sorted(kinds)))
    lines = np.asarray(net.edges.geometry.values)[pick]
    parts, owner = shapely.get_parts(np.asarray(polygons), return_index=True)
    rings = shapely.get_exterior_ring(parts)
    li, ri = shapely.STRtree(rings).query(lines, predicate="intersects")
    hits = shapely.intersection(lines[li], rings[ri])
    pts, which = shapely.get_parts(hits, return_index=True)
    point = shapely.get_type_id(pts) == 0  # a LineString part: the way lies on the outline
    pts, li, ri = pts[point], li[which[point]], ri[which[point]]
    if len(pts) == 0:
        return Crossings(np.zeros((0, 2)), np.zeros(0, np.int64), np.zeros(0, np.int64))
    comm = owner[ri]
    sin_min = np.sin(np.radians(min_angle_deg))
    inside, outside, steep = _sides(lines[li], rings[ri], pts, np.asarray(polygons)[comm], sin_min)
    xy = shapely.get_coordinates(pts)
    key = pd.DataFrame({"c": comm, "x": np.round(xy[:, 0], 2), "y": np.round(xy[:, 1], 2)})
    group = key.groupby(["c", "x", "y"], sort=True).ngroup().to_numpy()
    n = group.max() + 1
    ok = (
        (np.bincount(group, inside, n) > 0)
        & (np.bincount(group, outside, n) > 0)
        & (np.bincount(group, steep, n) > 0)
    )
    first = np.full(n, len(group))
    np.minimum.at(first, group, np.arange(len(group)))
    first = first[ok]
    return Crossings(xy[first], comm[first], pick[li[first]])


def _sides(
    lines: np.ndarray, rings: np.ndarray, pts: np.ndarray, polygons: np.ndarray, sin_min: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per crossing point: whether the line just before or after it lies inside the polygon,
    outside it, and whether it meets the outline at an angle whose sine is at least
    ``sin_min``."""
    a = shapely.line_locate_point(lines, pts)
    length = shapely.length(lines)
    before = shapely.line_interpolate_point(lines, np.maximum(a - SIDE_M, 0.0))
    after = shapely.line_interpolate_point(lines, np.minimum(a + SIDE_M, length))
    bx, by = shapely.get_coordinates(before).T
    ax, ay = shapely.get_coordinates(after).T
    inside = shapely.contains_xy(polygons, bx, by) | shapely.contains_xy(polygons, ax, ay)
    outside = ~shapely.intersects_xy(polygons, bx, by) | ~shapely.intersects_xy(polygons, ax, ay)
    r = shapely.line_locate_point(rings, pts)
    ring_len = shapely.length(rings)
    r0 = shapely.line_interpolate_point(rings, np.mod(r - SIDE_M, ring_len))
    r1 = shapely.line_interpolate_point(rings, np.mod(r + SIDE_M, ring_len))
    way = np.column_stack([ax - bx, ay - by])
    wall = shapely.get_coordinates(r1) - shapely.get_coordinates(r0)
    cross = np.abs(way[:, 0] * wall[:, 1] - way[:, 1] * wall[:, 0])
    norm = np.hypot(*way.T) * np.hypot(*wall.T)
    steep = (cross >= sin_min * norm) & (norm > 0)
    return inside, outside, steep


def with_crossing_gates(
    gates: gpd.GeoDataFrame,
    net: StreetNetwork,
    communities: gpd.GeoDataFrame,
    tolerance: float,
    report: LayerReport | None = None,
) -> gpd.GeoDataFrame:
    """The OSM gate nodes of a run and the crossing gates (:func:`outline_crossings`) that have
    no gate node of their community within ``tolerance``; ``source`` says which is which
    (``osm_node``, ``osm_crossing``).

    Parameters
    ----------
    gates : GeoDataFrame
        The gate nodes as :func:`spatial.inputs.gates.load_gates` gave them (``gate``, ``name``,
        ``comm``, ``cid``; the analysis CRS).
    net : StreetNetwork
        The network read from the same OSM file (the analysis CRS).
    communities : GeoDataFrame
        With ``cid`` (the analysis CRS).
    tolerance : float
        ``[gates] tolerance_m``.
    report : LayerReport, optional
        The gates' report: the crossings found are added to its rows read and kept, those
        beside a gate node are counted as dropped (``near_gate_node``) and the counts per
        source are a note.

    Returns
    -------
    GeoDataFrame
    """
    kinds, angle = crossing_rule()
    found = outline_crossings(net, communities.geometry.values, kinds, angle)
    near = np.zeros(len(found.comm), bool)
    if len(gates) and len(found.comm):
        c, g = shapely.STRtree(gates.geometry.values).query(
            shapely.points(found.xy), predicate="dwithin", distance=tolerance
        )
        same = found.comm[c] == gates["comm"].to_numpy(int)[g]
        near[c[same]] = True
    keep = ~near
    comm = found.comm[keep]
    new = gpd.GeoDataFrame(
        {
            "gate": _labels(net, found.edge[keep]),
            "name": "",
            "comm": comm,
            "source": "osm_crossing",
            "cid": communities["cid"].to_numpy()[comm],
        },
        geometry=shapely.points(found.xy[keep]),
        crs=gates.crs,
    )
    if report is not None:
        report.rows_read += len(found.comm)
        report.rows_kept += len(new)
        report.drop("near_gate_node", int(near.sum()))
        report.note("note_gates_osm_sources", nodes=len(gates), crossings=len(new))
    if not len(new) or not len(gates):
        return new if len(new) else gates
    return gpd.GeoDataFrame(pd.concat([gates, new], ignore_index=True), crs=gates.crs)


def _labels(net: StreetNetwork, edge: np.ndarray) -> list[str]:
    """A crossing's label for messages: the OSM nodes of the street piece it lies on."""
    u, v = net.edges["u"].to_numpy()[edge], net.edges["v"].to_numpy()[edge]
    ids = net.node_ids
    if ids is None:
        return [f"crossing:edge/{e}" for e in edge]
    return [
        f"crossing:node/{a}-node/{b}" if a >= 0 and b >= 0 else f"crossing:edge/{e}"
        for a, b, e in zip(ids[u], ids[v], edge, strict=True)
    ]
