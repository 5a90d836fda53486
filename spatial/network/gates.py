"""Gated compounds: a community with gates is reached only through them.

Gate rule (see README): each gate snaps to its nearest street edge like a facility (off-street
distance plus the distance along the edge to either end); a community with at least one snapped
gate has exactly its gates as access points (no outline points, no nodes inside it), each with the
walk inside the compound from its homes to that gate added (:func:`inner_walk`). A community
without snapped gates keeps its outline access points (:mod:`spatial.network.access_points`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely

from spatial.network.access_points import Access
from spatial.network.graph import StreetNetwork


@dataclass(frozen=True)
class GateSet:
    """The gates of a run, assigned to communities.

    Attributes
    ----------
    xy : (g, 2) float array
        Gate positions (metric CRS).
    comm : (g,) int array
        Each gate's community (position in the communities frame).
    inner_m : (g,) float array
        Each gate's walk inside its compound (:func:`inner_walk`).
    rule : str
        The inner-walk rule used (:data:`INNER_RULES`).
    """

    xy: np.ndarray
    comm: np.ndarray
    inner_m: np.ndarray
    rule: str = "none"


#: the walk inside a compound from its homes to a gate
INNER_RULES = ("none", "mean", "farthest")
#: points of the grid over a compound for the ``mean`` rule (about; at least one)
_MEAN_GRID_POINTS = 400


def inner_walk(
    polygons: np.ndarray, gate_xy: np.ndarray, gate_comm: np.ndarray, rule: str, detour: float
) -> np.ndarray:
    """Per gate, the walk inside its compound from the homes to the gate (m).

    Parameters
    ----------
    polygons : ndarray of Polygon / MultiPolygon
        The communities (metric CRS).
    gate_xy : (g, 2) array
        The gates.
    gate_comm : (g,) int array
        Each gate's community (position in ``polygons``).
    rule : str
        ``none`` (0), ``mean`` (the mean straight distance from a regular grid of points over
        the compound, about 400 points, to the gate) or ``farthest`` (the straight distance
        from the gate to the farthest point of the outline).
    detour : float
        Straight line × this factor.

    Returns
    -------
    (g,) float array
    """
    gate_xy = np.asarray(gate_xy, float).reshape(-1, 2)
    if rule == "none" or len(gate_xy) == 0:
        return np.zeros(len(gate_xy))
    out = np.zeros(len(gate_xy))
    for comm in np.unique(gate_comm):
        mine = np.flatnonzero(gate_comm == comm)
        pts = _farthest_candidates(polygons[comm]) if rule == "farthest" else _grid(polygons[comm])
        d = np.hypot(
            gate_xy[mine, 0][:, None] - pts[None, :, 0], gate_xy[mine, 1][:, None] - pts[None, :, 1]
        )
        out[mine] = d.max(axis=1) if rule == "farthest" else d.mean(axis=1)
    return out * detour


def _farthest_candidates(polygon: shapely.Geometry) -> np.ndarray:
    """The outline's vertices: the farthest point of a polygon from any point is one of them."""
    return shapely.get_coordinates(shapely.get_exterior_ring(shapely.get_parts(polygon)))


def _grid(polygon: shapely.Geometry) -> np.ndarray:
    """Cell centres of a regular grid over ``polygon`` that fall inside it (about
    ``_MEAN_GRID_POINTS``; the representative point when none does)."""
    xmin, ymin, xmax, ymax = polygon.bounds
    step = max(np.sqrt(max(polygon.area, 1e-9) / _MEAN_GRID_POINTS), 1e-3)
    nx = max(int(round((xmax - xmin) / step)), 1)  # cells tile the bounding box exactly
    ny = max(int(round((ymax - ymin) / step)), 1)
    xs = xmin + (np.arange(nx) + 0.5) * (xmax - xmin) / nx
    ys = ymin + (np.arange(ny) + 0.5) * (ymax - ymin) / ny
    gx, gy = (a.ravel() for a in np.meshgrid(xs, ys))
    inside = shapely.contains_xy(polygon, gx, gy)
    if not inside.any():
        return shapely.get_coordinates(polygon.representative_point())
    return np.column_stack([gx[inside], gy[inside]])


def gated_access(
    net: StreetNetwork,
    outline: Access,
    gate_xy: np.ndarray,
    gate_comm: np.ndarray,
    inner_m: np.ndarray,
    max_snap: float,
) -> tuple[Access, np.ndarray, np.ndarray]:
    """The access points with every gated community's outline points replaced by its gates.

    Parameters
    ----------
    net : StreetNetwork
    outline : Access
        The outline access points of all communities (``polygon_access``).
    gate_xy : (g, 2) array
        The gates (metric CRS).
    gate_comm : (g,) int array
        Each gate's community (position in the communities).
    inner_m : (g,) float array
        Each gate's walk inside the compound (:func:`inner_walk`).
    max_snap : float
        ``max_snap_m``: a gate farther from every street is not used.

    Returns
    -------
    access : Access
    gated : (c,) int array
        The communities reached through gates (positions, sorted).
    off_network : (k,) int array
        Gates (positions in ``gate_xy``) farther than ``max_snap`` from every street.
    """
    edge, along, offset = net.snap(np.asarray(gate_xy, float).reshape(-1, 2), max_snap)
    ok = edge >= 0
    comm, e, a = gate_comm[ok], edge[ok], along[ok]
    o = offset[ok] + inner_m[ok]
    gated = np.unique(comm)
    length = net.edges["length"].to_numpy(float)[e]
    u, v = net.edges["u"].to_numpy()[e], net.edges["v"].to_numpy()[e]
    keep = ~np.isin(outline.node_owner, gated)
    owner = np.r_[outline.node_owner[keep], comm, comm]
    node = np.r_[outline.node[keep], u, v]
    up_u, up_v = net.excess(e, a, np.zeros(len(a))), net.excess(e, a, length)  # gate → node
    extra = np.r_[outline.extra[keep], o + a + up_u, o + length - a + up_v]
    order = np.lexsort((extra, node, owner))
    owner, node, extra = owner[order], node[order], extra[order]
    first = np.r_[True, (owner[1:] != owner[:-1]) | (node[1:] != node[:-1])]
    first = first[: len(owner)]
    pt_keep = ~np.isin(outline.pt_owner, gated)
    access = Access(
        node_owner=owner[first],
        node=node[first],
        extra=extra[first],
        pt_owner=np.r_[outline.pt_owner[pt_keep], comm],
        pt_edge=np.r_[outline.pt_edge[pt_keep], e],
        pt_along=np.r_[outline.pt_along[pt_keep], a],
        pt_offset=np.r_[outline.pt_offset[pt_keep], o],
    )
    return access, gated, np.flatnonzero(~ok)
