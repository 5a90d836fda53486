"""The walking network as arrays: nodes, edges, the street matrix for sparse shortest paths, and
exact snapping of points to the nearest street edge.

Built by :mod:`spatial.network.read` (OSM, GraphML, road-line layers); shortest paths from snapped
points are :mod:`spatial.network.routing`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import geopandas as gpd
import numpy as np
import shapely
from pykdtree.kdtree import KDTree
from pyproj import CRS
from scipy import sparse

from spatial.core.problems import Problem
from spatial.network.elevation import EdgeSlope

SAMPLE_STEP_M = 20.0
SNAP_CANDIDATES = 6


@dataclass
class StreetNetwork:
    """A walking network in a metric CRS: undirected streets, walked both ways at their length,
    unless :attr:`slope` (hills, :mod:`spatial.network.elevation`) gives each direction its own
    cost.

    Attributes
    ----------
    node_xy : (n, 2) array of node coordinates.
    edges : GeoDataFrame with ``u``, ``v`` (node positions), ``length`` (m), ``highway`` and a
        LineString geometry from node ``u`` to node ``v``.
    """

    node_xy: np.ndarray
    edges: gpd.GeoDataFrame
    crs: CRS
    source: str = ""
    dropped_nodes: int = 0
    node_ids: np.ndarray | None = None  # OSM ids where known
    problems: list[Problem] = field(default_factory=list)  # e.g. ways clipped by the extract
    largest_share: float = 1.0  # share of the street length in the largest connected part (kept)
    report: object | None = None  # a road layer's validate.LayerReport (columns, values) for check
    slope: EdgeSlope | None = None  # directed Tobler costs from [network] elevation (hills)

    @property
    def n_nodes(self) -> int:
        return len(self.node_xy)

    @cached_property
    def _base_csr(self) -> sparse.csr_matrix:
        """The street graph as a sparse matrix, both directions, read **toward** the sources:
        entry ``[a, b]`` is the walk from ``b`` to ``a`` (the passes run from the facilities
        outward, the residents walk to them). Without :attr:`slope` both directions are the
        length; with it, ``[u, v]`` is the walk ``v → u`` and ``[v, u]`` the walk ``u → v``."""
        u = self.edges["u"].to_numpy()
        v = self.edges["v"].to_numpy()
        length = self.edges["length"].to_numpy(float)
        up, down = self.slope.total() if self.slope is not None else (0.0, 0.0)
        w_vu, w_uv = np.maximum(length + down, 1e-6), np.maximum(length + up, 1e-6)
        shape = (self.n_nodes, self.n_nodes)
        return sparse.csr_matrix((np.r_[w_vu, w_uv], (np.r_[u, v], np.r_[v, u])), shape=shape)

    def excess(self, edge: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray | float:
        """What walking along ``edge`` from ``a`` to ``b`` metres (from ``u``) costs beyond its
        length: the hills' excess (:meth:`EdgeSlope.excess`), exactly 0 without them.

        Parameters
        ----------
        edge : (k,) int array
        a, b : (k,) float arrays

        Returns
        -------
        (k,) float array, or 0.0 without :attr:`slope`
        """
        if self.slope is None:
            return 0.0
        return self.slope.excess(edge, a, b)

    @property
    def min_cost_ratio(self) -> float:
        """The least a metre of street can cost (1 without hills; Tobler's best downhill is
        ``exp(−0.175)``): a walk costing ``c`` is at most ``c / min_cost_ratio`` metres long."""
        return 1.0 if self.slope is None else self.slope.min_ratio

    def with_virtual_sources(
        self, owner: np.ndarray, node: np.ndarray, extra: np.ndarray, n_sources: int
    ) -> sparse.csr_matrix:
        """The street graph plus ``n_sources`` virtual nodes (node ``n_nodes + i`` is source
        ``i``), each linked one-way to street nodes.

        Parameters
        ----------
        owner : (k,) int array
            The source of each link (``0 … n_sources - 1``); links may come in any order.
        node : (k,) int array
            The street node each link leads to.
        extra : (k,) float array
            Each link's length in metres (at least 1e-6 is kept, so a zero link still counts).
        n_sources : int
            Number of virtual nodes; a source without links is isolated.

        Returns
        -------
        scipy.sparse.csr_matrix
            ``(n_nodes + n_sources)`` square. Virtual nodes have no way in, so no path passes
            through another source. Built by appending rows to the cached street matrix.
        """
        base = self._base_csr
        order = np.argsort(owner, kind="stable")
        per_source = np.bincount(owner, minlength=n_sources)
        size = self.n_nodes + n_sources
        return sparse.csr_matrix(
            (
                np.r_[base.data, np.maximum(np.asarray(extra, float)[order], 1e-6)],
                np.r_[base.indices, np.asarray(node)[order]],
                np.r_[base.indptr, base.indptr[-1] + np.cumsum(per_source)],
            ),
            shape=(size, size),
        )

    @cached_property
    def node_tree(self) -> shapely.STRtree:
        """Spatial index of the nodes (as points)."""
        return shapely.STRtree(shapely.points(self.node_xy))

    @cached_property
    def _segments(self) -> dict[str, np.ndarray]:
        """Every straight segment of every edge, with a k-d tree of points sampled along them.

        A segment of length ``L`` gets ``ceil(L / SAMPLE_STEP_M)`` samples (at least one) at the
        middles of equal parts, so every point of it lies within half a step of one of its own
        samples, and samples never pile up at junctions.
        """
        geoms = np.asarray(self.edges.geometry.values)
        coords, owner = shapely.get_coordinates(geoms, return_index=True)
        pair = np.flatnonzero(owner[1:] == owner[:-1])
        a, b, edge = coords[pair], coords[pair + 1], owner[pair]
        ab = b - a
        seg_len = np.hypot(*ab.T)
        run = np.cumsum(seg_len)
        edge_start = np.r_[0, np.flatnonzero(np.diff(edge)) + 1]
        before = np.repeat(
            run[edge_start] - seg_len[edge_start], np.diff(np.r_[edge_start, len(edge)])
        )
        counts = np.maximum(np.ceil(seg_len / SAMPLE_STEP_M).astype(np.int64), 1)
        seg_of = np.repeat(np.arange(len(pair)), counts)
        part = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
        t = (part + 0.5) / counts[seg_of]
        samples = a[seg_of] + t[:, None] * ab[seg_of]
        geom_len = np.bincount(edge, weights=seg_len, minlength=len(geoms))
        scale = self.edges["length"].to_numpy(float) / np.maximum(geom_len, 1e-9)
        inv_len2 = 1.0 / np.maximum(seg_len * seg_len, 1e-18)
        return {
            "tree": KDTree(samples),
            "n_samples": len(samples),
            "seg_of": seg_of,
            "ax": a[:, 0].copy(),
            "ay": a[:, 1].copy(),
            "abx": ab[:, 0].copy(),
            "aby": ab[:, 1].copy(),
            "inv_len2": inv_len2,
            "edge": edge,
            "len": seg_len,
            "start": run - seg_len - before,
            "scale": scale,
        }

    def _nearest_segments(self, points: np.ndarray, k: int):
        """Nearest segment of each point: (segment, distance, position 0-1 along it).

        Exact: every segment has one of its own samples within its distance + half the sample
        step, so when the k-th nearest sample is farther than the best distance + half a step no
        segment was missed; points where that does not hold are looked up again with more
        candidates.
        """
        seg = self._segments
        n = len(points)
        far, idx = seg["tree"].query(np.ascontiguousarray(points), k=k)
        far, idx = far.reshape(n, k), idx.reshape(n, k).astype(np.int64)
        cand = seg["seg_of"][idx]
        abx, aby = seg["abx"][cand], seg["aby"][cand]
        rx = points[:, :1] - seg["ax"][cand]
        ry = points[:, 1:] - seg["ay"][cand]
        t = rx * abx
        t += ry * aby
        t *= seg["inv_len2"][cand]
        np.clip(t, 0, 1, out=t)
        rx -= t * abx
        ry -= t * aby
        rx *= rx
        ry *= ry
        rx += ry  # squared distance to each candidate
        best = np.argmin(rx, axis=1)
        rows = np.arange(n)
        chosen, off, tb = cand[rows, best], np.sqrt(rx[rows, best]), t[rows, best]
        unsure = np.flatnonzero(far[:, -1] <= off + SAMPLE_STEP_M / 2)
        if len(unsure) and k < seg["n_samples"]:
            again = self._nearest_segments(points[unsure], min(2 * k, seg["n_samples"]))
            chosen[unsure], off[unsure], tb[unsure] = again
        return chosen, off, tb

    def snap(self, points: np.ndarray, max_distance: float | None = None):
        """Snap points to the nearest edge.

        Candidate segments come from the nearest sample points along the streets (a k-d tree);
        the exact projection onto each candidate decides (see ``_nearest_segments``).

        Returns
        -------
        edge : int array (−1 where nothing is within ``max_distance``)
        along : distance from the edge's ``u`` end along the edge (m, scaled to ``length``)
        offset : straight distance from the point to the edge (m)
        """
        points = np.asarray(points, float).reshape(-1, 2)
        n = len(points)
        edge = np.full(n, -1, dtype=np.int64)
        along = np.zeros(n)
        offset = np.full(n, np.inf)
        if n == 0 or len(self.edges) == 0:
            return edge, along, offset
        seg = self._segments
        chosen, off, tb = self._nearest_segments(points, min(SNAP_CANDIDATES, seg["n_samples"]))
        ok = off <= (np.inf if max_distance is None else max_distance)
        e = seg["edge"][chosen]
        edge[ok] = e[ok]
        offset[ok] = off[ok]
        along[ok] = ((seg["start"][chosen] + tb * seg["len"][chosen]) * seg["scale"][e])[ok]
        return edge, along, offset


def major_edges(net: StreetNetwork, highways: list[str]) -> np.ndarray:
    """Which edges of ``net`` are major roads: ``highway`` in ``highways``, a ``_link`` road
    counting as its road (``primary_link`` as ``primary``).

    Returns
    -------
    (n_edges,) bool array
    """
    highway = net.edges["highway"].astype(str).str.removesuffix("_link")
    return highway.isin(highways).to_numpy()
