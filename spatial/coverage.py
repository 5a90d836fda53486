"""15-minute life-circle coverage: walking distance from each community to each facility category.

Access rule (see README): a community is reached through its boundary. Its access points are
(a) every network node inside the polygon (at distance zero) or within ``access_spacing_m / 2``
of it (plus that gap), and (b) its outline's vertices and points every ``access_spacing_m`` along it, each snapped to the nearest
street edge with the straight off-street distance added. A facility snaps to its nearest street
edge the same way. The community's distance to a category is the smallest over its access points.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .config import CoverageConfig
from .errors import InputError
from .network import StreetNetwork, nearest_source, source_graph
from .standards import Standards


@dataclass
class Access:
    """Access points of polygons (communities or parcels) as node links and as snapped boundary
    points; the owner of each is the polygon's position in the array given to
    :func:`polygon_access`.

    The node links hold one link per (owner, node), the shortest, sorted by owner and then
    node."""

    node_owner: np.ndarray  # polygon index per (node, extra) link
    node: np.ndarray
    extra: np.ndarray
    pt_owner: np.ndarray  # polygon index per snapped boundary point
    pt_edge: np.ndarray
    pt_along: np.ndarray
    pt_offset: np.ndarray


def _outline_points(rings: np.ndarray, spacing: float) -> tuple[np.ndarray, np.ndarray]:
    """Points every ``spacing`` (at least 4 per ring) along each ring, and each point's ring.

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
    net: StreetNetwork, polygons: np.ndarray, spacing: float, max_snap: float
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
    to_u = np.minimum.reduceat(o + a, run) if len(run) else o
    to_v = np.minimum.reduceat(o + length - a, run) if len(run) else o
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


def community_access(
    net: StreetNetwork, polygons: np.ndarray, spacing: float, max_snap: float
) -> Access:
    """The communities' access points: :func:`polygon_access` under its former name, kept for
    callers that name communities (the pinned tests); new code calls ``polygon_access``."""
    return polygon_access(net, polygons, spacing, max_snap)


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


def _improve(best, best_label, groups, values, labels) -> None:
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


def _same_edge(access: Access, f_edge: np.ndarray, f_along: np.ndarray, f_offset: np.ndarray):
    """(community, direct distance, facility) where a boundary point and a facility share an edge."""
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
    dist = both["o"] + (both["a"] - both["fa"]).abs() + both["fo"]
    return both["comm"].to_numpy(), dist.to_numpy(), both["src"].to_numpy()


@dataclass
class CategoryResult:
    """One category's distances: per community, and per network node for the service areas."""

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

    ``node_dist`` and ``node_src`` are the category's Dijkstra pass (``network.nearest_source``):
    each node's distance to its nearest facility and that facility's source index (−1 if none);
    ``rank`` maps a source index to the facility's row in the category's own frame;
    ``same_edge`` is (community, direct distance, source) for the category's facilities that
    share an edge with a boundary point.
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
class CoverageResult:
    """What :func:`compute_coverage` found.

    Attributes
    ----------
    communities : GeoDataFrame
        The communities with ``<cat>_m``, ``<cat>_ok``, ``<cat>_nearest``, ``gaps``,
        ``full_coverage`` and ``distance_mode``.
    categories : dict of str to CategoryResult
        The raw per-category distances (and node distances, for service areas).
    facilities_off_network : int
        Facilities farther than ``max_snap_m`` from every street (0 without a network).
    communities_off_network : int
        Communities with no access point on the network (0 without a network).
    """

    communities: gpd.GeoDataFrame
    categories: dict[str, CategoryResult]
    facilities_off_network: int = 0
    communities_off_network: int = 0

    def __iter__(self):
        """Unpack as ``(communities, categories)``, the shape callers used before the counts."""
        return iter((self.communities, self.categories))


def _search_bound(standards: Standards, cfg: CoverageConfig) -> float:
    """Distances beyond this are not searched: the bound, or the longest radius if longer."""
    radii = (c.radius_m for c in standards.categories.values())
    return max(cfg.search_bound_m, max(radii, default=0))


@dataclass(frozen=True)
class _NetworkPasses:
    """The facilities snapped to the network and one Dijkstra pass per category."""

    access: Access
    grouper: _Grouper
    source_cat: np.ndarray  # category per source (snapped facility)
    rank: np.ndarray  # a source's row within its own category's facilities
    same_edge: tuple[np.ndarray, np.ndarray, np.ndarray]  # (community, distance, source)
    passes: dict[str, tuple[np.ndarray, np.ndarray]]  # category → (node distance, node source)
    facilities_off_network: int

    def distances(self, key: str, bound: float) -> CategoryResult:
        sc, sd, ss = self.same_edge
        keep = (self.source_cat[ss] == key) & (sd <= bound)
        same = (sc[keep], sd[keep], ss[keep])
        return network_distances(
            self.access, self.grouper, *self.passes[key], self.rank, same, bound
        )


def _network_passes(
    net: StreetNetwork,
    facilities: gpd.GeoDataFrame,
    polygons: np.ndarray,
    standards: Standards,
    cfg: CoverageConfig,
    bound: float,
    access: Access | None,
) -> _NetworkPasses:
    """Snap the facilities, link the communities and run one bounded Dijkstra per category."""
    category = facilities["category"].to_numpy()
    f_edge, f_along, f_offset = net.snap(
        shapely.get_coordinates(facilities.geometry.values), max_distance=cfg.max_snap_m
    )
    rows = np.flatnonzero(f_edge >= 0)
    snapped = (f_edge[rows], f_along[rows], f_offset[rows])
    graph = source_graph(net, *snapped)
    source_cat = category[rows]
    if access is None:
        access = polygon_access(net, polygons, cfg.access_spacing_m, cfg.max_snap_m)
    passes = {
        k: nearest_source(graph, net.n_nodes, np.flatnonzero(source_cat == k), bound)
        for k in standards.categories
    }
    return _NetworkPasses(
        access=access,
        grouper=_Grouper(access.node_owner, len(polygons)),
        source_cat=source_cat,
        rank=pd.Series(category).groupby(category).cumcount().to_numpy()[rows],
        same_edge=_same_edge(access, *snapped),
        passes=passes,
        facilities_off_network=int(len(f_edge) - len(rows)),
    )


def _coverage_columns(
    communities: gpd.GeoDataFrame,
    facilities: gpd.GeoDataFrame,
    standards: Standards,
    results: dict[str, CategoryResult],
    mode: str,
) -> gpd.GeoDataFrame:
    """The communities with the coverage columns from the per-category results."""
    n = len(communities)
    category = facilities["category"].to_numpy()
    all_names = facilities["name"].to_numpy(object)
    columns: dict[str, np.ndarray] = {}
    for key, cat in standards.categories.items():
        res = results[key]
        names = np.append(all_names[category == key], "")  # nearest −1 → ""
        columns[f"{key}_m"] = np.where(np.isfinite(res.distance), np.round(res.distance, 1), np.nan)
        columns[f"{key}_ok"] = res.distance <= cat.radius_m
        columns[f"{key}_nearest"] = names[res.nearest]
    gaps = sum((~columns[f"{k}_ok"]).astype(int) for k in standards.basket)
    columns["gaps"] = np.broadcast_to(gaps, n).astype(int)
    columns["full_coverage"] = columns["gaps"] == 0
    columns["distance_mode"] = np.full(n, mode)
    kept = communities.drop(columns=[c for c in columns if c in communities.columns])
    return pd.concat([kept, pd.DataFrame(columns, index=communities.index)], axis=1)


def compute_coverage(
    communities: gpd.GeoDataFrame,
    facilities: gpd.GeoDataFrame,
    standards: Standards,
    cfg: CoverageConfig,
    net: StreetNetwork | None = None,
    access: Access | None = None,
) -> CoverageResult:
    """Walking distance from every community to the nearest facility of every category.

    Parameters
    ----------
    communities, facilities : GeoDataFrame
        In the same metric CRS.
    standards : Standards
        Active categories, radii and basket.
    cfg : CoverageConfig
        The project's ``[coverage]`` settings.
    net : StreetNetwork, optional
        Walking network; ``None`` uses straight-line distance × ``cfg.detour_factor``.
    access : Access, optional
        The communities' access points on ``net`` (``polygon_access``), when already
        computed — the pipeline computes them once for coverage and siting.

    Returns
    -------
    CoverageResult
        The communities with coverage columns, the per-category raw results and what could not
        be put on the network.
    """
    polygons = communities.geometry.values
    bound = _search_bound(standards, cfg)
    if net is None:
        category = facilities["category"].to_numpy()
        results = {
            k: straight_distances(polygons, facilities.loc[category == k], cfg.detour_factor, bound)
            for k in standards.categories
        }
        out = _coverage_columns(communities, facilities, standards, results, "straight_line")
        return CoverageResult(out, results)
    passes = _network_passes(net, facilities, polygons, standards, cfg, bound, access)
    results = {k: passes.distances(k, bound) for k in standards.categories}
    out = _coverage_columns(communities, facilities, standards, results, "network")
    return CoverageResult(
        out,
        results,
        facilities_off_network=passes.facilities_off_network,
        communities_off_network=int(len(communities) - len(passes.grouper.present)),
    )


def coverage_summary(coverage: CoverageResult, standards: Standards) -> dict:
    """The ``coverage`` block of ``summary.json``: shares of communities and households covered.

    ``coverage`` is what :func:`compute_coverage` returned (its frame and off-network counts).

    Household shares count only communities with a known household number (blank households are
    left out of the numerator and the denominator, never read as 0); with none known, every
    household figure is null and ``households_known`` is false.
    """
    communities = coverage.communities
    known = bool(communities["households"].notna().any())

    def share(value: float) -> float | None:
        return round(value, 4) if known else None

    def shares(frame: gpd.GeoDataFrame) -> dict:
        h = frame["households"].fillna(0).to_numpy(float)
        th = h.sum()
        per_cat = {}
        for key in standards.categories:
            ok = frame[f"{key}_ok"].to_numpy(bool)
            per_cat[key] = {
                "communities": round(float(ok.mean()), 4) if len(ok) else 0.0,
                "households": share(float(h[ok].sum() / th) if th else 0.0),
            }
        full = frame["full_coverage"].to_numpy(bool)
        return {
            "communities": len(frame),
            "households": int(th) if known else None,
            "communities_with_households": int(frame["households"].notna().sum()),
            "categories": per_cat,
            "full_coverage_communities": round(float(full.mean()), 4) if len(full) else 0.0,
            "full_coverage_households": share(float(h[full].sum() / th) if th else 0.0),
        }

    block = shares(communities)
    target = standards.national_target
    block.update(
        {
            "distance_mode": str(communities["distance_mode"].iloc[0]) if len(communities) else "",
            "basket": list(standards.basket),
            "radii_m": {k: c.radius_m for k, c in standards.categories.items()},
            "national_target": target,
            "gap_to_target": round(
                max(
                    0.0,
                    target
                    - (
                        block["full_coverage_households"]
                        if known
                        else block["full_coverage_communities"]
                    ),
                ),
                4,
            ),
            "households_known": known,
            "facilities_off_network": coverage.facilities_off_network,
            "communities_off_network": coverage.communities_off_network,
            "standard": standards.source,
        }
    )
    subs = communities["subdistrict"].fillna("").astype(str)
    block["by_subdistrict"] = {
        (s or "未注明"): shares(communities.loc[subs == s]) for s in sorted(subs.unique())
    }
    return block
