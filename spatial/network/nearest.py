"""Per-category distances from polygons to the nearest facility: one bounded Dijkstra pass per
category on the walking network (facilities snapped to their nearest street edge, polygons reached
through their access points, :mod:`access`), or straight-line distance × detour factor without a
network."""

from __future__ import annotations

from dataclasses import dataclass, replace

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from spatial.config.project import CoverageConfig
from spatial.config.standards import Standards
from spatial.network.access_points import Access
from spatial.network.graph import StreetNetwork
from spatial.network.routing import nearest_source, source_graph


class _Grouper:
    """Per-community minimum over the access links, with the links sorted by community once
    (access links come sorted already: then nothing is reordered)."""

    def __init__(self, groups: np.ndarray, n: int) -> None:
        presorted = bool(np.all(groups[1:] >= groups[:-1]))
        self.order = None if presorted else np.argsort(groups, kind="stable")
        sorted_groups = groups if presorted else groups[self.order]
        self.present, self.starts, self.counts = np.unique(
            sorted_groups, return_index=True, return_counts=True
        )
        self.n = n

    def min(self, values: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per group: the minimum value and the label at that minimum (inf / −1 where none)."""
        best = np.full(self.n, np.inf)
        best_label = np.full(self.n, -1)
        if len(self.starts) == 0:
            return best, best_label
        if self.order is not None:
            values, labels = values[self.order], labels[self.order]
        low = np.minimum.reduceat(values, self.starts)
        at_low = values == np.repeat(low, self.counts)
        labs = np.where(at_low & np.isfinite(values), labels, np.iinfo(np.int64).max)
        lab = np.minimum.reduceat(labs, self.starts)
        best[self.present] = low
        best_label[self.present] = np.where(np.isfinite(low), lab, -1)
        return best, best_label


def _improve(
    best: np.ndarray,
    best_label: np.ndarray,
    groups: np.ndarray,
    values: np.ndarray,
    labels: np.ndarray,
) -> None:
    """Lower ``best`` in place where (group, value, label) triples beat it."""
    if len(values) == 0:
        return
    order = np.lexsort((values, groups))
    g, val, lab = groups[order], values[order], labels[order]
    first = np.r_[True, g[1:] != g[:-1]]
    g, val, lab = g[first], val[first], lab[first]
    better = val < best[g]
    best[g[better]] = val[better]
    best_label[g[better]] = lab[better]


def same_edge(
    access: Access,
    f_edge: np.ndarray,
    f_along: np.ndarray,
    f_offset: np.ndarray,
    net: StreetNetwork | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The direct distances along a shared street edge: where a community's boundary point and a
    facility snap to the same edge, the walk between them need not pass a node.

    Parameters
    ----------
    access : Access
        The communities' boundary points on the network (``access.polygon_access``).
    f_edge, f_along, f_offset : ndarray
        Per facility (source): the edge it snaps to, the metres along that edge and its
        off-street offset.
    net : StreetNetwork, optional
        With hills (:attr:`StreetNetwork.slope`), the walk from the boundary point to the
        facility costs its slope's excess too.

    Returns
    -------
    tuple of ndarray
        ``(community, distance_m, source)``, one entry per (boundary point, facility) pair on a
        shared edge: offset + distance along the edge + the facility's offset.
    """
    on_fac_edge = np.isin(access.pt_edge, f_edge)
    pts = pd.DataFrame(
        {
            "comm": access.pt_owner[on_fac_edge],
            "edge": access.pt_edge[on_fac_edge],
            "a": access.pt_along[on_fac_edge],
            "o": access.pt_offset[on_fac_edge],
        }
    )
    fac = pd.DataFrame(
        {"edge": f_edge, "fa": f_along, "fo": f_offset, "src": np.arange(len(f_edge))}
    )
    both = pts.merge(fac, on="edge")
    dist = (both["o"] + (both["a"] - both["fa"]).abs() + both["fo"]).to_numpy()
    if net is not None and net.slope is not None:  # the walk from the point to the facility
        dist = dist + net.excess(
            both["edge"].to_numpy(), both["a"].to_numpy(), both["fa"].to_numpy()
        )
    return both["comm"].to_numpy(), dist, both["src"].to_numpy()


@dataclass
class CategoryResult:
    """One category's distances: per community, and per network node for the service areas.

    Attributes
    ----------
    distance : (n,) float array
        Per community, metres; ``inf`` where unreached within the bound.
    nearest : (n,) int array
        The nearest facility's position in the category's frame, −1 where none.
    node_dist : (n_nodes,) float array or None
        The category's Dijkstra pass per street node (network mode only).
    """

    distance: np.ndarray  # per community (m), inf where unreached within the bound
    nearest: np.ndarray  # facility position per community, −1 where none
    node_dist: np.ndarray | None = None  # per network node, for service areas


def network_distances(
    access: Access,
    grouper: _Grouper,
    node_dist: np.ndarray,
    node_src: np.ndarray,
    rank: np.ndarray,
    same_edge: tuple,
    bound: float,
) -> CategoryResult:
    """Distance from every community to the nearest of one category's facilities.

    ``node_dist`` and ``node_src`` are the category's Dijkstra pass (``routing.nearest_source``):
    each node's distance to its nearest facility and that facility's source index (−1 if none);
    ``rank`` maps a source index to the facility's row in the category's own frame;
    ``same_edge`` is (community, direct distance, source) for the category's facilities that
    share an edge with a boundary point.

    Parameters
    ----------
    access : Access
        The communities' access points.
    grouper : _Grouper
        Access links grouped by community.
    node_dist, node_src : (n_nodes,) arrays
        The category's pass.
    rank : (s,) int array
    same_edge : tuple of arrays
    bound : float
        Metres; farther is unreached.

    Returns
    -------
    CategoryResult
    """
    values = node_dist[access.node] + access.extra
    values[values > bound] = np.inf
    rank = np.append(rank, -1)  # source −1 (none) → row −1
    labels = rank[node_src[access.node]]
    dist, nearest = grouper.min(values, labels)
    sc, sd, ss = same_edge
    _improve(dist, nearest, sc, sd, rank[ss])
    return CategoryResult(dist, nearest, node_dist)


def straight_distances(
    polygons: np.ndarray, facilities: gpd.GeoDataFrame, detour: float, bound: float
) -> CategoryResult:
    """Fallback without a network: straight distance from the outline × detour factor.

    The same distance as :func:`straight_within` (used by ``reach`` and ``catchment``), but only
    the nearest facility per community: a nearest-neighbour query, not every pair within the
    bound (which may be far larger than any radius), and ties resolved as before.

    Parameters
    ----------
    polygons : ndarray of geometries
        The communities.
    facilities : GeoDataFrame
        One category's facilities (same CRS).
    detour : float
        ``detour_factor`` (≥ 1).
    bound : float
        Walked distances beyond it are left unreached (inf).

    Returns
    -------
    CategoryResult
        Without node distances.
    """
    n = len(polygons)
    if len(facilities) == 0:
        return CategoryResult(np.full(n, np.inf), np.full(n, -1))
    tree = shapely.STRtree(facilities.geometry.values)
    idx, dist = tree.query_nearest(polygons, return_distance=True, all_matches=False)
    out = np.full(n, np.inf)
    nearest = np.full(n, -1)
    walked = dist * detour
    within = walked <= bound
    out[idx[0][within]] = walked[within]
    nearest[idx[0][within]] = idx[1][within]
    return CategoryResult(out, nearest)


def straight_within(
    a: np.ndarray, b: np.ndarray, radius: float, detour: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Fallback without a network: every pair of geometries with straight distance × ``detour``
    ≤ ``radius`` (0 where they touch or overlap).

    Parameters
    ----------
    a, b : ndarray of geometries
        In one metric CRS (outlines are measured as areas: a point inside a polygon is at 0).
    radius : float
        Metres walked.
    detour : float
        ``detour_factor`` (≥ 1).

    Returns
    -------
    ia, ib : int arrays
        Positions in ``a`` and ``b`` of each pair, ordered by ``ia``.
    distance : float array
        The straight distance × ``detour`` (m).
    """
    ia, ib = shapely.STRtree(b).query(a, predicate="dwithin", distance=radius / detour)
    dist = shapely.distance(a[ia], b[ib]) * detour
    keep = dist <= radius
    return ia[keep], ib[keep], dist[keep]


@dataclass(frozen=True)
class NetworkPasses:
    """The facilities snapped to the network and one Dijkstra pass per category.

    Attributes
    ----------
    access : Access
    grouper : _Grouper
    source_cat, rank : (s,) arrays
        Per snapped facility: its category and its row among that category's facilities.
    same_edge : tuple of arrays
        (community, direct distance, source) where a facility shares an edge with an access point.
    passes : dict of str to (node distance, node source)
        One bounded Dijkstra pass per category.
    facilities_off_network : int
        Facilities farther than ``max_snap_m`` from every street.
    """

    access: Access
    grouper: _Grouper
    source_cat: np.ndarray  # category per source (snapped facility)
    rank: np.ndarray  # a source's row within its own category's facilities
    same_edge: tuple[np.ndarray, np.ndarray, np.ndarray]  # (community, distance, source)
    passes: dict[str, tuple[np.ndarray, np.ndarray]]  # category → (node distance, node source)
    facilities_off_network: int
    snapped: tuple[np.ndarray, np.ndarray, np.ndarray] | None = (
        None  # facilities' edge, along, offset
    )
    net: StreetNetwork | None = None  # for the hills' excess of same-edge walks

    def with_access(self, access: Access, n: int) -> NetworkPasses:
        """The same Dijkstra passes read through other access points (e.g. the outlines of
        gated communities, for the comparison of :mod:`spatial.network.gates`).

        Parameters
        ----------
        access : Access
        n : int
            Communities.

        Returns
        -------
        NetworkPasses
        """
        return replace(
            self,
            access=access,
            grouper=_Grouper(access.node_owner, n),
            same_edge=same_edge(access, *self.snapped, net=self.net),
        )

    def distances(self, key: str, bound: float) -> CategoryResult:
        """One category's distances (:func:`network_distances` on its pass).

        Parameters
        ----------
        key : str
            The category.
        bound : float
            Metres.

        Returns
        -------
        CategoryResult
        """
        sc, sd, ss = self.same_edge
        keep = (self.source_cat[ss] == key) & (sd <= bound)
        same = (sc[keep], sd[keep], ss[keep])
        return network_distances(
            self.access, self.grouper, *self.passes[key], self.rank, same, bound
        )


def network_passes(
    net: StreetNetwork,
    facilities: gpd.GeoDataFrame,
    polygons: np.ndarray,
    standards: Standards,
    cfg: CoverageConfig,
    bound: float,
    access: Access,
) -> NetworkPasses:
    """Snap the facilities, link the communities and run one bounded Dijkstra per category.

    Parameters
    ----------
    net : StreetNetwork
    facilities : GeoDataFrame
        With ``category``.
    polygons : ndarray of geometries
        The communities.
    standards : Standards
    cfg : CoverageConfig
        ``max_snap_m``.
    bound : float
        Search limit in metres.
    access : Access
        The communities' access points.

    Returns
    -------
    NetworkPasses
    """
    category = facilities["category"].to_numpy()
    f_edge, f_along, f_offset = net.snap(
        shapely.get_coordinates(facilities.geometry.values), max_distance=cfg.max_snap_m
    )
    rows = np.flatnonzero(f_edge >= 0)
    snapped = (f_edge[rows], f_along[rows], f_offset[rows])
    graph = source_graph(net, *snapped)
    source_cat = category[rows]
    passes = {
        k: nearest_source(graph, net.n_nodes, np.flatnonzero(source_cat == k), bound)
        for k in standards.categories
    }
    return NetworkPasses(
        access=access,
        grouper=_Grouper(access.node_owner, len(polygons)),
        source_cat=source_cat,
        rank=pd.Series(category).groupby(category).cumcount().to_numpy()[rows],
        same_edge=same_edge(access, *snapped, net=net),
        passes=passes,
        facilities_off_network=int(len(f_edge) - len(rows)),
        snapped=snapped,
        net=net,
    )
