"""Facility catchments: every (facility, community) pair within a walking radius.

The distances are the coverage's own (``spatial.analysis.coverage.measure``): a facility is snapped to its nearest
street edge (``routing.source_graph``), a community is reached at the nearest of its access points
(``access.polygon_access``), and a boundary point on the facility's own edge is reached along
that edge. The minimum over a community's pairs therefore equals its coverage distance
``<cat>_m``. Without a network: straight outline distance × detour factor, as coverage.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely
from scipy import sparse
from scipy.sparse import csgraph

from spatial.network.access_points import Access
from spatial.network.graph import StreetNetwork
from spatial.network.nearest import same_edge, straight_within
from spatial.network.routing import source_graph

CHUNK = 64  # facilities per bounded Dijkstra batch (spatially sorted: small local subgraphs)

COLUMNS = ["facility", "community", "distance_m"]


class NetworkCatchments:
    """Snapped facilities and the community access links, prepared once for all categories.

    Parameters
    ----------
    net : the walking network.
    points : (k, 2) facility coordinates.
    access : the communities' access points on ``net`` (``access.polygon_access``).
    max_snap : a facility farther than this from every street is left out (as in coverage).
    """

    def __init__(
        self, net: StreetNetwork, points: np.ndarray, access: Access, max_snap: float
    ) -> None:
        self.net, self.access, self.points = net, access, points
        edge, along, offset = net.snap(points, max_distance=max_snap)
        self.rows = np.flatnonzero(edge >= 0)  # snapped facilities (their rows in ``points``)
        self.snapped = (edge[self.rows], along[self.rows], offset[self.rows])
        self.graph = source_graph(net, *self.snapped)
        order = np.argsort(access.node, kind="stable")  # node → access links, as CSR
        self.link_comm, self.link_extra = access.node_owner[order], access.extra[order]
        self.indptr = np.r_[0, np.cumsum(np.bincount(access.node, minlength=net.n_nodes))]
        self.same = same_edge(access, *self.snapped, net=net)  # (community, distance, source)
        self._local = np.full(self.graph.shape[0], -1, dtype=np.int64)

    def pairs(self, facilities: np.ndarray, radius: float) -> pd.DataFrame:
        """(facility, community, distance_m) with distance ≤ ``radius`` for the given facility
        rows (positions in ``points``); one row per pair, the shortest.

        Parameters
        ----------
        facilities : (f,) int array
            Rows of ``points`` (one category's facilities).
        radius : float
            The catchment, metres walked.

        Returns
        -------
        DataFrame
            ``facility`` (row of ``points``), ``community`` (position), ``distance_m``.
        """
        src = np.flatnonzero(np.isin(self.rows, facilities))  # source indices in the graph
        out = [self._same_pairs(src, radius)]
        if len(src):  # (facility, community, distance) arrays per batch
            xy = self.points[self.rows[src]]
            cell = np.floor((xy - xy.min(axis=0)) / max(radius * 2, 1.0)).astype(np.int64)
            order = np.argsort(_morton(cell), kind="stable")  # neighbours share a batch
            for batch in _batches(xy[order], max(4 * radius, 1000.0), CHUNK):
                out.append(self._batch(src[order[batch]], radius))
        fac, comm, dist = (np.concatenate(parts) for parts in zip(*out, strict=True))
        pairs = pd.DataFrame({"facility": fac, "community": comm, "distance_m": dist})
        return pairs.groupby(["facility", "community"], as_index=False, sort=False)[
            "distance_m"
        ].min()

    def _same_pairs(self, src: np.ndarray, radius: float) -> tuple[np.ndarray, ...]:
        sc, sd, ss = self.same
        keep = np.isin(ss, src) & (sd <= radius)
        return self.rows[ss[keep]], sc[keep], sd[keep]

    def _subgraph(self, nodes: np.ndarray) -> sparse.csr_matrix:
        """The graph restricted to ``nodes`` (renumbered in that order), without a sort."""
        local = self._local
        local[nodes] = np.arange(len(nodes))
        g = self.graph
        starts, ends = g.indptr[nodes], g.indptr[nodes + 1]
        counts = ends - starts
        at = np.repeat(starts, counts) + (
            np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
        )
        col = local[g.indices[at]]
        keep = col >= 0
        local[nodes] = -1
        row_of = np.repeat(np.arange(len(nodes)), counts)[keep]
        indptr = np.r_[0, np.cumsum(np.bincount(row_of, minlength=len(nodes)))]
        return sparse.csr_matrix(
            (g.data[at][keep], col[keep], indptr), shape=(len(nodes), len(nodes))
        )

    def _batch(self, src: np.ndarray, radius: float) -> tuple[np.ndarray, ...]:
        """One bounded Dijkstra from a batch of nearby sources on the subgraph of the street nodes
        within ``radius`` (straight line) of any of them: a walk of at most ``radius`` never
        leaves that box, so the subgraph gives the exact distances (with hills a walk costing
        ``radius`` may be up to ``radius / min_cost_ratio`` metres long: the box grows so)."""
        net = self.net
        xy = self.points[self.rows[src]]
        reach = radius / net.min_cost_ratio
        lo, hi = xy.min(axis=0) - reach, xy.max(axis=0) + reach
        inside = np.sort(net.node_tree.query(shapely.box(*lo, *hi)))
        nodes = np.r_[inside, net.n_nodes + src]
        sub = self._subgraph(nodes)
        dist = csgraph.dijkstra(
            sub, directed=True, indices=len(inside) + np.arange(len(src)), limit=radius
        )[:, : len(inside)]
        row, col = np.nonzero(dist <= radius)
        node = inside[col]
        counts = self.indptr[node + 1] - self.indptr[node]
        link = np.repeat(self.indptr[node], counts) + (
            np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
        )
        value = np.repeat(dist[row, col], counts) + self.link_extra[link]
        ok = value <= radius
        return self.rows[src[np.repeat(row, counts)[ok]]], self.link_comm[link[ok]], value[ok]


def _batches(xy: np.ndarray, side: float, size: int) -> list[np.ndarray]:
    """Consecutive runs of points (in Z-order) of at most ``size`` whose bounding box stays within
    ``side`` × ``side``: each batch's subgraph stays small."""
    out, start = [], 0
    lo = hi = xy[0] if len(xy) else None
    for i in range(1, len(xy)):
        lo2, hi2 = np.minimum(lo, xy[i]), np.maximum(hi, xy[i])
        if i - start >= size or (hi2 - lo2).max() > side:
            out.append(np.arange(start, i))
            start, lo2, hi2 = i, xy[i], xy[i]
        lo, hi = lo2, hi2
    if len(xy):
        out.append(np.arange(start, len(xy)))
    return out


def _morton(cell: np.ndarray) -> np.ndarray:
    """Z-order key of non-negative (x, y) grid cells (below 2**16): nearby cells, nearby keys."""
    key = np.zeros(len(cell), dtype=np.int64)
    for bit in range(16):
        key |= ((cell[:, 0] >> bit) & 1) << (2 * bit)
        key |= ((cell[:, 1] >> bit) & 1) << (2 * bit + 1)
    return key


def straight_pairs(
    polygons: np.ndarray, points: np.ndarray, facilities: np.ndarray, radius: float, detour: float
) -> pd.DataFrame:
    """Without a network: (facility, community, distance_m) with the straight distance from the
    facility to the community outline × ``detour`` ≤ ``radius`` (coverage's fallback rule, by
    ``distances.straight_within``).

    Parameters
    ----------
    polygons : ndarray of geometries
        The communities.
    points : (k, 2) float array
        Facility coordinates; ``facilities`` picks the rows of one category.
    facilities : (f,) int array
    radius, detour : float

    Returns
    -------
    DataFrame
        ``facility`` (row of ``points``), ``community`` (position), ``distance_m``.
    """
    geoms = shapely.points(points[facilities])
    comm, fac, dist = straight_within(polygons, geoms, radius, detour)
    return pd.DataFrame({"facility": facilities[fac], "community": comm, "distance_m": dist})
