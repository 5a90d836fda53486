"""Noding a road-centreline layer as GIS tools do: lines are split where they cross, where one
ends on another and where one stops just short of another (a CAD undershoot), except where the
layer says the two streets are at different levels (a bridge, tunnel or flyover, or different
``layer``/``z`` values): such a crossing stays unconnected.

The result is the street pieces between nodes, ready for :func:`spatial.network.read._assemble`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import shapely
from scipy import sparse
from scipy.sparse import csgraph
from scipy.spatial import cKDTree

#: Two points closer than this (m) are the same point: an end lying on a line, a shared vertex.
TOUCH_M = 1e-3
#: Node points closer than this (m) are one node (the old reader rounded to 0.01 m).
MERGE_M = 0.01


@dataclass
class Noded:
    """Street pieces between nodes and what the noding did.

    Attributes
    ----------
    xy : (n, 2) array
        Node coordinates.
    u, v : (m,) int arrays
        Each piece's end nodes.
    geoms : (m,) array of LineString
        Each piece, from node ``u`` to node ``v``.
    line : (m,) int array
        The input line (position in the array given) each piece comes from.
    crossings : list of (int, int)
        Pairs of lines joined where they cross without sharing a vertex (split there).
    separated : list of (int, int)
        Pairs of lines crossing at different levels, left unconnected.
    snapped : list of (int, float)
        Lines whose end stopped short of another street and was joined to it, with the gap (m).
    """

    xy: np.ndarray
    u: np.ndarray
    v: np.ndarray
    geoms: np.ndarray
    line: np.ndarray
    crossings: list[tuple[int, int]] = field(default_factory=list)
    separated: list[tuple[int, int]] = field(default_factory=list)
    snapped: list[tuple[int, float]] = field(default_factory=list)


def node_lines(lines: np.ndarray, raised: np.ndarray, level: np.ndarray, snap_m: float) -> Noded:
    """Split ``lines`` at their crossings, ends on other lines and undershoots.

    Parameters
    ----------
    lines : (k,) array of LineString / MultiLineString
        In a metric CRS.
    raised : (k,) bool array
        The line is a bridge, tunnel or flyover: it meets other lines only at its own ends.
    level : (k,) float array
        The line's level (``layer``, ``z``…; 0 when not given): lines at different levels meet
        only at their ends.
    snap_m : float
        An end within this distance of a street at the same level (and touching no street) is
        joined to the nearest point of it; 0 = no snapping.

    Returns
    -------
    Noded
    """
    parts, row = shapely.get_parts(np.asarray(lines, dtype=object), return_index=True)
    keep = shapely.length(parts) > 0
    parts, row = parts[keep], row[keep]
    grade = _Grades(np.asarray(raised, bool)[row], np.asarray(level, float)[row])
    tree = shapely.STRtree(parts)
    parts, sp_part, sp_xy, snapped = _join_ends(parts, grade, tree, snap_m)
    tree = shapely.STRtree(parts)
    more_part, more_xy, crossings, separated = _crossings(parts, grade, tree)
    pieces = _cut(parts, np.r_[sp_part, more_part], np.vstack([sp_xy, more_xy]))
    xy, u, v, geoms, part = pieces
    return Noded(
        xy,
        u,
        v,
        geoms,
        row[part],
        [(int(row[a]), int(row[b])) for a, b in crossings],
        [(int(row[a]), int(row[b])) for a, b in separated],
        [(int(row[a]), gap) for a, gap in snapped],
    )


@dataclass
class _Grades:
    raised: np.ndarray
    level: np.ndarray

    def apart(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Whether parts ``a`` and ``b`` are at different levels where they cross."""
        return self.raised[a] | self.raised[b] | (self.level[a] != self.level[b])


def _ends(parts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(2k, 2) end coordinates (the k starts, then the k ends) and the part of each."""
    first = shapely.get_coordinates(shapely.get_point(parts, 0))
    last = shapely.get_coordinates(shapely.get_point(parts, -1))
    k = len(parts)
    return np.vstack([first, last]), np.r_[np.arange(k), np.arange(k)]


def _join_ends(
    parts: np.ndarray, grade: _Grades, tree: shapely.STRtree, snap_m: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[tuple[int, float]]]:
    """Ends lying on another line split it there (any level: ramps, bridge feet); an end that
    touches nothing and lies within ``snap_m`` of a line at its level is extended to the nearest
    point of it, which splits that line. Returns the (extended) parts, the split points (part,
    xy) and the snapped (part, gap)."""
    ends, owner = _ends(parts)
    e, cand = tree.query(shapely.points(ends), predicate="dwithin", distance=max(snap_m, TOUCH_M))
    other = cand != owner[e]
    e, cand = e[other], cand[other]
    gap = shapely.distance(shapely.points(ends[e]), parts[cand])
    touch = gap <= TOUCH_M
    split_part, split_xy = [cand[touch]], [ends[e[touch]]]
    touching = np.zeros(len(ends), bool)
    touching[e[touch]] = True
    near = ~touching[e] & ~grade.apart(owner[e], cand) & (gap <= snap_m)
    e, cand, gap = e[near], cand[near], gap[near]
    order = np.lexsort((gap, e))
    first = order[np.r_[True, e[order][1:] != e[order][:-1]]] if len(order) else order
    e, cand, gap = e[first], cand[first], gap[first]
    q = shapely.get_coordinates(
        shapely.line_interpolate_point(
            parts[cand], shapely.line_locate_point(parts[cand], shapely.points(ends[e]))
        )
    )
    mutual = _mutual(ends[e], q)
    e, cand, gap, q = e[~mutual], cand[~mutual], gap[~mutual], q[~mutual]
    parts = parts.copy()
    for end, target in zip(e, q, strict=True):
        coords = shapely.get_coordinates(parts[owner[end]])
        at_start = end < len(parts)
        coords = np.vstack([target, coords] if at_start else [coords, target])
        parts[owner[end]] = shapely.linestrings(coords)
    split_part.append(cand)
    split_xy.append(q)
    snapped = [(int(owner[a]), float(g)) for a, g in zip(e, gap, strict=True)]
    return parts, np.concatenate(split_part), np.vstack(split_xy), snapped


def _mutual(ends: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """Snaps that repeat an earlier one the other way round (two ends short of each other)."""
    seen: set[tuple] = set()
    out = np.zeros(len(ends), bool)
    for k, (a, b) in enumerate(zip(np.round(ends, 3), np.round(targets, 3), strict=True)):
        key = (tuple(a), tuple(b))
        out[k] = (tuple(b), tuple(a)) in seen
        seen.add(key)
    return out


def _crossings(
    parts: np.ndarray, grade: _Grades, tree: shapely.STRtree
) -> tuple[np.ndarray, np.ndarray, list, list]:
    """Points where two parts meet: split both unless they are at different levels and the
    point is an end of neither. Returns the split points (part, xy) and the pairs joined at a
    crossing without a shared vertex and the pairs left unconnected as grade-separated."""
    i, j = tree.query(parts, predicate="intersects")
    keep = i < j
    i, j = i[keep], j[keep]
    pts, k = shapely.get_coordinates(shapely.intersection(parts[i], parts[j]), return_index=True)
    if len(pts):
        _, first = np.unique(np.c_[k, np.round(pts, 3)], axis=0, return_index=True)
        pts, k = pts[first], k[first]
    a, b = i[k], j[k]
    ends, _ = _ends(parts)
    n = len(parts)

    def at_end(p: np.ndarray) -> np.ndarray:
        return (np.hypot(*(pts - ends[p]).T) <= TOUCH_M) | (
            np.hypot(*(pts - ends[p + n]).T) <= TOUCH_M
        )

    end = at_end(a) | at_end(b)
    apart = grade.apart(a, b)
    joined = end | ~apart
    coords, owner = shapely.get_coordinates(parts, return_index=True)
    vertices = shapely.multipoints(coords, indices=owner)
    point = shapely.points(pts)
    shared = (shapely.distance(point, vertices[a]) <= TOUCH_M) & (
        shapely.distance(point, vertices[b]) <= TOUCH_M
    )
    crossing = ~end & ~apart & ~shared
    separated = ~end & apart
    return (
        np.r_[a[joined], b[joined]],
        np.vstack([pts[joined], pts[joined]]),
        list(zip(a[crossing], b[crossing], strict=True)),
        list(zip(a[separated], b[separated], strict=True)),
    )


def _cut(
    parts: np.ndarray, sp_part: np.ndarray, sp_xy: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Cut every part at its ends and split points: nodes (merged within ``MERGE_M``), each
    piece's end nodes, geometry and part."""
    coords, owner = shapely.get_coordinates(parts, return_index=True)
    step = np.r_[0.0, np.hypot(*np.diff(coords, axis=0).T)]
    start = np.r_[True, owner[1:] != owner[:-1]]
    step[start] = 0.0
    run = np.cumsum(step)
    measure = run - np.repeat(run[start], np.bincount(owner, minlength=len(parts)))
    last = np.r_[owner[1:] != owner[:-1], True]
    sp_m = shapely.line_locate_point(parts[sp_part], shapely.points(sp_xy))
    inside = (sp_m > TOUCH_M) & (sp_m < shapely.length(parts[sp_part]) - TOUCH_M)  # not an end
    _, once = np.unique(
        np.c_[sp_part[inside], np.round(sp_m[inside], 3)], axis=0, return_index=True
    )
    sp_part, sp_m, sp_xy = sp_part[inside][once], sp_m[inside][once], sp_xy[inside][once]
    part = np.r_[owner, sp_part]
    m = np.r_[measure, sp_m]
    xy = np.vstack([coords, sp_xy])
    node = np.r_[start | last, np.ones(len(sp_part), bool)]
    rank = np.r_[np.where(start, 0, np.where(last, 2, 1)), np.ones(len(sp_part), int)]
    order = np.lexsort((rank, m, part))
    part, m, xy, node = part[order], m[order], xy[order], node[order]
    first_row = np.r_[True, part[1:] != part[:-1]]
    last_row = np.r_[part[1:] != part[:-1], True]
    opens = node & ~last_row
    pid = np.cumsum(opens) - 1
    label = _merge(xy[node])
    node_label = np.full(len(xy), -1)
    node_label[node] = label
    inner = np.flatnonzero(node & ~first_row & ~last_row)
    rows = np.r_[np.arange(len(xy)), inner]
    piece = np.r_[pid, pid[inner] - 1]
    seq = np.r_[np.arange(len(xy)), inner - 0.5]
    order = np.lexsort((seq, piece))
    rows, piece = rows[order], piece[order]
    bounds = np.r_[0, np.flatnonzero(np.diff(piece)) + 1]
    u = node_label[rows[bounds]]
    v = node_label[rows[np.r_[bounds[1:] - 1, len(rows) - 1]]]
    geoms = shapely.linestrings(xy[rows], indices=piece)
    piece_part = part[rows[bounds]]
    nodes_xy = np.zeros((label.max() + 1 if len(label) else 0, 2))
    nodes_xy[label[::-1]] = xy[node][::-1]  # the first point of each node stands for it
    real = ~((u == v) & (shapely.length(geoms) < 5 * MERGE_M))
    return nodes_xy, u[real], v[real], geoms[real], piece_part[real]


def _merge(xy: np.ndarray) -> np.ndarray:
    """A node label per point: points within ``MERGE_M`` of each other (chains too) are one."""
    if not len(xy):
        return np.zeros(0, int)
    same, of = np.unique(np.round(xy, 3), axis=0, return_inverse=True)
    pairs = cKDTree(same).query_pairs(MERGE_M, output_type="ndarray")
    graph = sparse.coo_matrix(
        (np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(len(same), len(same))
    )
    return csgraph.connected_components(graph, directed=False)[1][of.ravel()]
