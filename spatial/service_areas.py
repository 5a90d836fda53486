"""Service areas: per category, the street pieces within its radius of existing facilities, buffered.

The area is the set of points within ``service_area_buffer_m`` (B) of the reached street pieces
(whole edges, and partial edges cut at the exact reach point) — the union of the pieces' buffers,
not hulls. Buffering every piece and dissolving them (one GEOS union of ~100,000 overlapping
polygons per category) is slow, so the same set is built from the faces the pieces enclose:

- the pieces are polygonized into faces (city blocks); the region they enclose, buffered by B,
  minus each face's core (its points farther than B from its own boundary, a negative buffer),
  is exactly the union of the buffers of every piece that bounds a face;
- pieces that bound no face (dead ends, cut edges, the reach's loose ends) and pieces of edges
  that cross another edge without a shared node (bridges: the faces need noded lines) are
  buffered one by one and added.

The two constructions differ only in how round corners are drawn with ``quad_segs`` segments
(measured in the README). Without a network: circles of radius / detour factor.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import shapely

from .config import CoverageConfig
from .network import StreetNetwork
from .standards import Standards

if TYPE_CHECKING:
    from .coverage import CategoryResult

QUAD_SEGS = 2  # segments per quarter circle in the buffers' round ends


def _cut(lines: np.ndarray, start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """The part of each line between ``start`` and ``end`` metres along it (vectorized substring)."""
    coords, owner = shapely.get_coordinates(lines, return_index=True)
    step = np.r_[0.0, np.hypot(*np.diff(coords, axis=0).T)]
    first = np.r_[True, owner[1:] != owner[:-1]]
    step[first] = 0.0
    along = np.cumsum(step)
    along -= np.repeat(along[first], np.diff(np.r_[np.flatnonzero(first), len(owner)]))
    s, e = start[owner], end[owner]
    inside = (along > s) & (along < e)
    # the cut ends: interpolated on the segment where each line passes start and end
    ends = shapely.line_interpolate_point(lines, np.c_[start, end].T).T  # (n, 2) points
    pts = shapely.get_coordinates(ends.ravel()).reshape(len(lines), 2, 2)
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
    piece's edge, and whether the piece is a whole edge."""
    edges = net.edges
    du = node_dist[edges["u"].to_numpy()]
    dv = node_dist[edges["v"].to_numpy()]
    length = edges["length"].to_numpy(float)
    reach_u = np.clip(radius - du, 0, None)  # how far in from u
    reach_v = np.clip(radius - dv, 0, None)
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
    tunnels, unnoded crossings). Pairs that share a node are assumed to meet only there."""
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


def street_area(pieces: np.ndarray, loose: np.ndarray, buffer_m: float) -> shapely.Geometry:
    """Union of the buffers of ``pieces`` (noded street lines) and ``loose`` lines (any)."""
    empty = shapely.Polygon()
    if len(pieces):
        polys, cuts, dangles, invalid = shapely.polygonize_full(pieces)
        faces = shapely.get_parts(polys)
        loose = np.r_[
            loose, shapely.get_parts(cuts), shapely.get_parts(dangles), shapely.get_parts(invalid)
        ]
    else:
        faces = np.array([], dtype=object)
    area = empty
    if len(faces):
        enclosed = shapely.coverage_union_all(faces)  # faces tile it: no overlay needed
        area = shapely.buffer(enclosed, buffer_m, quad_segs=8)  # one polygon: round is cheap
        cores = shapely.buffer(faces, -buffer_m, quad_segs=QUAD_SEGS)
        cores = cores[~shapely.is_empty(cores)]
        if len(cores):
            area = shapely.difference(area, shapely.union_all(cores))
    if len(loose):
        rest = shapely.union_all(shapely.buffer(loose, buffer_m, quad_segs=QUAD_SEGS))
        area = shapely.union(area, rest) if len(faces) else rest
    return area


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
    crossing = crossing_edges(net) if net is not None and len(net.edges) else None

    def area_of(key: str):
        cat = standards.categories[key]
        fac = facilities.loc[facilities["category"] == key]
        res = results.get(key)
        if net is not None and res is not None and res.node_dist is not None:
            pieces, edge, whole = reached_pieces(net, res.node_dist, cat.radius_m)
            if len(pieces) == 0:
                return None
            # a partial edge ends in the open: it bounds no face, so it skips the polygonizing
            loose = crossing[edge] | ~whole
            area = street_area(pieces[~loose], pieces[loose], cfg.service_area_buffer_m)
        else:
            area = shapely.union_all(fac.geometry.buffer(cat.radius_m / cfg.detour_factor).values)
        return {"category": key, "name": cat.name_zh, "name_en": cat.name_en,
                "radius_m": cat.radius_m, "facilities": len(fac), "geometry": area}  # fmt: skip

    keys = [k for k in standards.categories if (facilities["category"] == k).any()]
    keys.sort(key=lambda k: -standards.categories[k].radius_m)  # the largest first: even load
    # GEOS releases the GIL: categories are built in parallel threads
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        rows = {
            k: row for k, row in zip(keys, pool.map(area_of, keys), strict=True) if row is not None
        }
    cols = ["category", "name", "name_en", "radius_m", "facilities", "geometry"]
    ordered = [rows[k] for k in standards.categories if k in rows]
    return gpd.GeoDataFrame(ordered, columns=cols, geometry="geometry", crs=crs)
