"""The demo district's hills: a seeded synthetic elevation raster (``elevation.tif``), so a
planner can try ``[network] elevation`` offline. Nothing here is real terrain.

The ground rises gently to the north-east (1.5 %) from 62 m and carries three round hills 18-35 m
high and 250-450 m wide (Gaussian bumps): slopes of up to about 10 % on their flanks, like the
foothills in Laoshan or the south of Jinan. The raster is in the demo's own CRS (EPSG:4548), 20 m
cells over the district and 150 m beyond it, float32 metres rounded to 0.1 m.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from spatial.outputs import staging

#: raster cell size (m) and margin round the district (m)
CELL_M = 20.0
MARGIN_M = 150.0
BASE_M = 62.0
TILT = 0.015
HILLS = 3


def demo_elevation(
    x0: float, y0: float, size_m: float, angle_deg: float, seed: int
) -> tuple[np.ndarray, float, float]:
    """The elevation grid over the demo district.

    Parameters
    ----------
    x0, y0 : float
        The district's south-west corner (EPSG:4548).
    size_m : float
        Its side, before the rotation.
    angle_deg : float
        Its rotation (counter-clockwise).
    seed : int
        The demo's seed (the hills have a generator of their own, so no other layer changes).

    Returns
    -------
    z : (rows, cols) float32 array
        Elevations (m), the first row the northern one.
    west, north : float
        The outer corner of the first cell.
    """
    rng = np.random.default_rng(seed + 2026)
    c, s = math.cos(math.radians(angle_deg)), math.sin(math.radians(angle_deg))
    corners = np.array([[0, 0], [size_m, 0], [size_m, size_m], [0, size_m]], float)
    wx = x0 + c * corners[:, 0] - s * corners[:, 1]
    wy = y0 + s * corners[:, 0] + c * corners[:, 1]
    west, east = math.floor(wx.min() - MARGIN_M), math.ceil(wx.max() + MARGIN_M)
    south, north = math.floor(wy.min() - MARGIN_M), math.ceil(wy.max() + MARGIN_M)
    cols, rows = int((east - west) // CELL_M) + 1, int((north - south) // CELL_M) + 1
    gx, gy = np.meshgrid(
        west + (np.arange(cols) + 0.5) * CELL_M, north - (np.arange(rows) + 0.5) * CELL_M
    )
    lx = c * (gx - x0) + s * (gy - y0)  # back to the district's own axes
    ly = -s * (gx - x0) + c * (gy - y0)
    z = BASE_M + TILT * (lx + ly) / math.sqrt(2)
    for _ in range(HILLS):
        cx, cy = rng.uniform(0.15, 0.85, 2) * size_m
        height, width = rng.uniform(18, 35), rng.uniform(250, 450)
        z = z + height * np.exp(-((lx - cx) ** 2 + (ly - cy) ** 2) / (2 * width**2))
    return np.round(z, 1).astype(np.float32), float(west), float(north)


def write_elevation(target: Path, z: np.ndarray, west: float, north: float, epsg: int) -> bool:
    """Write the grid as a GeoTIFF (atomically); False, and nothing written, without rasterio
    (the ``lifecircle[hills]`` extra, which reading it needs too).

    Parameters
    ----------
    target : Path
    z : (rows, cols) array
    west, north : float
        The outer corner of the first cell.
    epsg : int

    Returns
    -------
    bool
    """
    try:
        import rasterio
        from rasterio.transform import from_origin
    except ImportError:
        return False
    profile = {
        "driver": "GTiff",
        "width": z.shape[1],
        "height": z.shape[0],
        "count": 1,
        "dtype": "float32",
        "crs": f"EPSG:{epsg}",
        "transform": from_origin(west, north, CELL_M, CELL_M),
        "compress": "deflate",
        "predictor": 3,
    }
    with staging.atomic_path(target) as tmp, rasterio.open(tmp, "w", **profile) as dst:
        dst.write(z, 1)
    return True
