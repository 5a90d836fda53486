"""Reading an elevation GeoTIFF for the hills (:mod:`spatial.network.elevation`): only the window
under the streets, undeclared voids and implausible values as no-data, bilinear samples at the
streets' breakpoints.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
from pyproj import CRS, Transformer

from spatial.core import settings
from spatial.core.errors import InputError
from spatial.core.problems import SAMPLE_SIZE, Problem


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
