"""Service areas: per category, the street pieces within its radius of existing facilities, buffered.

The area is the set of points within ``service_area_buffer_m`` (B) of the reached street pieces
(whole edges, and partial edges cut at the exact reach point) — the union of the pieces' buffers,
not hulls. Buffering every piece and dissolving them (one GEOS union of ~100,000 overlapping
polygons per category) is slow, so the same set is built from the faces the pieces enclose:

- the pieces' planar faces (city blocks) are found with numpy (``_faces``: half-edges sorted by
  node and angle, a face is a cycle of "turn to the next street clockwise"; no GEOS polygonize,
  which holds the GIL). A dead end or a partial edge (cut at the reach point, ending in the
  open) is walked out and back: a zero-width spike of the ring it hangs on. Each connected
  part's outline with its spikes, buffered by B, minus each face's core (its points farther
  than B from its own boundary and spikes — an island part inside it included —, a negative
  buffer), is exactly the union of the buffers of every piece;
- parts with no cycle (trees) and pieces of edges that cross another edge without a shared node
  (bridges: the faces need noded lines) are buffered one by one and added.

The two constructions differ only in how round corners are drawn with ``quad_segs`` segments
(measured in the README). Without a network: circles of radius / detour factor.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import shapely
from pyproj import CRS
from scipy import sparse
from scipy.sparse import csgraph

from spatial.config.project import CoverageConfig
from spatial.config.standards import Standards
from spatial.core import parallel
from spatial.network.graph import StreetNetwork

if TYPE_CHECKING:
    from spatial.network.nearest import CategoryResult

QUAD_SEGS = 2  # segments per quarter circle in the buffers' round ends
_EPS = 1e-6  # m: a cut this close to a vertex is at the vertex
#: GEOS ≥ 3.12 unions groups that do not touch each other separately (a third faster here)
_union_all = getattr(shapely, "disjoint_subset_union_all", shapely.union_all)


def _cut(lines: np.ndarray, start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """The part of each line between ``start`` and ``end`` metres along it (vectorized substring)."""
    coords, owner = shapely.get_coordinates(lines, return_index=True)
    step = np.r_[0.0, np.hypot(*np.diff(coords, axis=0).T)]
    first = np.r_[True, owner[1:] != owner[:-1]]
    step[first] = 0.0
    along = np.cumsum(step)
    along -= np.repeat(along[first], np.diff(np.r_[np.flatnonzero(first), len(owner)]))
    s, e = start[owner], end[owner]
    inside = (along > s + _EPS) & (along < e - _EPS)  # no repeated vertex next to a cut end
    # the cut ends: interpolated on the segment where each line passes start and end; a cut at
    # either end of the line is its exact end vertex (a network node: the pieces stay noded)
    ends = shapely.line_interpolate_point(lines, np.c_[start, end].T).T  # (n, 2) points
    pts = shapely.get_coordinates(ends.ravel()).reshape(len(lines), 2, 2)
    last = np.r_[np.flatnonzero(first)[1:], len(owner)] - 1
    at_start, at_end = start <= _EPS, end >= along[last] - _EPS
    pts[at_start, 0] = coords[first][at_start]
    pts[at_end, 1] = coords[last][at_end]
    n = np.arange(len(lines))
    xy = np.concatenate([pts[:, 0], coords[inside], pts[:, 1]])
    line = np.concatenate([n, owner[inside], n])
    pos = np.concatenate([start, along[inside], end])
    order = np.lexsort((pos, line))  # each line: start point, vertices in between, end point
    return shapely.linestrings(xy[order], indices=line[order])


def reached_pieces(
    net: StreetNetwork, node_dist: np.ndarray, radius: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Parts of street edges within ``radius`` of the sources (partial edges cut to length), each
    piece's edge, and whether the piece is a whole edge.

    Parameters
    ----------
    net : StreetNetwork
    node_dist : (n_nodes,) float array
        The category's Dijkstra pass.
    radius : float

    Returns
    -------
    pieces : ndarray of LineString
    edge : (k,) int array
    whole : (k,) bool array
    """
    edges = net.edges
    du = node_dist[edges["u"].to_numpy()]
    dv = node_dist[edges["v"].to_numpy()]
    length = edges["length"].to_numpy(float)
    reach_u = np.clip(radius - du, 0, None)  # how far in from u
    reach_v = np.clip(radius - dv, 0, None)
    if net.slope is not None:  # hills: what is left at a node, in flat-equivalent metres → m
        reach_u, reach_v = net.slope.reach(reach_u, reach_v)
    geoms = edges.geometry.values
    whole = np.flatnonzero(reach_u + reach_v >= length)
    part = ~np.isin(np.arange(len(length)), whole)
    from_u = np.flatnonzero(part & (reach_u > 0))
    from_v = np.flatnonzero(part & (reach_v > 0))
    # lengths are network lengths; the lines' own lengths may differ slightly: cut in proportion
    line_len = shapely.length(geoms)
    scale = line_len / np.maximum(length, 1e-9)
    idx = np.r_[from_u, from_v]
    start = np.r_[np.zeros(len(from_u)), line_len[from_v] - reach_v[from_v] * scale[from_v]]
    end = np.r_[reach_u[from_u] * scale[from_u], line_len[from_v]]
    parts = _cut(geoms[idx], start, end) if len(idx) else np.array([], dtype=object)
    is_whole = np.arange(len(whole) + len(idx)) < len(whole)
    return np.r_[geoms[whole], parts], np.r_[whole, idx], is_whole


def crossing_edges(net: StreetNetwork) -> np.ndarray:
    """Mask of edges whose line meets another edge's line away from a shared node (bridges,
    tunnels, unnoded crossings). Pairs that share a node are assumed to meet only there.

    Parameters
    ----------
    net : StreetNetwork

    Returns
    -------
    (n_edges,) bool array
    """
    geoms = net.edges.geometry.values
    u, v = net.edges["u"].to_numpy(), net.edges["v"].to_numpy()
    a, b = shapely.STRtree(geoms).query(geoms)  # bounding boxes first: cheap
    keep = a < b
    a, b = a[keep], b[keep]
    share = (u[a] == u[b]) | (u[a] == v[b]) | (v[a] == u[b]) | (v[a] == v[b])
    a, b = a[~share], b[~share]
    meet = shapely.intersects(geoms[a], geoms[b])
    mask = np.zeros(len(geoms), dtype=bool)
    mask[a[meet]] = mask[b[meet]] = True
    return mask


def _half_edges(lines: np.ndarray):
    """Endpoint nodes (by exact coordinates) and the direction angle at both ends of each line."""
    coords, owner = shapely.get_coordinates(lines, return_index=True)
    first = np.r_[0, np.flatnonzero(owner[1:] != owner[:-1]) + 1]
    last = np.r_[first[1:], len(owner)] - 1
    ends = np.r_[coords[first], coords[last]]
    _, node = np.unique(ends[:, 0] + 1j * ends[:, 1], return_inverse=True)  # 1-D: a fast sort
    node = node.ravel()
    m = len(lines)
    out = coords[first + 1] - coords[first]  # leaving the start
    back = coords[last - 1] - coords[last]  # leaving the end, backwards
    # half-edge 2k runs along line k, 2k + 1 against it
    origin = np.empty(2 * m, np.int64)
    origin[0::2], origin[1::2] = node[:m], node[m:]
    angle = np.empty(2 * m)
    angle[0::2] = np.arctan2(out[:, 1], out[:, 0])
    angle[1::2] = np.arctan2(back[:, 1], back[:, 0])
    return coords, first, last, origin, angle


def _face_cycles(origin: np.ndarray, angle: np.ndarray, alive: np.ndarray) -> np.ndarray:
    """Face label of every live half-edge (−1 for dead ones): the cycles of next(h), the half-edge
    just clockwise of twin(h) around h's head, so each bounded face is walked counter-clockwise."""
    h = np.flatnonzero(alive)
    order = h[np.lexsort((angle[h], origin[h]))]  # around each node, by angle
    o = origin[order]
    start = np.r_[0, np.flatnonzero(o[1:] != o[:-1]) + 1]
    size = np.diff(np.r_[start, len(o)])
    group_start = np.repeat(start, size)
    pos = np.arange(len(o))
    prev = np.where(pos == group_start, pos + np.repeat(size, size) - 1, pos - 1)
    cw = np.empty(len(origin), np.int64)
    cw[order] = order[prev]  # the half-edge clockwise of each one at its origin
    nxt = np.full(len(origin), -1, np.int64)
    nxt[h] = cw[h ^ 1]
    graph = sparse.coo_matrix((np.ones(len(h)), (h, nxt[h])), shape=(len(origin),) * 2)
    _, label = csgraph.connected_components(graph, directed=True, connection="weak")
    label = label.astype(np.int64)
    label[~alive] = -1
    return label, nxt


def _rank(nxt: np.ndarray, label: np.ndarray, live: np.ndarray) -> np.ndarray:
    """Steps from each cycle's first half-edge to every live half-edge (pointer doubling)."""
    n = len(nxt)
    head = np.full(label.max() + 1, n, np.int64)
    np.minimum.at(head, label[live], live)
    is_head = np.zeros(n, bool)
    is_head[head[head < n]] = True
    prev = np.arange(n)
    prev[nxt[live]] = live
    prev[is_head] = np.flatnonzero(is_head)
    rank = (~is_head).astype(np.int64)
    while not is_head[prev[live]].all():
        p = prev[live]
        rank[live] += rank[p]
        prev[live] = prev[p]
    return rank


def _components(origin: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Connected part of every node, and whether each part is a tree (no cycle: bounds no face)."""
    a, b = origin[0::2], origin[1::2]
    n = origin.max() + 1
    graph = sparse.coo_matrix((np.ones(len(a)), (a, b)), shape=(n, n))
    count, part = csgraph.connected_components(graph, directed=False)
    nodes = np.bincount(part[np.unique(origin)], minlength=count)
    return part, np.bincount(part[a], minlength=count) < nodes


def _faces(lines: np.ndarray, core_width: float = 0.0):
    """The planar faces of noded ``lines``: bounded faces (counter-clockwise rings; only those a
    disc of diameter ``core_width`` may fit in) and each connected part's outer boundary as
    polygons, the connected part of each, and the lines of parts that bound no face (trees:
    nothing enclosed).

    A dead end or a partial street hanging off a part is walked out and back: it is a zero-width
    spike of the ring it sits on (the outline, or the block it pokes into), so buffering the
    outline covers it and a block's core (its negative buffer) keeps clear of it."""
    coords, first, last, origin, angle = _half_edges(lines)
    part, tree = _components(origin)
    alive = ~tree[part[origin]]
    loose = lines[~alive[0::2]]
    if not alive.any():
        empty = np.array([], dtype=object)
        return empty, empty, np.array([], int), np.array([], int), loose
    label, nxt = _face_cycles(origin, angle, alive)
    live = np.flatnonzero(alive)
    rank = _rank(nxt, label, live)
    order = live[np.lexsort((rank[live], label[live]))]
    k = order >> 1
    count = last[k] - first[k]  # vertices a half-edge adds: all but its last
    step = np.arange(count.sum()) - np.repeat(np.cumsum(count) - count, count)
    forward = np.repeat(order & 1 == 0, count)
    vertex = np.where(forward, np.repeat(first[k], count) + step, np.repeat(last[k], count) - step)
    head_edge = np.flatnonzero(np.r_[True, label[order][1:] != label[order][:-1]])
    size = np.add.reduceat(count, head_edge)  # vertices of each ring (order is by ring)
    head = np.r_[0, np.cumsum(size)[:-1]]
    xy = coords[vertex]
    # orientation from the signed area (shoelace, from each ring's first vertex): GEOS's is_ccw
    # looks at the highest vertex, which may be a spike's tip (its two neighbours coincide)
    rel = xy - np.repeat(xy[head], size, axis=0)
    after = np.roll(rel, -1, axis=0)
    after[head + size - 1] = 0.0  # each ring closes on its own first vertex
    area = np.add.reduceat(rel[:, 0] * after[:, 1] - after[:, 0] * rel[:, 1], head) / 2
    ccw = area > 0
    outline = (size >= 3) & ~ccw  # a two-edge cycle encloses nothing
    face = (size >= 3) & ccw
    if core_width > 0:  # a disc of this diameter must fit: area and both sides of the bounds
        width = np.maximum.reduceat(xy, head) - np.minimum.reduceat(xy, head)
        face &= (area > np.pi * core_width**2 / 4) & (width.min(axis=1) > core_width)
    keep = outline | face
    ring = np.repeat(np.cumsum(keep) - 1, size)[np.repeat(keep, size)]
    polys = shapely.polygons(shapely.linearrings(xy[np.repeat(keep, size)], indices=ring))
    part_of = part[origin[order[head_edge]]]
    has_outer = np.zeros(len(tree), bool)
    has_outer[part_of[outline]] = True
    loose = np.r_[loose, lines[alive[0::2] & ~has_outer[part[origin[0::2]]]]]  # a degenerate part
    is_face = face[keep]
    return polys[is_face], polys[~is_face], part_of[face], part_of[outline], loose


def _cores(
    faces: np.ndarray,
    face_part: np.ndarray,
    outer: np.ndarray,
    outer_part: np.ndarray,
    buffer_m: float,
) -> np.ndarray:
    """Each face's points farther than ``buffer_m`` from its boundary (spikes included),
    including the boundary of another connected part lying inside it (an island loop)."""
    cores = shapely.buffer(faces, -buffer_m, quad_segs=QUAD_SEGS)
    live = ~shapely.is_empty(cores)
    cores, faces, face_part = cores[live], faces[live], face_part[live]
    if len(cores) and len(outer) > 1:
        oi, ci = shapely.STRtree(outer).query(cores)[::-1]  # bounding boxes: cheap
        other = outer_part[oi] != face_part[ci]
        oi, ci = oi[other], ci[other]
        # parts never cross: one vertex of the island's outline inside the face places it
        # (a ray test: a spiky, self-touching ring is fine)
        inside = shapely.contains(
            faces[ci], shapely.get_point(shapely.get_exterior_ring(outer[oi]), 0)
        )
        for c in np.unique(ci[inside]):
            island = shapely.buffer(outer[oi[inside & (ci == c)]], buffer_m, quad_segs=QUAD_SEGS)
            cores[c] = shapely.difference(cores[c], shapely.union_all(island))
    return cores


def street_area(pieces: np.ndarray, loose: np.ndarray, buffer_m: float) -> shapely.Geometry:
    """Union of the buffers of ``pieces`` (noded street lines) and ``loose`` lines (any).

    Parameters
    ----------
    pieces : ndarray of LineString
        Noded at the network's nodes (whole and partial edges).
    loose : ndarray of LineString
        Lines buffered one by one (bridges, crossing edges).
    buffer_m : float

    Returns
    -------
    shapely.Geometry
    """
    area = shapely.Polygon()
    if len(pieces):
        # a face no disc of radius B fits in has no core
        faces, outer, face_part, outer_part, trees = _faces(pieces, 2 * buffer_m)
        loose = np.r_[loose, trees]
        if len(outer):
            # each outline with its spikes, buffered; outlines of different parts may overlap
            area = _union_all(shapely.buffer(outer, buffer_m, quad_segs=QUAD_SEGS))
            cores = _cores(faces, face_part, outer, outer_part, buffer_m)
            if len(cores):
                area = shapely.difference(area, _union_all(cores))
    if len(loose):
        rest = _union_all(shapely.buffer(loose, buffer_m, quad_segs=QUAD_SEGS))
        area = shapely.union(area, rest) if not area.is_empty else rest
    return area


def service_areas(
    net: StreetNetwork | None,
    facilities: gpd.GeoDataFrame,
    results: dict[str, CategoryResult],
    standards: Standards,
    cfg: CoverageConfig,
    crs: CRS,
) -> gpd.GeoDataFrame:
    """Per category, the area within its radius of existing facilities.

    With a network: the reached street pieces buffered by ``service_area_buffer_m`` (not convex
    hulls). Without one: circles of radius / detour factor around the facilities.

    Parameters
    ----------
    net : StreetNetwork or None
    facilities : GeoDataFrame
        With ``category``.
    results : dict of str to CategoryResult
        Coverage's per-category results (their ``node_dist`` passes, with a network).
    standards : Standards
        The radii.
    cfg : CoverageConfig
        ``service_area_buffer_m``, ``detour_factor``.
    crs : pyproj.CRS
        The frame's CRS.

    Returns
    -------
    GeoDataFrame
        One row per category with facilities: ``category``, ``name``, ``name_en``,
        ``radius_m``, ``facilities`` (count), geometry.
    """
    crossing = crossing_edges(net) if net is not None and len(net.edges) else None

    def area_of(key: str):
        cat = standards.categories[key]
        fac = facilities.loc[facilities["category"] == key]
        res = results.get(key)
        if net is not None and res is not None and res.node_dist is not None:
            pieces, edge, whole = reached_pieces(net, res.node_dist, cat.radius_m)
            if len(pieces) == 0:
                return None
            loose = crossing[edge]  # the faces need noded lines
            area = street_area(pieces[~loose], pieces[loose], cfg.service_area_buffer_m)
        else:
            area = shapely.union_all(fac.geometry.buffer(cat.radius_m / cfg.detour_factor).values)
        return {
            "category": key,
            "name": cat.name_zh,
            "name_en": cat.name_en,
            "radius_m": cat.radius_m,
            "facilities": len(fac),
            "geometry": area,
        }

    keys = [k for k in standards.categories if (facilities["category"] == k).any()]
    keys.sort(key=lambda k: -standards.categories[k].radius_m)  # the largest first: even load
    # GEOS releases the GIL: categories in threads, as many as this process's cores (one, in
    # the caller's thread, inside a forked worker of a large run on a small machine)
    built = parallel.thread_map(area_of, keys)
    rows = {k: row for k, row in zip(keys, built, strict=True) if row is not None}
    cols = ["category", "name", "name_en", "radius_m", "facilities", "geometry"]
    ordered = [rows[k] for k in standards.categories if k in rows]
    return gpd.GeoDataFrame(ordered, columns=cols, geometry="geometry", crs=crs)
