"""The demo folder: :func:`write_demo` writes the synthetic district of :mod:`spatial.workflow.demo`
as a planner's files (a GeoPackage, a Gaode-style CSV in GCJ-02, GeoJSON, OSM XML, the compounds'
gates, an elevation raster) with its runnable project file.
"""

from __future__ import annotations

import math
from pathlib import Path
from xml.sax.saxutils import quoteattr

import geopandas as gpd
import numpy as np
import shapely
from pyproj import Transformer

from spatial.core import settings
from spatial.core.crs import wgs84_to_gcj02
from spatial.outputs import staging
from spatial.workflow.demo import METRIC_EPSG, SIZE_M, STEP_M, Warp, generate
from spatial.workflow.demo_hills import demo_elevation, write_elevation


def _osm_xml(ways: list[tuple[str, str, list[tuple[int, int]]]], warp: Warp) -> str:
    to_wgs = Transformer.from_crs(METRIC_EPSG, 4326, always_xy=True)
    ids: dict[tuple[int, int], int] = {}
    for _, _, pts in ways:
        for p in pts:
            ids.setdefault(p, len(ids) + 1)
    grid = np.array(list(ids), float) * STEP_M
    lon, lat = to_wgs.transform(*warp(grid).T)
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<osm version="0.6" generator="lifecircle demo (synthetic)">',
    ]
    for nid, a, b in zip(ids.values(), lon, lat, strict=True):
        lines.append(f'  <node id="{nid}" lat="{b:.7f}" lon="{a:.7f}"/>')
    for wid, (hw, name, pts) in enumerate(ways, start=1):
        lines.append(f'  <way id="{wid}">')
        lines += [f'    <nd ref="{ids[p]}"/>' for p in pts]
        lines.append(f'    <tag k="highway" v="{hw}"/>')
        if name:
            lines.append(f'    <tag k="name" v={quoteattr(name)}/>')
        lines.append("  </way>")
    lines.append("</osm>")
    return "\n".join(lines) + "\n"


#: The files of the demo folder; ``project.toml`` and ``README.md`` are copied from ``data/demo``.
DEMO_FILES = {
    "communities": "communities.gpkg",
    "facilities": "facilities.csv",
    "parcels": "parcels.geojson",
    "network": "network.osm",
    "gates": "gates.geojson",
    "elevation": "elevation.tif",
    "project": "project.toml",
    "readme": "README.md",
}


def demo_gates(communities: gpd.GeoDataFrame, seed: int = 20201) -> gpd.GeoDataFrame:
    """One to three gates on the outline of about five in six compounds, at random places along
    it; the others are open (no gate: measured from their outline). A generator of its own,
    seeded from ``seed``, so the other layers stay as they were.

    Parameters
    ----------
    communities : GeoDataFrame
        As :func:`generate` made them (``小区编号``).
    seed : int

    Returns
    -------
    GeoDataFrame
        ``小区编号``, ``名称`` and the gate points (the communities' CRS).
    """
    rng = np.random.default_rng(seed + 26)
    rows, points = [], []
    for cid, poly in zip(communities["小区编号"], communities.geometry.values, strict=True):
        ring = shapely.get_exterior_ring(shapely.get_parts(poly)[0])
        count = int(rng.choice([0, 1, 1, 2, 2, 3]))
        for k, frac in enumerate(np.sort(rng.uniform(0, 1, count))):
            rows.append({"小区编号": cid, "名称": f"{cid}-{k + 1}号门"})
            points.append(shapely.line_interpolate_point(ring, frac, normalized=True))
    return gpd.GeoDataFrame(rows, geometry=points, crs=communities.crs)


def demo_paths(folder: Path) -> dict[str, Path]:
    """Where :func:`write_demo` writes each file in ``folder``.

    Parameters
    ----------
    folder : Path

    Returns
    -------
    dict of str to Path
    """
    return {key: folder / name for key, name in DEMO_FILES.items()}


def write_demo(folder: Path, seed: int = 20201) -> dict[str, Path]:
    """Write the demo district's files into ``folder`` (each atomically).

    communities.gpkg (EPSG:4548, like a planning bureau's layer), facilities.csv (GCJ-02
    lon/lat, like a Gaode POI export), parcels.geojson (WGS84), network.osm (OSM XML),
    gates.geojson (WGS84, the compounds' gates: an optional layer, see the project file),
    elevation.tif (synthetic hills, :mod:`spatial.workflow.demo_hills`: optional, see the project
    file; written when rasterio is installed), and the runnable project.toml (paths relative to
    it) with the README of ``data/demo``. Existing files are replaced: the command line refuses a
    folder that holds any of them.

    Parameters
    ----------
    folder : Path
    seed : int

    Returns
    -------
    dict of str to Path
        As :func:`demo_paths`.
    """
    data = generate(seed)
    warp = Warp()
    folder.mkdir(parents=True, exist_ok=True)
    paths = demo_paths(folder)
    for key in ("project", "readme"):
        staging.write_text(paths[key], (settings.DEMO_DIR / DEMO_FILES[key]).read_text("utf-8"))
    staging.write_gpkg(paths["communities"], {"communities": data["communities"]})
    fac = data["facilities"].to_crs(4326)
    lon, lat = wgs84_to_gcj02(fac.geometry.x.to_numpy(), fac.geometry.y.to_numpy())
    table = fac.drop(columns="geometry").assign(经度=np.round(lon, 6), 纬度=np.round(lat, 6))
    staging.write_text(paths["facilities"], table.to_csv(index=False))
    parcels = data["parcels"].to_crs(4326)
    parcels.geometry = shapely.set_precision(parcels.geometry.values, 1e-7)
    staging.write_text(
        paths["parcels"], parcels.to_json(drop_id=True, ensure_ascii=False, indent=1)
    )
    staging.write_text(paths["network"], _osm_xml(data["ways"], warp))
    gates = demo_gates(data["communities"], seed).to_crs(4326)
    gates.geometry = shapely.set_precision(gates.geometry.values, 1e-7)
    staging.write_text(paths["gates"], gates.to_json(drop_id=True, ensure_ascii=False, indent=1))
    z, west, north = demo_elevation(warp.x0, warp.y0, SIZE_M, math.degrees(warp.angle), seed)
    if not write_elevation(paths["elevation"], z, west, north, METRIC_EPSG):
        del paths["elevation"]  # without rasterio (lifecircle[hills]) the demo has no hills
    return paths
