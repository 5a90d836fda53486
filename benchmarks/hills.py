"""Hills benchmark: what ``[network] elevation`` costs on the city case.

    python benchmarks/hills.py [--side 450] [--osm-side 300] [--repeat 3] [--keep DIR]

A synthetic 30 m DEM (the resolution of SRTM / ASTER GDEM, which a Shandong planner can get)
over the city: rolling hills ~250 m high, slopes up to ~17 % (95th percentile ~13 %), in EPSG:4548.

1. In process, on ``citycase.street_grid(--side)`` (~200,000 nodes): ``add_elevation`` (sample
   the raster at every breakpoint, Tobler costs) and ``compute_coverage`` flat vs with hills.
2. Whole process on the OSM XML city of ``whole_process.py`` (``--osm-side``): ``lifecircle
   coverage`` without and with ``elevation = "dem.tif"``, and the OSMnx + networkx script,
   alternated; wall, CPU (user + sys) and peak RSS of each child; the load average before and
   after (the machine is shared: CPU time is the steady figure).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import citycase  # noqa: E402
import whole_process  # noqa: E402

from spatial.analysis.coverage.measure import compute_coverage  # noqa: E402
from spatial.network.elevation import add_elevation  # noqa: E402

CELL = 30.0


def write_dem(path: Path, lo: np.ndarray, hi: np.ndarray) -> None:
    """Rolling hills over the box ``lo``–``hi`` (EPSG:4548), 30 m cells, 1 km margin."""
    import rasterio
    from rasterio.transform import from_origin

    lo, hi = lo - 1000, hi + 1000
    xs = np.arange(lo[0], hi[0], CELL) + CELL / 2
    ys = np.arange(hi[1], lo[1], -CELL) - CELL / 2
    gx, gy = np.meshgrid(xs - lo[0], ys - lo[1])
    z = (
        120 * np.sin(gx / 900) * np.cos(gy / 700)
        + 50 * np.exp(-((gx - 4000) ** 2 + (gy - 5000) ** 2) / 2e6)
        + 100
    )
    profile = dict(driver="GTiff", width=len(xs), height=len(ys), count=1, dtype="float32",
                   crs="EPSG:4548", transform=from_origin(lo[0], hi[1], CELL, CELL))  # fmt: skip
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(z.astype("float32"), 1)
    steep = np.hypot(*np.gradient(z, CELL))
    print(f"DEM: {len(ys)} × {len(xs)} cells, {z.min():.0f}–{z.max():.0f} m, "
          f"slope 95th pct {np.percentile(steep, 95):.1%}, max {steep.max():.1%}")  # fmt: skip


def _timed(label: str, func, repeat: int):
    walls, cpus, value = [], [], None
    for _ in range(repeat):
        w, c = time.perf_counter(), time.process_time()
        value = func()
        walls.append(time.perf_counter() - w)
        cpus.append(time.process_time() - c)
    print(f"{label:<44} median {np.median(walls):6.2f} s wall, {np.median(cpus):6.2f} CPU-s "
          f"(walls {', '.join(f'{x:.2f}' for x in walls)})", flush=True)  # fmt: skip
    return value


def in_process(side: int, repeat: int, folder: Path) -> None:
    net = citycase.street_grid(side)
    comm, fac = citycase.communities(), citycase.facilities()
    _, std = citycase.core_project()
    cfg = citycase.core_project()[0].coverage
    dem = folder / "grid_dem.tif"
    write_dem(dem, net.node_xy.min(axis=0), net.node_xy.max(axis=0))
    print(f"grid: {net.n_nodes:,} nodes, {len(net.edges):,} edges, {len(comm):,} communities, "
          f"{len(fac):,} facilities; load average {os.getloadavg()}")  # fmt: skip
    compute_coverage(comm, fac, std, cfg, net)  # builds the snap index once
    flat = _timed("compute_coverage, flat", lambda: compute_coverage(comm, fac, std, cfg, net),
                  repeat)  # fmt: skip

    def hills():
        net.slope = None
        net.__dict__.pop("_base_csr", None)
        add_elevation(net, dem)
        return net.slope

    slope = _timed("add_elevation (sample + Tobler costs)", hills, repeat)
    print(f"  {len(slope.pos):,} breakpoints, least cost per metre {slope.min_ratio:.3f}")
    hilly = _timed("compute_coverage, hills", lambda: compute_coverage(comm, fac, std, cfg, net),
                   repeat)  # fmt: skip
    for key in ("convenience", "elderly_daycare"):
        a, b = flat.communities[f"{key}_ok"], hilly.communities[f"{key}_ok"]
        print(f"  {key}: covered {a.sum():,} flat → {b.sum():,} with hills; median distance "
              f"{np.nanmedian(flat.communities[f'{key}_m']):.0f} → "
              f"{np.nanmedian(hilly.communities[f'{key}_m']):.0f} flat-equivalent m")  # fmt: skip


def whole(side: int, repeat: int, folder: Path) -> None:
    whole_process.write_city(folder, side)
    import geopandas as gpd

    comm = gpd.read_file(folder / "communities.gpkg").to_crs(4548)
    lo, hi = comm.total_bounds[:2], comm.total_bounds[2:]
    write_dem(folder / "dem.tif", lo, hi)
    text = (folder / "project.toml").read_text("utf-8")
    hills_toml = folder / "project_hills.toml"
    hills_toml.write_text(
        text.replace("[network]\n", '[network]\nelevation = "dem.tif"\n'), "utf-8"
    )
    cmds = {
        "lifecircle coverage, flat": [sys.executable, "-m", "spatial", "coverage", "--config",
                                      str(folder / "project.toml"), "--out", str(folder / "flat")],
        "lifecircle coverage, hills": [sys.executable, "-m", "spatial", "coverage", "--config",
                                       str(hills_toml), "--out", str(folder / "hills")],
        "osmnx + networkx": [sys.executable, "-c", whole_process.OSMNX_SCRIPT,
                             str(folder / "city.osm"), str(folder / "communities.gpkg"),
                             str(folder / "facilities.gpkg"), str(folder / "osmnx.csv"),
                             ",".join(citycase.CORE)],
    }  # fmt: skip
    walls = {k: [] for k in cmds}
    cpus = {k: [] for k in cmds}
    print(f"load average before: {os.getloadavg()}", flush=True)
    for i in range(repeat):
        for label, cmd in cmds.items():
            wall, cpu, rss = whole_process.run_child(cmd)
            walls[label].append(wall)
            cpus[label].append(cpu)
            extra = ""
            if label.startswith("lifecircle"):
                out = folder / ("hills" if "hills" in label else "flat") / "summary.json"
                extra = f"  stages {json.loads(out.read_text('utf-8'))['timings_s']}"
            print(f"#{i + 1} {label:<28} {wall:7.2f} s  CPU {cpu:6.2f} s  "
                  f"(peak RSS {rss:5.0f} MB){extra}", flush=True)  # fmt: skip
    base = float(np.median(cpus["osmnx + networkx"]))
    base_wall = float(np.median(walls["osmnx + networkx"]))
    for label in cmds:
        w, c = float(np.median(walls[label])), float(np.median(cpus[label]))
        print(f"median {label:<28} {w:6.2f} s wall ({w / base_wall:.2f}×), "
              f"{c:6.2f} CPU-s ({c / base:.2f}×)")  # fmt: skip
    print(f"load average after: {os.getloadavg()}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--side", type=int, default=450)
    parser.add_argument("--osm-side", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--keep", type=Path)
    parser.add_argument("--skip-whole", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        in_process(args.side, args.repeat, folder)
        if not args.skip_whole:
            whole(args.osm_side, args.repeat, folder)


if __name__ == "__main__":
    main()
