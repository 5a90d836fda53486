"""Hills: an elevation raster turns each street edge into two directed costs by Tobler's hiking
function, so a walk uphill costs more than the same walk downhill.

Rule (see README, "Hills"): the raster (a GeoTIFF in any CRS, elevations in metres) is sampled
(bilinear) at both ends of every straight piece of every edge, a piece being at most
:data:`PIECE_M` long (long segments are cut in equal parts). A piece of horizontal length ``h``
rising ``dz`` in the walking direction has slope ``S = dz / h`` and Tobler's speed
``W(S) = 6·exp(−3.5·|S + 0.05|)`` km/h. Its cost is its walking time at the standard's speed
scaled by ``W(S) / W(0)``, written as the flat distance walked in that time:
``h · W(0) / W(S) = h · exp(3.5·(|S + 0.05| − 0.05))`` **flat-equivalent metres** (so on flat
ground a metre costs exactly a metre, and the standard's radii and minutes keep their meaning).
An edge's cost in one direction is the sum over its pieces; a part of an edge (a facility or an
outline point snapped part-way along it) costs the sum over the part, interpolated within the
piece where it ends (the slope of a piece is constant).

The costs are kept as an *excess* over the flat length, ``Σ h·(W(0)/W(S) − 1)``: exactly zero on
flat ground, so a flat raster gives the flat results to the last bit. Off-street links (a
facility's or a community's straight walk to its street) and walks inside compounds stay flat.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import shapely

from spatial.core import settings
from spatial.core.errors import InputError, reading
from spatial.core.problems import problem
from spatial.inputs.files import check_data_file
from spatial.network.dem import sample_raster

#: longest straight piece whose slope is taken as constant (m)
PIECE_M = 20.0
#: Tobler (1993): W = 6·exp(−3.5·|S + 0.05|) km/h; S = rise / run
TOBLER_KMH = 6.0
TOBLER_A = 3.5
TOBLER_B = 0.05


def tobler_factor(slope: np.ndarray) -> np.ndarray:
    """``W(0) / W(S)``: the flat-equivalent metres one horizontal metre at slope ``S`` costs.

    Parameters
    ----------
    slope : ndarray
        Rise over run in the walking direction.

    Returns
    -------
    ndarray
        ``exp(3.5·(|S + 0.05| − 0.05))``; exactly 1 at ``S = 0``.
    """
    return np.exp(TOBLER_A * (np.abs(np.asarray(slope, float) + TOBLER_B) - TOBLER_B))


def tobler_kmh(slope: np.ndarray) -> np.ndarray:
    """Tobler's hiking speed ``6·exp(−3.5·|S + 0.05|)`` km/h at slope ``S``."""
    return TOBLER_KMH * np.exp(-TOBLER_A * np.abs(np.asarray(slope, float) + TOBLER_B))


@dataclass(frozen=True)
class EdgeSlope:
    """Directed walking costs of a network's edges, as excess over the flat length.

    Attributes
    ----------
    start : (e,) int array
        Each edge's first breakpoint in the flat arrays below.
    pos : (p,) float array
        Breakpoints: metres along their edge from ``u`` (scaled to the edge's ``length``).
    key : (p,) float array
        ``pos`` made increasing over all edges (edge ``i``'s breakpoints shifted past edge
        ``i − 1``'s), for one interpolation over all edges.
    shift : (e,) float array
        Each edge's shift in ``key``.
    up, down : (p,) float array
        Excess walking from ``u`` to the breakpoint (``up``: in the ``u → v`` direction) and from
        the breakpoint back to ``u`` (``down``: in the ``v → u`` direction).
    min_ratio : float
        The smallest cost per metre of any piece in either direction (≤ 1): a walk costing
        ``c`` is at most ``c / min_ratio`` metres long.
    missing_edges : int
        Edges with a breakpoint outside the raster or on no-data (those pieces count as flat).
    """

    start: np.ndarray
    pos: np.ndarray
    key: np.ndarray
    shift: np.ndarray
    up: np.ndarray
    down: np.ndarray
    min_ratio: float
    missing_edges: int = 0

    def total(self) -> tuple[np.ndarray, np.ndarray]:
        """Per edge: the excess of the whole edge walked ``u → v`` and ``v → u``."""
        end = np.r_[self.start[1:], len(self.pos)] - 1
        return self.up[end], self.down[end]

    def excess(self, edge: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """The excess of walking along ``edge`` from ``a`` to ``b`` metres (from ``u``).

        Parameters
        ----------
        edge : (k,) int array
        a, b : (k,) float arrays
            Positions along the edge (clipped to it).

        Returns
        -------
        (k,) float array
            Exactly 0 where the pieces walked are flat.
        """
        edge = np.asarray(edge, np.int64)
        length = self.pos[np.r_[self.start[1:], len(self.pos)][edge] - 1]
        ka = self.shift[edge] + np.clip(np.asarray(a, float), 0.0, length)
        kb = self.shift[edge] + np.clip(np.asarray(b, float), 0.0, length)
        forward = kb >= ka
        up_a, up_b = np.interp(ka, self.key, self.up), np.interp(kb, self.key, self.up)
        dn_a, dn_b = np.interp(ka, self.key, self.down), np.interp(kb, self.key, self.down)
        return np.where(forward, up_b - up_a, dn_a - dn_b)

    def reach(self, budget_u: np.ndarray, budget_v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per edge, how many metres in from ``u`` (and from ``v``) a walk *toward* that end
        costing at most ``budget_u`` (``budget_v``) starts: the service areas' partial edges.

        Parameters
        ----------
        budget_u, budget_v : (e,) float arrays
            Flat-equivalent metres left at ``u`` and at ``v`` (≥ 0).

        Returns
        -------
        reach_u, reach_v : (e,) float arrays
            Metres along the edge from ``u`` and from ``v``, at most the edge's length.
        """
        n = len(self.start)
        owner = np.repeat(np.arange(n), np.diff(np.r_[self.start, len(self.pos)]))
        end = np.r_[self.start[1:], len(self.pos)] - 1
        to_u = self.pos + self.down  # the walk from a breakpoint back to u, increasing
        from_u = self.pos + self.up  # the walk from u to a breakpoint, increasing
        length = self.pos[end]
        reach_u = _inverse(owner, to_u, self.pos, np.minimum(budget_u, to_u[end]))
        at = np.maximum(from_u[end] - budget_v, 0.0)  # the walk x → v is from_u(L) − from_u(x)
        reach_v = length - _inverse(owner, from_u, self.pos, at)
        return np.clip(reach_u, 0, length), np.clip(reach_v, 0, length)


def _inverse(owner: np.ndarray, cost: np.ndarray, pos: np.ndarray, want: np.ndarray) -> np.ndarray:
    """Per edge, the position where ``cost`` (increasing along each edge, 0 at its start)
    reaches ``want``: one interpolation over all edges laid end to end."""
    n = len(want)
    end = np.r_[np.flatnonzero(np.diff(owner)), len(owner) - 1]
    shift = np.r_[0.0, np.cumsum(cost[end] + 1.0)[:-1]]
    return np.interp(shift + want, shift[owner] + cost, pos) if n else want


def edge_breakpoints(geoms: np.ndarray, length: np.ndarray):
    """Breakpoints every at most :data:`PIECE_M` along each edge's line: every vertex, and equal
    parts of a longer segment.

    Parameters
    ----------
    geoms : (e,) ndarray of LineString
        The edges, from ``u`` to ``v``.
    length : (e,) float array
        The edges' network lengths (m).

    Returns
    -------
    xy : (p, 2) array
    owner : (p,) int array
        The edge of each breakpoint (an edge's breakpoints are consecutive, ``u`` first).
    pos : (p,) float array
        Metres along the edge, scaled to its ``length`` (0 at ``u``, ``length`` at ``v``).
    """
    length = np.asarray(length, float)
    coords, owner = shapely.get_coordinates(geoms, return_index=True)
    pair = np.flatnonzero(owner[1:] == owner[:-1])
    a, b, seg_edge = coords[pair], coords[pair + 1], owner[pair]
    seg_len = np.hypot(*(b - a).T)
    parts = np.maximum(np.ceil(seg_len / PIECE_M).astype(np.int64), 1)
    seg_of = np.repeat(np.arange(len(pair)), parts)
    t = np.arange(parts.sum()) - np.repeat(np.cumsum(parts) - parts, parts)
    t = t / parts[seg_of]
    run = np.cumsum(seg_len) - seg_len  # before each segment, over all segments
    edge_first = np.r_[0, np.flatnonzero(np.diff(seg_edge)) + 1] if len(pair) else pair
    base = np.repeat(run[edge_first], np.diff(np.r_[edge_first, len(pair)]))
    geom_len = np.bincount(seg_edge, weights=seg_len, minlength=len(geoms))
    last = np.r_[np.flatnonzero(np.diff(owner)), len(owner) - 1] if len(owner) else owner
    xy = np.vstack([a[seg_of] + t[:, None] * (b - a)[seg_of], coords[last]])
    who = np.r_[seg_edge[seg_of], owner[last]]
    along = np.r_[(run - base)[seg_of] + t * seg_len[seg_of], geom_len[owner[last]]]
    is_end = np.r_[np.zeros(len(seg_of), bool), np.ones(len(last), bool)]
    order = np.lexsort((is_end, along, who))
    xy, who, along, is_end = xy[order], who[order], along[order], is_end[order]
    pos = along * (length / np.maximum(geom_len, 1e-9))[who]
    pos[is_end] = length[who[is_end]]  # exactly the edge's length at ``v``
    return xy, who, pos


def slope_costs(owner: np.ndarray, pos: np.ndarray, z: np.ndarray, n_edges: int) -> EdgeSlope:
    """The directed excess costs from breakpoint elevations.

    Parameters
    ----------
    owner, pos : (p,) arrays
        From :func:`edge_breakpoints`.
    z : (p,) float array
        Elevation at each breakpoint (m); NaN where unknown (its pieces count as flat).
    n_edges : int

    Returns
    -------
    EdgeSlope
    """
    same = owner[1:] == owner[:-1]
    h = np.diff(pos)
    dz = np.diff(z)
    known = np.isfinite(dz) & (h > 0)
    s = np.where(known, dz / np.where(h > 0, h, 1.0), 0.0)
    f_up, f_down = tobler_factor(s), tobler_factor(-s)
    step_up = np.where(same, h * (f_up - 1.0), 0.0)
    step_down = np.where(same, h * (f_down - 1.0), 0.0)
    start = np.searchsorted(owner, np.arange(n_edges))
    up = _cumulative(step_up, start)
    down = _cumulative(step_down, start)
    edge_len = np.zeros(n_edges)
    end = np.r_[start[1:], len(pos)] - 1
    edge_len[:] = pos[end]
    shift = np.r_[0.0, np.cumsum(edge_len + 1.0)[:-1]]
    ratios = np.r_[f_up[same & (h > 0)], f_down[same & (h > 0)], 1.0]
    missing = np.unique(owner[1:][same & ~np.isfinite(dz)])
    return EdgeSlope(
        start=start,
        pos=pos,
        key=shift[owner] + pos,
        shift=shift,
        up=up,
        down=down,
        min_ratio=float(min(ratios.min(), 1.0)),
        missing_edges=len(missing),
    )


def _cumulative(step: np.ndarray, start: np.ndarray) -> np.ndarray:
    """Per breakpoint, the sum of the steps from its edge's first breakpoint (0 there)."""
    total = np.r_[0.0, np.cumsum(step)]
    n = len(step) + 1
    first = np.repeat(start, np.diff(np.r_[start, n]))
    return total - total[first]


def read_elevation(net, path: Path) -> None:
    """The one reader of ``[network] elevation`` (the command line's runs and
    ``spatial.read_network(..., elevation=...)``): :func:`add_elevation` for the file at
    ``path``, any failure to read it one line naming it.

    Parameters
    ----------
    net : StreetNetwork
        Changed in place.
    path : Path
        The elevation GeoTIFF.

    Raises
    ------
    InputError
        The file is not a data file, cannot be read as a raster, has no CRS or misses every street.
    """
    with reading(path, "what_elevation"):
        check_data_file(path)
        add_elevation(net, path)


def add_elevation(net, path: Path) -> None:
    """Give ``net`` its hills: sample ``path`` along every edge and set ``net.slope``.

    Edges partly outside the raster or on no-data count as flat there, and are a warning
    (``problem_network_elevation_missing``) on ``net.problems``.

    Parameters
    ----------
    net : StreetNetwork
        Changed in place (before any shortest path is run on it).
    path : Path
        The elevation GeoTIFF.

    Raises
    ------
    InputError
        No street lies on the raster (``err_elevation_no_cover``), or it has no CRS.
    """
    length = net.edges["length"].to_numpy(float)
    xy, owner, pos = edge_breakpoints(np.asarray(net.edges.geometry.values), length)
    z = sample_raster(path, xy, net.crs, net.problems)
    if len(z) and not np.isfinite(z).any():
        raise InputError("err_elevation_no_cover", path=path)
    net.slope = slope_costs(owner, pos, z, len(length))
    net.__dict__.pop("_base_csr", None)  # the street matrix is built from the slope
    _warn_steep(net, owner, pos, z, path)
    if net.slope.missing_edges:
        missing = np.unique(owner[~np.isfinite(z)])
        names = net.edges.get("name")  # a street's name where known, else its edge number
        items = [str(names.iloc[i]) if _named(names, i) else f"#{i}" for i in missing]
        net.problems.append(problem("network_elevation_missing", "network", items))


def _warn_steep(net, owner: np.ndarray, pos: np.ndarray, z: np.ndarray, path: Path) -> None:
    """Warn (``network_steep_streets``) when more than ``settings.STEEP_WARN_SHARE`` of the
    street length is steeper than ``settings.STEEP_GRADE``: a raster in other units or too
    coarse, whose cliffs Tobler's rule turns into walls. The costs are left as they are."""
    same = owner[1:] == owner[:-1]
    h, dz = np.diff(pos), np.diff(z)
    piece = same & (h > 0)
    steep = piece & np.isfinite(dz) & (np.abs(dz) > settings.STEEP_GRADE * np.where(h > 0, h, 1))
    total = float(h[piece].sum())
    share = float(h[steep].sum()) / total if total > 0 else 0.0
    if share <= settings.STEEP_WARN_SHARE:
        return
    names = net.edges.get("name")
    edges = np.unique(owner[1:][steep])
    items = [str(names.iloc[i]) if _named(names, i) else f"#{i}" for i in edges]
    net.problems.append(
        problem(
            "network_steep_streets",
            "network",
            items,
            share=f"{share:.0%}",
            grade=f"{settings.STEEP_GRADE:.0%}",
            raster=path.name,
        )  # fmt: skip
    )


def _named(names, i: int) -> bool:
    return names is not None and isinstance(names.iloc[i], str) and bool(names.iloc[i])
