"""Whole process: `lifecircle coverage` vs an OSMnx + networkx script, on one OSM XML city.

    python benchmarks/whole_process.py [--side 300] [--case grid|patchy] [--repeat 3] [--keep DIR]
                                       [--gates]

Writes a generated city (benchmarks/citycase.py: a side×side jittered street grid, ~90,000
nodes at side 300, written as OSM XML in lon/lat; 5,000 communities; 2,000 facilities over the 8
core categories) and runs, alternately, ``--repeat`` times each in a child process:

  (a) ``lifecircle coverage --config project.toml --out DIR`` (service-area layer written);
  (b) what a user would otherwise write: ``osmnx.graph_from_xml``, project, nearest nodes for
      facilities and community centroids, ``networkx.multi_source_dijkstra_path_length`` per
      category (cutoff 1,000 m), per-community distances written to a CSV.

With ``--gates`` five in six communities get one to three gates on their outline (seeded, as in
benchmarks/gates.py), written as a point layer with the community's id, and the project reads
them (``[gates] path = "gates.gpkg"``): (a) then measures from gates (and the outline comparison),
(b) stays the centroid script a user would write.

Reports each run's wall time and the child's peak RSS (``/usr/bin/time -f %M``), the medians
and their ratio, and our per-stage ``timings_s`` from
``summary.json``. The machine is shared: timings are noisy, so medians are reported.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from pyproj import Transformer

sys.path.insert(0, str(Path(__file__).resolve().parent))
import citycase  # noqa: E402

OSMNX_SCRIPT = r"""
import csv, sys
import geopandas as gpd, networkx as nx, numpy as np, osmnx as ox
osm, comm_path, fac_path, out = sys.argv[1:5]
cats = sys.argv[5].split(",")
G = ox.graph_from_xml(osm, retain_all=True)  # the walk filter: every way here is walkable
G = ox.project_graph(G, to_crs="EPSG:4548")
comm = gpd.read_file(comm_path).to_crs(4548)
fac = gpd.read_file(fac_path).to_crs(4548)
fac_node = np.asarray(ox.distance.nearest_nodes(G, fac.geometry.x, fac.geometry.y))
cen = comm.geometry.centroid
comm_node = ox.distance.nearest_nodes(G, cen.x, cen.y)
dist = {}
for c in cats:
    sources = set(fac_node[(fac["category"] == c).to_numpy()].tolist())
    dist[c] = nx.multi_source_dijkstra_path_length(G, sources, cutoff=1000, weight="length")
with open(out, "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(["community"] + cats)
    for cid, n in zip(comm["编号"], comm_node):
        w.writerow([cid] + [round(dist[c].get(n, float("nan")), 1) for c in cats])
"""


def write_gates(folder: Path, comm) -> int:
    """Seeded gates on the outlines (benchmarks/gates.py) as ``gates.gpkg`` with the community id,
    and ``[gates]`` appended to the project; returns the number of gates."""
    import geopandas as gpd
    from gates import _gates

    xy, owner = _gates(comm)
    gpd.GeoDataFrame(
        {"编号": comm["cid"].to_numpy()[owner]},
        geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]),
        crs=comm.crs,
    ).to_file(folder / "gates.gpkg")
    with (folder / "project.toml").open("a", encoding="utf-8") as f:
        f.write('[gates]\npath = "gates.gpkg"\ncommunity = "编号"\n')
    return len(xy)


def write_city(folder: Path, side: int, case: str = "grid", gates: bool = False) -> None:
    """The city as OSM XML (lon/lat), communities and facilities as GeoPackages, project.toml;
    ``case`` names the street network (:data:`citycase.CASES`; ``side`` overrides its size)."""
    spec = citycase.CASES[case]
    spec = citycase.Case(side, spec.spacing, spec.jitter)
    net = spec.network()
    extent = spec.extent
    comm = citycase.communities(extent=extent)
    fac = citycase.facilities(extent=extent)
    lon, lat = Transformer.from_crs(4548, 4326, always_xy=True).transform(*net.node_xy.T)
    edges = net.edges
    lines = ['<?xml version="1.0" encoding="UTF-8"?>', '<osm version="0.6" generator="bench">']
    lines += [f'<node id="{i + 1}" version="1" lat="{y:.8f}" lon="{x:.8f}"/>'
              for i, (x, y) in enumerate(zip(lon, lat, strict=True))]  # fmt: skip
    for k, (u, v, hw) in enumerate(edges[["u", "v", "highway"]].itertuples(index=False)):
        lines.append(f'<way id="{k + 1}" version="1"><nd ref="{u + 1}"/><nd ref="{v + 1}"/>'
                     f'<tag k="highway" v="{hw}"/></way>')  # fmt: skip
    lines.append("</osm>")
    (folder / "city.osm").write_text("\n".join(lines), encoding="utf-8")
    citycase.write_project(folder, comm, fac, "city.osm")
    if gates:
        print(f"gates: {write_gates(folder, comm):,} on the outlines")
    print(f"city: {net.n_nodes:,} nodes, {len(edges):,} edges, {len(comm):,} communities, "
          f"{len(fac):,} facilities; city.osm {(folder / 'city.osm').stat().st_size / 1e6:.1f} MB")  # fmt: skip


def run_child(cmd: list[str]) -> tuple[float, float, float]:
    """Wall time (s), the child's CPU time (user + sys, s) and its own peak RSS (MB), from
    /usr/bin/time. On a shared machine the CPU time is the steadier figure."""
    start = time.perf_counter()
    done = subprocess.run(["/usr/bin/time", "-f", "PEAK_RSS_KB %M CPU_S %U %S", *cmd],
                          capture_output=True, text=True)  # fmt: skip
    wall = time.perf_counter() - start
    if done.returncode:
        raise SystemExit(f"failed: {' '.join(cmd)}\n{done.stderr[-2000:]}")
    rss = [ln for ln in done.stderr.splitlines() if ln.startswith("PEAK_RSS_KB")][-1].split()
    return wall, float(rss[3]) + float(rss[4]), int(rss[1]) / 1024


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--side", type=int, default=300, help="grid side: side² street nodes")
    parser.add_argument("--case", choices=sorted(citycase.CASES), default="grid")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--keep", type=Path, help="write the city here and keep it")
    parser.add_argument("--gates", action="store_true", help="gates on the outlines, read by ours")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        write_city(folder, args.side, args.case, args.gates)
        ours_cmd = [sys.executable, "-m", "spatial", "coverage", "--config",
                    str(folder / "project.toml"), "--out", str(folder / "out")]  # fmt: skip
        theirs_cmd = [sys.executable, "-c", OSMNX_SCRIPT, str(folder / "city.osm"),
                      str(folder / "communities.gpkg"), str(folder / "facilities.gpkg"),
                      str(folder / "osmnx.csv"), ",".join(citycase.CORE)]  # fmt: skip
        ours, theirs, stages = [], [], []
        cpu_ours, cpu_theirs = [], []
        print(f"load average before: {os.getloadavg()}", flush=True)
        for i in range(args.repeat):
            wall, cpu, rss = run_child(ours_cmd)
            ours.append(wall)
            cpu_ours.append(cpu)
            timings = json.loads((folder / "out" / "summary.json").read_text("utf-8"))
            stages.append(timings["timings_s"])
            print(f"#{i + 1} lifecircle coverage   {wall:7.2f} s  CPU {cpu:6.2f} s  (peak RSS {rss:5.0f} MB)  stages {stages[-1]}", flush=True)  # fmt: skip
            wall, cpu, rss = run_child(theirs_cmd)
            theirs.append(wall)
            cpu_theirs.append(cpu)
            print(f"#{i + 1} osmnx + networkx      {wall:7.2f} s  CPU {cpu:6.2f} s  (peak RSS {rss:5.0f} MB)", flush=True)  # fmt: skip
        t_ours, t_theirs = float(np.median(ours)), float(np.median(theirs))
        c_ours, c_theirs = float(np.median(cpu_ours)), float(np.median(cpu_theirs))
        print(f"\nmedian: lifecircle coverage {t_ours:.2f} s, osmnx + networkx {t_theirs:.2f} s, "
              f"ratio {t_ours / t_theirs:.2f}× (target ≤ 0.25×)")  # fmt: skip
        print(f"median CPU (user + sys): lifecircle coverage {c_ours:.2f} s, osmnx + networkx "
              f"{c_theirs:.2f} s, ratio {c_ours / c_theirs:.2f}×; load average after: "
              f"{os.getloadavg()}")  # fmt: skip
        keys = stages[0].keys()
        print("median stages (s): " + ", ".join(
            f"{k} {np.median([s.get(k, np.nan) for s in stages]):.2f}" for k in keys))  # fmt: skip


if __name__ == "__main__":
    main()
