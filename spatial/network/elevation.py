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

import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import shapely
from pyproj import CRS, Transformer

from spatial.core import settings
from spatial.core.errors import InputError, reading
from spatial.core.problems import SAMPLE_SIZE, Problem, problem
from spatial.inputs.files import check_data_file

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


def sample_raster(
    path: Path, xy: np.ndarray, crs: CRS, problems: list[Problem] | None = None
) -> np.ndarray:
    """Bilinear elevations of a GeoTIFF at points given in ``crs`` (NaN outside or on no-data).

    Only the window of the raster under the points (and two cells round it) is read; a window
    over :data:`~spatial.core.settings.ELEVATION_MAX_CELLS` cells is refused. Values outside
    :data:`~spatial.core.settings.ELEVATION_RANGE_M` or not finite (an undeclared void such as
    SRTM's −32768) are no-data, and a warning (``problem_elevation_implausible``) on
    ``problems``.

    Parameters
    ----------
    path : Path
        The raster (band 1: elevation in metres).
    xy : (p, 2) array
    crs : CRS
        The points' CRS.
    problems : list of Problem, optional
        Receives the warning about implausible values.

    Returns
    -------
    (p,) float array

    Raises
    ------
    InputError
        The raster has no CRS (or is no GeoTIFF and has none), the part under the points is too
        large, or rasterio is not installed (an unreadable file raises rasterio's own error: read
        it inside :func:`spatial.core.errors.reading`).
    """
    try:  # only for a run with [network] elevation (``--help`` stays fast), the hills extra
        import rasterio
        from rasterio.windows import Window
    except ImportError as exc:
        raise InputError("err_elevation_needs_rasterio", path=path) from exc

    with warnings.catch_warnings():  # a raster without a CRS is our own one-line error
        warnings.simplefilter("ignore", rasterio.errors.NotGeoreferencedWarning)
        src = rasterio.open(path)
    with src:
        if src.crs is None:  # e.g. a PNG renamed .tif: say what it is, not that it lacks a CRS
            if src.driver != "GTiff":
                raise InputError("err_elevation_not_geotiff", path=path, driver=src.driver)
            raise InputError("err_elevation_no_crs", path=path)
        to_raster = Transformer.from_crs(crs, CRS.from_user_input(src.crs.to_wkt()), always_xy=True)
        rx, ry = to_raster.transform(xy[:, 0], xy[:, 1])
        inv = ~src.transform  # map → pixel (col, row), any affine raster
        rx, ry = np.asarray(rx), np.asarray(ry)
        col, row = inv.a * rx + inv.b * ry + inv.c, inv.d * rx + inv.e * ry + inv.f
        box = _window(col, row, src.width, src.height)
        if box is None:  # no point on the raster
            return np.full(len(col), np.nan)
        c0, r0, c1, r1 = box
        if (c1 - c0) * (r1 - r0) > settings.ELEVATION_MAX_CELLS:
            raise InputError(
                "err_elevation_too_large", path=path, width=c1 - c0, height=r1 - r0,
                most=f"{settings.ELEVATION_MAX_CELLS:,}",
            )  # fmt: skip
        band = src.read(1, window=Window(c0, r0, c1 - c0, r1 - r0), masked=True)
    values = _plausible(np.ma.filled(band.astype(float), np.nan), path, problems)
    return _bilinear(values, np.asarray(col) - c0 - 0.5, np.asarray(row) - r0 - 0.5)


def _window(col: np.ndarray, row: np.ndarray, w: int, h: int) -> tuple[int, int, int, int] | None:
    """The cells (``c0, r0, c1, r1``, end exclusive) under the points on the raster, two cells
    more on each side (so the bilinear weights are those of the whole raster), or None."""
    on = np.isfinite(col) & np.isfinite(row) & (col >= 0) & (col <= w) & (row >= 0) & (row <= h)
    if not on.any():
        return None
    c0 = max(int(np.floor(col[on].min())) - 2, 0)
    r0 = max(int(np.floor(row[on].min())) - 2, 0)
    c1 = min(int(np.ceil(col[on].max())) + 2, w)
    r1 = min(int(np.ceil(row[on].max())) + 2, h)
    return c0, r0, c1, r1


def _plausible(grid: np.ndarray, path: Path, problems: list[Problem] | None) -> np.ndarray:
    """``grid`` with the cells outside :data:`~spatial.core.settings.ELEVATION_RANGE_M` or not
    finite set to NaN (no-data), named in a warning on ``problems``."""
    low, high = settings.ELEVATION_RANGE_M
    with np.errstate(invalid="ignore"):
        bad = ~np.isnan(grid) & ~((grid >= low) & (grid <= high))
    if not bad.any():
        return grid
    values = np.unique(grid[bad])
    if problems is not None:
        sample = tuple(f"{v:g}" for v in values[:SAMPLE_SIZE])
        fields = {"low": f"{low:g}", "high": f"{high:g}", "path": str(path)}
        problems.append(Problem("elevation_implausible", "network", int(bad.sum()), sample, fields))
    out = grid.copy()
    out[bad] = np.nan
    return out


def _bilinear(grid: np.ndarray, col: np.ndarray, row: np.ndarray) -> np.ndarray:
    """Bilinear interpolation between cell centres (``col``, ``row`` in centre units); a point
    beyond the outer centres takes the nearest edge cells, outside the raster NaN."""
    h, w = grid.shape
    out = np.full(len(col), np.nan)
    ok = (col >= -0.5) & (col <= w - 0.5) & (row >= -0.5) & (row <= h - 0.5)
    c = np.clip(col[ok], 0, w - 1)
    r = np.clip(row[ok], 0, h - 1)
    c0 = np.minimum(np.floor(c).astype(np.int64), max(w - 2, 0))
    r0 = np.minimum(np.floor(r).astype(np.int64), max(h - 2, 0))
    c1, r1 = np.minimum(c0 + 1, w - 1), np.minimum(r0 + 1, h - 1)
    tc, tr = c - c0, r - r0
    # as differences: a constant raster gives its value exactly (a flat raster, no slope at all)
    top = grid[r0, c0] + tc * (grid[r0, c1] - grid[r0, c0])
    bottom = grid[r1, c0] + tc * (grid[r1, c1] - grid[r1, c0])
    out[ok] = top + tr * (bottom - top)
    return out


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
