"""The whole ``lifecircle run`` (every stage, every output) on the generated city, timed as a
child process against the target: faster than the OSMnx + networkx script takes for the
distances alone (benchmarks/whole_process.py; ~21 s on the development machine).

    python benchmarks/whole_run.py [--side 300] [--communities 5000] [--repeat 1] [--keep DIR]
    python benchmarks/whole_run.py --case patchy  # 90 m irregular streets, patchy service areas
    python benchmarks/whole_run.py --layers       # also overview.html's bytes per layer
    python benchmarks/whole_run.py --osmnx        # also time the OSMnx script, alternately

Writes the city of benchmarks/whole_process.py (side² street nodes as OSM XML, ``--communities``
communities, 2,000 facilities over the 8 core categories) plus 2,000 candidate parcels, and runs
``lifecircle run --basemap none``. Reports the wall time, the child's CPU time (user + sys) and
peak RSS (``/usr/bin/time``), the per-stage wall times from ``summary.json`` (``timings_s``), the
output sizes, and the load average before and after (the machine may be shared).
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

sys.path.insert(0, str(Path(__file__).resolve().parent))
import citycase  # noqa: E402
import page_layers  # noqa: E402
import whole_process  # noqa: E402


def write_case(folder: Path, side: int, n: int, case: str = "grid") -> None:
    """The whole_process city (``case``) with ``n`` communities and the candidate parcels."""
    whole_process.write_city(folder, side, case)
    spec = citycase.CASES[case]
    extent = citycase.Case(side, spec.spacing, spec.jitter).extent
    if n != 5000:
        comm = citycase.communities(n, extent=extent)
        fac = citycase.facilities(extent=extent)
        citycase.write_project(folder, comm, fac, "city.osm")
    citycase.parcels(extent=extent).drop(columns=["area_m2", "area_given"]).to_file(
        folder / "parcels.gpkg"
    )
    with (folder / "project.toml").open("a", encoding="utf-8") as f:
        f.write('[parcels]\npath = "parcels.gpkg"\nid = "pid"\nname = "name"\nkind = "kind"\n')


def run_child(cmd: list[str]) -> tuple[float, float, float]:
    """Wall time (s), the child's CPU time (user + sys, s) and peak RSS (MB)."""
    start = time.perf_counter()
    done = subprocess.run(
        ["/usr/bin/time", "-f", "CHILD %U %S %M", *cmd], capture_output=True, text=True
    )
    wall = time.perf_counter() - start
    if done.returncode:
        raise SystemExit(f"failed: {' '.join(cmd)}\n{done.stderr[-3000:]}")
    user, sys_, rss = [ln for ln in done.stderr.splitlines() if ln.startswith("CHILD")][-1].split()[
        1:
    ]
    return wall, float(user) + float(sys_), int(rss) / 1024


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--side", type=int, default=300, help="grid side: side² street nodes")
    parser.add_argument("--communities", type=int, default=5000)
    parser.add_argument("--case", choices=sorted(citycase.CASES), default="grid",
                        help="grid: dense 40 m grid; patchy: 90 m irregular, patchy coverage")  # fmt: skip
    parser.add_argument("--layers", action="store_true", help="overview.html's bytes per layer")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--osmnx", action="store_true", help="also time the OSMnx script")
    parser.add_argument("--keep", type=Path, help="write the city here and keep it")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        if not (folder / "project.toml").exists():
            write_case(folder, args.side, args.communities, args.case)
        out = folder / "out"
        ours = [sys.executable, "-m", "spatial", "run", "--config", str(folder / "project.toml"),
                "--out", str(out), "--basemap", "none"]  # fmt: skip
        theirs = [sys.executable, "-c", whole_process.OSMNX_SCRIPT, str(folder / "city.osm"),
                  str(folder / "communities.gpkg"), str(folder / "facilities.gpkg"),
                  str(folder / "osmnx.csv"), ",".join(citycase.CORE)]  # fmt: skip
        walls, others = [], []
        for i in range(args.repeat):
            load = os.getloadavg()[0]
            wall, cpu, rss = run_child(ours)
            walls.append(wall)
            summary = json.loads((out / "summary.json").read_text("utf-8"))
            stages = ", ".join(f"{k} {v:.1f}" for k, v in summary["timings_s"].items())
            print(f"#{i + 1} lifecircle run  {wall:6.1f} s wall, CPU {cpu:6.1f} s, peak RSS "
                  f"{rss:5.0f} MB, load {load:.1f}→{os.getloadavg()[0]:.1f}", flush=True)  # fmt: skip
            print(f"   stages (wall s): {stages}", flush=True)
            if args.osmnx:
                wall, cpu, rss = run_child(theirs)
                others.append(wall)
                print(f"#{i + 1} osmnx + networkx {wall:6.1f} s wall, CPU {cpu:6.1f} s",
                      flush=True)  # fmt: skip
        for name in summary["outputs"]:
            print(f"   {name:<22} {(out / name).stat().st_size / 2**20:8.2f} MB")
        if args.layers:
            for part, size in page_layers.layer_bytes(out / "overview.html")[:16]:
                print(f"     overview {part:<40} {size / 1e6:7.2f} MB")
        bundles = (summary.get("bundles") or {}).get("count")
        print(f"median lifecircle run {np.median(walls):.1f} s ({bundles} bundles)"
              + (f"; osmnx + networkx {np.median(others):.1f} s" if others else ""))  # fmt: skip


if __name__ == "__main__":
    main()
