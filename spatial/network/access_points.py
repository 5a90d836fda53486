"""Access points of polygons (communities, parcels) on the walking network.

Access rule (see README): a polygon is reached through its boundary. Its access points are
(a) every network node inside the polygon (at distance zero) or within ``access_spacing_m / 2``
of it (plus that gap), and (b) its outline's vertices and points every ``access_spacing_m`` along
it, each snapped to the nearest street edge with the straight off-street distance added.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely

from spatial.core.errors import InputError
from spatial.network.graph import StreetNetwork


@dataclass
class Access:
    """Access points of polygons (communities or parcels) as node links and as snapped boundary
    points; the owner of each is the polygon's position in the array given to
    :func:`polygon_access`.

    The node links hold one link per (owner, node), the shortest, sorted by owner and then
    node.

    Attributes
    ----------
    node_owner, node, extra : (k,) arrays
        Per node link: the polygon, the street node and the shortest distance from the outline
        to it (off-street plus along the edge; a node inside the polygon: 0, near it: the gap).
    pt_owner, pt_edge, pt_along, pt_offset : (m,) arrays
        Per snapped boundary point: the polygon, the edge, the distance along it from ``u`` and
        the off-street distance (for facilities on the same edge).
    """

    node_owner: np.ndarray  # polygon index per (node, extra) link
    node: np.ndarray
    extra: np.ndarray
    pt_owner: np.ndarray  # polygon index per snapped boundary point
    pt_edge: np.ndarray
    pt_along: np.ndarray
    pt_offset: np.ndarray


def _outline_points(rings: np.ndarray, spacing: float) -> tuple[np.ndarray, np.ndarray]:
    """Points dividing each ring into equal parts of at most ``spacing`` (at least 4 parts, from
    the ring's start), and each point's ring.

    Not ``network.StreetNetwork._segments``, the other line sampler: that one samples each
    straight segment on its own (midpoints of equal parts, at least one per segment) so that
    every point of a segment lies within half a step of one of its own samples — the guarantee
    its exact nearest-segment search needs. Access points are spaced along the whole ring from
    its start, whatever its vertices (a 3 m segment gets none), as the README's access rule says;
    one sampler for both would change either the access points or that guarantee.
    """
    coords, owner = shapely.get_coordinates(rings, return_index=True)
    seg = np.flatnonzero(
        owner[1:] == owner[:-1]
    )  # segment k runs coords[seg[k]] → coords[seg[k] + 1]
    seg_len = np.hypot(*(coords[seg + 1] - coords[seg]).T)
    end = np.cumsum(seg_len)
    ring_ids = np.arange(len(rings))
    first = np.searchsorted(owner[seg], ring_ids)  # each ring's segments: first … last
    last = np.searchsorted(owner[seg], ring_ids, side="right") - 1
    ring_start = end[first] - seg_len[first]
    ring_len = end[last] - ring_start
    counts = np.maximum(np.ceil(ring_len / spacing).astype(int), 4)
    ring_of = np.repeat(ring_ids, counts)
    frac = (np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)) / np.repeat(
        counts, counts
    )
    pos = ring_start[ring_of] + frac * ring_len[ring_of]
    # the clip keeps rounding at a ring's start from landing on the previous ring
    k = np.clip(np.searchsorted(end, pos, side="right"), first[ring_of], last[ring_of])
    t = np.clip((pos - (end[k] - seg_len[k])) / np.maximum(seg_len[k], 1e-12), 0, 1)
    start = coords[seg[k]]
    return start + t[:, None] * (coords[seg[k] + 1] - start), ring_of


def _ring_vertices(rings: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each ring's vertices without the closing repeat of the first, and each vertex's ring."""
    coords, owner = shapely.get_coordinates(rings, return_index=True)
    closing = np.r_[owner[1:] != owner[:-1], True]
    return coords[~closing], owner[~closing]


def _nodes_near(
    net: StreetNetwork, polygons: np.ndarray, gap: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(polygon, node, distance) for network nodes inside each polygon (0) or within ``gap``."""
    bounds = shapely.bounds(polygons) + np.array([-gap, -gap, gap, gap])
    poly, node = net.node_tree.query(shapely.box(*bounds.T))
    x, y = net.node_xy[node].T
    shapely.prepare(polygons)  # faster point-in-polygon; the geometries' values are unchanged
    dist = np.zeros(len(node))
    outside = ~shapely.contains_xy(polygons[poly], x, y)
    dist[outside] = shapely.distance(
        net.node_tree.geometries[node[outside]], polygons[poly[outside]]
    )
    near = dist <= gap
    return poly[near], node[near], dist[near]


def polygon_access(
    net: StreetNetwork,
    polygons: np.ndarray,
    spacing: float,
    max_snap: float,
    inbound: bool = False,
) -> Access:
    """Access points of every polygon (community or parcel) on the walking network.

    Parameters
    ----------
    net : StreetNetwork
    polygons : ndarray of Polygon / MultiPolygon
        In the network's metric CRS.
    spacing : float
        ``access_spacing_m``: outline points every this many metres; nodes within half of it
        (or inside) are linked directly.
    max_snap : float
        ``max_snap_m``: outline points farther from every street are not used.
    inbound : bool
        The links are walked from the street nodes to the polygon (a parcel as a destination,
        :mod:`spatial.network.reach`) rather than from the polygon out (a community); the same
        but for hills (:mod:`spatial.network.elevation`).

    Returns
    -------
    Access

    Raises
    ------
    InputError
        No outline point of any polygon lies within ``max_snap`` of a street.
    """
    parts, part_comm = shapely.get_parts(polygons, return_index=True)
    rings = shapely.get_exterior_ring(parts)
    samples, ring_of = _outline_points(rings, spacing)
    corners, corner_ring = _ring_vertices(rings)
    edge, along, offset = net.snap(np.vstack([samples, corners]), max_distance=max_snap)
    ok = edge >= 0
    if len(ok) and not ok.any():
        raise InputError("err_no_community_near_streets", path=net.source, max_snap=f"{max_snap:g}")
    pt_owner = part_comm[np.r_[ring_of, corner_ring]][ok]
    e, a, o = edge[ok], along[ok], offset[ok]
    # neighbouring outline points on the same edge: one link to each end per run, the shortest
    run = np.flatnonzero(np.r_[True, (pt_owner[1:] != pt_owner[:-1]) | (e[1:] != e[:-1])])
    run = run if len(pt_owner) else run[:0]
    length = net.edges["length"].to_numpy(float)[e]
    zero = np.zeros(len(a))
    if inbound:  # the walk from the node along the edge to the point, else from the point
        up_u, up_v = net.excess(e, zero, a), net.excess(e, length, a)
    else:
        up_u, up_v = net.excess(e, a, zero), net.excess(e, a, length)
    to_u = np.minimum.reduceat(o + a + up_u, run) if len(run) else o
    to_v = np.minimum.reduceat(o + length - a + up_v, run) if len(run) else o
    run_comm, run_edge = pt_owner[run], e[run]
    near_comm, near_node, near_dist = _nodes_near(net, polygons, spacing / 2)
    comm = np.r_[run_comm, run_comm, near_comm]
    node = np.r_[
        net.edges["u"].to_numpy()[run_edge], net.edges["v"].to_numpy()[run_edge], near_node
    ]
    extra = np.r_[to_u, to_v, near_dist]
    # several runs and nodes lead to the same node: keep the shortest link per (community, node)
    order = np.argsort(comm.astype(np.int64) * (net.n_nodes + 1) + node, kind="stable")
    comm, node, extra = comm[order], node[order], extra[order]
    change = (comm[1:] != comm[:-1]) | (node[1:] != node[:-1])
    starts = np.flatnonzero(np.r_[True, change]) if len(comm) else np.array([], dtype=np.int64)
    return Access(
        node_owner=comm[starts],
        node=node[starts],
        extra=np.minimum.reduceat(extra, starts) if len(extra) else extra,
        pt_owner=pt_owner,
        pt_edge=e,
        pt_along=a,
        pt_offset=o,
    )
