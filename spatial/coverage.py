"""15-minute life-circle coverage: walking distance from each community to each facility category.

Access rule (see README): a community is reached through its boundary. Its access points are
(a) every network node inside the polygon (at distance zero) or within ``access_spacing_m / 2``
of it (plus that gap), and (b) its outline's vertices and points every ``access_spacing_m`` along it, each snapped to the nearest
street edge with the straight off-street distance added. A facility snaps to its nearest street
edge the same way. The community's distance to a category is the smallest over its access points.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.ops import substring

from .config import CoverageConfig
from .network import StreetNetwork, nearest_source, source_graph
from .standards import Standards


@dataclass
class Access:
    """Community access points as node links and as snapped boundary points."""

    node_comm: np.ndarray  # community index per (node, extra) link
    node: np.ndarray
    extra: np.ndarray
    pt_comm: np.ndarray  # community index per snapped boundary point
    pt_edge: np.ndarray
    pt_along: np.ndarray
    pt_offset: np.ndarray


def _outline_points(rings: np.ndarray, spacing: float) -> tuple[np.ndarray, np.ndarray]:
    """Points every ``spacing`` (at least 4 per ring) along each ring, and each point's ring."""
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


def community_access(
    net: StreetNetwork, polygons: np.ndarray, spacing: float, max_snap: float
) -> Access:
    """Access points of every community polygon on the walking network."""
    parts, part_comm = shapely.get_parts(polygons, return_index=True)
    rings = shapely.get_exterior_ring(parts)
    samples, ring_of = _outline_points(rings, spacing)
    corners, corner_ring = shapely.get_coordinates(rings, return_index=True)
    xy = np.vstack([samples, corners])
    ring_of = np.r_[ring_of, corner_ring]
    edge, along, offset = net.snap(xy, max_distance=max_snap)
    ok = edge >= 0
    pt_comm = part_comm[ring_of][ok]
    e, a, o = edge[ok], along[ok], offset[ok]
    length = net.edges["length"].to_numpy(float)[e]
    u = net.edges["u"].to_numpy()[e]
    v = net.edges["v"].to_numpy()[e]
    tree = net.node_tree
    inside = tree.query(polygons, predicate="dwithin", distance=spacing / 2)
    near = shapely.distance(tree.geometries[inside[1]], polygons[inside[0]])
    comm = np.r_[pt_comm, pt_comm, inside[0]]
    node = np.r_[u, v, inside[1]]
    extra = np.r_[o + a, o + (length - a), near]
    # many outline points lead to the same node: keep the shortest link per (community, node)
    order = np.argsort(comm.astype(np.int64) * (net.n_nodes + 1) + node, kind="stable")
    comm, node, extra = comm[order], node[order], extra[order]
    change = (comm[1:] != comm[:-1]) | (node[1:] != node[:-1])
    starts = np.flatnonzero(np.r_[True, change]) if len(comm) else np.array([], dtype=np.int64)
    return Access(
        node_comm=comm[starts],
        node=node[starts],
        extra=np.minimum.reduceat(extra, starts) if len(extra) else extra,
        pt_comm=pt_comm,
        pt_edge=e,
        pt_along=a,
        pt_offset=o,
    )


class _Grouper:
    """Per-community minimum over the access links, with the links sorted by community once."""

    def __init__(self, groups: np.ndarray, n: int) -> None:
        self.order = np.argsort(groups, kind="stable")
        sorted_groups = groups[self.order]
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
        vals = values[self.order]
        low = np.minimum.reduceat(vals, self.starts)
        at_low = vals == np.repeat(low, self.counts)
        labs = np.where(at_low & np.isfinite(vals), labels[self.order], np.iinfo(np.int64).max)
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


def _same_edge(access: Access, f_edge, f_along, f_offset):
    """Direct distances where a boundary point and a facility sit on the same edge."""
    pts = pd.DataFrame(
        {
            "comm": access.pt_comm,
            "edge": access.pt_edge,
            "a": access.pt_along,
            "o": access.pt_offset,
        }  # fmt: skip
    )
    fac = pd.DataFrame(
        {"edge": f_edge, "fa": f_along, "fo": f_offset, "src": np.arange(len(f_edge))}
    )
    both = pts.merge(fac, on="edge")
    dist = both["o"] + (both["a"] - both["fa"]).abs() + both["fo"]
    return both["comm"].to_numpy(), dist.to_numpy(), both["src"].to_numpy()


@dataclass
class CategoryResult:
    distance: np.ndarray  # per community (m), inf where unreached within the bound
    nearest: np.ndarray  # facility position per community, −1 where none
    node_dist: np.ndarray | None = None  # per network node, for service areas


def network_distances(
    access: Access, grouper: _Grouper, passes: tuple, sources: np.ndarray, pos: np.ndarray,
    same_edge: tuple, bound: float,
) -> CategoryResult:  # fmt: skip
    """Distance from every community to the nearest of one category's facilities.

    ``passes`` is the category's Dijkstra result (node distance, nearest source) from
    ``network.nearest_source``; ``sources`` (sorted) are its facilities' virtual nodes and ``pos``
    their rows in the category's frame; ``same_edge`` is (community, direct distance, source) for
    outline points that share an edge with a facility.
    """
    if len(pos) == 0:
        return CategoryResult(np.full(grouper.n, np.inf), np.full(grouper.n, -1), None)
    node_dist, src = passes
    src = np.where(src >= 0, np.searchsorted(sources, np.maximum(src, 0)), -1)
    values = node_dist[access.node] + access.extra
    values[values > bound] = np.inf
    reached = src[access.node]
    labels = np.where(reached >= 0, pos[np.maximum(reached, 0)], -1)
    dist, nearest = grouper.min(values, labels)
    sc, sd, ss = same_edge
    keep = np.isin(ss, sources) & (sd <= bound)
    _improve(dist, nearest, sc[keep], sd[keep], pos[np.searchsorted(sources, ss[keep])])
    return CategoryResult(dist, nearest, node_dist)


def _category_sources(category: np.ndarray, snapped_rows: np.ndarray, key: str):
    """A category's virtual-source ids in the facility graph and their rows in its own frame."""
    rows = snapped_rows[category[snapped_rows] == key]
    in_fac = np.searchsorted(np.flatnonzero(category == key), rows)
    return np.searchsorted(snapped_rows, rows), in_fac


def straight_distances(
    polygons: np.ndarray, facilities: gpd.GeoDataFrame, detour: float, bound: float
) -> CategoryResult:
    """Fallback without a network: straight distance from the outline × detour factor."""
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


def compute_coverage(
    communities: gpd.GeoDataFrame,
    facilities: gpd.GeoDataFrame,
    standards: Standards,
    cfg: CoverageConfig,
    net: StreetNetwork | None = None,
) -> tuple[gpd.GeoDataFrame, dict[str, CategoryResult]]:
    """Per community and category: ``<cat>_m``, ``<cat>_ok``, ``<cat>_nearest``; plus ``gaps``.

    Parameters
    ----------
    communities, facilities : GeoDataFrames in the same metric CRS.
    standards : active categories, radii and basket.
    cfg : the project's ``[coverage]`` settings.
    net : walking network; ``None`` uses straight-line distance × ``cfg.detour_factor``.

    Returns
    -------
    The communities with coverage columns, and the per-category raw results.
    """
    polygons = communities.geometry.values
    n = len(communities)
    bound = max(
        cfg.search_bound_m, max((c.radius_m for c in standards.categories.values()), default=0)
    )
    category = facilities["category"].to_numpy()
    if net is not None:
        f_edge, f_along, f_offset = net.snap(
            shapely.get_coordinates(facilities.geometry.values), max_distance=cfg.max_snap_m
        )
        snapped_rows = np.flatnonzero(f_edge >= 0)
        snapped = (f_edge[snapped_rows], f_along[snapped_rows], f_offset[snapped_rows])
        graph = source_graph(net, *snapped)
        sources = {k: _category_sources(category, snapped_rows, k) for k in standards.categories}

        def dijkstra_passes() -> dict[str, tuple]:
            return {k: nearest_source(graph, net.n_nodes, s[0], bound) for k, s in sources.items()}

        # the searches run in a worker thread while the outlines are snapped (both mostly
        # release the GIL: about 25 % less wall time on two cores)
        with ThreadPoolExecutor(max_workers=1) as pool:
            pending = pool.submit(dijkstra_passes)
            access = community_access(net, polygons, cfg.access_spacing_m, cfg.max_snap_m)
            grouper = _Grouper(access.node_comm, n)
            same = _same_edge(access, *snapped)
            passes = pending.result()
    out = communities.copy()
    results: dict[str, CategoryResult] = {}
    for key, cat in standards.categories.items():
        fac = facilities.loc[category == key]
        if net is not None:
            ids, in_fac = sources[key]
            res = network_distances(access, grouper, passes[key], ids, in_fac, same, bound)
        else:
            res = straight_distances(polygons, fac, cfg.detour_factor, bound)
        results[key] = res
        names = fac["name"].to_numpy()
        out[f"{key}_m"] = np.where(np.isfinite(res.distance), np.round(res.distance, 1), np.nan)
        out[f"{key}_ok"] = res.distance <= cat.radius_m
        out[f"{key}_nearest"] = (
            np.where(res.nearest >= 0, names[np.maximum(res.nearest, 0)], "") if len(fac) else ""
        )
    ok_cols = [f"{k}_ok" for k in standards.basket]
    out["gaps"] = (~out[ok_cols]).sum(axis=1).astype(int)
    out["full_coverage"] = out["gaps"] == 0
    out["distance_mode"] = "network" if net is not None else "straight_line"
    if net is not None:  # reported in summary.json: what could not be put on the network
        out.attrs["facilities_off_network"] = int((f_edge < 0).sum())
        out.attrs["communities_off_network"] = int(n - len(np.unique(access.node_comm)))
    return out, results


def _reached_pieces(net: StreetNetwork, node_dist: np.ndarray, radius: float) -> np.ndarray:
    """Parts of street edges within ``radius`` of the sources (partial edges cut to length)."""
    edges = net.edges
    du = node_dist[edges["u"].to_numpy()]
    dv = node_dist[edges["v"].to_numpy()]
    length = edges["length"].to_numpy(float)
    reach_u = np.clip(radius - du, 0, None)  # how far in from u
    reach_v = np.clip(radius - dv, 0, None)
    geoms = edges.geometry.values
    whole = reach_u + reach_v >= length
    pieces = list(geoms[whole])
    for i in np.flatnonzero(~whole & ((reach_u > 0) | (reach_v > 0))):
        g, scale = geoms[i], geoms[i].length / max(length[i], 1e-9)
        if reach_u[i] > 0:
            pieces.append(substring(g, 0, reach_u[i] * scale))
        if reach_v[i] > 0:
            pieces.append(substring(g, g.length - reach_v[i] * scale, g.length))
    return np.array(pieces, dtype=object)


def service_areas(
    net: StreetNetwork | None,
    facilities: gpd.GeoDataFrame,
    results: dict[str, CategoryResult],
    standards: Standards,
    cfg: CoverageConfig,
    crs,
) -> gpd.GeoDataFrame:
    """Per category, the area within its radius of existing facilities.

    With a network: the reached street pieces buffered by ``service_area_buffer_m`` (not convex
    hulls). Without one: circles of radius / detour factor around the facilities.
    """

    def area_of(key: str):
        cat = standards.categories[key]
        fac = facilities.loc[facilities["category"] == key]
        res = results.get(key)
        if net is not None and res is not None and res.node_dist is not None:
            pieces = _reached_pieces(net, res.node_dist, cat.radius_m)
            if len(pieces) == 0:
                return None
            buffered = shapely.buffer(pieces, cfg.service_area_buffer_m, quad_segs=2)
            area = shapely.union_all(buffered)
        else:
            area = shapely.union_all(fac.geometry.buffer(cat.radius_m / cfg.detour_factor).values)
        return {"category": key, "name": cat.name_zh, "name_en": cat.name_en,
                "radius_m": cat.radius_m, "facilities": len(fac), "geometry": area}  # fmt: skip

    keys = [k for k in standards.categories if (facilities["category"] == k).any()]
    # GEOS releases the GIL: categories are dissolved in parallel threads
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        rows = [row for row in pool.map(area_of, keys) if row is not None]
    cols = ["category", "name", "name_en", "radius_m", "facilities", "geometry"]
    return gpd.GeoDataFrame(rows, columns=cols, geometry="geometry", crs=crs)


def coverage_summary(communities: gpd.GeoDataFrame, standards: Standards) -> dict:
    """The ``coverage`` block of ``summary.json``: shares of communities and households covered."""
    hh = communities["households"].fillna(0).to_numpy(float)
    total_hh = hh.sum()

    def shares(frame: gpd.GeoDataFrame) -> dict:
        h = frame["households"].fillna(0).to_numpy(float)
        th = h.sum()
        per_cat = {}
        for key in standards.categories:
            ok = frame[f"{key}_ok"].to_numpy(bool)
            per_cat[key] = {
                "communities": round(float(ok.mean()), 4) if len(ok) else 0.0,
                "households": round(float(h[ok].sum() / th), 4) if th else 0.0,
            }
        full = frame["full_coverage"].to_numpy(bool)
        return {
            "communities": len(frame),
            "households": int(th),
            "categories": per_cat,
            "full_coverage_communities": round(float(full.mean()), 4) if len(full) else 0.0,
            "full_coverage_households": round(float(h[full].sum() / th), 4) if th else 0.0,
        }

    block = shares(communities)
    target = standards.national_target
    block.update(
        {
            "distance_mode": str(communities["distance_mode"].iloc[0]) if len(communities) else "",
            "basket": list(standards.basket),
            "radii_m": {k: c.radius_m for k, c in standards.categories.items()},
            "national_target": target,
            "gap_to_target": round(max(0.0, target - block["full_coverage_households"]), 4),
            "households_total": int(total_hh),
            "facilities_off_network": communities.attrs.get("facilities_off_network", 0),
            "communities_off_network": communities.attrs.get("communities_off_network", 0),
            "standard": standards.source,
        }
    )
    subs = communities["subdistrict"].fillna("").astype(str)
    block["by_subdistrict"] = {
        (s or "未注明"): shares(communities.loc[subs == s]) for s in sorted(subs.unique())
    }
    return block
